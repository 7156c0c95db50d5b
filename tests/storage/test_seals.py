"""The record is tamper-evident beyond history: a change made behind the engine's back is
found by `scr audit verify` (the case's record against the seal of its newest history row,
the users against the seal of their audit trail), and a history rewritten with every hash
recomputed is found against a copy of the heads kept off the server, keyed with a secret
the database does not hold."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from scr.lifecycle.runtime.sweep import sweep
from scr.states.enums import State
from scr.storage import chain, migrate
from scr.storage.db import make_engine, transaction
from tests.board import SUBCHAIR, Board
from tests.cli.scr import Scr
from tests.conftest import T0

KEY = "a board's audit key, kept off the server"
DROP_GUARDS = ["DROP TRIGGER history_no_update", "DROP TRIGGER history_no_delete",
               "DROP TRIGGER user_audit_no_update", "DROP TRIGGER user_audit_no_delete"]


@pytest.fixture(scope="module")
def world_made(tmp_path_factory) -> tuple[Path, str, str]:
    """The world's database, built once for the module (at fixed moments, so every copy of
    it is what building it again would give)."""
    path = tmp_path_factory.mktemp("seals-world") / "scr.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    board = Board(engine)
    board.seed_users()
    first = board.refer(at=T0)
    at = board.walk(first, State.PUBLISHED, at=T0)
    board.fire(first, "add_action", at=at, by=SUBCHAIR, agency="health",
               description="Refresh training", owner="Named Nurse", due="2027-06-30")
    second = board.refer(at=T0)
    board.walk(second, State.INFORMATION_REQUEST, at=T0)
    report = sweep(engine, board.engine, T0 + timedelta(days=30))
    assert report.of("fired"), "the sweep fired nothing: the fixture does not test timers"
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path, first, second


@pytest.fixture
def world(tmp_path, sqlite_url, world_made):
    """Two cases, one published and one waiting for returns with its timers armed, some of
    them fired by the sweep; the real command on this test's own copy of the file."""
    made, first, second = world_made
    shutil.copyfile(made, sqlite_url.removeprefix("sqlite:///"))
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    return scr, sqlite_url.removeprefix("sqlite:///"), first, second


def tamper(path: str, *statements: str) -> None:
    """What someone with the database file could do: drop the guards, then edit (and the
    edit must change something, or the test would prove nothing)."""
    conn = sqlite3.connect(path)
    try:
        for statement in DROP_GUARDS:
            conn.execute(statement)
        for statement in statements:
            assert conn.execute(statement).rowcount > 0, f"changed nothing: {statement}"
        conn.commit()
    finally:
        conn.close()


def verified(scr: Scr, *extra: str, **env: str):
    return scr.ok("audit", "verify", "--json", *extra, **env).json()


def test_an_untouched_record_verifies_after_people_and_the_sweep(world):
    """Every firing, a person's or the sweep's, leaves the record matching its seal."""
    scr, _path, _first, _second = world
    data = verified(scr)
    assert data["intact"] and data["cases"] == 2 and data["sealed"] == 2
    assert data["users"]["lines"] > 0  # the seeded users are chained


@pytest.mark.parametrize(("statements", "case_no", "what"), [
    (["UPDATE cases SET state = 'published' WHERE id = 2"], 2, "a case moved to another state"),
    (["UPDATE referrals SET harm = 'other' WHERE case_id = 1"], 1, "a referral fact"),
    (["UPDATE referrals SET summary = 'nothing to see' WHERE case_id = 1"], 1,
     "the referral's summary"),
    (["UPDATE agency_requests SET summary = 'rewritten', view = 'no_scr' WHERE case_id = 1 "
      "AND id = (SELECT min(id) FROM agency_requests WHERE case_id = 1)"], 1,
     "an agency's return"),
    (["UPDATE actions SET status = 'signed_off' WHERE case_id = 1"], 1, "an action"),
    (["UPDATE outputs SET location = 'elsewhere' WHERE case_id = 1"], 1, "an output"),
    (["UPDATE proceedings SET criminal = 'concluded' WHERE case_id = 2"], 2, "proceedings"),
    (["DELETE FROM meeting_attendance WHERE meeting_id IN (SELECT id FROM meetings WHERE "
      "case_id = 1)"], 1, "a meeting's attendance"),
    (["UPDATE timers SET status = 'fired' WHERE case_id = 2 AND status = 'pending'"], 2,
     "timers set to fired"),
    (["UPDATE timers SET status = 'stale' WHERE case_id = 2 AND status = 'pending'"], 2,
     "live timers set to stale"),
    (["UPDATE timers SET due_at = '2099-01-01 00:00:00.000000' WHERE case_id = 2 AND "
      "status = 'pending'"], 2, "a deadline moved"),
    (["DELETE FROM timers WHERE case_id = 2 AND status = 'pending'"], 2, "timers removed"),
    (["UPDATE cases SET flags = '[\"not_published\"]' WHERE id = 1"], 1, "a flag"),
])
def test_a_change_outside_history_is_found(world, statements, case_no, what):
    scr, path, first, second = world
    tamper(path, *statements)
    result = scr("audit", "verify")
    ref = first if case_no == 1 else second
    assert result.code == 5, (what, result.err)
    assert result.err.startswith("error: the record does not verify: ")
    assert f"{ref}: the case's record was changed outside its history" in result.err, what


@pytest.mark.parametrize(("statements", "problem"), [
    (["UPDATE users SET email = 'someone@else.test' WHERE name = 'Bea Manager'"],
     "users or roles changed outside the audit trail"),
    (["INSERT INTO user_roles (user_id, role) SELECT id, 'business_manager' FROM users "
      "WHERE name = 'Ivy Chair'"], "users or roles changed outside the audit trail"),
    (["DELETE FROM user_audit WHERE seq = (SELECT max(seq) FROM user_audit)"],
     "the newest lines are missing"),
    (["UPDATE user_audit SET actor = 'someone' WHERE seq = 2"], "line content does not match"),
])
def test_a_change_to_users_outside_their_trail_is_found(world, statements, problem):
    scr, path, _first, _second = world
    tamper(path, *statements)
    result = scr("audit", "verify")
    assert result.code == 5 and "(users)" in result.err and problem in result.err, result.err


def _rewrite_and_rechain(path: str, case_id: int, ref: str) -> None:
    """The attack a chain alone cannot see: rewrite a row, recompute every hash after it and
    the head, and keep every seal, so that the chain and the seals verify."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    for statement in DROP_GUARDS:
        conn.execute(statement)
    rows = conn.execute("SELECT * FROM history WHERE case_id = ? ORDER BY seq",
                        (case_id,)).fetchall()
    prev = chain.GENESIS
    for row in rows:
        actor = "Ivy Chair" if row["seq"] == 2 else row["actor"]
        digest = chain.row_hash(
            case_ref=ref, seq=row["seq"], trigger=row["trigger"], source=row["source"],
            dest=row["dest"], actor=actor, reason=row["reason"],
            params=json.loads(row["params"]), at=_moment(row["at"]),
            due_at=_moment(row["due_at"]) if row["due_at"] else None, prev_hash=prev,
            record=row["record_hash"], recorded_by=row["recorded_by"])
        conn.execute("UPDATE history SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                     (actor, prev, digest, row["id"]))
        prev = digest
    conn.execute("UPDATE cases SET history_head = ? WHERE id = ?", (prev, case_id))
    conn.commit()
    conn.close()


def _moment(text: str):
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_rewritten_and_rechained_history_is_found_against_a_kept_copy(world, tmp_path):
    scr, path, first, _second = world
    anchor = tmp_path / "kept-off-the-server.json"
    kept = scr.ok("audit", "verify", "--json", SCR_AUDIT_KEY=KEY)
    anchor.write_text(kept.out)
    before = kept.json()
    assert before["digest"] and before["key"] == "SCR_AUDIT_KEY"
    assert any(h["ref"] == first for h in before["heads"])
    _rewrite_and_rechain(path, 1, first)
    # The chain and the seals alone are fooled: the rewrite is consistent...
    after = verified(scr, SCR_AUDIT_KEY=KEY)
    assert after["intact"]
    # ...but what it prints has changed, and the kept copy shows where.
    assert after["heads"] != before["heads"] and after["digest"] != before["digest"]
    result = scr("audit", "verify", "--against", str(anchor), SCR_AUDIT_KEY=KEY)
    assert result.code == 5, result.err
    assert f"{first} seq {before_seq(before, first)}: rewritten since the anchor" in result.err


def before_seq(data, ref: str) -> int:
    return next(h["seq"] for h in data["heads"] if h["ref"] == ref)


def test_the_kept_copy_verifies_while_the_board_goes_on_and_its_own_edits_show(world,
                                                                               tmp_path):
    scr, _path, _first, second = world
    anchor = tmp_path / "anchor.json"
    anchor.write_text(scr.ok("audit", "verify", "--json", SCR_AUDIT_KEY=KEY).out)
    # Work goes on after the copy was taken: its heads are still in their chains.
    scr.ok("--as", "Bea Manager", "advance", second, "amend_referral", "harm=serious_harm",
           "--reason", "the hospital corrected its report")
    data = verified(scr, "--against", str(anchor), SCR_AUDIT_KEY=KEY)
    assert data["anchor"]["heads"] == 2
    # A copy edited to match a rewritten database no longer matches its digest...
    doc = json.loads(anchor.read_text())
    doc["heads"][0]["head"] = "0" * 64
    anchor.write_text(json.dumps(doc))
    result = scr("audit", "verify", "--against", str(anchor), SCR_AUDIT_KEY=KEY)
    assert result.code == 5 and "the anchor's digest does not match its heads" in result.err
    # ...and a copy checked with another key does not either.
    anchor.write_text(scr.ok("audit", "verify", "--json", SCR_AUDIT_KEY=KEY).out)
    other = scr("audit", "verify", "--against", str(anchor),
                SCR_AUDIT_KEY="another key, not the board's")
    assert other.code == 5 and "made with another key" in other.err


def test_the_audit_key(world, tmp_path):
    scr, _path, _first, _second = world
    plain = scr.ok("audit", "verify")
    assert "no digest: set SCR_AUDIT_KEY" in plain.out
    short = scr("audit", "verify", SCR_AUDIT_KEY="short")
    assert short.code == 2 and "at least 16 bytes" in short.err
    bytes_ = scr("audit", "verify", SCR_AUDIT_KEY="not UTF-8 \udcff and long enough")
    assert bytes_.code == 2 and "SCR_AUDIT_KEY" in bytes_.err, bytes_.err
    key_file = tmp_path / "audit.key"
    made = scr.ok("audit", "key", str(key_file))
    assert "mode 600" in made.out and key_file.stat().st_mode & 0o777 == 0o600
    assert scr("audit", "key", str(key_file)).code == 2  # never over an existing key
    by_file = verified(scr, SCR_AUDIT_KEY_FILE=str(key_file))
    assert by_file["digest"] and by_file["key"] == f"SCR_AUDIT_KEY_FILE {key_file}"
    os.chmod(key_file, 0o644)
    exposed = scr("audit", "verify", SCR_AUDIT_KEY_FILE=str(key_file))
    assert exposed.code == 2 and "may be read by others" in exposed.err
    assert scr("audit", "verify", "--against", str(tmp_path / "none.json"),
               SCR_AUDIT_KEY=KEY).code == 2
    (tmp_path / "junk.json").write_text("[[[[")
    junk = scr("audit", "verify", "--against", str(tmp_path / "junk.json"), SCR_AUDIT_KEY=KEY)
    assert junk.code == 2 and "not the output of scr audit verify --json" in junk.err
    nokey = scr("audit", "verify", "--against", str(tmp_path / "junk.json"))
    assert nokey.code == 2 and "needs the audit key" in nokey.err


def test_history_from_before_seals_verifies_and_is_sealed_at_its_next_trigger(tmp_path,
                                                                              sqlite_url):
    """A case whose rows were written before seals (chain version 1) still verifies, is
    counted apart, and is sealed by its next trigger."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    board = Board(engine)
    board.seed_users()
    ref = board.refer(at=T0)
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.execute("DROP TRIGGER history_no_update")
    row = conn.execute("SELECT * FROM history WHERE seq = 1").fetchone()
    digest = chain.row_hash(case_ref=ref, seq=1, trigger=row["trigger"], source=None,
                            dest=row["dest"], actor=row["actor"], reason=None,
                            params=json.loads(row["params"]), at=_moment(row["at"]),
                            due_at=None, prev_hash=chain.GENESIS)
    conn.execute("UPDATE history SET record_hash = NULL, hash = ?", (digest,))
    conn.execute("UPDATE cases SET history_head = ?", (digest,))
    conn.commit()
    conn.close()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    data = verified(scr)
    assert (data["sealed"], data["unsealed"]) == (0, 1)
    assert "1 have history only from before seals" in scr.ok("audit", "verify").out
    scr.ok("--as", "Bea Manager", "advance", ref, "request_information", "agencies=health")
    data = verified(scr)
    assert (data["sealed"], data["unsealed"]) == (1, 0)


def test_a_sealed_row_may_not_be_followed_by_an_unsealed_one():
    """Dropping the seal from the newest row (to hide a change) breaks the chain."""
    from types import SimpleNamespace

    def row(seq, prev, record):
        base = dict(seq=seq, trigger="t", source=None, dest="s", actor="a", reason=None,
                    params={}, at=T0, due_at=None, prev_hash=prev, record_hash=record,
                    recorded_by=None)
        return SimpleNamespace(**base, hash=chain.row_hash(
            case_ref="CR-1", seq=seq, trigger="t", source=None, dest="s", actor="a",
            reason=None, params={}, at=T0, due_at=None, prev_hash=prev, record=record))

    one = row(1, chain.GENESIS, "r" * 64)
    two = row(2, one.hash, None)
    broken = chain.verify_case("CR-1", two.hash, [one, two])
    assert broken is not None and "lost the seal" in broken.problem


def test_users_from_before_the_chained_trail_are_sealed_by_init(tmp_path, sqlite_url):
    """A board upgraded from before migration 0009: its users have no seal until `scr init`
    writes the first chained line; from then on a change to them shows."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    Board(engine).seed_users()
    migrate.downgrade(engine, "0008")  # the trail as it was: no chain
    migrate.upgrade(engine)
    engine.dispose()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    assert verified(scr)["users"]["lines"] == 0  # nothing sealed yet
    done = scr.ok("init")
    assert "sealed the users in their audit trail" in done.out
    assert "sealed" not in scr.ok("init").out  # once
    assert verified(scr)["users"]["lines"] == 1
    tamper(sqlite_url.removeprefix("sqlite:///"),
           "UPDATE users SET email = 'someone@else.test' WHERE name = 'Bea Manager'")
    result = scr("audit", "verify")
    assert result.code == 5 and "users or roles changed outside the audit trail" in result.err


def test_the_users_trail_is_append_only_and_init_puts_its_guards_back(tmp_path, sqlite_url):
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    Board(engine).seed_users()
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    for verb in ("UPDATE user_audit SET actor = 'x'", "DELETE FROM user_audit"):
        with pytest.raises(sqlite3.DatabaseError, match="user_audit is append-only"):
            conn.execute(verb)
    conn.execute("DROP TRIGGER user_audit_no_delete")
    conn.commit()
    conn.close()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    assert scr.ok("init", "--json").json()["triggers_restored"] == ["user_audit_no_delete"]
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM user_audit")
    finally:
        conn.close()


def test_postgres_refuses_to_change_the_users_trail(pg_url):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(pg_url)
    try:
        migrate.upgrade(engine)
        Board(engine).seed_users()
        for verb in ("UPDATE user_audit SET actor = 'x'", "DELETE FROM user_audit",
                     "TRUNCATE user_audit"):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(verb))
    finally:
        engine.dispose()


def test_a_backup_from_an_older_scr_is_brought_up_to_date_and_verified(tmp_path, sqlite_url):
    """A copy at schema 0008 restores: the staged copy is upgraded, then its chains and
    seals verified, and the board's database is replaced by a current one."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    board = Board(engine)
    board.seed_users()
    board.walk(board.refer(at=T0), State.SUB_GROUP, at=T0)
    engine.dispose()
    old = tmp_path / "old.db"
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    conn.execute("VACUUM INTO ?", (str(old),))
    conn.close()
    older = make_engine(f"sqlite:///{old}")
    migrate.downgrade(older, "0008")
    older.dispose()
    _as_written_before_seals(old)
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    done = scr.ok("--as", "Bea Manager", "restore", str(old), "--json").json()
    assert done["revision"] == "0008" and done["cases"] == 1
    data = verified(scr)
    assert data["intact"] and (data["sealed"], data["unsealed"]) == (0, 1)


def _as_written_before_seals(path) -> None:
    """Chain a database's history as an scr from before seals wrote it (version 1)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.execute("DROP TRIGGER IF EXISTS history_no_update")
    for case in conn.execute("SELECT id, ref FROM cases").fetchall():
        prev = chain.GENESIS
        for row in conn.execute("SELECT * FROM history WHERE case_id = ? ORDER BY seq",
                                (case["id"],)).fetchall():
            digest = chain.row_hash(
                case_ref=case["ref"], seq=row["seq"], trigger=row["trigger"],
                source=row["source"], dest=row["dest"], actor=row["actor"],
                reason=row["reason"], params=json.loads(row["params"]), at=_moment(row["at"]),
                due_at=_moment(row["due_at"]) if row["due_at"] else None, prev_hash=prev)
            conn.execute("UPDATE history SET prev_hash = ?, hash = ? WHERE id = ?",
                         (prev, digest, row["id"]))
            prev = digest
        conn.execute("UPDATE cases SET history_head = ? WHERE id = ?", (prev, case["id"]))
    conn.commit()
    conn.close()


@pytest.fixture
def learning_world(tmp_path, sqlite_url, sqlite_db):
    """A published case with an audit and a training recorded (case 1), a review from
    elsewhere considered relevant (case 2), and a case with neither (case 3)."""
    engine = sqlite_db
    board = Board(engine)
    board.seed_users()
    first = board.refer(at=T0)
    at = board.walk(first, State.PUBLISHED, at=T0)
    board.fire(first, "record_audit", at=at, by=SUBCHAIR, date=at.date().isoformat(),
               finding="partly_embedded", note="Half the files")
    board.fire(first, "record_training", at=at, by=SUBCHAIR, course="Think family",
               audience="GPs", starts_on="2026-11-02", ends_on="2026-11-03", trained=12)
    with transaction(engine) as tx:
        review = board.engine.refer(
            tx, actor=board.actor(SUBCHAIR), now=at, process_name="learning",
            params={"title": "A national review", "source": "national_review",
                    "publisher": "The Panel", "published_on": "2026-01-05",
                    "themes": "neglect"}).ref
    board.fire(review, "consider_relevant", at=at, by=SUBCHAIR, date=at.date().isoformat(),
               adopted="Adopt it all", reason="Relevant")
    third = board.refer(at=T0)
    engine.dispose()
    scr = Scr.in_dir(tmp_path, database_url=sqlite_url)
    return scr, sqlite_url.removeprefix("sqlite:///"), (first, review, third)


@pytest.mark.parametrize(("statements", "case_no", "what"), [
    (["UPDATE audits SET finding = 'embedded' WHERE case_id = 1"], 1, "an audit's finding"),
    (["UPDATE audits SET note = '' WHERE case_id = 1"], 1, "an audit's note"),
    (["DELETE FROM audits WHERE case_id = 1"], 1, "an audit removed"),
    (["UPDATE trainings SET trained = 120 WHERE case_id = 1"], 1, "the people trained"),
    (["UPDATE learning_items SET relevant = 0 WHERE case_id = 2"], 2,
     "a consideration turned round"),
    (["UPDATE learning_items SET adopted = 'nothing' WHERE case_id = 2"], 2,
     "the recommendations adopted"),
    (["INSERT INTO audits (case_id, number, held_on, finding, actions, note, recorded_at, "
      "recorded_by) VALUES (3, 1, '2026-11-23', 'embedded', '[]', '', "
      "'2026-11-23 10:00:00.000000', 'nobody')"], 3, "an audit made up for a case"),
])
def test_a_change_to_the_learning_record_is_found(learning_world, statements, case_no, what):
    """Audits, training and the learning register are sealed: a case with rows there seals
    them, and a row put in for a case that had none changes its seal too."""
    scr, path, refs = learning_world
    assert verified(scr)["intact"]
    tamper(path, *statements)
    result = scr("audit", "verify")
    assert result.code == 5, (what, result.err)
    assert f"{refs[case_no - 1]}: the case's record was changed outside its history" in \
        result.err, what


def test_a_record_without_learning_rows_seals_as_it_did_before_them(sqlite_db):
    """The seals written before migration 0010 still verify: a case with no learning,
    audit or training rows seals exactly the sections of version 1."""
    from scr.storage import cases, seal

    board = Board(sqlite_db)
    board.seed_users()
    ref = board.refer(at=T0)
    board.walk(ref, State.PUBLISHED, at=T0)
    version_1 = {"v", "case", "referral", "replaced_summaries", "proceedings", "agencies",
                 "meetings", "outputs", "actions", "attendance", "timers"}
    with transaction(sqlite_db) as tx:
        assert set(seal.record(tx, cases.load(tx, ref))) == version_1
    board.fire(ref, "record_audit", at=T0 + timedelta(days=60), by=SUBCHAIR,
               date=T0.date().isoformat(), finding="embedded")
    with transaction(sqlite_db) as tx:
        assert set(seal.record(tx, cases.load(tx, ref))) == version_1 | {"audits"}
