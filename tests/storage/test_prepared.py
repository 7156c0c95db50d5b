"""Prepared statements on the driver's cursor (storage.prepared) and the case record
(storage.cases), on SQLite and PostgreSQL: a row written either way is stored and read back
the same as through the ORM, shares the connection's transaction, and fails as SQLAlchemy's
own errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from scr.states.errors import Conflict
from scr.storage import cases, outbox
from scr.storage.db import transaction
from scr.storage.models import Case, History, Outbox
from scr.storage.prepared import Prepared, inserting
from tests.board import Board

AT = datetime(2026, 11, 23, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
_H = History.__table__  # type: ignore[attr-defined]
_HISTORY = inserting(_H)
_READ_HISTORY = Prepared(select(_H.c.params, _H.c.at, _H.c.due_at, _H.c.reason).where(
    _H.c.id == bindparam("id")))


def _board(db) -> tuple[Board, str, int]:
    board = Board(db)
    board.seed_users()
    ref = board.refer(at=AT)
    with Session(db) as s:
        case = s.exec(select(Case).where(Case.ref == ref)).scalars().one()  # type: ignore[call-overload]
        assert case.id is not None
        return board, ref, case.id


def _history_row(case_id: int, seq: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "case_id": case_id, "seq": seq, "trigger": "t", "source": None, "dest": "referral",
        "actor": "me", "reason": None, "params": {"b": [1, 2], "a": "x"}, "at": AT,
        "due_at": None, "prev_hash": "", "hash": "", "record_hash": None,
        "recorded_by": None}
    row.update(extra)
    return row


def test_a_row_written_here_is_stored_as_the_orm_stores_it(db):
    _, _, case_id = _board(db)
    with transaction(db) as tx:
        _HISTORY.run(tx, _history_row(case_id, 50))
    with Session(db) as s, s.begin():
        s.add(History(**_history_row(case_id, 51)))  # type: ignore[arg-type]
    with Session(db) as s:
        # The stored text, not only the values read back: both ways wrote the same.
        stored = s.execute(text(
            "SELECT seq, CAST(params AS TEXT), CAST(at AS TEXT) FROM history "
            "WHERE case_id = :c AND seq IN (50, 51) ORDER BY seq"), {"c": case_id}).all()
        orm = {h.seq: h for h in s.exec(select(History).where(  # type: ignore[call-overload]
            History.case_id == case_id, History.seq.in_([50, 51]))).scalars()}
    assert stored[0][1:] == stored[1][1:]
    assert orm[50].params == {"b": [1, 2], "a": "x"}
    assert orm[50].at == AT and orm[50].at.tzinfo is not None
    assert orm[50].due_at is None


def test_a_row_the_orm_wrote_reads_back_the_same_here(db):
    _, _, case_id = _board(db)
    with Session(db) as s, s.begin():
        s.add(History(**_history_row(case_id, 60, reason="why", due_at=AT)))  # type: ignore[arg-type]
        s.flush()
        row_id = s.exec(select(History.id).where(  # type: ignore[call-overload]
            History.case_id == case_id, History.seq == 60)).scalar_one()
    with transaction(db) as tx:
        params, at, due_at, reason = _READ_HISTORY.one(tx, {"id": row_id}) or ()
    assert params == {"b": [1, 2], "a": "x"}
    assert at == AT and at.utcoffset() == timedelta(0)  # read back in UTC, as the ORM does
    assert due_at == AT
    assert reason == "why"


def test_statements_share_the_connections_transaction(db):
    _, _, case_id = _board(db)
    with pytest.raises(RuntimeError), transaction(db) as s:
        _HISTORY.run(s, _history_row(case_id, 70))
        assert s.execute(text("SELECT count(*) FROM history WHERE seq = 70")).scalar_one() == 1
        raise RuntimeError("roll back")
    with transaction(db) as s:
        assert s.execute(text("SELECT count(*) FROM history WHERE seq = 70")).scalar_one() == 0


def test_driver_errors_are_sqlalchemys_own(db):
    _, _, case_id = _board(db)
    with pytest.raises(IntegrityError), transaction(db) as s:
        _HISTORY.run_many(s, [_history_row(case_id, 80), _history_row(case_id, 80)])
    with transaction(db) as s:
        assert s.execute(text("SELECT count(*) FROM history WHERE seq = 80")).scalar_one() == 0


def test_a_value_left_out_is_an_error_not_a_null(db):
    _, _, case_id = _board(db)
    row = _history_row(case_id, 90)
    del row["reason"]
    with pytest.raises(KeyError, match="reason"), transaction(db) as s:
        _HISTORY.run(s, row)


def test_a_list_to_expand_is_refused():
    stmt = Prepared(select(_H.c.id).where(_H.c.seq.in_([1, 2])))
    from sqlalchemy.dialects import sqlite

    with pytest.raises(ValueError, match="cannot expand"):
        stmt._for(sqlite.dialect())


def test_outbox_rows_keep_a_missing_calendar_as_the_orm_reads_it(db):
    _, ref, case_id = _board(db)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    row = {c.key: None for c in Outbox.__table__.columns if c.key != "id"}  # type: ignore[attr-defined]
    row.update(case_id=case_id, case_ref=ref, recipient="a@example.org", recipient_name="A",
               recipient_role="chair", template="t", subject="s", body_text="", body_html="",
               message_id="<direct-test@example.org>", status="pending", attempts=0,
               created_at=now, next_attempt_at=now, notice={"case_ref": ref})
    with transaction(db) as tx:
        outbox.queue(tx, [row])
    with Session(db) as s:
        stored = s.exec(select(Outbox).where(  # type: ignore[call-overload]
            Outbox.message_id == "<direct-test@example.org>")).scalars().one()
    assert stored.calendar is None and stored.notice == {"case_ref": ref}
    assert stored.created_at == now


def test_the_case_record_loads_and_saves_with_a_version_check(db):
    """cases.save writes every column and raises the version by one; a record read before
    someone else saved is a Conflict, and writes nothing."""
    _, ref, _ = _board(db)
    with transaction(db) as tx:
        case = cases.load(tx, ref, for_update=True)
        version = case.version
        case.meeting_date = date(2026, 12, 1)
        case.flags = ["urgent"]
        cases.save(tx, case)
        assert case.version == version + 1
    with Session(db) as s:
        orm = s.exec(select(Case).where(Case.ref == ref)).scalars().one()  # type: ignore[call-overload]
        assert (orm.version, orm.meeting_date, orm.flags) == (version + 1, date(2026, 12, 1),
                                                              ["urgent"])
    with transaction(db) as tx:
        assert orm.referred_at == cases.load(tx, ref).referred_at
        old = cases.load(tx, ref)
    with transaction(db) as tx:
        cases.save(tx, cases.load(tx, ref))  # someone else saves first
    with pytest.raises(Conflict, match="changed by someone else"), transaction(db) as tx:
        old.state = "closed"
        cases.save(tx, old)
    with transaction(db) as tx:
        assert cases.load(tx, ref).state != "closed"
