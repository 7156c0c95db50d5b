"""`scr report`: the figures a board puts in its annual report, for a period of local dates.

Every figure is computed from the record itself (cases, history, actions), so the report can
be run again for any past period and give the same answer. The period runs from the start
of `from` to the end of `to` in the board's time zone. Durations are in days, one decimal.

- referrals: cases referred in the period, by route;
- decisions: the decisions on referrals made in the period, by what each trigger decides
  (TriggerSpec.decision: the kind of review commissioned, no_review or withdrawn);
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

The learning register's records (reviews from elsewhere) are kept apart from the board's own
cases: none of the figures above counts them. Their own:

- learning: reviews from elsewhere registered in the period, and considered in it (relevant
  and not), by source; those awaiting consideration at the end of the period; their local
  actions signed off in the period;
- audits: audits reported in the period (by their date), by finding, over the board's own
  reviews and the learning register alike; signed-off actions no audit has tested (as of
  the end of the period, or now if sooner);
- training: courses that ended in the period, and the people trained on them.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from scr.lifecycle.core.process import Processes
from scr.states.config import ProcessConfig
from scr.states.enums import FINDINGS, Kind
from scr.states.errors import InvalidInput
from scr.states.process import NO_REVIEW, NOT_RELEVANT, RELEVANT, WITHDRAWN
from scr.states.words import plural, value_words
from scr.states.working_days import Offset
from scr.storage import cases as stored_cases
from scr.storage import facts, history, learning
from scr.storage.db import Tx

# The decisions counted, in the order the report shows them (TriggerSpec.decision).
OUTCOMES = (*(str(k) for k in Kind), NO_REVIEW, WITHDRAWN)
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
    every = {c.id: c for c in stored_cases.every(tx)}
    kept_apart = {i for i, c in every.items() if not processes.of(c).definition.referred}
    cases = {i: c for i, c in every.items() if i not in kept_apart}
    everything = list(history.before(tx, period.end))
    rows = [h for h in everything if h.case_id not in kept_apart]
    in_period = [h for h in rows if period.holds(h.at)]
    as_of = min(period.end, now)

    referred = [c for c in cases.values() if period.holds(c.referred_at)]
    # What each trigger of the board's processes decides (TriggerSpec.decision).
    decides = {t.name: t.decision for d in processes.registry if d.referred
               for t in d.all_triggers if t.decision is not None}
    decisions = Counter({v: 0 for v in OUTCOMES if v in decides.values()})
    decisions.update(decides[h.trigger] for h in in_period if h.trigger in decides)
    reviews = Counter((decides[h.trigger], str((h.params or {}).get("methodology")))
                      for h in in_period if decides.get(h.trigger) in set(Kind))

    all_stays = stays(rows)
    stages = []
    for state in processes.registry.states(final=False, referred=True):
        ended = [(s.left - s.entered).total_seconds() for s in all_stays
                 if s.state == state and s.left is not None and period.holds(s.left)]
        stages.append({"state": state, "label": _stage_label(processes, state),
                       **_spread(ended)})

    due = _completion_offset(processes.starting().config)
    # The triggers that complete a review, and where its report then waits: what the
    # definitions say (ProcessDefinition.completes_review, held_in).
    completing = {t.name for d in processes.registry if d.referred
                  for t in d.all_triggers if d.completes_review(t)}
    held_in = {s for d in processes.registry if d.referred for s in d.held_in}
    completed = [h for h in in_period if h.trigger in completing]
    within = sum(1 for h in completed if (c := cases.get(h.case_id)) is not None
                 and c.commissioned_at is not None
                 and h.at <= _completion_due(processes, c))
    published = Counter(str(cases[h.case_id].kind) for h in in_period if h.trigger == "publish")

    holds = [s for s in all_stays if s.state in held_in
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
        "actions": _actions(tx, period, as_of, config, leave_out=kept_apart),
        **_learning(tx, processes, period, as_of,
                    [h for h in everything if h.case_id in kept_apart]),
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


def _actions(tx: Tx, period: Period, as_of: datetime, config: ProcessConfig, *,
             leave_out: set[int]) -> list[dict[str, Any]]:
    today = config.working_days.local_date(as_of)  # an action due before today is overdue
    by_agency: dict[str, Counter[str]] = defaultdict(Counter)
    for a in facts.actions_added_before(tx, as_of):
        if a.case_id in leave_out:
            continue
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


# The sub-group's decisions on a review from elsewhere, in the order the report shows them.
CONSIDERED = (RELEVANT, NOT_RELEVANT)


def _learning(tx: Tx, processes: Processes, period: Period, as_of: datetime,
              rows: list[Any]) -> dict[str, Any]:
    """The learning register's figures (from its records' history `rows`), and the audits
    and training of every case."""
    items = learning.items(tx)
    # What each trigger of the register decides (ProcessDefinition.decision_of).
    decides: dict[str, str] = {t.name: str(d.decision_of(t)) for d in processes.registry
                               if not d.referred
                               for t in d.deciding(*CONSIDERED, WITHDRAWN)}
    # A review withdrawn (registered in error) counts nowhere.
    withdrawn = {h.case_id for h in rows
                 if decides.get(h.trigger) == WITHDRAWN and h.at <= as_of}
    rows = [h for h in rows if h.case_id not in withdrawn]
    registered = [h for h in rows if h.seq == 1 and period.holds(h.at)]
    considered = [h for h in rows if decides.get(h.trigger) in CONSIDERED
                  and period.holds(h.at)]
    outcomes = Counter({v: 0 for v in CONSIDERED})
    outcomes.update(decides[h.trigger] for h in considered)
    # As the register stood at the end of the period (or now, if sooner); `rows` are those
    # before the period's end already.
    decided_by = {h.case_id for h in rows
                  if decides.get(h.trigger) in CONSIDERED and h.at <= as_of}
    awaiting = sum(1 for h in rows if h.seq == 1 and h.at <= as_of
                   and h.case_id not in decided_by)
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    for h in considered:
        counts = by_source[items[h.case_id].source]
        counts["considered"] += 1
        counts[decides[h.trigger]] += 1
    # Their local actions signed off in the period, as the actions record it.
    kept = {h.case_id for h in rows}
    signed = sum(1 for a in facts.actions_added_before(tx, period.end)
                 if a.case_id in kept and period.holds(a.signed_off_at))

    audits = [a for a in learning.audits(tx) if period.first <= a.held_on <= period.last]
    findings = Counter({f: 0 for f in FINDINGS})
    findings.update(a.finding for a in audits)
    untested = [r for _, _, r in learning.untested(tx, before=as_of)]
    trainings = [t for t in learning.trainings(tx) if period.first <= t.ends_on <= period.last]
    return {
        "learning": {
            "registered": len(registered),
            "considered": len(considered),
            **outcomes,
            "awaiting_consideration": awaiting,
            "by_source": {source: {k: counts[k] for k in ("considered", *CONSIDERED)}
                          for source, counts in sorted(by_source.items())},
            "actions_signed_off": signed,
        },
        "audits": {"run": len(audits), "by_finding": dict(findings),
                   "reviews": len({a.case_id for a in audits}),
                   "signed_off_actions_untested": len(untested)},
        "training": {"courses": len(trainings), "trained": sum(t.trained for t in trainings)},
    }


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
    lr, au, tr = doc["learning"], doc["audits"], doc["training"]
    out += ["## Learning from reviews elsewhere", "",
            f"Registered: **{lr['registered']}**; considered by the sub-group: "
            f"**{lr['considered']}** (relevant and adopted {lr[RELEVANT]}, not relevant "
            f"{lr[NOT_RELEVANT]}); awaiting consideration at the end of the period: "
            f"**{lr['awaiting_consideration']}**; local actions signed off: "
            f"**{lr['actions_signed_off']}**", ""]
    if lr["by_source"]:
        table(["source", "considered", "relevant", "not relevant"],
              [[value_words(k), v["considered"], v[RELEVANT], v[NOT_RELEVANT]]
               for k, v in lr["by_source"].items()])
    out += ["## Is the learning embedded?", "",
            f"Audits: **{au['run']}**, of the learning of {plural(au['reviews'], 'review')}; "
            f"signed-off actions no audit has tested: **{au['signed_off_actions_untested']}**",
            ""]
    table(["finding", "audits"], [[value_words(k), v] for k, v in au["by_finding"].items()])
    people = "1 person" if tr["trained"] == 1 else f"{tr['trained']} people"
    out += [f"Training delivered: **{plural(tr['courses'], 'course')}**, **{people}** "
            "trained", ""]
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
    for measure, value in doc["learning"].items():
        if measure != "by_source":
            w.writerow(["learning", "", measure, value])
    for source, counts in doc["learning"]["by_source"].items():
        for measure, n in counts.items():
            w.writerow(["learning", source, measure, n])
    for measure in ("run", "reviews", "signed_off_actions_untested"):
        w.writerow(["audits", "", measure, doc["audits"][measure]])
    for finding, n in doc["audits"]["by_finding"].items():
        w.writerow(["audits", finding, "count", n])
    for measure, value in doc["training"].items():
        w.writerow(["training", "", measure, value])
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

