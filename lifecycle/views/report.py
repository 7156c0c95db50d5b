"""`scr report`: the figures a board puts in its annual report, for a period of local dates.

Every figure is computed from the record itself (cases, history, actions), so the report can
be run again for any past period and give the same answer. The period runs from the start
of `from` to the end of `to` in the board's time zone. Durations are in days, one decimal.

- referrals: cases referred in the period, by route;
- decisions: commission_scr, commission_case_review, decide_no_review and withdraw fired in
  the period, as scr, case_review, no_review and withdrawn;
- reviews: reviews commissioned in the period, by kind and methodology;
- stages: each stay in a state that ended in the period (the history's state changes),
  median and longest;
- completion: reviews completed in the period, and how many within the completion deadline
  (completion.due after commissioning, 6 months by default);
- published: reports published in the period, by kind;
- holds: cases on publication hold at any time in the period, time on hold (to the end of
  the period, or to now if sooner, for those still held);
- actions: by agency, at the end of the period (or now if sooner): open, of which overdue,
  completed awaiting sign-off; and signed off within the period.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from lifecycle.core.process import Processes
from states.config import ProcessConfig
from states.errors import InvalidInput
from states.words import value_words
from states.working_days import Offset
from storage import cases as stored_cases
from storage import facts, history
from storage.db import Tx

DECISIONS = {"commission_scr": "scr", "commission_case_review": "case_review",
             "commission_practice_review": "cspr", "decide_no_review": "no_review",
             "withdraw": "withdrawn"}
KINDS = {"commission_scr": "scr", "commission_case_review": "case_review",
         "commission_practice_review": "cspr"}
# How long a review may take from its commissioning, by the definitions' distances: an
# SCR's completion (6 months), a CSPR's publication (6 months from the decision).
COMPLETION_KEYS = ("completion.due", "publication_due.due")
DAY = 86400.0


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    start: datetime  # the start of `first`, local midnight
    end: datetime  # the end of `last` (the next local midnight), exclusive

    @classmethod
    def of(cls, first: date, last: date, config: ProcessConfig) -> Period:
        if last < first:
            raise InvalidInput(f"--to {last} is before --from {first}")
        zone = config.working_days.zone
        start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        return cls(first, last, start, end)

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


@dataclass(frozen=True)
class Stay:
    case_id: int
    state: str
    entered: datetime
    left: datetime | None


def stays(rows: list[Any]) -> list[Stay]:
    """Each case's stays in each state, from its history's state changes (rows by case, seq)."""
    found: list[Stay] = []
    current: tuple[int, str, datetime] | None = None
    for h in rows:
        if current is not None and current[0] != h.case_id:
            found.append(Stay(current[0], current[1], current[2], None))
            current = None
        if current is None:
            current = (h.case_id, h.dest, h.at)
        elif h.dest != current[1]:
            found.append(Stay(current[0], current[1], current[2], h.at))
            current = (h.case_id, h.dest, h.at)
    if current is not None:
        found.append(Stay(current[0], current[1], current[2], None))
    return found


def _days(seconds: float) -> float:
    return round(seconds / DAY, 1)


def _spread(durations: list[float]) -> dict[str, Any]:
    return {"count": len(durations),
            "median_days": _days(median(durations)) if durations else None,
            "longest_days": _days(max(durations)) if durations else None}


def figures(tx: Tx, processes: Processes, period: Period, *, now: datetime,
            config: ProcessConfig) -> dict[str, Any]:
    """The report's figures as one document, over the cases of every definition."""
    cases = {c.id: c for c in stored_cases.every(tx)}
    rows = list(history.before(tx, period.end))
    in_period = [h for h in rows if period.holds(h.at)]
    as_of = min(period.end, now)

    referred = [c for c in cases.values() if period.holds(c.referred_at)]
    decisions = Counter({v: 0 for v in DECISIONS.values()})
    decisions.update(DECISIONS[h.trigger] for h in in_period if h.trigger in DECISIONS)
    reviews = Counter((KINDS[h.trigger], str((h.params or {}).get("methodology")))
                      for h in in_period if h.trigger in KINDS)

    all_stays = stays(rows)
    stages = []
    for state in processes.registry.states(final=False):
        ended = [(s.left - s.entered).total_seconds() for s in all_stays
                 if s.state == state and s.left is not None and period.holds(s.left)]
        stages.append({"state": state, "label": _stage_label(processes, state),
                       **_spread(ended)})

    due = _completion_offset(processes.starting().config)
    completed = [h for h in in_period if h.trigger == "complete_review"]
    within = sum(1 for h in completed if (c := cases.get(h.case_id)) is not None
                 and c.commissioned_at is not None
                 and h.at <= _completion_due(processes, c))
    published = Counter(str(cases[h.case_id].kind) for h in in_period if h.trigger == "publish")

    holds = [s for s in all_stays if s.state == "publication_hold"
             and s.entered < as_of and (s.left is None or s.left >= period.start)]
    held_for = [((s.left if s.left is not None and s.left < as_of else as_of)
                 - s.entered).total_seconds() for s in holds]
    still = sum(1 for s in holds if s.left is None or s.left >= as_of)

    routes = facts.routes(tx)
    return {
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "referrals": {"received": len(referred),
                      "by_route": dict(sorted(Counter(routes[c.id] for c in referred)
                                              .items()))},
        "decisions": dict(decisions),
        "reviews": [{"kind": k, "methodology": m, "count": n}
                    for (k, m), n in sorted(reviews.items())],
        "stages": stages,
        "completion": {"completed": len(completed), "within_due": within,
                       "due": f"{due.describe()} commissioning"},
        "published": {"reports": sum(published.values()), "by_kind": dict(sorted(
            published.items()))},
        "holds": {"held": len(holds), "still_held": still, **_spread(held_for)},
        "actions": _actions(tx, period, as_of, config),
    }


def _completion_offset(config: ProcessConfig) -> Offset:
    return next(config.offset(k) for k in COMPLETION_KEYS if k in config.offsets)


def _stage_label(processes: Processes, state: str) -> str:
    """A state in words, as each definition that has it names it ("Case review sub-group /
    Rapid review meeting")."""
    names = [d.state_label(state) for d in reversed(list(processes.registry))
             if state in d.states]
    return " / ".join(dict.fromkeys(names)) or state


def _completion_due(processes: Processes, case: Any) -> datetime:
    config = processes.of(case).config
    return config.shift(case.commissioned_at, _completion_offset(config))


def _actions(tx: Tx, period: Period, as_of: datetime,
             config: ProcessConfig) -> list[dict[str, Any]]:
    today = config.working_days.local_date(as_of)  # an action due before today is overdue
    by_agency: dict[str, Counter[str]] = defaultdict(Counter)
    for a in facts.actions_added_before(tx, as_of):
        counts = by_agency[a.agency]
        counts["total"] += 1
        if a.signed_off_at is not None and a.signed_off_at < as_of:
            if a.signed_off_at >= period.start:
                counts["signed_off"] += 1
        elif a.completed_at is not None and a.completed_at < as_of:
            counts["awaiting_sign_off"] += 1
        else:
            counts["open"] += 1
            counts["overdue"] += a.due < today
    keys = ("open", "overdue", "awaiting_sign_off", "signed_off", "total")
    return [{"agency": agency, **{k: counts[k] for k in keys}}
            for agency, counts in sorted(by_agency.items())]


# ---------------------------------------------------------------------------- formats
def _n(value: Any) -> str:
    return "-" if value is None else str(value)


def markdown(doc: dict[str, Any], board: str) -> str:
    """The report for people, values in words; csv_text and --json keep the identifiers."""
    p = doc["period"]
    out = [f"# {board}: case reviews, {p['from']} to {p['to']}", ""]

    def table(headers: list[str], rows: list[list[Any]]) -> None:
        out.append("| " + " | ".join(headers) + " |")
        out.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers)))
                   + "|")
        out.extend("| " + " | ".join(_n(v) for v in row) + " |" for row in rows)
        out.append("")

    ref = doc["referrals"]
    out += ["## Referrals", "", f"Referrals received: **{ref['received']}**", ""]
    if ref["by_route"]:
        table(["route", "referrals"], [[value_words(k), v] for k, v in ref["by_route"].items()])
    out += ["## Decisions", ""]
    table(["outcome", "decisions"], [[value_words(k), v] for k, v in doc["decisions"].items()])
    out += ["## Reviews commissioned", ""]
    if doc["reviews"]:
        table(["kind", "methodology", "reviews"],
              [[value_words(r["kind"]), value_words(r["methodology"]) if r["methodology"] else None,
                r["count"]] for r in doc["reviews"]])
    else:
        out += ["None in the period.", ""]
    out += ["## Time in each stage", "",
            "Stays that ended in the period, in days.", ""]
    table(["stage", "stays", "median", "longest"],
          [[s.get("label") or s["state"], s["count"], s["median_days"], s["longest_days"]]
           for s in doc["stages"]])
    c = doc["completion"]
    out += ["## Reviews completed", "",
            f"Completed: **{c['completed']}**, of which within {c['due']}: "
            f"**{c['within_due']}**", ""]
    pub, holds = doc["published"], doc["holds"]
    out += ["## Publication", "", f"Reports published: **{pub['reports']}**"
            + (" (" + ", ".join(f"{value_words(k).lower()} {v}" for k, v in pub["by_kind"].items())
               + ")"
               if pub["by_kind"] else ""), "",
            f"On publication hold during the period: **{holds['held']}** "
            f"({holds['still_held']} still held); time on hold: median "
            f"{_n(holds['median_days'])} days, longest {_n(holds['longest_days'])} days", ""]
    out += ["## Action plans", ""]
    if doc["actions"]:
        table(["agency", "open", "overdue", "awaiting sign-off", "signed off", "total"],
              [[value_words(a["agency"]), a["open"], a["overdue"], a["awaiting_sign_off"],
                a["signed_off"], a["total"]] for a in doc["actions"]])
    else:
        out += ["No actions.", ""]
    return "\n".join(out).rstrip() + "\n"


def csv_text(doc: dict[str, Any]) -> str:
    """One row per figure: section, item, measure, value."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "item", "measure", "value"])
    w.writerow(["period", "", "from", doc["period"]["from"]])
    w.writerow(["period", "", "to", doc["period"]["to"]])
    w.writerow(["referrals", "", "received", doc["referrals"]["received"]])
    for route, n in doc["referrals"]["by_route"].items():
        w.writerow(["referrals", route, "received", n])
    for outcome, n in doc["decisions"].items():
        w.writerow(["decisions", outcome, "count", n])
    for r in doc["reviews"]:
        w.writerow(["reviews", f"{r['kind']}/{r['methodology']}", "commissioned", r["count"]])
    for s in doc["stages"]:
        for measure in ("count", "median_days", "longest_days"):
            w.writerow(["stages", s["state"], measure, _blank(s[measure])])
    for measure, value in doc["completion"].items():
        w.writerow(["completion", "", measure, value])
    w.writerow(["published", "", "reports", doc["published"]["reports"]])
    for kind, n in doc["published"]["by_kind"].items():
        w.writerow(["published", kind, "reports", n])
    for measure, value in doc["holds"].items():
        w.writerow(["holds", "", measure, _blank(value)])
    for a in doc["actions"]:
        for measure in ("open", "overdue", "awaiting_sign_off", "signed_off", "total"):
            w.writerow(["actions", a["agency"], measure, a[measure]])
    return buf.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


def parse_day(text: str, option: str) -> date:
    """A day of the report's period: the years a board's records can hold (as trigger dates:
    states.params), so that the period's working-day arithmetic stays inside the calendar."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option}: not a date YYYY-MM-DD: {text[:40]!r}") from None
    if not 1900 <= day.year <= 2200:
        raise InvalidInput(f"{option}: year out of range (1900 to 2200): {text[:40]!r}")
    return day

