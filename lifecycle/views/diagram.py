"""`scr diagram`: the lifecycle drawn from a process definition itself.

Mermaid `stateDiagram-v2` text (the pages docs/lifecycle-*.md are generated from it) and an
SVG picture laid out and drawn by hand with the standard library. Transitions carry their
trigger and guards; internal transitions and the timers each state arms are listed with
their state.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from scr.states import words
from scr.states.enums import Role
from scr.states.process import ProcessDefinition, TriggerSpec


def doc_path(d: ProcessDefinition) -> str:
    """The page of the definition's lifecycle in docs/, e.g. docs/lifecycle-cspr-v1.md."""
    return f"docs/lifecycle-{d.name}-v{d.version}.md"
State = str


@dataclass(frozen=True)
class Edge:
    source: State
    dest: State
    spec: TriggerSpec


def edges(d: ProcessDefinition) -> list[Edge]:
    """Every transition that moves a case, in the definition's order."""
    return [Edge(s, t.dest, t) for t in d.all_triggers if t.dest is not None and t.sources
            for s in t.sources]


def internal(d: ProcessDefinition, state: State) -> list[TriggerSpec]:
    """The triggers that record data in `state` without moving it (the daemon's aside)."""
    return [t for t in d.all_triggers if t.dest is None and state in t.sources
            and t is not d.timer_trigger]


def timers_of(d: ProcessDefinition, state: State) -> list[str]:
    return [t.ladder for t in d.timers if state in t.states]


def _timers_line(d: ProcessDefinition, state: State) -> str:
    """The timers a state arms, by their labels: "timers: Triage of the referral"."""
    return "timers: " + ", ".join(words.timer_label(d, ladder) for ladder in timers_of(d, state))


def _who(d: ProcessDefinition, spec: TriggerSpec) -> str:
    people = [words.role_label(str(r.role), d) for r in spec.roles if r.role != Role.SYSTEM]
    return ", ".join(dict.fromkeys(people)) + (" (also timed)" if spec.timed else "")


def _transition_text(spec: TriggerSpec) -> str:
    """The trigger as typed, what it does in words, and its guards."""
    timed = " (timed)" if spec.timed else ""
    guards = f" [{', '.join(spec.guards)}]" if spec.guards else ""
    return _safe(f"{spec.name}: {spec.label}{timed}{guards}")


# ---------------------------------------------------------------------------- Mermaid
def _safe(text: str) -> str:
    """Mermaid ends a description at ';' or '#': keep both out of it."""
    return text.replace(";", ",").replace("#", "no.")


def mermaid(d: ProcessDefinition) -> str:
    lines = ["stateDiagram-v2"]
    lines += [f"    {s} : {_safe(d.state_label(s))}" for s in d.states]
    lines.append(f"    [*] --> {d.initial} : {_transition_text(d.create)}")
    lines += [f"    {e.source} --> {e.dest} : {_transition_text(e.spec)}" for e in edges(d)]
    lines += [f"    {s} --> [*]" for s in d.states if s in d.finals]
    for state in d.states:
        notes = [_transition_text(t) for t in internal(d, state)]
        if timers_of(d, state):
            notes.append(_safe(_timers_line(d, state)))
        if notes:
            lines.append(f"    note right of {state}")
            lines += [f"        {n}" for n in notes]
            lines.append("    end note")
    return "\n".join(lines) + "\n"


def markdown(d: ProcessDefinition) -> str:
    """The page docs/lifecycle-NAME-vVERSION.md: the Mermaid diagram and a table of every
    trigger."""
    out = [
        f"# The case review lifecycle: {d.label}",
        "",
        f"Generated from the process definition {d.name} version {d.version} by "
        f"`scr diagram --process {d.name} --version {d.version} --out {doc_path(d)}`;",
        "do not edit by hand. A test fails when this file falls behind the definition.",
        "",
        "Transitions are labelled with their trigger (as `scr advance` takes it), what it "
        "does,",
        "and, in brackets, the guards that must hold. The notes list each state's internal",
        "transitions (which record data without moving the case) and the timers it arms.",
        "",
        "```mermaid",
        mermaid(d).rstrip("\n"),
        "```",
        "",
        "| trigger | what it does | from | to | who | guards |",
        "|---|---|---|---|---|---|",
    ]
    for t in (d.create, *d.all_triggers):
        sources = ", ".join(d.state_label(s) for s in t.sources) or "(creates the case)"
        dest = d.state_label(t.dest) if t.dest else "(stays)"
        who = _who(d, t) or "scr (daemon)"
        out.append(f"| `{t.name}` | {t.label} | {sources} | {dest} | {who} | "
                   f"{', '.join(t.guards) or '-'} |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- SVG
BOX_W, LINE, HEAD, MARGIN, COL_GAP = 300, 14, 44, 300, 280
INK, MUTED, ACCENT = "#222222", "#666666", "#1f4e79"


def _layout(d: ProcessDefinition) -> tuple[dict[State, int], dict[State, int],
                                           set[tuple[State, State]]]:
    """Rows by longest forward path from the initial state, columns within a row, and the
    back edges (those that return to a state already on the path)."""
    graph: dict[State, list[State]] = {s: [] for s in d.states}
    for e in edges(d):
        if e.dest not in graph[e.source]:
            graph[e.source].append(e.dest)
    back: set[tuple[State, State]] = set()
    on_path: list[State] = []
    seen: set[State] = set()

    def visit(state: State) -> None:
        seen.add(state)
        on_path.append(state)
        for nxt in graph[state]:
            if nxt in on_path:
                back.add((state, nxt))
            elif nxt not in seen:
                visit(nxt)
        on_path.pop()

    visit(d.initial)
    row = {s: 0 for s in d.states}
    for _ in d.states:  # relax: longest path in the acyclic rest
        for s, nexts in graph.items():
            for n in nexts:
                if (s, n) not in back:
                    row[n] = max(row[n], row[s] + 1)
    col: dict[State, int] = {}
    for r in sorted(set(row.values())):
        members = sorted((s for s in d.states if row[s] == r),
                         key=lambda s: (s in d.finals, d.states.index(s)))
        col.update({s: i for i, s in enumerate(members)})
    return row, col, back


def _box_lines(d: ProcessDefinition, state: State) -> list[str]:
    lines = [t.name for t in internal(d, state)]
    if timers_of(d, state):
        lines += _wrap(_timers_line(d, state))
    return lines


def _wrap(text: str, width: int = 44) -> list[str]:
    words, lines, current = text.split(" "), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def _edge_lines(spec: TriggerSpec) -> list[str]:
    head = spec.name + (" (timed)" if spec.timed else "")
    guards = _wrap(f"[{', '.join(spec.guards)}]") if spec.guards else []
    return [head, *guards[:1], *(" " + g for g in guards[1:])]  # a leading space: a guard


def _bundles(d: ProcessDefinition) -> list[tuple[State, State, list[str]]]:
    """Edges between the same two states drawn once, their labels stacked."""
    bundles: dict[tuple[State, State], list[str]] = {}
    for e in edges(d):
        bundles.setdefault((e.source, e.dest), []).extend(_edge_lines(e.spec))
    return [(s, d, lines) for (s, d), lines in bundles.items()]


def svg(d: ProcessDefinition) -> str:
    row, col, back = _layout(d)
    heights = {s: HEAD + LINE * len(_box_lines(d, s)) + 6 for s in d.states}
    rows = max(row.values()) + 1
    row_h = [max(heights[s] for s in d.states if row[s] == r) for r in range(rows)]
    bundles = _bundles(d)
    gaps = []
    for r in range(rows):
        below = [lines for s, t, lines in bundles
                 if row[s] == r and row[t] == r + 1 and col[s] == col[t]]
        gaps.append(max([56] + [20 + LINE * len(lines) for lines in below]))
    top = [70.0]
    for r in range(1, rows):
        top.append(top[-1] + row_h[r - 1] + gaps[r - 1])
    x = {s: MARGIN + col[s] * (BOX_W + COL_GAP) for s in d.states}
    y = {s: top[row[s]] for s in d.states}
    columns = max(col.values()) + 1
    width = MARGIN + columns * BOX_W + (columns - 1) * COL_GAP + 40
    height = int(top[-1] + row_h[-1] + 40)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
           'font-size="12">',
           "<title>Case review lifecycle</title>",
           "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
           "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
           f"<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"{INK}\"/></marker></defs>",
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           _text(16, 26, f"Case review lifecycle ({d.title})", 16, weight="bold")]
    start = d.initial
    sx = x[start] + BOX_W / 2
    out.append(f'<circle cx="{sx}" cy="{y[start] - 34}" r="6" fill="{INK}"/>')
    out.append(_line(sx, y[start] - 28, sx, y[start]))
    out.append(_text(sx + 8, y[start] - 12, d.create.name, 11, weight="bold"))
    back_count = 0
    for s, t, lines in bundles:
        if (s, t) in back:
            back_count += 1
            bulge = 60 + 40 * back_count
            x1, y1 = x[s], y[s] + heights[s] / 2
            x2, y2 = x[t], y[t] + heights[t] / 2
            out.append(_path(f"M {x1} {y1} C {x1 - bulge} {y1} {x2 - bulge} {y2} {x2} {y2}"))
            out += _label(x1 - bulge * 0.75 - 6, (y1 + y2) / 2, lines, "end")
        elif col[s] == col[t] and row[t] == row[s] + 1:
            cx = x[s] + BOX_W / 2
            out.append(_line(cx, y[s] + heights[s], cx, y[t]))
            out += _label(cx + 8, y[s] + heights[s] + 16, lines, "start")
        else:
            x1, y1 = x[s] + BOX_W, y[s] + heights[s] / 2
            x2, y2 = x[t], y[t] + heights[t] / 2
            out.append(_path(f"M {x1} {y1} C {x1 + 120} {y1} {x2 - 120} {y2} {x2} {y2}"))
            out += _label((x1 + x2) / 2 + 12, (y1 + y2) / 2 - 4, lines, "start")
    for state in d.states:
        out += _box(d, state, x[state], y[state], heights[state])
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _box(d: ProcessDefinition, state: State, bx: float, by: float, h: float) -> list[str]:
    final = state in d.finals
    out = [f'<rect x="{bx}" y="{by}" width="{BOX_W}" height="{h}" rx="10" fill="#f4f8fc" '
           f'stroke="{ACCENT}" stroke-width="{2.5 if final else 1.5}"/>']
    if final:
        out.append(f'<rect x="{bx + 4}" y="{by + 4}" width="{BOX_W - 8}" height="{h - 8}" '
                   f'rx="8" fill="none" stroke="{ACCENT}" stroke-width="1"/>')
    out.append(_text(bx + 12, by + 20, d.state_label(state), 13, weight="bold", fill=ACCENT))
    out.append(_text(bx + 12, by + 36, state, 11, fill=MUTED))
    for i, line in enumerate(_box_lines(d, state)):
        out.append(_text(bx + 20, by + HEAD + 8 + LINE * i, line, 11, fill=INK))
    return out


def _label(lx: float, ly: float, lines: list[str], anchor: str) -> list[str]:
    """Trigger names bold, their guards (in brackets) muted beneath."""
    out = []
    for i, line in enumerate(lines):
        guard = line.startswith("[") or not line[:1].isalpha()
        out.append(_text(lx, ly + LINE * i, line, 10 if guard else 11, anchor=anchor,
                         weight="normal" if guard else "bold", fill=MUTED if guard else INK,
                         halo=True))
    return out


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{INK}" '
            'stroke-width="1.3" marker-end="url(#arrow)"/>')


def _path(d: str) -> str:
    return (f'<path d="{d}" fill="none" stroke="{INK}" stroke-width="1.3" '
            'marker-end="url(#arrow)"/>')


def _text(tx: float, ty: float, text: str, size: int, *, anchor: str = "start",
          weight: str = "normal", fill: str = INK, halo: bool = False) -> str:
    # A white halo keeps a label legible where it crosses a line.
    extra = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}"{extra}>{escape(text)}</text>')
