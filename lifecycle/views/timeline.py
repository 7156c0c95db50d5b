"""`scr timeline`: a case's history, pending timers and deadlines on one time axis.

As text for the terminal (a line marks now) and as an SVG picture drawn with the standard
library. Deadlines are the agencies' returns, the action plan's due dates, the scheduled
publication and the expected end of proceedings; each says whether it was met.

The picture is for a board member: the stages the case went through as bands, so that how
long each took shows; every label in words (the definition's labels, not its identifiers);
what is overdue, late or fired late in red; and a pending timer far beyond the rest drawn
past a break in the axis, at its right edge, so that it does not squash the case's history.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from scr.lifecycle.core.arming import label
from scr.lifecycle.core.process import Process
from scr.lifecycle.views.text import table, when
from scr.states import words
from scr.states.process import DEADLINE_LEVELS, ProcessDefinition
from scr.states.working_days import WorkingDays
from scr.storage import facts, history, timers
from scr.storage.cases import CaseRecord
from scr.storage.db import Tx
from scr.storage.timers import PENDING

HISTORY, TIMER, DEADLINE = "history", "timer", "deadline"
MARKS = {HISTORY: "●", TIMER: "○", DEADLINE: "◆"}


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # history | timer | deadline
    title: str
    detail: str
    status: str
    label: str = ""  # the title in words, as the picture shows it
    stage: str = ""  # of a history event: the stage the case is in after it, in words

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind, "title": self.title,
                "detail": self.detail, "status": self.status, "label": self.label,
                "stage": self.stage}


def events(tx: Tx, process: Process, case: CaseRecord, *, now: datetime,
           cal: WorkingDays) -> list[Event]:
    """Everything on the case's time axis, oldest first (history before timers at a tie)."""
    definition = process.definition
    found = [_history_event(h, definition) for h in history.of_case(tx, case.id)]
    for t in timers.current(tx, case):
        if t.status == PENDING:
            found.append(Event(t.due_at, TIMER, label(definition, t), t.rule,
                               _timer_status(t, now),
                               words.timer_label(definition, t.ladder, t.level, t.key or None)))
    found += _deadlines(tx, definition, case, now, cal)
    order = {HISTORY: 0, DEADLINE: 1, TIMER: 2}
    return sorted(found, key=lambda e: (e.at, order[e.kind]))


def _timer_status(timer: Any, now: datetime) -> str:
    """Pending, or past its moment and not yet fired: overdue for a deadline, else passed."""
    if timer.due_at > now:
        return "pending"
    return "overdue" if timer.level in DEADLINE_LEVELS else "passed"


def _history_event(h: Any, definition: ProcessDefinition) -> Event:
    if h.trigger == "timer":
        params = h.params or {}
        title = "timer " + ".".join(str(params[k]) for k in ("timer", "key", "level")
                                    if params.get(k))
        named = words.timer_label(definition, str(params.get("timer", "")),
                                  params.get("level"), params.get("key"))
    else:
        title = h.trigger
        named = words.trigger_label(definition, h.trigger)
    source = words.state_label(definition, h.source) if h.source else None
    dest = words.state_label(definition, h.dest)
    move = f"{source} → {dest}" if source and h.source != h.dest else (
        f"in {dest}" if source else f"→ {dest}")
    late = ""
    if h.due_at is not None and h.at - h.due_at > timedelta(minutes=1):
        late = f", late by {_span(h.at - h.due_at)}"
    return Event(h.at, HISTORY, title, f"{move}; by {h.actor}{_recorder(h)}{late}",
                 "late" if late else "done", named, words.state_label(definition, h.dest))


def _deadlines(tx: Tx, definition: ProcessDefinition, case: CaseRecord, now: datetime,
               cal: WorkingDays) -> list[Event]:
    found = []
    for ask in facts.asks(tx, case.id):
        returned = ask.returned_at
        status = _met(returned, ask.due_at, now)
        detail = f"round {ask.round}" + (f"; returned {when(returned, cal)}"
                                         if returned else "")
        found.append(Event(ask.due_at, DEADLINE, f"{ask.agency} return due", detail, status,
                           words.capital(f"{words.value_label(ask.agency)} return due")))
    for action in facts.actions(tx, case.id):
        due = cal.start_of(action.due)
        done = action.completed_at
        status = _met(done, due + timedelta(days=1), now) if action.status != "open" else (
            "overdue" if now >= due + timedelta(days=1) else "due")
        found.append(Event(due, DEADLINE, f"action {action.number} due ({action.agency})",
                           f"owner {action.owner}; {action.status.replace('_', ' ')}", status,
                           f"Action {action.number} due ({words.value_label(action.agency)})"))
    if case.scheduled_publication:
        due = cal.start_of(case.scheduled_publication)
        found.append(Event(due, DEADLINE, "publication scheduled", "",
                           _met(case.published_at, due + timedelta(days=1), now),
                           "Publication scheduled"))
    proceedings = facts.proceedings(tx, case.id)
    if proceedings.expected_conclusion:
        day = proceedings.expected_conclusion
        found.append(Event(cal.start_of(day), DEADLINE, "proceedings expected to conclude",
                           f"criminal {proceedings.criminal}, care {proceedings.care}",
                           "expected", "Proceedings expected to conclude"))
    # The meeting a case was put to is planned while it is where that meeting is held.
    if case.meeting_date and case.state in definition.meets_in:
        found.append(Event(cal.start_of(case.meeting_date), DEADLINE, "sub-group meeting",
                           "the recommendation is due the working day after", "planned",
                           "Sub-group meeting"))
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
    rows = [[when(e["at"], cal), f"{MARKS[e['kind']]} {e['kind']}", e.get("label") or e["title"],
             e["status"], e["detail"]] for e in doc["events"]]
    # Unwrapped: the "now" line goes between rows, found by counting lines.
    rendered = table(["when", "kind", "what", "status", "detail"], rows, width=None).split("\n")
    past = sum(1 for e in doc["events"] if datetime.fromisoformat(e["at"]) <= now)
    marker = f"──── now: {when(now, cal)} ────"
    stage = doc.get("state_label") or doc["state"]
    lines = [f"{doc['ref']}  {doc['pseudonym']}  ({stage})", "", rendered[0],
             *rendered[1:past + 1], marker, *rendered[past + 1:]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- SVG
ROW, TOP, LEFT, PLOT, LABELS = 22, 96, 150, 560, 420
# Every colour a text is drawn in keeps a contrast of at least 4.5:1 on white (WCAG 2.2,
# 1.4.3), since the portal shows the picture to everyone who may read the case.
COLOURS = {HISTORY: "#1f4e79", TIMER: "#a04000", DEADLINE: "#7030a0"}
LATE = "#c00000"
MUTED = "#505a5f"
BANDS = ("#d2e2f1", "#e4dcef")  # stage bands alternate, each with a darker outline
BAND_EDGE = "#1f4e79"
# A pending timer after a gap longer than everything else on the axis (and over a week) is
# drawn past a break, in the last FAR pixels of the plot.
FAR, BREAK = 70, 14
FAR_GAP = timedelta(days=7)


@dataclass(frozen=True)
class Stage:
    """One stay of the case in a stage, from the event that entered it to the next or now."""

    label: str
    start: datetime
    end: datetime
    current: bool


def stages(evs: list[tuple[datetime, dict[str, Any]]], now: datetime) -> list[Stage]:
    """The stages the history events put the case in, in order."""
    entered = [(moment, e["stage"]) for moment, e in evs if e["kind"] == HISTORY
               and e.get("stage")]
    found: list[tuple[datetime, str]] = []
    for moment, stage in entered:
        if not found or found[-1][1] != stage:
            found.append((moment, stage))
    ends = [moment for moment, _ in found[1:]] + [max(now, found[-1][0])] if found else []
    return [Stage(stage, start, end, i == len(found) - 1)
            for i, ((start, stage), end) in enumerate(zip(found, ends, strict=True))]


@dataclass(frozen=True)
class Axis:
    """Moments to x: linear from `start` to `end`, or, with a break, linear to `near_end`
    and the far moments (from `far_start`) in the plot's last FAR pixels."""

    start: datetime
    end: datetime
    near_end: datetime | None = None
    far_start: datetime | None = None

    @property
    def near_width(self) -> float:
        return PLOT - FAR - BREAK if self.near_end is not None else PLOT

    def x(self, moment: datetime) -> float:
        near_end = self.near_end or self.end
        if self.far_start is None or moment <= near_end:
            return LEFT + self.near_width * _fraction(self.start, near_end, moment)
        if self.end <= self.far_start:
            return LEFT + PLOT - FAR / 2
        return LEFT + PLOT - FAR + FAR * _fraction(self.far_start, self.end, moment)


def _fraction(start: datetime, end: datetime, moment: datetime) -> float:
    return (moment - start).total_seconds() / max((end - start).total_seconds(), 1.0)


def axis(moments: list[datetime], now: datetime) -> Axis:
    """The time axis: padded a little at each end, broken after now before a far-off
    moment. The past is never broken: the stages' lengths are what the picture shows."""
    ordered = sorted([*moments, now])
    later = [m for m in ordered if m >= now]
    gap, cut = max(((b - a, i) for i, (a, b) in enumerate(itertools.pairwise(later))),
                   default=(timedelta(0), 0))
    start, end = ordered[0], ordered[-1]
    if gap > FAR_GAP and gap > (end - start) - gap:
        near_start, near_end = _padded(start, later[cut])
        far_start = later[cut + 1]
        return Axis(near_start, end + (end - far_start) * 0.05, near_end, far_start)
    return Axis(*_padded(start, end))


def _padded(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if end - start < timedelta(days=1):
        end = start + timedelta(days=1)
    pad = (end - start) * 0.03
    return start - pad, end + pad


def timeline_svg(doc: dict[str, Any], cal: WorkingDays) -> str:
    """The timeline as a standalone SVG document: the stages as bands, then one row per
    event, on one shared time axis."""
    evs = [(datetime.fromisoformat(e["at"]), e) for e in doc["events"]]
    now = datetime.fromisoformat(doc["now"])
    bands = stages(evs, now)
    scale = axis([m for m, _ in evs], now)
    x = scale.x
    state = bands[-1].label if bands else words.state_label(None, doc["state"])
    captions = [_caption(e, evs[:row]) for row, (_, e) in enumerate(evs)]
    width = LEFT + PLOT + max([LABELS] + [_text_width(c) + 24 for c in captions]
                              + [_text_width(_band_text(b)) + 24 for b in bands])
    events_top = TOP + ROW * len(bands) + (12 if bands else 0)
    height = events_top + ROW * max(len(evs), 1) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
           'font-size="12" role="img" aria-labelledby="timeline-title timeline-desc">',
           f'<title id="timeline-title">{escape(doc["ref"])} timeline</title>',
           f'<desc id="timeline-desc">{escape(_description(doc, bands, evs, cal))}</desc>',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           _text(16, 24, f"{doc['ref']}  {doc['pseudonym']} — {state}", size=16,
                 weight="bold"),
           _text(16, 44, f"as of {when(now, cal)}", fill=MUTED)]
    out += _legend(width - 440, 24)
    axis_y = TOP - 16
    out += _axis(scale, axis_y, height, cal)
    for row, band in enumerate(bands):
        out += _band(band, row, x(band.start), x(band.end), cal)
    for row, (moment, e) in enumerate(evs):
        y = events_top + ROW * row + ROW / 2
        cx = x(moment)
        colour = LATE if e["status"] in ("overdue", "late") else COLOURS[e["kind"]]
        out.append(_mark(e["kind"], cx, y, colour))
        out.append(_text(12, y + 4, when(moment, cal), size=10, fill=MUTED))
        out.append(_text(LEFT + PLOT + 12, y + 4, captions[row], fill=colour))
        out.append(f'<line x1="{cx:.1f}" y1="{y}" x2="{LEFT + PLOT + 8}" y2="{y}" '
                   'stroke="#dddddd" stroke-dasharray="2,3"/>')
    nx = x(now)
    out.append(f'<line x1="{nx:.1f}" y1="{axis_y}" x2="{nx:.1f}" y2="{height - 24}" '
               f'stroke="{LATE}" stroke-width="1.5" stroke-dasharray="6,4"/>')
    out.append(_text(nx, height - 10, "now", size=11, anchor="middle", fill=LATE,
                     weight="bold"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _label(e: dict[str, Any]) -> str:
    return str(e.get("label") or e["title"])


def _caption(e: dict[str, Any], earlier: list[tuple[datetime, dict[str, Any]]]) -> str:
    """An event in words: a step with the stage it moved the case to, a deadline or timer
    with its status ("late" for a step taken after its moment)."""
    if e["kind"] != HISTORY:
        return f"{_label(e)} — {words.as_words(e['status'])}"
    stage = e.get("stage") or ""
    before = next((h.get("stage") for _, h in reversed(earlier) if h["kind"] == HISTORY), None)
    moved = f" → {stage}" if stage and stage != before else ""
    return _label(e) + moved + (" — late" if e["status"] == "late" else "")


def _band(band: Stage, row: int, x0: float, x1: float, cal: WorkingDays) -> list[str]:
    y = TOP + ROW * row + 3
    text = _band_text(band)
    return [f'<rect class="stage" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" '
            f'height="{ROW - 6}" fill="{BANDS[row % 2]}" stroke="{BAND_EDGE}" '
            'stroke-width="1">'
            f"<title>{escape(text)}, from {escape(when(band.start, cal))}</title></rect>",
            _text(12, y + ROW / 2 + 1, when(band.start, cal), size=10, fill=MUTED),
            _text(LEFT + PLOT + 12, y + ROW / 2 + 1, text, fill="#0b0c0c")]


def _band_text(band: Stage) -> str:
    return f"{band.label}: {words.span(band.end - band.start)}" + (
        " so far" if band.current else "")


def _text_width(text: str, size: int = 12) -> int:
    """A generous guess at a text's width in a sans-serif face, so no caption is cut off."""
    return int(len(text) * size * 0.6)


def _axis(scale: Axis, axis_y: float, height: float, cal: WorkingDays) -> list[str]:
    """The axis line with its ticks; with a break, a gap marked // and the day of the first
    far moment, with its year."""
    near_end = scale.near_end or scale.end
    near_right = LEFT + scale.near_width
    out = [f'<line x1="{LEFT}" y1="{axis_y}" x2="{near_right:.1f}" y2="{axis_y}" '
           'stroke="#888888"/>']
    ticks = _ticks(scale.start, near_end, cal, scale.near_width)
    if scale.far_start is not None:
        far_left = LEFT + PLOT - FAR
        out.append(f'<line class="axis-far" x1="{far_left}" y1="{axis_y}" '
                   f'x2="{LEFT + PLOT}" y2="{axis_y}" stroke="#888888"/>')
        for offset in (3, 9):
            bx = near_right + offset
            out.append(f'<line class="axis-break" x1="{bx - 3:.1f}" y1="{axis_y + 5}" '
                       f'x2="{bx + 3:.1f}" y2="{axis_y - 5}" stroke="#505a5f" '
                       'stroke-width="1.5"/>')
        ticks.append((scale.far_start, cal.local_date(scale.far_start).strftime("%d %b %Y")))
    for tick, text in ticks:
        tx = scale.x(tick)
        out.append(f'<line x1="{tx:.1f}" y1="{axis_y - 4}" x2="{tx:.1f}" y2="{height - 30}" '
                   'stroke="#eeeeee"/>')
        out.append(_text(tx, axis_y - 8, text, size=10, anchor="middle", fill=MUTED))
    return out


def _description(doc: dict[str, Any], bands: list[Stage],
                 evs: list[tuple[datetime, dict[str, Any]]], cal: WorkingDays) -> str:
    """The picture in a sentence or two, for those who cannot see it."""
    told = [_band_text(b) for b in bands]
    late = sum(1 for _, e in evs if e["status"] in ("overdue", "late"))
    ahead = [(m, e) for m, e in evs if m > datetime.fromisoformat(doc["now"])
             and e["kind"] != HISTORY]
    text = f"Case {doc['ref']} ({doc['pseudonym']})."
    if told:
        text += " Stages: " + "; ".join(told) + "."
    text += f" {words.plural(len(evs), 'event')}, {late} overdue or late."
    if ahead:
        moment, e = min(ahead, key=lambda pair: pair[0])
        text += f" Next: {_label(e)}, {when(moment, cal)}."
    return text


def _legend(x0: float, y0: float) -> list[str]:
    items = [(HISTORY, "step taken"), (TIMER, "pending timer"), (DEADLINE, "deadline")]
    out = []
    for i, (kind, text) in enumerate(items):
        out.append(_mark(kind, x0 + i * 110, y0, COLOURS[kind]))
        out.append(_text(x0 + i * 110 + 10, y0 + 4, text, size=11))
    out.append(_mark(DEADLINE, x0, y0 + 20, LATE))
    out.append(_text(x0 + 10, y0 + 24, "overdue, late or fired late", size=11))
    out.append(f'<rect x="{x0 + 200}" y="{y0 + 14}" width="18" height="12" '
               f'fill="{BANDS[0]}" stroke="{BAND_EDGE}"/>')
    out.append(_text(x0 + 224, y0 + 24, "stage, as long as it lasted", size=11))
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
