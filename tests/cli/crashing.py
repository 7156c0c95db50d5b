"""Helpers for the crash-safety tests: a board of cases with every kind of due timer, cloned
in bulk, and the invariants read straight from the database after each SIGKILL."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session

from scr.handlers.mail import make_message_id
from scr.states.enums import State
from scr.storage import chain
from scr.storage.models import (
    Action,
    AgencyRequest,
    Case,
    History,
    Meeting,
    MeetingAttendance,
    Outbox,
    Output,
    ProceedingsStatus,
    Referral,
    Timer,
)
from tests import records
from tests.board import BELOW_THRESHOLD, CHAIR, SCR_REFERRAL, SUBCHAIR, Board
from tests.conftest import T0

H = timedelta(hours=1)
# Fourteen months after T0: every template's timers below are due (tests/lifecycle's
# catch-up after an outage), and nothing else falls due for weeks.
BACK = datetime(2028, 1, 24, 10, 0, tzinfo=UTC)
# Timer statuses a timer may end in; "pending" is the only one it may leave.
SETTLED = frozenset({"fired", "skipped", "stale", "disarmed"})


def templates(board: Board) -> dict[str, str]:
    """One case in each state that arms timers, set going at T0 through the engine, each
    with timers due at BACK: ladders (lower levels skipped), recurring levels, a timed
    transition that fires, one that publishes (disarming the rest) and one refused."""
    refs = {"referral": board.refer(at=T0)}
    refs["information_request"] = board.refer(at=T0)
    board.fire(refs["information_request"], "request_information", at=T0 + H,
               agencies="health,police")
    refs["review"] = board.refer(at=T0)
    board.walk(refs["review"], State.REVIEW, at=T0)
    refs["blocked"] = board.refer({**SCR_REFERRAL, "criminal_proceedings": True}, at=T0)
    at = board.walk(refs["blocked"], State.PUBLICATION_HOLD, at=T0)
    board.fire(refs["blocked"], "send_prepublication_notice", at=at + H)
    board.fire(refs["blocked"], "schedule_publication", at=at + 2 * H, date="2027-02-01")
    refs["publishes"] = board.refer(at=T0)
    at = board.walk(refs["publishes"], State.PUBLICATION_HOLD, at=T0)
    for output in ("overview_report", "board_response"):
        board.fire(refs["publishes"], "record_output", at=at + H, output=output)
    board.fire(refs["publishes"], "send_prepublication_notice", at=at + 2 * H)
    board.fire(refs["publishes"], "schedule_publication", at=at + 3 * H, date="2027-02-01")
    refs["published"] = board.refer(at=T0)
    at = board.walk(refs["published"], State.PUBLISHED, at=T0)
    board.fire(refs["published"], "add_action", at=at + H, by=SUBCHAIR, agency="health",
               description="Training", owner="Hal Health", due="2027-01-15")
    refs["closed"] = board.refer(BELOW_THRESHOLD, at=T0)
    at = board.walk(refs["closed"], State.CHAIR_DECISION, at=T0, scr=False)
    board.fire(refs["closed"], "decide_no_review", at=at + H, by=CHAIR, reason="no learning")
    return refs


def settle_mail(db: DbEngine, *, keep_last: int) -> None:
    """Mark the templates' mail sent, but the last `keep_last` messages of each case: the
    daemon starts with some mail of its own to deliver, not the whole walk's."""
    with records.orm(db) as s:
        rows = s.execute(select(Outbox.id, Outbox.case_id).order_by(Outbox.id.desc())).all()
        seen: Counter[int | None] = Counter()
        done = []
        for outbox_id, case_id in rows:
            seen[case_id] += 1
            if seen[case_id] > keep_last:
                done.append(outbox_id)
        s.execute(update(Outbox).where(Outbox.id.in_(done)).values(status="sent",
                                                                    sent_at=T0))


def clone(db: DbEngine, refs: list[str], groups: list[datetime], *, due_by: datetime,
          first_number: int = 10000) -> list[list[str]]:
    """For each moment of `groups`, one copy of each case in `refs`, written in bulk, with
    every row of theirs: the referral, proceedings, agencies asked, meetings, outputs,
    actions, the history re-chained under the new reference, the mail still pending (under
    fresh Message-IDs, due at the group's moment) and the timers, those due in the template
    at `due_by` falling due in the same order in the last minute before the group's moment
    (so a ladder still has all its levels due at once). Returns the new references by
    group."""
    made: list[list[str]] = [[] for _ in groups]
    with records.orm(db) as s:
        for template, ref in enumerate(refs):
            case = s.execute(select(Case).where(Case.ref == ref)).scalar_one()
            new_refs = [f"CR-2026-{first_number + template * len(groups) + g:05d}"
                        for g in range(len(groups))]
            ids = _clone_cases(s, case, new_refs)
            for model in (Referral, ProceedingsStatus, AgencyRequest, Output, Action):
                rows = s.execute(select(model).where(model.case_id == case.id)).scalars().all()
                if rows:
                    s.execute(insert(model), [{**_columns(r, {"id", "case_id"}), "case_id": i}
                                              for i in ids for r in rows])
            _clone_timers(s, case, ids, groups, due_by)
            _clone_meetings(s, case.id, ids)
            _clone_history(s, case, dict(zip(ids, new_refs, strict=True)))
            _clone_mail(s, case, list(zip(ids, new_refs, groups, strict=True)))
            for g, new_ref in enumerate(new_refs):
                made[g].append(new_ref)
    return made


def _clone_cases(s: Any, case: Case, new_refs: list[str]) -> list[int]:
    # The table, not the mapped class: an ORM insert would start each version at 1.
    table = Case.__table__  # type: ignore[attr-defined]
    rows = [{**_columns(case, {"id", "ref", "history_head"}), "ref": r, "history_head": None}
            for r in new_refs]
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(s.connection().execute(stmt, rows).scalars().all())


def _clone_timers(s: Any, case: Case, ids: list[int], groups: list[datetime],
                  due_by: datetime) -> None:
    rows = s.execute(select(Timer).where(Timer.case_id == case.id)
                     .order_by(Timer.due_at, Timer.id)).scalars().all()
    due = [t.id for t in rows if t.status == "pending" and t.due_at <= due_by]
    copied = []
    for case_id, moment in zip(ids, groups, strict=True):
        for timer in rows:
            values = {**_columns(timer, {"id", "case_id"}), "case_id": case_id}
            if timer.id in due:
                values["due_at"] = moment - timedelta(seconds=len(due) - due.index(timer.id))
            copied.append(values)
    s.execute(insert(Timer), copied)


def _clone_meetings(s: Any, case_id: int | None, ids: list[int]) -> None:
    for meeting in s.execute(select(Meeting).where(Meeting.case_id == case_id)).scalars():
        present = s.execute(select(MeetingAttendance.agency)
                            .where(MeetingAttendance.meeting_id == meeting.id)).scalars().all()
        for i in ids:
            new_id = s.execute(insert(Meeting).returning(Meeting.id), [
                {**_columns(meeting, {"id", "case_id"}), "case_id": i}]).scalar_one()
            if present:
                s.execute(insert(MeetingAttendance),
                          [{"meeting_id": new_id, "agency": a} for a in present])


def _clone_history(s: Any, case: Case, new: dict[int, str]) -> None:
    """The template's history under each new reference: the chain covers the reference, so
    every hash is computed again and the case's head moved to the last one."""
    rows = s.execute(select(History).where(History.case_id == case.id)
                     .order_by(History.seq)).scalars().all()
    copied = []
    heads = []
    for case_id, ref in new.items():
        prev = chain.GENESIS
        for row in rows:
            digest = chain.row_hash(case_ref=ref, seq=row.seq, trigger=row.trigger,
                                    source=row.source, dest=row.dest, actor=row.actor,
                                    reason=row.reason, params=row.params, at=row.at,
                                    due_at=row.due_at, prev_hash=prev)
            # Copied without the seal of the template's record (chain version 1): the clone
            # is sealed at its first trigger, as a case from before seals is.
            copied.append({**_columns(row, {"id", "case_id", "prev_hash", "hash",
                                            "record_hash"}),
                           "case_id": case_id, "prev_hash": prev, "hash": digest,
                           "record_hash": None})
            prev = digest
        heads.append({"b_id": case_id, "b_head": prev})
    if copied:
        s.execute(insert(History), copied)
    # Raw UPDATE ... WHERE id: the mapper's version check has no business in a bulk seed.
    table = Case.__table__  # type: ignore[attr-defined]
    s.connection().execute(table.update().where(table.c.id == bindparam("b_id"))
                           .values(history_head=bindparam("b_head")), heads)


def _clone_mail(s: Any, case: Case, new: list[tuple[int, str, datetime]]) -> None:
    """The template's pending mail for each copy, first due a second before its group's
    moment, so that each run has mail of its own to deliver."""
    rows = s.execute(select(Outbox).where(Outbox.case_id == case.id,
                                          Outbox.status == "pending")).scalars().all()
    copied = []
    for case_id, ref, moment in new:
        for row in rows:
            values = _columns(row, {"id", "case_id", "case_ref", "message_id"})
            for key in ("subject", "body_text", "body_html"):
                values[key] = values[key].replace(case.ref, ref)
            copied.append({**values, "case_id": case_id, "case_ref": ref,
                           "next_attempt_at": moment - timedelta(seconds=1),
                           "message_id": make_message_id(f"clone-{uuid.uuid4().hex}",
                                                         "localhost")})
    if copied:
        s.execute(insert(Outbox), copied)


def _columns(row: Any, skip: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in type(row).__table__.columns
            if c.key not in skip}


# ------------------------------------------------------------------------ the invariants
@dataclass(frozen=True)
class Counts:
    """What the database holds after a kill, as counts."""

    fired: int  # timers fired (each with exactly one history row)
    due: int  # pending timers due at the moment given
    sent: int  # outbox rows marked sent
    leased: int  # pending outbox rows claimed by a delivery that has not marked them (yet)
    mail: int  # outbox rows in all
    pending_mail: int


class Invariants:
    """Every invariant a crash must keep, asserted straight from the database.

    - each case's history chain verifies, its version is its number of history rows and its
      state is the last row's destination (before or after each transition, never between);
    - each timer is pending or settled; a fired timer has exactly one history row of its
      firing (same case, due moment, and ladder or fired trigger), any other timer none;
    - each outbox row of a case belongs to a history row of that case, and each firing's
      history row queued mail (the business manager is always told).

    Chains are verified again only for cases whose head moved since the last check, so a
    check after each of fifty kills stays cheap.
    """

    def __init__(self, db: DbEngine) -> None:
        self.db = db
        self.verified: dict[int, tuple[str | None, str]] = {}  # case id -> (head, state)

    def check(self, now: datetime) -> Counts:
        """Assert the invariants; count what is due at `now`, and the mail claimed by a
        delivery whose lease runs past `now` (so claimed since a lease before it ran out)."""
        with Session(self.db) as s:
            if self.db.dialect.name != "sqlite":
                # One snapshot for every query: a commit landing in between (a killed
                # client's last COMMIT, still being processed) must not look like a tear.
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            cases = s.execute(select(Case.id, Case.ref, Case.version, Case.state,
                                     Case.history_head)).all()
            rows_of = dict(s.execute(select(History.case_id, func.count())
                                     .group_by(History.case_id)).all())
            changed = [c for c in cases if self.verified.get(c.id, (None, ""))[0]
                       != c.history_head or c.id not in self.verified]
            history = s.execute(select(History).where(History.case_id.in_(
                [c.id for c in changed])).order_by(History.case_id, History.seq)
            ).scalars().all() if changed else []
            firing_rows = s.execute(select(History.case_id, History.seq, History.trigger,
                                           History.params, History.due_at)
                                    .where(History.due_at.is_not(None))).all()
            timers = s.execute(select(Timer.case_id, Timer.ladder, Timer.fires, Timer.due_at,
                                      Timer.status, Timer.name)).all()
            mail = s.execute(select(Outbox.id, Outbox.case_id, Outbox.history_seq,
                                    Outbox.status, Outbox.claimed_until)).all()
        self._cases(cases, rows_of, changed, history)
        fired = self._timers(timers, firing_rows)
        self._mail(mail, rows_of, firing_rows)
        return Counts(
            fired=fired,
            due=sum(1 for t in timers if t.status == "pending" and t.due_at <= now),
            sent=sum(1 for m in mail if m.status == "sent"),
            leased=sum(1 for m in mail if m.status == "pending" and m.claimed_until is not None
                       and m.claimed_until > now),
            mail=len(mail),
            pending_mail=sum(1 for m in mail if m.status == "pending"),
        )

    def _cases(self, cases: Sequence[Any], rows_of: dict[int, int], changed: Sequence[Any],
               history: Sequence[History]) -> None:
        by_case: dict[int, list[History]] = defaultdict(list)
        for row in history:
            by_case[row.case_id].append(row)
        for case in changed:
            rows = by_case[case.id]
            broken = chain.verify_case(case.ref, case.history_head, rows)
            assert broken is None, f"history chain broken: {broken}"
            self.verified[case.id] = (case.history_head, rows[-1].dest)
        for case in cases:
            count = rows_of.get(case.id, 0)
            assert case.version == count, f"{case.ref}: version {case.version}, {count} " \
                "history rows"
            dest = self.verified[case.id][1]
            assert case.state == dest, f"{case.ref} is in {case.state}, its history says {dest}"

    @staticmethod
    def _timers(timers: Sequence[Any], firing_rows: Sequence[Any]) -> int:
        firings: Counter[tuple[int, datetime, str]] = Counter()
        for case_id, _seq, trigger, params, due_at in firing_rows:
            what = params.get("timer") if trigger == "timer" else trigger
            firings[(case_id, due_at, str(what))] += 1
        matched = fired = 0
        for case_id, ladder, fires, due_at, status, name in timers:
            assert status == "pending" or status in SETTLED, f"timer {name}: status {status}"
            found = firings[(case_id, due_at, ladder)] + (
                firings[(case_id, due_at, fires)] if fires else 0)
            assert found == (status == "fired"), f"timer {name} of case {case_id} is " \
                f"{status} with {found} history rows of its firing"
            matched += found
            fired += status == "fired"
        assert matched == len(firing_rows), "a history row of a firing matches no timer"
        return fired

    @staticmethod
    def _mail(mail: Sequence[Any], rows_of: dict[int, int],
              firing_rows: Sequence[Any]) -> None:
        for outbox_id, case_id, seq, status, _claimed in mail:
            assert status in ("pending", "sent"), f"outbox {outbox_id} is {status}"
            if case_id is not None:
                assert seq is not None and 1 <= seq <= rows_of.get(case_id, 0), \
                    f"outbox {outbox_id} belongs to no history row of its case"
        queued = {(case_id, seq) for _id, case_id, seq, _st, _cl in mail}
        for case_id, seq, *_rest in firing_rows:
            assert (case_id, seq) in queued, f"the firing {case_id}/{seq} queued no e-mail"


def outbox_ids(db: DbEngine) -> dict[str, tuple[str, int]]:
    """Each outbox row's Message-ID with its status and attempts."""
    with records.orm(db) as s:
        rows = s.execute(select(Outbox.message_id, Outbox.status, Outbox.attempts)).all()
    return {mid: (status, attempts) for mid, status, attempts in rows}
