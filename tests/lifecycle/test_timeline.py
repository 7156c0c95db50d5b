"""`scr timeline`: history, pending timers and deadlines on one time axis, as text with a
line at now and as an SVG picture."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from scr.states.enums import State
from tests.board import BM, HEALTH, POLICE, QUORUM, SUBCHAIR
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
                      "Automatic submission to the sub-group (automatic step)": "pending"}
    assert "seen in clinic" not in str(doc)


def test_text_marks_now_between_past_and_future(board, scr):
    """The line marking now sits after the last past event and before the first future one."""
    ref = returns_case(board)
    now = T0 + timedelta(days=3)  # Thu 26 Nov 10:00
    lines = scr.ok("--now", now.isoformat(), "timeline", ref).out.splitlines()
    assert lines[0] == f"{ref}  Child K  (Information request)"
    marker = next(i for i, line in enumerate(lines) if line.startswith("──── now:"))
    assert lines[marker] == "──── now: Thu 26 Nov 2026 10:00 ────"
    assert "Agency return received" in lines[marker - 1]
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
    """--out draws an SVG that XML-parses, with a row per event in words and a line at
    now."""
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
            assert any(t.startswith(event["label"]) for t in texts), event["label"]
        else:
            assert f"{event['label']} — {event['status']}" in texts
    assert "Information requested from agencies → Information request" in texts
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

    from scr.lifecycle.views.timeline import LABEL_WIDTH, PLOT, _ticks
    from scr.states.working_days import WorkingDays

    start, end = datetime(2025, 1, 13, tzinfo=UTC), datetime(2026, 5, 7, tzinfo=UTC)
    ticks = _ticks(start, end, WorkingDays(), PLOT)
    span = (end - start).total_seconds()
    xs = [(t - start).total_seconds() / span * PLOT for t, _ in ticks]
    assert len(ticks) >= 4
    assert all(b - a >= LABEL_WIDTH * 0.9 for a, b in itertools.pairwise(xs))


# ------------------------------------------------------------------------ the picture
def picture(scr, ref: str, now) -> ET.Element:
    return ET.fromstring(scr.ok("--now", now.isoformat(), "timeline", ref, "--out", "-").out)


def texts_of(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


def test_stages_are_bands_as_long_as_each_stay(board, scr):
    """Each stage the case went through is a band from the step that entered it to the next
    (the current one to now), its length said in words beside it."""
    ref = returns_case(board)
    root = picture(scr, ref, T0 + timedelta(days=16))
    bands = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "stage"]
    assert len(bands) == 2
    (x1, w1), (x2, w2) = ((float(b.get("x", 0)), float(b.get("width", 0))) for b in bands)
    # Information request begins as referral ends (a band is drawn at least 2 px wide).
    assert x1 < x2 <= x1 + w1 + 0.1
    assert w2 > 200  # about sixteen days of a seventeen-day axis 560 px long
    texts = [t.text for t in texts_of(root)]
    assert "Referral: 1 hour" in texts
    assert "Information request: 15 days and 23 hours so far" in texts
    assert (bands[0].findtext(f"{SVG}title") or "").startswith("Referral: 1 hour, from ")


def test_labels_are_words_not_identifiers(board, scr):
    """Stages, steps and timers read as the definition labels them: no `sub_group`, no
    `timer` or `request_information`, no level identifier such as '(transition)'."""
    ref = board.refer(at=T0)
    at = board.walk(ref, State.SUB_GROUP, at=T0)
    root = picture(scr, ref, at + timedelta(days=20))  # the sub-group's deadlines fired late
    texts = [t.text or "" for t in texts_of(root)]
    assert f"{ref}  Child K — Case review sub-group" == texts[0]
    assert "Case submitted to the case review sub-group → Case review sub-group" in texts
    assert not [t for t in texts if "_" in t or t.startswith("timer")]
    assert not [t for t in texts if "(transition)" in t]
    assert "Sub-group recommendation due (escalation) — pending" in texts
    desc = root.findtext(f"{SVG}desc") or ""
    assert "Case review sub-group" in desc and "_" not in desc


def test_a_late_firing_is_drawn_in_the_overdue_colour(board, scr):
    """A timer that fired two days after its moment (the daemon was down) is red, and says
    it was late; a step taken on time keeps its own colour."""
    from scr.lifecycle.views.timeline import COLOURS, HISTORY, LATE
    from tests.lifecycle.sweeping import sweep_at

    ref = returns_case(board)
    sweep_at(board, T0 + timedelta(days=16))  # due Mon 7 Dec 11:00, fired Wed 9 Dec 10:00
    root = picture(scr, ref, T0 + timedelta(days=16, hours=1))
    fills = {t.text: t.get("fill") for t in texts_of(root)}
    assert fills["Agency returns due (overdue) — late"] == LATE
    assert fills["Agency return received"] == COLOURS[HISTORY]
    marks = [m for m in root.iter(f"{SVG}circle") if m.get("fill") == LATE]
    assert marks


def test_a_far_off_timer_does_not_squash_the_rest(board, scr):
    """The twelve-month hold escalation, a year away, sits past a break at the axis's right
    edge; the case's three days since referral keep a fair share of the plot (on an axis
    of a year they would be five pixels)."""
    from scr.lifecycle.views.timeline import FAR, LEFT, PLOT

    ref = board.refer(at=T0)
    at = board.walk(ref, State.PUBLICATION_HOLD, at=T0)
    now = at + timedelta(days=3)
    root = picture(scr, ref, now)
    assert [line for line in root.iter(f"{SVG}line") if line.get("class") == "axis-break"]
    far = next(t for t in texts_of(root) if (t.text or "").startswith("Twelve months on"))
    row_y = float(far.get("y", 0)) - 4
    mark = next(c for c in root.iter(f"{SVG}circle")
                if float(c.get("cy", 0)) == pytest.approx(row_y))
    assert float(mark.get("cx", 0)) >= LEFT + PLOT - FAR
    now_line = next(line for line in root.iter(f"{SVG}line")
                    if line.get("stroke-dasharray") == "6,4")
    assert float(now_line.get("x1", 0)) > LEFT + 100
    ticks = [t.text for t in texts_of(root) if t.get("font-size") == "10"]
    assert "23 Nov 2027" in ticks


def test_no_break_when_nothing_is_far_off(board, scr):
    """A case whose moments are all near one another has one unbroken axis."""
    ref = returns_case(board)
    root = picture(scr, ref, T0 + timedelta(days=16))
    assert not [line for line in root.iter(f"{SVG}line")
                if line.get("class") in ("axis-break", "axis-far")]


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_picture_is_accessible(board, scr):
    """The picture names itself (title and desc, referenced by aria-labelledby, role img)
    and every text in it has a contrast of at least 4.5:1 on its white ground."""
    ref = returns_case(board)
    root = picture(scr, ref, T0 + timedelta(days=16))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "timeline-title timeline-desc"
    assert root.find(f"{SVG}title").get("id") == "timeline-title"
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.get("id") == "timeline-desc"
    assert desc.text.startswith(f"Case {ref} (Child K). Stages: Referral: 1 hour; ")
    assert "Hal Health" not in ET.tostring(root, encoding="unicode")
    for text in texts_of(root):
        ratio = 1.05 / (_luminance(text.get("fill", "#000000")) + 0.05)
        assert ratio >= 4.5, (text.text, text.get("fill"), round(ratio, 2))


def test_the_text_timeline_names_events_in_words(board, scr):
    ref = returns_case(board)
    text = scr.ok("--now", (T0 + timedelta(days=3)).isoformat(), "timeline", ref).out
    assert "Information requested from agencies" in text
    assert "request_information" not in text and "returns.reminder" not in text


def test_the_planned_meeting_is_shown_while_the_case_is_where_it_is_held(board, scr):
    """A meeting date given when the case is put to the sub-group is a deadline on the axis
    while the case is there (where the definition holds its meetings), not after."""
    ref = returns_case(board)
    board.fire(ref, "record_return", at=T0 + 3 * H, by=POLICE, agency="police", view="scr",
               summary="known to us")
    board.fire(ref, "submit_to_sub_group", at=T0 + 4 * H, meeting_date="2026-12-02")
    now = (T0 + 5 * H).isoformat()
    events = scr.ok("--now", now, "timeline", ref, "--json").json()["events"]
    meeting = [e for e in events if e["title"] == "sub-group meeting"]
    assert [(m["at"][:10], m["status"]) for m in meeting] == [("2026-12-02", "planned")]
    board.fire(ref, "record_meeting", at=T0 + 6 * H, by=SUBCHAIR, date="2026-11-23",
               attendees=QUORUM)
    board.fire(ref, "recommend", at=T0 + 7 * H, by=SUBCHAIR, reason="as discussed",
               recommendation="scr")
    later = (T0 + 8 * H).isoformat()
    events = scr.ok("--now", later, "timeline", ref, "--json").json()["events"]
    assert not [e for e in events if e["title"] == "sub-group meeting"]
