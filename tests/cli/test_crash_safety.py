"""Crash safety: the real `scr daemon`, killed with SIGKILL at moments spread over its
sweeps and deliveries and started again, loses nothing: every case is before or after each
transition, every due timer fires once, and every message reaches the SMTP server, a second
copy only where the kill fell between sending and marking, with the same Message-ID."""

from __future__ import annotations

import os
import random
import re
import signal
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import col

from scr.lifecycle.runtime.delivery import LEASE
from scr.storage.models import Case, History, Outbox, Timer
from tests import records
from tests.cli import crashing
from tests.cli.crashing import BACK, Counts
from tests.cli.daemons import daemon, iso, seeded_board, wait_for
from tests.cli.scr import Scr
from tests.smtp import Server

# The kills are aimed by timing: never beside the browser tests, whose Chromium would
# take the CPU the aim was measured on (make test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("heavy")

KILLS, PG_KILLS = 16, 8
# Groups of copies of the templates, each falling due at a moment of its own: one for each
# run that does not end in a sweep (so each has a sweep and mail of its own), and spares.
GROUPS, PG_GROUPS = 14, 7
PER_GROUP = 3  # copies in a group, of the templates in turn
MAIL_PER_CASE = 12  # messages of each case's walk still to deliver, with the group
# Groups fall due this far apart on the daemon's clock: well over the delivery lease, so
# mail claimed by a killed daemon is due again when the next group is.
GAP = LEASE + timedelta(minutes=5)
# A run after one killed mid-sweep starts this much later on the clock: the sweep resumes
# and no group falls due.
RESUME = timedelta(seconds=5)
# Each kill is aimed at a phase of the run and falls at a moment of it chosen in advance:
# the n kills aimed at a phase are at the middles of n equal slices of it (a fixed set of
# points; the seed shuffles only their order), so no stretch of the phase wider than 1/n of
# it goes without a kill. The 25 kills at random moments this test used to aim at each
# phase typically left a stretch of 1/7 of it without one (8 points spread: 1/8).
# The sweep begins when the daemon has logged its start (its first wake, which sweeps
# before it delivers, is under way by then; a fresh process's first firing also loads the
# e-mail templates and holiday tables, inside its transaction); a kill aimed at it falls
# up to as long after as recent sweeps have lasted, measured on the runs aimed at delivery
# (until no due timer is left pending: the end of the sweep, not the first claim, which
# comes later by a share that grew as firing got faster). Delivery begins when the run has
# claimed its first mail; a kill aimed at it falls up to DELIVERY_DELAY seconds after that.
# Measuring, not guessing, keeps both phases hit on a fast machine and on a loaded one.
DELIVERY_DELAY = 0.3
FIRST_SWEEP_GUESS = 0.3  # seconds, until a sweep has been measured
# A run aimed at its delivery is killed anyway if none begins within this many seconds.
DELIVERY_WAIT = 5.0
# What each of the templates ends as, whatever the kills: its state, the timers fired and
# those skipped (a ladder fires only its highest due level; deadlines and timed
# transitions fire once).
EXPECTED = {
    "referral": ("referral", {"triage.escalation"}, {"triage.reminder"}),
    "information_request": ("sub_group", {"returns.overdue", "returns_auto_submit.transition"},
                            {"returns.reminder"}),
    "review": ("review", {"completion.overdue"}, {"completion.reminder", "completion.due"}),
    "blocked": ("publication_hold", {"proceedings_check.check", "publication.transition",
                                     "long_hold.escalation"}, set()),
    "publishes": ("published", {"publication.transition"}, set()),
    "published": ("published", {"action.1.overdue"}, {"action.1.reminder"}),
    "closed": ("closed", {"panel.due"}, {"panel.reminder"}),
}
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
# Logged when a timer or a wake fails: a kill must never cause one in the next run.
FAILURES = (b'"timer.error"', b'"timer.refused"', b'"daemon.wake_failed"', b'"mail.failed"')


@dataclass
class Tally:
    """Where the kills fell, judged from what each left in the database."""

    seed: int
    sweep: int = 0  # due timers still pending: the sweep was under way
    delivery: int = 0  # mail claimed and not marked: inside a delivery batch
    between: int = 0  # mail pending, none claimed by the run: before or between batches
    idle: int = 0  # nothing left to do
    leased: int = 0  # messages left claimed and unmarked, summed over the kills
    # Kills that left mail claimed and unmarked: inside a delivery batch, whether or not a
    # sweep was under way too (the daemon's mail lane runs beside its timers lane).
    cut: int = 0
    runs: list[str] = field(default_factory=list)

    def record(self, before: Counts, after: Counts, aim: str, delay: float) -> None:
        if after.due:
            where = "sweep"
        elif after.leased:
            where = "delivery"
        elif after.pending_mail:
            where = "between"
        else:
            where = "idle"
        setattr(self, where, getattr(self, where) + 1)
        self.leased += after.leased
        self.cut += after.leased > 0
        self.runs.append(f"aimed at {aim} +{delay:.2f}s, fell {where}: "
                         f"+{after.fired - before.fired} fired, +{after.sent - before.sent} "
                         f"sent, {after.leased} leased")

    def __str__(self) -> str:
        return (f"seed {self.seed}: {self.sweep} kills mid-sweep, {self.delivery} mid-delivery, "
                f"{self.between} between batches, {self.idle} idle\n  " + "\n  ".join(self.runs))


@dataclass
class Seeded:
    db: DbEngine
    refs: dict[str, str]  # template name -> the template case
    copies: dict[str, list[str]]  # template name -> its copies
    moments: list[datetime]  # when each group of copies falls due
    settled: set[str]  # Message-IDs marked sent while seeding: never delivered


def seed(url: str, groups: int) -> Seeded:
    """The templates through the engine, then in bulk `groups` groups of copies of
    PER_GROUP of them in turn, each group with its timers and mail due at its own moment."""
    board = seeded_board(url)
    refs = crashing.templates(board)
    crashing.settle_mail(board.db, keep_last=MAIL_PER_CASE)
    settled = {mid for mid, (status, _n) in crashing.outbox_ids(board.db).items()
               if status == "sent"}
    moments = [BACK + g * GAP for g in range(groups)]
    copies = {}
    for i, (name, ref) in enumerate(refs.items()):
        mine = [m for g, m in enumerate(moments) if (i - g * PER_GROUP) % len(refs) < PER_GROUP]
        made = crashing.clone(board.db, [ref], mine, due_by=BACK, first_number=10000 + 1000 * i)
        copies[name] = [group[0] for group in made]
    return Seeded(board.db, refs, copies, moments, settled)


def _started(log: Path) -> bool:
    """The daemon has logged its start (read raw: a killed daemon may leave half a line)."""
    return log.exists() and b'"daemon.started"' in log.read_bytes()


def _count(db: DbEngine, sql: str, *moments: datetime) -> int:
    """One count, read outside any transaction, so the reader never queues for SQLite's
    writer lock, which the daemon keeps taking; `sql` has a `?` for each moment."""
    sqlite = db.dialect.name == "sqlite"
    params = tuple(m.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else m for m in moments)
    raw = db.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql if sqlite else sql.replace("?", "%s"), params)
        return int(cursor.fetchone()[0])
    finally:
        raw.close()


def _remaining(db: DbEngine, now: datetime) -> int:
    """Timers due at `now` and still pending, and mail not yet sent."""
    return _count(db, "SELECT (SELECT count(*) FROM timers WHERE status = 'pending' AND "
                  "due_at <= ?) + (SELECT count(*) FROM outbox WHERE status = 'pending')", now)


def _swept(db: DbEngine, start: datetime) -> bool:
    """The run that started at `start` has no due timer left pending: its sweep is over."""
    return _count(db, "SELECT count(*) FROM timers WHERE status = 'pending' AND due_at <= ?",
                  start) == 0


def _delivering(db: DbEngine, start: datetime) -> bool:
    """The run that started at `start` has claimed mail: its lease runs to at least
    start + LEASE (any earlier run's had run out when it started), or it marked it sent."""
    return _count(db, "SELECT count(*) FROM outbox WHERE claimed_until >= ? OR sent_at >= ?",
                  start + LEASE, start) > 0


def crash_repeatedly(tmp_path: Path, seeded: Seeded, smtp_port: int, kills: int) -> Tally:
    """Start the daemon and SIGKILL it `kills` times, checking the invariants after each
    kill; then let one daemon finish the work, and stop it with SIGTERM.

    After a run killed mid-sweep, the next starts a few seconds later on the clock and
    resumes that sweep; after any other, the next starts at the next group's moment, when
    that group falls due and the leases of the mail the killed run had claimed have run out.
    Half the kills are aimed at the sweep and half at the delivery, each spread over its
    phase (`_spread`), in an order the seed shuffles.
    """
    rng_seed = int(os.environ.get("SCR_CRASH_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(rng_seed)
    config = tmp_path / "scr.toml"
    # Small batches, so that a daemon killed every few hundred milliseconds still marks
    # some of what it sent (a batch is marked sent as a whole, after it has gone).
    config.write_text("[mail]\nbatch_size = 20\n", encoding="utf-8")
    url = seeded.db.url.render_as_string(hide_password=False)
    scr = Scr.in_dir(tmp_path, database_url=url, SCR_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
                     SCR_CONFIG=str(config))
    tally = Tally(rng_seed)
    invariants = crashing.Invariants(seeded.db)
    before = invariants.check(BACK)
    start = BACK
    sweeps = [FIRST_SWEEP_GUESS]  # how long sweeps lasted, from start-up to the first claim
    aims = _spread("sweep", kills - kills // 2) + _spread("delivery", kills // 2)
    rng.shuffle(aims)
    # A heartbeat every second: on PostgreSQL a killed daemon's connection may hold a case's
    # lock for a moment, and the sweep leaves a locked case for the next wake.
    for run, (aim, point) in enumerate(aims):
        with daemon(scr, "--interval", "1", name=f"run-{run:02d}", SCR_NOW=iso(start)) as d:
            wait_for(lambda d=d: _started(d.log) or d.proc.poll() is not None, timeout=30,
                     what=f"daemon run {run} to start")
            assert d.proc.poll() is None, f"run {run} exited {d.proc.returncode} by itself"
            if aim == "delivery":
                began = time.monotonic()
                if _wait(lambda s=start: _swept(seeded.db, s), DELIVERY_WAIT):
                    sweeps.append(time.monotonic() - began)
                _wait(lambda s=start: _delivering(seeded.db, s), DELIVERY_WAIT)
                delay = point * DELIVERY_DELAY
            else:
                delay = 0.02 + point * (statistics.median(sweeps[-5:]) - 0.02)
            time.sleep(delay)
            d.proc.kill()
            code = d.proc.wait(10)
        assert code == -signal.SIGKILL, f"run {run} exited {code} before the kill\n{tally}"
        after = invariants.check(start)
        tally.record(before, after, aim, delay)
        before = after
        if after.due:
            start += RESUME
        else:
            ahead = [m for m in seeded.moments if m > start]
            start = max(ahead[0] if ahead else start, start + LEASE + timedelta(minutes=1))
    final = max(start, seeded.moments[-1]) + GAP
    with daemon(scr, "--interval", "1", name="final", SCR_NOW=iso(final)) as d:
        wait_for(lambda: _started(d.log), timeout=30, what="the last daemon to start")
        wait_for(lambda: _remaining(seeded.db, final + timedelta(minutes=5)) == 0,
                 timeout=120, what=f"the last daemon to finish the work\n{tally}")
        code, took = d.stop()
        assert code == 0 and took < 10
    cases = len(seeded.refs) + sum(len(c) for c in seeded.copies.values())
    assert scr.ok("audit", "verify", "--json").json()["cases"] == cases  # exit 0: intact
    for log in tmp_path.glob("*.log"):
        text = log.read_bytes()
        assert not [f for f in FAILURES if f in text], f"{log.name} logged a failure"
    return tally


def _spread(aim: str, kills: int) -> list[tuple[str, float]]:
    """`kills` kills aimed at `aim`, at the middles of as many equal slices of its phase
    (0 its start, 1 its end)."""
    return [(aim, (k + 0.5) / kills) for k in range(kills)]


def _wait(check: Callable[[], bool], timeout: float) -> bool:
    """Poll `check` until it holds (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _ends(db: DbEngine, refs: list[str]) -> dict[str, tuple[str, set[str], set[str]]]:
    """Each case's state, its timers fired and its timers skipped."""
    with records.orm(db) as s:
        cases = s.execute(select(Case.ref, Case.id, Case.state)
                          .where(col(Case.ref).in_(refs))).all()
        timers = s.execute(select(Timer.case_id, Timer.name, Timer.status)
                           .where(col(Timer.case_id).in_([c.id for c in cases]))).all()
    ends = {}
    for ref, case_id, state in cases:
        mine = [(name, status) for cid, name, status in timers if cid == case_id]
        ends[ref] = (state, {n for n, st in mine if st == "fired"},
                     {n for n, st in mine if st == "skipped"})
    return ends


def _firing_mail(db: DbEngine, refs: list[str]) -> dict[str, list[tuple[str, str, int]]]:
    """Each case's firings in order, each with how many messages it queued."""
    with records.orm(db) as s:
        ids = dict(s.execute(select(Case.id, Case.ref).where(col(Case.ref).in_(refs))).all())
        rows = s.execute(select(History.case_id, History.seq, History.trigger, History.params)
                         .where(col(History.case_id).in_(ids), col(History.due_at).is_not(None))
                         .order_by(col(History.case_id), col(History.seq))).all()
        queued = Counter((case_id, seq) for case_id, seq in s.execute(
            select(Outbox.case_id, Outbox.history_seq).where(col(Outbox.case_id).in_(ids))))
    found: dict[str, list[tuple[str, str, int]]] = {ref: [] for ref in ids.values()}
    for case_id, seq, trigger, params in rows:
        what = f"{params.get('timer')}.{params.get('level')}" if trigger == "timer" else ""
        found[ids[case_id]].append((trigger, what, queued[(case_id, seq)]))
    return found


def received_ids(received: list[bytes]) -> Counter[str]:
    """How many times each Message-ID reached the SMTP server."""
    ids: Counter[str] = Counter()
    for raw in received:
        found = MESSAGE_ID.search(raw)
        assert found is not None, "a message without a Message-ID"
        ids[found.group(1).decode()] += 1
    return ids


def assert_nothing_lost(seeded: Seeded, ids: Counter[str], tally: Tally) -> None:
    """At the end: every due timer fired once, each case ended as its template says, every
    message was sent and received, and a message came more than once only as often as it
    was claimed, after a kill between sending and marking."""
    # At the last group's moment: a refused timed publication is retried the next working
    # day, which is not due yet.
    final = crashing.Invariants(seeded.db).check(seeded.moments[-1] + GAP)
    assert final.due == 0, f"{final.due} due timers never fired\n{tally}"
    assert final.pending_mail == 0 and final.sent == final.mail
    for name, copies in seeded.copies.items():
        ends = _ends(seeded.db, [seeded.refs[name], *copies])
        assert len(ends) == len(copies) + 1
        wrong = {ref: end for ref, end in ends.items() if end != EXPECTED[name]}
        assert not wrong, f"{name}: {wrong}\n{tally}"
        # A firing's mail commits with it, all of it: each copy's firings queued the same
        # messages as the template's, in the same order (a case's timers fire in due order,
        # even when a case was locked by a killed daemon's backend for part of a sweep).
        mail = _firing_mail(seeded.db, [seeded.refs[name], *copies])
        model = mail[seeded.refs[name]]
        assert model and all(n > 0 for *_what, n in model), f"{name}: {model}"
        torn = {ref: found for ref, found in mail.items() if found != model}
        assert not torn, f"{name} queued {model}, but {torn}"
    outbox = crashing.outbox_ids(seeded.db)
    expected = {mid for mid in outbox if mid not in seeded.settled}
    assert set(ids) <= expected, f"received but not in the outbox: {set(ids) - expected}"
    assert set(ids) == expected, f"{len(expected - set(ids))} messages never arrived\n{tally}"
    unexplained = {mid: n for mid, n in ids.items() if n > outbox[mid][1]}
    assert not unexplained, f"copies that no claim explains: {unexplained}"
    resent = sum(n - 1 for n in ids.values())
    assert resent <= tally.leased, f"{resent} copies, but only {tally.leased} messages were " \
        f"left claimed and unmarked by the kills\n{tally}"


def crash_test(tmp_path: Path, url: str, server: Server, kills: int,
               groups: int) -> tuple[Tally, int]:
    """Seed, crash the daemon `kills` times, finish, and check that nothing was lost;
    returns the tally and how many copies were resent."""
    seeded = seed(url, groups)
    try:
        tally = crash_repeatedly(tmp_path, seeded, server.port, kills)
        ids = received_ids([r.raw for r in server.handler.received])
        assert_nothing_lost(seeded, ids, tally)
    finally:
        seeded.db.dispose()
    resent = sum(n - 1 for n in ids.values())
    print(f"{tally}\n{resent} copies resent after a kill between sending and marking")
    return tally, resent


@pytest.mark.slow
def test_sigkills_of_the_daemon_on_sqlite_lose_nothing(tmp_path, sqlite_url, start_server):
    """16 SIGKILLs spread over sweeps and deliveries on SQLite lose no transition, timer or
    e-mail."""
    server: Server = start_server()
    tally, resent = crash_test(tmp_path, sqlite_url, server, KILLS, GROUPS)
    # The kills are aimed by timing, which a loaded machine moves: at least one in eight
    # must fall in each (the rest fall between, which proves nothing lost as well).
    assert tally.sweep >= KILLS // 8, f"too few kills fell in a sweep\n{tally}"
    assert tally.delivery >= KILLS // 8, f"too few kills fell inside a delivery\n{tally}"
    # Each message is marked sent as soon as the server accepts it: a kill inside a
    # delivery can send again at most the one message it cut between the two. Counted over
    # every kill that left mail claimed, those that fell in a sweep too: the mail lane
    # delivers while the timers lane sweeps.
    assert resent <= tally.cut, f"{resent} copies sent again after {tally.cut} " \
        f"kills inside a delivery\n{tally}"


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkills_of_the_daemon_on_postgresql_lose_nothing(tmp_path, pg_url, start_server):
    """8 SIGKILLs spread over sweeps and deliveries on PostgreSQL lose no transition, timer
    or e-mail."""
    server: Server = start_server()
    tally, _resent = crash_test(tmp_path, pg_url, server, PG_KILLS, PG_GROUPS)
    # Aimed by timing, as on SQLite: at least one of the eight must fall in each.
    assert tally.sweep >= 1, f"too few kills fell in a sweep\n{tally}"
    assert tally.delivery >= 1, f"too few kills fell inside a delivery\n{tally}"
