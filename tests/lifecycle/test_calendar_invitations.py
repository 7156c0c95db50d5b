"""Calendar invitations as a case moves: each person's calendar holds the deadlines that
are theirs, at their moment, under a UID that never changes, named in words."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import icalendar

from scr.lifecycle.runtime.delivery import composed
from scr.lifecycle.settings import Board as BoardSettings
from scr.states.enums import State
from scr.states.scr.v1 import TIMERS
from scr.storage.db import make_engine
from tests import records
from tests.board import HEALTH, POLICE, SUBCHAIR, Board
from tests.conftest import T0

H = timedelta(hours=1)


def invitations(board: Board, ref: str, since: int = 0) -> list[records.OutboxRecord]:
    """The case's calendar messages, oldest first, from the `since`th message of the case."""
    return [m for m in records.mail(board.db, ref)[since:] if m.calendar]


def sent(board: Board, ref: str) -> int:
    return len(records.mail(board.db, ref))


def asked(board: Board) -> str:
    """Health and police asked at 11:00 on Mon 23 Nov (their returns due Mon 7 Dec 11:00)."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    return ref


def test_an_agency_whose_return_is_recorded_has_its_entry_withdrawn(board):
    """Health's return recorded: health alone gets a CANCEL of its returns entry, with a
    higher SEQUENCE than the REQUEST it holds; police and the business manager hear
    nothing, since their deadline has not moved."""
    ref = asked(board)
    request = next(m for m in invitations(board, ref) if m.recipient == "health@board.test")
    before = sent(board, ref)
    board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health", view="scr",
               summary="seen")
    changed = invitations(board, ref, before)
    assert [(m.recipient, m.calendar["method"]) for m in changed] == [
        ("health@board.test", "CANCEL")]
    cancel = changed[0].calendar
    assert cancel["uid"] == request.calendar["uid"]
    assert cancel["sequence"] > request.calendar["sequence"]
    event = next(iter(icalendar.Calendar.from_ical(composed(changed[0]).ics).walk("VEVENT")))
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_last_return_withdraws_the_entry_from_that_agency_too(board):
    """When the last outstanding return is recorded the deadline is withdrawn from the
    business manager and from the agency that returned last, not only from the first."""
    ref = asked(board)
    board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health", view="scr",
               summary="seen")
    before = sent(board, ref)
    board.fire(ref, "record_return", at=T0 + 3 * H, by=POLICE, agency="police", view="scr",
               summary="seen")
    changed = invitations(board, ref, before)
    assert sorted((m.recipient, m.calendar["method"]) for m in changed) == [
        ("bm@board.test", "CANCEL"), ("police@board.test", "CANCEL")]


def test_an_agency_asked_later_leaves_the_others_calendars_alone(board):
    """Asking social care a day later moves the case's deadline for the business manager and
    gives social care its own; health and police keep theirs, untouched, at their own
    moment."""
    ref = asked(board)
    before = sent(board, ref)
    board.fire(ref, "add_agency", at=T0 + 25 * H, agency="childrens_social_care")
    changed = {m.recipient: m.calendar for m in invitations(board, ref, before)}
    assert set(changed) == {"bm@board.test", "csc@board.test"}
    assert {c["method"] for c in changed.values()} == {"REQUEST"}
    # Social care asked Tue 24 Nov 11:00: its 10 working days end Tue 8 Dec 11:00.
    assert changed["csc@board.test"]["start"] == "2026-12-08T11:00:00+00:00"
    assert changed["bm@board.test"]["start"] == "2026-12-08T11:00:00+00:00"
    # Health's return, recorded now, withdraws its own entry and no one else's.
    before = sent(board, ref)
    board.fire(ref, "record_return", at=T0 + 26 * H, by=HEALTH, agency="health", view="scr",
               summary="seen")
    assert [m.recipient for m in invitations(board, ref, before)] == ["health@board.test"]


def every_deadline(board: Board) -> str:
    """A case taken from referral to an action plan with one action, its publication
    rescheduled once: every ladder with a calendar deadline is armed on the way."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLICATION_HOLD, at=T0)
    for output in ("overview_report", "board_response"):
        board.fire(ref, "record_output", at=at + H, output=output, location="x")
    board.fire(ref, "send_prepublication_notice", at=at + 2 * H)
    board.fire(ref, "schedule_publication", at=at + 3 * H, date="2027-03-01")
    board.fire(ref, "schedule_publication", at=at + 4 * H, date="2027-03-08")
    published = datetime(2027, 3, 8, 10, tzinfo=UTC)
    board.fire(ref, "publish", at=published)
    board.fire(ref, "add_action", at=published + H, by=SUBCHAIR, agency="health",
               description="Training", owner=HEALTH, due="2027-05-03")
    board.fire(ref, "complete_action", at=published + 2 * H, by=HEALTH, action="1",
               evidence="done")
    return ref


def test_summaries_name_the_deadline_never_its_level(board):
    """No entry calls itself '(overdue)', '(due)', '(transition)' or any other level of
    its ladder: it is named by its ladder's label, and an action by its number."""
    ref = every_deadline(board)
    summaries = {m.calendar["summary"] for m in invitations(board, ref)}
    levels = {level.name for spec in TIMERS for level in spec.levels}
    assert not [s for s in summaries if any(f"({level})" in s for level in levels)]
    assert {f"{ref} Child K: {what}" for what in (
        "Agency returns due", "Sub-group recommendation due", "Chair's decision due",
        "Review completion due", "Scheduled publication", "Action due (action 1)")} <= summaries
    subjects = {m.subject for m in invitations(board, ref)}
    assert f"[{ref} Child K] Date for your calendar: Scheduled publication" in subjects


def test_nobody_is_sent_an_entry_they_already_hold(board):
    """Over a case's whole life, each person's REQUESTs for one entry each move it (or
    follow a CANCEL): a deadline that stayed put is never sent to them again."""
    ref = every_deadline(board)
    held: dict[tuple[str, str], str | None] = {}
    for message in invitations(board, ref):
        entry = message.calendar
        key = (message.recipient, entry["uid"])
        if entry["method"] == "REQUEST":
            assert held.get(key) != entry["start"], (key, entry["start"])
            held[key] = entry["start"]
        else:
            held[key] = None


def test_the_uid_does_not_change_when_mail_from_is_configured_later(board):
    """A board that sets mail_from after its first cases keeps every UID: the moved
    deadline replaces the entry calendars hold instead of standing beside it."""
    ref = asked(board)
    first = {m.recipient: m.calendar["uid"] for m in invitations(board, ref)}
    board.engine.board = BoardSettings(name="Anyshire LSCB",
                                       mail_from="Anyshire LSCB <scr@anyshire.gov.uk>")
    before = sent(board, ref)
    board.fire(ref, "add_agency", at=T0 + 25 * H, agency="childrens_social_care")
    moved = invitations(board, ref, before)
    assert [m.calendar["uid"] for m in moved if m.recipient == "bm@board.test"] == [
        first["bm@board.test"]]
    event = next(iter(icalendar.Calendar.from_ical(composed(moved[0]).ics).walk("VEVENT")))
    assert str(event["UID"]) == first["bm@board.test"]
    assert "anyshire" not in first["bm@board.test"] and "localhost" not in str(event["UID"])


def test_two_boards_cases_of_the_same_reference_have_different_uids(board, tmp_path,
                                                                    sqlite_template):
    """Two boards both number their first case CR-2026-0001; someone who serves both (a
    police lead) holds two entries, not one that each board's updates overwrite."""
    path = tmp_path / "other-board.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        other = Board(engine)
        other.seed_users()
        here, there = asked(board), other.refer(at=T0 + 2 * H)
        other.fire(there, "request_information", at=T0 + 3 * H, agencies="police")
        assert here == there
        uids = {m.calendar["uid"] for b, ref in ((board, here), (other, there))
                for m in invitations(b, ref) if m.recipient == "police@board.test"}
        assert len(uids) == 2
    finally:
        engine.dispose()


def test_a_meeting_entry_keeps_its_uid_too(board):
    """The sub-group meeting's entry is named by case and round, not by the board's
    address."""
    ref = asked(board)
    for agency, lead in (("health", HEALTH), ("police", POLICE)):
        board.fire(ref, "record_return", at=T0 + 2 * H, by=lead, agency=agency, view="scr",
                   summary="seen")
    board.engine.board = BoardSettings(mail_from="scr@anyshire.gov.uk")
    board.fire(ref, "submit_to_sub_group", at=T0 + 3 * H, meeting_date="2026-12-10")
    meeting = [m.calendar for m in invitations(board, ref) if "meeting" in m.calendar["uid"]]
    assert meeting and {c["uid"] for c in meeting} == {
        f"{ref}-20261123T100000Z-meeting-1@scr"}
