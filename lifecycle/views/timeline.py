"""`scr timeline`: a case's history, pending timers and deadlines on one time axis.

As text for the terminal (a line marks now) and as an SVG picture drawn with the standard
library. Deadlines are the agencies' returns, the action plan's due dates, the scheduled
publication and the expected end of proceedings; each says whether it was met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lifecycle.core.arming import label
from lifecycle.core.process import Process
from lifecycle.views.overdue import DEADLINE_LEVELS
from lifecycle.views.text import table, when
from states.working_days import WorkingDays
from storage import facts, history, timers
from storage.cases import CaseRecord
from storage.db import Tx
from storage.timers import PENDING

HISTORY, TIMER, DEADLINE = "history", "timer", "deadline"
MARKS = {HISTORY: "●", TIMER: "○", DEADLINE: "◆"}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # history | timer | deadline
    title: str
    detail: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind, "title": self.title,
                "detail": self.detail, "status": self.status}


def events(tx: Tx, process: Process, case: CaseRecord, *, now: datetime,
           cal: WorkingDays) -> list[Event]:
    """Everything on the case's time axis, oldest first (history before timers at a tie)."""
    found = [_history_event(h) for h in history.of_case(tx, case.id)]
    for t in timers.current(tx, case):
        if t.status == PENDING:
            found.append(Event(t.due_at, TIMER, label(process.definition, t), t.rule,
                               _timer_status(t, now)))
    found += _deadlines(tx, case, now, cal)
    order = {HISTORY: 0, DEADLINE: 1, TIMER: 2}
    return sorted(found, key=lambda e: (e.at, order[e.kind]))


def _timer_status(timer: Any, now: datetime) -> str:
    """Pending, or past its moment and not yet fired: overdue for a deadline, else passed."""
    if timer.due_at > now:
        return "pending"
    return "overdue" if timer.level in DEADLINE_LEVELS else "passed"


def _history_event(h: Any) -> Event:
    if h.trigger == "timer":
        params = h.params or {}
        title = "timer " + ".".join(str(params[k]) for k in ("timer", "key", "level")
                                    if params.get(k))
    else:
        title = h.trigger
    move = f"{h.source} → {h.dest}" if h.source and h.source != h.dest else (
        f"in {h.dest}" if h.source else f"→ {h.dest}")
    late = ""
    if h.due_at is not None and h.at - h.due_at > timedelta(minutes=1):
        late = f", late by {_span(h.at - h.due_at)}"
    return Event(h.at, HISTORY, title, f"{move}; by {h.actor}{_recorder(h)}{late}", "done")


def _deadlines(tx: Tx, case: CaseRecord, now: datetime, cal: WorkingDays) -> list[Event]:
    found = []
    for ask in facts.asks(tx, case.id):
        returned = ask.returned_at
        status = _met(returned, ask.due_at, now)
        detail = f"round {ask.round}" + (f"; returned {when(returned, cal)}"
                                         if returned else "")
        found.append(Event(ask.due_at, DEADLINE, f"{ask.agency} return due", detail, status))
    for action in facts.actions(tx, case.id):
        due = cal.start_of(action.due)
        done = action.completed_at
        status = _met(done, due + timedelta(days=1), now) if action.status != "open" else (
            "overdue" if now >= due + timedelta(days=1) else "due")
        found.append(Event(due, DEADLINE, f"action {action.number} due ({action.agency})",
                           f"owner {action.owner}; {action.status.replace('_', ' ')}", status))
    if case.scheduled_publication:
        due = cal.start_of(case.scheduled_publication)
        found.append(Event(due, DEADLINE, "publication scheduled", "",
                           _met(case.published_at, due + timedelta(days=1), now)))
    proceedings = facts.proceedings(tx, case.id)
    if proceedings.expected_conclusion:
        day = proceedings.expected_conclusion
        found.append(Event(cal.start_of(day), DEADLINE, "proceedings expected to conclude",
                           f"criminal {proceedings.criminal}, care {proceedings.care}",
                           "expected"))
    if case.meeting_date and case.state == "sub_group":
        found.append(Event(cal.start_of(case.meeting_date), DEADLINE, "sub-group meeting",
                           "the recommendation is due the working day after", "planned"))
    return found


def _met(done: datetime | None, due: datetime, now: datetime) -> str:
    if done is not None:
        return "met" if done <= due else "late"
    return "overdue" if now >= due else "due"


def _span(delta: timedelta) -> str:
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = delta.seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours else "under an hour"


# ---------------------------------------------------------------------------- text
def timeline_text(doc: dict[str, Any], cal: WorkingDays) -> str:
    now = datetime.fromisoformat(doc["now"])
    rows = [[when(e["at"], cal), f"{MARKS[e['kind']]} {e['kind']}", e["title"],
             e["status"], e["detail"]] for e in doc["events"]]
    rendered = table(["when", "kind", "what", "status", "detail"], rows).split("\n")
    past = sum(1 for e in doc["events"] if datetime.fromisoformat(e["at"]) <= now)
    marker = f"──── now: {when(now, cal)} ────"
    lines = [f"{doc['ref']}  {doc['pseudonym']}  (state {doc['state']})", "", rendered[0],
             *rendered[1:past + 1], marker, *rendered[past + 1:]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- SVG
ROW, TOP, LEFT, PLOT, LABELS = 22, 96, 150, 560, 420
COLOURS = {HISTORY: "#1f4e79", TIMER: "#c55a11", DEADLINE: "#7030a0"}
LATE = "#c00000"


def timeline_svg(doc: dict[str, Any], cal: WorkingDays) -> str:
    """The timeline as a standalone SVG document: one row per event, one shared time axis."""
    evs = [(datetime.fromisoformat(e["at"]), e) for e in doc["events"]]
    now = datetime.fromisoformat(doc["now"])
    moments = [m for m, _ in evs] + [now]
    start, end = min(moments), max(moments)
    if end - start < timedelta(days=1):
        end = start + timedelta(days=1)
    pad = (end - start) * 0.03
    start, end = start - pad, end + pad
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return LEFT + PLOT * (moment - start).total_seconds() / span

    width = LEFT + PLOT + LABELS
    height = TOP + ROW * max(len(evs), 1) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
           'font-size="12">',
           f"<title>{escape(doc['ref'])} timeline</title>",
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           _text(16, 24, f"{doc['ref']}  {doc['pseudonym']} — state {doc['state']}",
                 size=16, weight="bold"),
           _text(16, 44, f"as of {when(now, cal)}", fill="#555555")]
    out += _legend(width - 330, 24)
    axis_y = TOP - 16
    out.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{LEFT + PLOT}" y2="{axis_y}" '
               'stroke="#888888"/>')
    for tick, text in _ticks(start, end, cal, PLOT):
        tx = x(tick)
        out.append(f'<line x1="{tx:.1f}" y1="{axis_y - 4}" x2="{tx:.1f}" y2="{height - 30}" '
                   'stroke="#eeeeee"/>')
        out.append(_text(tx, axis_y - 8, text, size=10, anchor="middle", fill="#555555"))
    for row, (moment, e) in enumerate(evs):
        y = TOP + ROW * row + ROW / 2
        cx = x(moment)
        colour = LATE if e["status"] in ("overdue", "late") else COLOURS[e["kind"]]
        out.append(_mark(e["kind"], cx, y, colour))
        out.append(_text(12, y + 4, when(moment, cal), size=10, fill="#555555"))
        caption = (f"{e['title']} ({e['detail'].split(';')[0]})" if e["kind"] == HISTORY
                   else f"{e['title']} — {e['status']}")
        out.append(_text(LEFT + PLOT + 12, y + 4, caption, fill=colour))
        out.append(f'<line x1="{cx:.1f}" y1="{y}" x2="{LEFT + PLOT + 8}" y2="{y}" '
                   'stroke="#dddddd" stroke-dasharray="2,3"/>')
    nx = x(now)
    out.append(f'<line x1="{nx:.1f}" y1="{axis_y}" x2="{nx:.1f}" y2="{height - 24}" '
               f'stroke="{LATE}" stroke-width="1.5" stroke-dasharray="6,4"/>')
    out.append(_text(nx, height - 10, "now", size=11, anchor="middle", fill=LATE,
                     weight="bold"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(x0: float, y0: float) -> list[str]:
    items = [(HISTORY, "history"), (TIMER, "pending timer"), (DEADLINE, "deadline")]
    out = []
    for i, (kind, text) in enumerate(items):
        out.append(_mark(kind, x0 + i * 110, y0, COLOURS[kind]))
        out.append(_text(x0 + i * 110 + 10, y0 + 4, text, size=11))
    out.append(_mark(DEADLINE, x0, y0 + 20, LATE))
    out.append(_text(x0 + 10, y0 + 24, "overdue or late", size=11))
    return out


def _mark(kind: str, cx: float, cy: float, colour: str) -> str:
    if kind == HISTORY:
        return f'<circle cx="{cx:.1f}" cy="{cy}" r="5" fill="{colour}"/>'
    if kind == TIMER:
        return (f'<circle cx="{cx:.1f}" cy="{cy}" r="5" fill="#ffffff" stroke="{colour}" '
                'stroke-width="2"/>')
    points = f"{cx:.1f},{cy - 6} {cx + 6:.1f},{cy} {cx:.1f},{cy + 6} {cx - 6:.1f},{cy}"
    return f'<polygon points="{points}" fill="{colour}"/>'


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start",
          fill: str = "#222222", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill={quoteattr(fill)} font-weight="{weight}">{escape(text)}</text>')


LABEL_WIDTH = 56  # pixels a tick label such as "Sep 2026" needs at size 10


def _ticks(start: datetime, end: datetime, cal: WorkingDays,
           width: float) -> list[tuple[datetime, str]]:
    """Ticks at local midnights: days, Mondays, first of months or years, by the span,
    thinned so that their labels never overlap on an axis `width` pixels long."""
    days = (end - start).days
    first, last = cal.local_date(start), cal.local_date(end)

    def keep(day: date) -> bool:
        if days <= 14:
            return True
        if days <= 120:
            return day.weekday() == 0
        if days <= 1100:
            return day.day == 1
        return day.day == 1 and day.month == 1

    fmt = "%d %b" if days <= 120 else ("%b %Y" if days <= 1100 else "%Y")
    ticks = []
    day = first + timedelta(days=1)
    while day <= last:
        if keep(day):
            moment = datetime.combine(day, datetime.min.time(), tzinfo=cal.zone)
            ticks.append((moment, day.strftime(fmt)))
        day += timedelta(days=1)
    step = max(1, -(-len(ticks) * LABEL_WIDTH // int(width)))
    return ticks[::step]


def _recorder(row: Any) -> str:
    recorded_by = getattr(row, "recorded_by", None)
    return f" (recorded by {recorded_by})" if recorded_by else ""
