"""Text for people: aligned tables, moments in the board's time zone, a case at a glance."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from scr.lifecycle.views import style
from scr.states.process import COURSE_ENDS, COURSE_STARTS
from scr.states.working_days import WorkingDays

GAP = "  "
# Wrapping a column narrower than MIN_COLUMN, or one of SHORT or fewer characters (a date,
# a reference, a name), is tried only when the long columns cannot make room;
# LAST_RESORT is as narrow as a column gets.
MIN_COLUMN = 12
SHORT = 24
LAST_RESORT = 6


def terminal_width() -> int | None:
    """How wide a table may be: the terminal's width (or COLUMNS, where it is set); None,
    no limit, when the output is piped or redirected and COLUMNS is not set, so that a
    script or `grep` sees every row whole, on one line."""
    if not os.environ.get("COLUMNS") and not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          width: int | Literal["terminal"] | None = "terminal") -> str:
    """A plain aligned table; empty cells show as '-'. It fits `width` characters (by
    default the terminal's, terminal_width(); None: no limit): the long columns are wrapped
    at word boundaries onto more lines, then the others; a word is broken only when the
    columns cannot fit otherwise."""
    cells = [[("-" if v is None or v == "" else " ".join(str(v).split())) for v in row]
             for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    limit = terminal_width() if width == "terminal" else width
    if limit is not None:
        widths = _narrowed(headers, cells, widths, limit)
    lines = [style.header(_line(list(headers), widths))]
    for row in cells:
        wrapped = [textwrap.wrap(c, w, break_on_hyphens=False) or [c]
                   for c, w in zip(row, widths, strict=True)]
        for n in range(max(len(parts) for parts in wrapped)):
            lines.append(_line([parts[n] if n < len(parts) else "" for parts in wrapped],
                               widths))
    return "\n".join(lines)


def _narrowed(headers: Sequence[str], cells: list[list[str]], widths: list[int],
              limit: int) -> list[int]:
    """The column widths that fit `limit`, in three steps, each only if the last was not
    enough: the long columns (free text, rules) down to their longest word; then every
    column down to its longest word; then down to LAST_RESORT, breaking words."""
    words = [max([len(h), MIN_COLUMN] + [len(word) for r in cells for word in r[i].split()])
             for i, h in enumerate(headers)]
    whole = [min(w, least) for w, least in zip(widths, words, strict=True)]
    long_first = [w if w <= SHORT else least for w, least in zip(widths, whole, strict=True)]
    widths = _fit(widths, long_first, limit)
    widths = _fit(widths, whole, limit)
    return _fit(widths, [min(w, max(len(h), LAST_RESORT))
                         for w, h in zip(widths, headers, strict=True)], limit)


def _fit(widths: list[int], least: list[int], limit: int) -> list[int]:
    """Narrow the widest column that may still narrow, a character at a time, until a row
    fits `limit` (or no column may narrow further: then the table runs past the edge)."""
    fitted = list(widths)
    while sum(fitted) + len(GAP) * (len(fitted) - 1) > limit:
        narrowable = [i for i in range(len(fitted)) if fitted[i] > least[i]]
        if not narrowable:
            break
        fitted[max(narrowable, key=lambda i: fitted[i])] -= 1
    return fitted


def _line(values: list[str], widths: list[int]) -> str:
    return GAP.join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()


def shorten(text: str | None, width: int) -> str:
    """`text` on one line, cut at a word boundary with an ellipsis when longer than
    `width`."""
    flat = " ".join((text or "").split())
    if len(flat) <= width:
        return flat
    cut = textwrap.shorten(flat, width, placeholder="…")
    return cut if cut != "…" else flat[:width - 1] + "…"  # one word longer than width


def when(moment: str | datetime | None, cal: WorkingDays) -> str:
    if moment is None:
        return "-"
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return cal.local(value).strftime("%a %d %b %Y %H:%M")


def case_text(doc: dict[str, Any], cal: WorkingDays) -> str:
    """A case's document (lifecycle.views.documents.case_document) for people: values in
    words (states.words), where --json keeps the identifiers a script reads."""
    from scr.states.words import value_label as w

    state = doc["state"]
    lines = [
        f"{doc['ref']}  {doc['pseudonym']}",
        f"  state      {state} — {doc['state_label']} (since "
        f"{when(doc['state_entered_at'], cal)})",
        f"  kind       {w(doc['kind']) if doc['kind'] else '-'}    version {doc['version']}"
        f"    flags {', '.join(w(f) for f in doc['flags']) or '-'}",
        f"  process    {doc['process']} version {doc['process_version']} "
        f"({doc['process_label']})",
        f"  {'referred   ' if doc['referral'] else 'registered '}"
        f"{when(doc['referred_at'], cal)}",
    ]
    if doc["referral"] is None:
        lines += _learning_lines(doc["learning"])
    else:
        lines += _referral_lines(doc, cal)
    lines += _case_lines(doc, cal)
    return "\n".join(lines)


def _learning_lines(item: dict[str, Any]) -> list[str]:
    """A review from elsewhere, as the learning register holds it."""
    from scr.states.words import value_label as w

    lines = [f"  review     {item['title']}",
             f"  source     {w(item['source'])}: {item['publisher']}, published "
             f"{item['published_on']}",
             f"  themes     {', '.join(w(t) for t in item['themes'])}"]
    if item["link"]:
        lines.append(f"  link       {item['link']}")
    if item["relevant"] is not None:
        lines.append(f"  considered {item['considered_on']} by {item['considered_by']}: "
                     + ("relevant here" if item["relevant"] else "not relevant here"))
    if item.get("adopted"):
        lines.append("  adopted    " + _block(item["adopted"], 13))
    return lines


def _referral_lines(doc: dict[str, Any], cal: WorkingDays) -> list[str]:
    from scr.states.words import value_label as w

    lines: list[str] = []
    ref = doc["referral"]
    lines.append(f"  referral   harm {w(ref['harm'])}, abuse {w(ref['abuse'])}, agency "
                 f"concern {'yes' if ref['agency_concern'] else 'no'}, route {w(ref['route'])}"
                 + (f", grounds {', '.join(w(g) for g in ref['grounds'])}"
                    if ref["grounds"] else "")
                 + (f", aware {aware}" if (aware := ref.get("aware_on")) else "")
                 + (", looked after" if ref.get("looked_after") else ""))
    crit = doc["criteria"]
    lines.append("  criteria   " + "; ".join(crit["reasons"]))
    if ref.get("summary"):
        lines.append("  summary    " + _block(ref["summary"], 13))
    for v in ref.get("earlier_summaries", ()):
        lines.append(f"  earlier    version {v['version']}, replaced "
                     f"{when(v['replaced_at'], cal)} by {v['replaced_by']}:")
        lines.append("             " + _block(v["summary"], 13))
    return lines


def _case_lines(doc: dict[str, Any], cal: WorkingDays) -> list[str]:
    """What every record has: the review's work, its actions, the checks that its learning
    took hold, and its timers."""
    from scr.states.words import value_label as w

    lines: list[str] = []
    state = doc["state"]
    if doc["agencies"]:
        lines.append("\nAgencies asked")
        lines.append(_indent(table(
            ["agency", "round", "due", "returned", "view"],
            [[w(a["agency"]), a["round"], when(a["due_at"], cal), when(a["returned_at"], cal),
              w(a["view"]) if a["view"] else None] for a in doc["agencies"]])))
        returned = [a for a in doc["agencies"] if a["returned_at"]]
        if returned:
            lines.append("\nReturns")
            lines.extend(f"  {w(a['agency'])} (round {a['round']}): "
                         + _free_text(a.get("summary")) for a in returned)
    if doc["meetings"]:
        lines.append("\nMeetings")
        lines.extend(f"  {m['date']}: {', '.join(w(a) for a in m['attendees'])}"
                     for m in doc["meetings"])
    facts = [("recommendation", doc["recommendation"] and w(doc["recommendation"])),
             ("methodology", doc["methodology"] and w(doc["methodology"])),
             ("lead reviewer", doc["lead_reviewer"]), ("report", doc["report"]),
             ("notice sent", when(doc["notice_sent_at"], cal) if doc["notice_sent_at"] else None),
             ("publication", doc["scheduled_publication"]),
             ("published", when(doc["published_at"], cal) if doc["published_at"] else None),
             *((label, words) for label, words in doc["fact_lines"])]
    shown = [(k, v) for k, v in facts if v]
    if shown:
        lines.append("")
        lines.extend(f"  {k:<15}{v}" for k, v in shown)
    p = doc["proceedings"]
    if state in ("publication_hold", "published") or p["criminal"] != "none":
        inquest = f", inquest {p['inquest']}" if p["inquest"] != "none" else ""
        lines.append(f"  {'proceedings':<15}criminal {w(p['criminal'])}, care {w(p['care'])}"
                     f"{inquest}"
                     + (f", expected to conclude {expected}"
                        if (expected := p["expected_conclusion"]) else ""))
    if doc["outputs"]:
        lines.append(f"  {'outputs':<15}" + ", ".join(w(o["output"]) for o in doc["outputs"]))
    if doc["actions"]:
        lines.append("\nActions")
        lines.append(_indent(table(
            ["#", "agency", "owner", "due", "status", "description"],
            [[a["action"], w(a["agency"]), a["owner"], a["due"], w(a["status"]),
              a["description"]] for a in doc["actions"]])))
        completed = [a for a in doc["actions"] if a["completed_at"]]
        if completed:
            lines.append("\nEvidence")
            lines.extend(f"  action {a['action']}: " + _free_text(a.get("evidence"))
                         for a in completed)
    if doc["audits"]:
        lines.append("\nAudits of the learning")
        lines.append(_indent(table(
            ["#", "date", "finding", "actions", "recorded by"],
            [[a["audit"], a["date"], w(a["finding"]),
              ", ".join(map(str, a["actions"])) or "all (the learning as a whole)",
              a["recorded_by"]] for a in doc["audits"]])))
        noted = [a for a in doc["audits"] if a.get("note")]
        lines.extend(f"  audit {a['audit']}: " + _block(a["note"], 11) for a in noted)
    if doc["training"]:
        lines.append("\nTraining in response")
        lines.append(_indent(table(
            ["#", "course", "audience", "dates", "trained", "actions"],
            [[t["training"], t["course"], t["audience"],
              f"{t[COURSE_STARTS.name]} to {t[COURSE_ENDS.name]}",
              t["trained"], ", ".join(map(str, t["actions"])) or "all"]
             for t in doc["training"]])))
    if doc["timers"]:
        lines.append("\nTimers")
        lines.append(_indent(table(
            ["timer", "due", "status", "rule"],
            [[t.get("label") or t["name"], when(t["due_at"], cal), w(t["status"]), t["rule"]]
             for t in doc["timers"]])))
    return lines


def _free_text(text: str | None) -> str:
    """Free text the reader may read, or a word that it was given but is not theirs."""
    return "(given; not shown to you)" if text is None else _block(text, 4)


def _block(text: str, indent: int) -> str:
    return text.replace("\n", "\n" + " " * indent)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
