"""`scr timeline`: history, pending timers and deadlines on one time axis, as text with a
line at now and as an SVG picture."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from states.enums import State
from tests.board import BM, HEALTH, SUBCHAIR
from tests.conftest import T0
from tests.lifecycle.views_cli import InProcess

H = timedelta(hours=1)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def scr(monkeypatch, capsys, sqlite_url) -> InProcess:
    return InProcess(monkeypatch, capsys, sqlite_url)


def returns_case(board) -> str:
    """Referred Mon 23 Nov 10:00; health and police asked at 11:00; health returned at 12:00."""
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    board.fire(ref, "record_return", at=T0 + 2 * H, by=HEALTH, agency="health", view="scr",
               summary="seen in clinic")
    return ref


def test_events_in_time_order_with_deadlines_met_and_overdue(board, scr):
    """Health's return is met, police's is overdue after the deadline, history comes first."""
    ref = returns_case(board)
    now = T0 + timedelta(days=16)  # Wed 9 Dec: the 10-working-day deadline (Mon 7 Dec) passed
    doc = scr.ok("--now", now.isoformat(), "timeline", ref, "--json").json()
    events = doc["events"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    history = [e["title"] for e in events if e["kind"] == "history"]
    assert history == ["refer", "request_information", "record_return"]
    deadlines = {e["title"]: e["status"] for e in events if e["kind"] == "deadline"}
    assert deadlines == {"health return due": "met", "police return due": "overdue"}
    due = next(e for e in events if e["title"] == "police return due")
    assert due["at"] == "2026-12-07T11:00:00+00:00"
    timers = {e["title"]: e["status"] for e in events if e["kind"] == "timer"}
    assert timers == {"Agency returns due (reminder)": "passed",
                      "Agency returns due (overdue)": "overdue",
                      "Automatic submission to the sub-group (transition)": "pending"}
    assert "seen in clinic" not in str(doc)


def test_text_marks_now_between_past_and_future(board, scr):
    """The line marking now sits after the last past event and before the first future one."""
    ref = returns_case(board)
    now = T0 + timedelta(days=3)  # Thu 26 Nov 10:00
    lines = scr.ok("--now", now.isoformat(), "timeline", ref).out.splitlines()
    assert lines[0] == f"{ref}  Child K  (state information_request)"
    marker = next(i for i, line in enumerate(lines) if line.startswith("──── now:"))
    assert lines[marker] == "──── now: Thu 26 Nov 2026 10:00 ────"
    assert "record_return" in lines[marker - 1]
    assert "Agency returns due (reminder)" in lines[marker + 1]
    assert "\x1b" not in "\n".join(lines)


def test_action_plan_and_publication_deadlines(board, scr):
    """After publication the scheduled date is met and an open action past its day is due."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLICATION_HOLD, at=T0)
    for output in ("overview_report", "board_response"):
        board.fire(ref, "record_output", at=at + H, output=output, location="x")
    board.fire(ref, "send_prepublication_notice", at=at + 2 * H)
    board.fire(ref, "schedule_publication", at=at + 3 * H, date="2026-12-14")
    published = T0 + timedelta(days=21)  # Mon 14 Dec 10:00
    board.fire(ref, "publish", at=published)
    board.fire(ref, "add_action", at=published + H, by=SUBCHAIR, agency="health",
               description="Training", owner=HEALTH, due="2027-01-08")
    board.fire(ref, "add_action", at=published + H, by=BM, agency="police",
               description="Audit", owner="Pip Police", due="2027-01-20")
    now = "2027-01-12T10:00"
    doc = scr.ok("--now", now, "timeline", ref, "--json").json()
    deadlines = {e["title"]: e["status"] for e in doc["events"] if e["kind"] == "deadline"}
    assert deadlines["publication scheduled"] == "met"
    assert deadlines["action 1 due (health)"] == "overdue"
    assert deadlines["action 2 due (police)"] == "due"


def test_svg_picture_is_well_formed_and_names_every_event(board, scr, tmp_path):
    """--out draws an SVG that XML-parses, with a row per event and a line at now."""
    ref = returns_case(board)
    target = tmp_path / "timeline.svg"
    now = (T0 + timedelta(days=16)).isoformat()
    result = scr.ok("--now", now, "timeline", ref, "--out", str(target), "--json")
    doc = result.json()
    assert doc["svg"] == str(target)
    root = ET.parse(target).getroot()
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    for event in doc["events"]:
        if event["kind"] == "history":
            assert any(t.startswith(event["title"] + " (") for t in texts)
        else:
            assert f"{event['title']} — {event['status']}" in texts
    assert "request_information (referral → information_request)" in texts
    assert "now" in texts
    assert "Child K" in texts[0]
    stdout = scr.ok("--now", now, "timeline", ref, "--out", "-").out
    assert ET.fromstring(stdout).tag == f"{SVG}svg"


def test_unwritable_out_is_bad_input(board, scr, tmp_path):
    """An --out in a missing directory is one error line, exit 2."""
    ref = board.refer(at=T0)
    result = scr("--now", T0.isoformat(), "timeline", ref, "--out",
                 str(tmp_path / "nowhere" / "t.svg"))
    assert result.code == 2 and result.err.startswith("error: cannot write")


def test_axis_labels_never_crowd_on_a_long_span():
    """Over sixteen months the month labels are thinned so that neighbours stay at least a
    label's width apart on the plot."""
    from datetime import UTC, datetime

    from lifecycle.views.timeline import LABEL_WIDTH, PLOT, _ticks
    from states.working_days import WorkingDays

    start, end = datetime(2025, 1, 13, tzinfo=UTC), datetime(2026, 5, 7, tzinfo=UTC)
    ticks = _ticks(start, end, WorkingDays(), PLOT)
    span = (end - start).total_seconds()
    xs = [(t - start).total_seconds() / span * PLOT for t, _ in ticks]
    assert len(ticks) >= 4
    assert all(b - a >= LABEL_WIDTH * 0.9 for a, b in itertools.pairwise(xs))
