"""What each trigger records, beyond the state change: one small function per effect.

A process definition names each trigger's effect (TriggerSpec.effect: by default the
trigger's own name; None for one that records nothing), and the case's machine attaches it
as the transition's `before` callback (lifecycle/core/machine.py): a name with no effect
here, or an effect here that no trigger names, fails when the machine is built.

An effect changes the case record in memory (the engine saves it once), writes the case's
other facts through storage.facts in the firing's transaction, and says in `firing.changes`
what it changed outside the case row, as new values of the snapshot's fields. What it
needs to know of the case before the trigger it reads from `firing.snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from scr.lifecycle.core.firing import Firing
from scr.states.case import ActionFacts, AgencyAsk, MeetingFacts
from scr.states.enums import ActionStatus, Flag, Kind, Proceedings
from scr.states.facts import PUBLIC_UNTIL, recorded
from scr.storage import facts, learning
from scr.storage.cases import CaseRecord

Effect = Callable[[Firing], None]
EFFECTS: dict[str, Effect] = {}
# The name a learning record goes by where a case gives its pseudonym (lists, e-mail,
# logs): its published title, cut at a word.
SHORT_TITLE = 80


def short_title(title: str) -> str:
    """A review's title cut at a word to fit where a case's pseudonym goes."""
    if len(title) <= SHORT_TITLE:
        return title
    cut = title[:SHORT_TITLE - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "…"


def effect(*names: str) -> Callable[[Effect], Effect]:
    """Register the function as the effect called each of `names`."""
    def register(fn: Effect) -> Effect:
        for name in names:
            if name in EFFECTS:
                raise ValueError(f"effect {name!r} is registered twice")
            EFFECTS[name] = fn
        return fn

    return register


def record_facts(f: Firing) -> None:
    """What the trigger records in its definition's own facts (TriggerSpec.records): a new
    document, checked against the definition when the engine saves the case."""
    f.case.facts = recorded(f.case.facts, f.spec.records, f.params, at=f.now, actor=f.actor)


def _set_flag(case: CaseRecord, flag: str, on: bool) -> None:
    flags = [f for f in case.flags if f != flag] + ([flag] if on else [])
    case.flags = sorted(flags)  # a new list, so the JSON column is saved


def _ask(f: Firing, agencies: list[str]) -> None:
    due = f.config.shift(f.now, f.config.offset("returns.due"))
    facts.ask_agencies(f.tx, f.case.id, f.case.round, agencies, at=f.now, due_at=due)
    f.changes["agencies"] = f.snapshot.agencies + tuple(
        AgencyAsk(agency, f.case.round, f.now, due) for agency in agencies)
    current = f.case.returns_due_at
    f.case.returns_due_at = due if current is None or due > current else current


@effect("request_information")
def _request_information(f: Firing) -> None:
    _ask(f, f.params["agencies"])
    _set_flag(f.case, Flag.URGENT, bool(f.params.get("urgent")))


@effect("request_more_information")
def _request_more_information(f: Firing) -> None:
    f.case.round += 1
    f.case.returns_due_at = None
    _set_flag(f.case, Flag.INCOMPLETE_RETURNS, False)
    _ask(f, f.params["agencies"])


@effect("add_agency")
def _add_agency(f: Firing) -> None:
    _ask(f, [f.params["agency"]])


@effect("record_return")
def _record_return(f: Firing) -> None:
    agency, view = f.params["agency"], f.params["view"]
    facts.record_return(f.tx, f.case.id, f.case.round, agency, at=f.now, view=view,
                        summary=f.params["summary"], by=f.actor.name)
    f.changes["agencies"] = tuple(
        replace(a, returned_at=f.now, view=view)
        if a.round == f.case.round and a.agency == agency else a
        for a in f.snapshot.agencies)


@effect("submit_to_sub_group")
def _submit(f: Firing) -> None:
    _set_flag(f.case, Flag.INCOMPLETE_RETURNS, bool(f.snapshot.outstanding()))
    f.case.meeting_date = f.params.get("meeting_date")
    if f.params.get("urgent") is not None:
        _set_flag(f.case, Flag.URGENT, bool(f.params["urgent"]))


@effect("record_meeting")
def _record_meeting(f: Firing) -> None:
    held, attendees = f.params["date"], f.params["attendees"]
    facts.record_meeting(f.tx, f.case.id, held, attendees, at=f.now, by=f.actor.name)
    f.changes["meetings"] = (*f.snapshot.meetings,
                             MeetingFacts(held, frozenset(attendees), f.now))
    f.case.meeting_date = held


@effect("refer_back")
def _refer_back(f: Firing) -> None:
    f.case.meeting_date = None  # a new meeting is needed


@effect("recommend")
def _recommend(f: Firing) -> None:
    f.case.recommendation = f.params["recommendation"]


@effect("commission")
def _commission(f: Firing) -> None:
    scr = f.spec.decision == Kind.SCR
    f.case.kind = f.spec.decision  # the kind of review it commissions
    f.case.methodology = f.params["methodology"]
    f.case.lead_reviewer = f.params["lead_reviewer"]
    f.case.commissioned_at = f.now
    f.case.decided_at = f.now
    below = not f.definition.assess(f.snapshot.referred).met
    _set_flag(f.case, Flag.SCR_BELOW_CRITERIA, scr and below)


@effect("decide_no_review")
def _no_review(f: Firing) -> None:
    f.case.decided_at = f.now
    f.case.closed_at = f.now


@effect("reopen")
def _reopen(f: Firing) -> None:
    """A case closed on a decision not to review goes back to the decision (the Panel asked
    for a local review): undecided and open again; the decision it had stays in history."""
    f.case.decided_at = None
    f.case.closed_at = None


@effect("close")
def _close(f: Firing) -> None:
    f.case.closed_at = f.now


@effect("complete_review")
def _complete_review(f: Firing) -> None:
    f.case.report_title = f.params["report"]
    f.case.completed_at = f.now


@effect("record_proceedings")
def _record_proceedings(f: Firing) -> None:
    before: dict[str, Any] = {"criminal": f.snapshot.criminal, "care": f.snapshot.care,
                              "inquest": f.snapshot.inquest,
                              "expected_conclusion": f.snapshot.expected_conclusion}
    values = {name: f.params[name] if f.params.get(name) is not None else old
              for name, old in before.items()}
    facts.set_proceedings(f.tx, f.case.id, at=f.now, criminal=values["criminal"],
                          care=values["care"], inquest=values["inquest"],
                          expected_conclusion=values["expected_conclusion"])
    f.changes.update(values)


@effect("record_output")
def _record_output(f: Firing) -> None:
    output = f.params["output"]
    again = output in f.snapshot.outputs
    facts.record_output(f.tx, f.case.id, output, f.params["location"], at=f.now, again=again)
    if not again:
        f.changes["outputs"] = f.snapshot.outputs | {output}


@effect("send_prepublication_notice")
def _notice(f: Firing) -> None:
    f.case.notice_sent_at = f.now


@effect("schedule_publication")
def _schedule(f: Firing) -> None:
    f.case.scheduled_publication = f.params["date"]


@effect("publish")
def _publish(f: Firing) -> None:
    f.case.published_at = f.now


@effect("publish_for_a_year")
def _publish_for_a_year(f: Firing) -> None:
    """Published, and kept publicly available for at least a year: the day it may come down
    is recorded in the definition's fact `public_until` (CSPR version 2)."""
    _publish(f)
    day = f.config.working_days.local_date(f.now)
    until = day.replace(year=day.year + 1) if (day.month, day.day) != (2, 29) \
        else day.replace(year=day.year + 1, day=28)
    f.case.facts = {**f.case.facts, PUBLIC_UNTIL.name: until.isoformat()}


@effect("add_action")
def _add_action(f: Firing) -> None:
    number = max((a.number for a in f.snapshot.actions), default=0) + 1
    p = f.params
    facts.add_action(f.tx, f.case.id, number, agency=p["agency"], description=p["description"],
                     owner=p["owner"], due=p["due"], at=f.now)
    f.changes["actions"] = (*f.snapshot.actions,
                            ActionFacts(number, p["agency"], p["owner"], p["due"]))
    f.outcome["action"] = number


@effect("complete_action")
def _complete_action(f: Firing) -> None:
    facts.complete_action(f.tx, f.case.id, f.params["action"], evidence=f.params["evidence"],
                          at=f.now)
    _action_status(f, ActionStatus.COMPLETED)


@effect("sign_off_action")
def _sign_off_action(f: Firing) -> None:
    facts.sign_off_action(f.tx, f.case.id, f.params["action"], at=f.now, by=f.actor.name)
    _action_status(f, ActionStatus.SIGNED_OFF)


@effect("consider")
def _consider(f: Firing) -> None:
    # Relevant here: the record goes on (recommendations adopted, actions to follow); not
    # relevant: it ends where the trigger takes it.
    relevant = f.spec.dest not in f.definition.finals
    learning.consider(f.tx, f.case.id, relevant=relevant, adopted=f.params.get("adopted"),
                      on=f.params["date"], by=f.actor.name)
    assert f.snapshot.learning is not None, f"{f.case.ref} is not a learning record"
    f.changes["learning"] = replace(f.snapshot.learning, relevant=relevant)
    if not relevant:
        f.case.closed_at = f.now


@effect("amend_review")
def _amend_review(f: Firing) -> None:
    given = {k: v for k, v in f.params.items() if v is not None and v != []}
    learning.amend(f.tx, f.case.id, given)
    if "title" in given:
        f.case.pseudonym = short_title(given["title"])
    assert f.snapshot.learning is not None, f"{f.case.ref} is not a learning record"
    kept: dict[str, Any] = {k: (tuple(v) if k == "themes" else v) for k, v in given.items()
                            if k in ("title", "source", "published_on", "themes")}
    f.changes["learning"] = replace(f.snapshot.learning, **kept)


@effect("record_audit")
def _record_audit(f: Firing) -> None:
    p = f.params
    f.outcome["audit"] = learning.record_audit(
        f.tx, f.case.id, held_on=p["date"], finding=p["finding"], actions=p["actions"],
        note=p["note"] or "", at=f.now, by=f.actor.name)


@effect("record_training")
def _record_training(f: Firing) -> None:
    p = f.params
    f.outcome["training"] = learning.record_training(
        f.tx, f.case.id, course=p["course"], audience=p["audience"],
        starts_on=p["starts_on"], ends_on=p["ends_on"], trained=p["trained"],
        actions=p["actions"], at=f.now, by=f.actor.name)


def _action_status(f: Firing, status: ActionStatus) -> None:
    f.changes["actions"] = tuple(
        replace(a, status=status.value) if a.number == f.params["action"] else a
        for a in f.snapshot.actions)


@effect("not_published")
def _not_published(f: Firing) -> None:
    _set_flag(f.case, Flag.NOT_PUBLISHED, True)


@effect("amend_referral")
def _amend(f: Firing) -> None:
    facts.amend_referral(f.tx, f.case.id, f.params, at=f.now, by=f.actor.name)
    given = {name: f.params[name] for name in facts.AMENDABLE
             if name != "summary" and f.params.get(name) is not None}
    if "grounds" in given:
        given["grounds"] = tuple(given["grounds"])
    f.changes["referral"] = replace(f.snapshot.referred, **given)
    if f.params.get("criminal_proceedings") is not None:
        was = f.snapshot.criminal
        criminal = Proceedings.PENDING if f.params["criminal_proceedings"] else (
            Proceedings.NONE if was == Proceedings.PENDING else was)
        facts.set_criminal(f.tx, f.case.id, str(criminal))
        f.changes["criminal"] = str(criminal)
