"""Text for people: aligned tables, moments in the board's time zone, a case at a glance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from lifecycle.views import style
from states.working_days import WorkingDays


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned table; empty cells show as '-'."""
    cells = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = [style.header(
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines)


def when(moment: str | datetime | None, cal: WorkingDays) -> str:
    if moment is None:
        return "-"
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return cal.local(value).strftime("%a %d %b %Y %H:%M")


def case_text(doc: dict[str, Any], cal: WorkingDays) -> str:
    """A case's document (lifecycle.views.documents.case_document) for people."""
    state = doc["state"]
    lines = [
        f"{doc['ref']}  {doc['pseudonym']}",
        f"  state      {state} — {doc['state_label']} (since "
        f"{when(doc['state_entered_at'], cal)})",
        f"  kind       {doc['kind'] or '-'}    version {doc['version']}    "
        f"flags {', '.join(doc['flags']) or '-'}",
        f"  process    {doc['process']} version {doc['process_version']} "
        f"({doc['process_label']})",
        f"  referred   {when(doc['referred_at'], cal)}",
    ]
    ref = doc["referral"]
    lines.append(f"  referral   harm {ref['harm']}, abuse {ref['abuse']}, agency concern "
                 f"{'yes' if ref['agency_concern'] else 'no'}, route {ref['route']}"
                 + (f", grounds {', '.join(ref['grounds'])}" if ref["grounds"] else "")
                 + (f", aware {ref['aware_on']}" if ref.get("aware_on") else "")
                 + (", looked after" if ref.get("looked_after") else ""))
    crit = doc["criteria"]
    lines.append("  criteria   " + "; ".join(crit["reasons"]))
    if ref.get("summary"):
        lines.append("  summary    " + _block(ref["summary"], 13))
    for v in ref.get("earlier_summaries", ()):
        lines.append(f"  earlier    version {v['version']}, replaced "
                     f"{when(v['replaced_at'], cal)} by {v['replaced_by']}:")
        lines.append("             " + _block(v["summary"], 13))
    if doc["agencies"]:
        lines.append("\nAgencies asked")
        lines.append(_indent(table(
            ["agency", "round", "due", "returned", "view"],
            [[a["agency"], a["round"], when(a["due_at"], cal), when(a["returned_at"], cal),
              a["view"]] for a in doc["agencies"]])))
        returned = [a for a in doc["agencies"] if a["returned_at"]]
        if returned:
            lines.append("\nReturns")
            lines.extend(f"  {a['agency']} (round {a['round']}): "
                         + _free_text(a.get("summary")) for a in returned)
    if doc["meetings"]:
        lines.append("\nMeetings")
        lines.extend(f"  {m['date']}: {', '.join(m['attendees'])}" for m in doc["meetings"])
    facts = [("recommendation", doc["recommendation"]), ("methodology", doc["methodology"]),
             ("lead reviewer", doc["lead_reviewer"]), ("report", doc["report"]),
             ("notice sent", when(doc["notice_sent_at"], cal) if doc["notice_sent_at"] else None),
             ("publication", doc["scheduled_publication"]),
             ("published", when(doc["published_at"], cal) if doc["published_at"] else None),
             ("panel told", doc["panel_notified_on"]),
             ("notified", doc["notified_on"]),
             ("partners", ", ".join(f"{p} {v['decision']}"
                                    for p, v in doc["partner_views"].items())),
             ("rapid review", doc["rapid_review_sent_on"] and
              f"sent to the Panel {doc['rapid_review_sent_on']}"),
             ("panel response", doc["panel_response"] and
              f"{doc['panel_response']} ({doc['panel_response_on']})")]
    shown = [(k, v) for k, v in facts if v]
    if shown:
        lines.append("")
        lines.extend(f"  {k:<15}{v}" for k, v in shown)
    p = doc["proceedings"]
    if state in ("publication_hold", "published") or p["criminal"] != "none":
        inquest = f", inquest {p['inquest']}" if p["inquest"] != "none" else ""
        lines.append(f"  {'proceedings':<15}criminal {p['criminal']}, care {p['care']}{inquest}"
                     + (f", expected to conclude {p['expected_conclusion']}"
                        if p["expected_conclusion"] else ""))
    if doc["outputs"]:
        lines.append(f"  {'outputs':<15}" + ", ".join(o["output"] for o in doc["outputs"]))
    if doc["actions"]:
        lines.append("\nActions")
        lines.append(_indent(table(
            ["#", "agency", "owner", "due", "status", "description"],
            [[a["action"], a["agency"], a["owner"], a["due"], a["status"], a["description"]]
             for a in doc["actions"]])))
        completed = [a for a in doc["actions"] if a["completed_at"]]
        if completed:
            lines.append("\nEvidence")
            lines.extend(f"  action {a['action']}: " + _free_text(a.get("evidence"))
                         for a in completed)
    if doc["timers"]:
        lines.append("\nTimers")
        lines.append(_indent(table(
            ["timer", "due", "status", "rule"],
            [[t["name"], when(t["due_at"], cal), t["status"], t["rule"]]
             for t in doc["timers"]])))
    return "\n".join(lines)


def _free_text(text: str | None) -> str:
    """Free text the reader may read, or a word that it was given but is not theirs."""
    return "(given; not shown to you)" if text is None else _block(text, 4)


def _block(text: str, indent: int) -> str:
    return text.replace("\n", "\n" + " " * indent)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
