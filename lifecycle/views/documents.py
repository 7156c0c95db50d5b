"""Documents of cases, history, users and the outbox: what `--json` prints, and what the
text in lifecycle/views/text.py is made from.

A case's document is read through storage's verbs on a plain connection, so `scr show`
runs without loading the ORM. It holds the free text about the child only for a reader who
may read it (SECURITY.md, "Free text"): the referral's summary and the summaries it
replaced, each agency's return and each action's evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from scr.states.case import Actor, ReferralFacts
from scr.states.enums import Role
from scr.states.facts import Fact, FactType
from scr.states.process import OPENS, TRAINING_PARAMS, ProcessDefinition
from scr.states.words import timer_label, value_label
from scr.storage import cases, facts, history, timers
from scr.storage.cases import CaseRecord
from scr.storage.db import Tx
from scr.storage.outbox import OutboxRecord
from scr.storage.timers import PENDING
from scr.storage.users import UserRecord

if TYPE_CHECKING:
    from scr.lifecycle.core.process import Process

# Who may read the free text about the child (the referral's, the agencies' returns and the
# actions' evidence): those who decide on the case or review it, and those who scrutinise
# the work (the auditor; the CSPR's independent scrutineer, who may read everything).
READ_SUMMARY = frozenset({Role.BUSINESS_MANAGER, Role.CHAIR, Role.SUBGROUP_CHAIR,
                          Role.SUBGROUP_MEMBER, Role.LEAD_REVIEWER, Role.AUDITOR,
                          Role.SAFEGUARDING_PARTNER, Role.SCRUTINEER})


def reads_referral(reader: Actor | None) -> bool:
    """Whether `reader` may read the referral's summary and the summaries it replaced."""
    return reader is not None and bool(reader.roles & READ_SUMMARY)


def reads_agency_text(reader: Actor | None, agency: str) -> bool:
    """Whether `reader` may read an agency's own free text on a case (its return, the
    evidence of its action): whoever may read the referral, and that agency's lead."""
    if reader is None:
        return False
    own = Role.AGENCY_LEAD in reader.roles and reader.agency == agency
    return own or reads_referral(reader)


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def plain(value: Any) -> Any:
    """A stored value as a document holds it: a day or a moment as ISO text, a list as a
    list."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return list(value)
    return value


def referral_entry(referral: Any) -> dict[str, Any]:
    """The referral's facts, as the criteria of every definition for referrals judge them
    (states.case.ReferralFacts: the creating trigger's parameters they read), from its
    stored row."""
    return {f.name: plain(getattr(referral, f.name)) for f in fields(ReferralFacts)}


def opened_with(definition: ProcessDefinition, record: Any) -> dict[str, Any]:
    """What a record of `definition` was opened with (states.process.OPENS), from its
    stored row."""
    return {name: plain(getattr(record, name)) for name in OPENS[definition.opens]}


def case_document(tx: Tx, process: Process, case: CaseRecord, *,
                  reader: Actor | None, whole: facts.Whole | None = None
                  ) -> dict[str, Any]:
    """Everything about a case, with the free text `reader` may read (None: none of it).
    Free text withheld leaves its key out: a return or evidence still shows that it was
    given (`returned_at`, `completed_at`). `whole`: the case's facts when the caller has
    read them (storage.facts.whole: the portal judges the case from the same read)."""
    definition = process.definition
    whole = whole or facts.whole(tx, case.id)
    snapshot = cases.snapshot_of(case, whole)
    referral = whole.referral if definition.referred else None
    proceedings = whole.proceedings
    doc: dict[str, Any] = {
        "ref": case.ref,
        "pseudonym": case.pseudonym,
        "state": case.state,
        "state_label": definition.state_label(case.state),
        "kind": case.kind,
        "version": case.version,
        "process": case.definition,
        "process_version": case.definition_version,
        "process_label": definition.label,
        "flags": list(case.flags),
        "referred_at": iso(case.referred_at),
        "state_entered_at": iso(case.state_entered_at),
        "opens": definition.opens,
        "criteria": definition.assess(snapshot.referred).as_dict() if referral else None,
        "referral": referral_entry(referral) if referral else None,
        "learning": learning_entry(definition, whole.learning, reader)
        if not definition.referred else None,
        "timers": [
            {"name": t.name, "due_at": iso(t.due_at), "status": t.status, "rule": t.rule,
             "fires": t.fires, "label": timer_label(process.definition, t.ladder, t.level,
                                                    t.key or None)}
            for t in timers.current(tx, case)
        ],
        "agencies": [
            {"agency": a.agency, "round": a.round, "requested_at": iso(a.requested_at),
             "due_at": iso(a.due_at), "returned_at": iso(a.returned_at), "view": a.view,
             **({"summary": a.summary} if a.summary is not None
                and reads_agency_text(reader, a.agency) else {})}
            for a in whole.asks
        ],
        "returns_due_at": iso(case.returns_due_at),
        "meetings": [{"date": iso(held_on), "attendees": present}
                     for held_on, _, present in whole.meetings],
        "recommendation": case.recommendation,
        "methodology": case.methodology,
        "lead_reviewer": case.lead_reviewer,
        "commissioned_at": iso(case.commissioned_at),
        "decided_at": iso(case.decided_at),
        "report": case.report_title,
        "proceedings": {
            "criminal": proceedings.criminal,
            "care": proceedings.care,
            "inquest": proceedings.inquest,
            "expected_conclusion": iso(proceedings.expected_conclusion),
        },
        "outputs": [
            {"output": o.output, "location": o.location, "recorded_at": iso(o.recorded_at)}
            for o in whole.outputs
        ],
        "notice_sent_at": iso(case.notice_sent_at),
        "scheduled_publication": iso(case.scheduled_publication),
        "published_at": iso(case.published_at),
        **fact_entries(definition.facts, case.facts, reader),
        "actions": [
            {"action": a.number, "agency": a.agency, "description": a.description,
             "owner": a.owner, "due": iso(a.due), "status": a.status,
             "completed_at": iso(a.completed_at), "signed_off_at": iso(a.signed_off_at),
             **({"evidence": a.evidence} if a.evidence is not None
                and reads_agency_text(reader, a.agency) else {})}
            for a in whole.actions
        ],
        "audits": [audit_entry(a, reader) for a in whole.audits],
        "training": [training_entry(t) for t in whole.trainings],
    }
    if referral is not None and reads_referral(reader):
        doc["referral"]["summary"] = referral.summary
        doc["referral"]["earlier_summaries"] = [
            {"version": v.version, "summary": v.summary, "replaced_by": v.replaced_by,
             "replaced_at": iso(v.replaced_at)}
            for v in (facts.summary_versions(tx, case.id) if whole.has_earlier_summaries
                      else ())]
    return doc


def fact_entries(declared: Sequence[Fact], stored: Mapping[str, Any],
                 reader: Actor | None) -> dict[str, Any]:
    """The facts its definition declares (states/facts.py) that `reader` may read: `facts`,
    each by name in its stored form (a fact not yet recorded: None, or no views), and
    `fact_lines`, [label, words] for each one recorded, in the definition's order, as the
    printout and the portal show them."""
    roles = reader.roles if reader is not None else None
    shown = [f for f in declared if f.readable_by(roles)]
    values = {f.name: stored.get(f.name, {} if f.type == FactType.VIEWS else None)
              for f in shown}
    return {"facts": values,
            "fact_lines": [[f.label, fact_words(f, values[f.name])] for f in shown
                           if values[f.name]]}


def fact_words(fact: Fact, stored: Any) -> str:
    """A recorded fact as a line of words: a choice by its words, views as `key: view`."""
    if fact.type == FactType.VIEWS:
        return ", ".join(
            f"{value_label(key)}: " + ", ".join(value_label(str(v)) for k, v in view.items()
                                                if k not in ("at", "by"))
            for key, view in stored.items())
    if fact.type == FactType.CHOICE:
        return value_label(stored)
    if fact.type == FactType.FLAG:
        return "yes" if stored else "no"
    return str(stored)


def learning_entry(definition: ProcessDefinition, item: Any,
                   reader: Actor | None) -> dict[str, Any]:
    """A review from elsewhere as the learning register holds it: what its creating trigger
    took, and its consideration; the recommendations adopted (the sub-group's own words)
    only for a reader who may read a case's free text."""
    entry = {**{p.name: plain(getattr(item, p.name)) for p in definition.create.params},
             "relevant": item.relevant,
             "considered_on": iso(item.considered_on), "considered_by": item.considered_by}
    if item.adopted is not None and reads_referral(reader):
        entry["adopted"] = item.adopted
    return entry


def audit_entry(a: Any, reader: Actor | None) -> dict[str, Any]:
    """An audit of a review's learning; its note only for a reader who may read a case's
    free text."""
    entry = {"audit": a.number, "date": iso(a.held_on), "finding": a.finding,
             "actions": list(a.actions), "recorded_by": a.recorded_by,
             "recorded_at": iso(a.recorded_at)}
    if a.note and reads_referral(reader):
        entry["note"] = a.note
    return entry


def training_entry(t: Any) -> dict[str, Any]:
    """Training recorded: what the training trigger takes (states.process.TRAINING_PARAMS),
    and who recorded it when."""
    return {"training": t.number, **{p.name: plain(getattr(t, p.name)) for p in TRAINING_PARAMS},
            "recorded_by": t.recorded_by, "recorded_at": iso(t.recorded_at)}


def history_document(tx: Tx, case: CaseRecord) -> list[dict[str, Any]]:
    """The case's history, oldest first."""
    return [history_entry(row) for row in history.of_case(tx, case.id)]


def case_list(tx: Tx, *, now: datetime, levels: Sequence[str], state: str | None = None,
              overdue_only: bool = False,
              processes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every case (or those in `state`; of the processes named in `processes`) by
    reference, each with its next pending timer and whether a deadline of one of `levels`
    has passed in its current stay in its state."""
    overdue = cases.overdue(tx, now=now, levels=levels)
    rows: list[dict[str, Any]] = []
    for case in cases.listing(tx, state=state):
        if overdue_only and case.id not in overdue:
            continue
        if processes is not None and case.definition not in processes:
            continue
        pending = [t for t in timers.current(tx, case) if t.status == PENDING]
        first = min(pending, key=lambda t: t.due_at) if pending else None
        rows.append({
            "ref": case.ref, "pseudonym": case.pseudonym, "state": case.state,
            "kind": case.kind, "version": case.version, "flags": list(case.flags),
            "process": case.definition, "process_version": case.definition_version,
            "overdue": case.id in overdue,
            "next_timer": first.name if first else None,
            "next_due_at": iso(first.due_at) if first else None,
        })
    return rows


def history_entry(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq, "trigger": row.trigger, "source": row.source, "dest": row.dest,
        "actor": row.actor, "recorded_by": row.recorded_by, "reason": row.reason,
        "at": iso(row.at), "params": row.params, "due_at": iso(row.due_at),
    }


def outbox_entry(row: OutboxRecord) -> dict[str, Any]:
    return {
        "id": row.id, "case_ref": row.case_ref, "to": row.recipient, "subject": row.subject,
        "status": row.status, "attempts": row.attempts, "message_id": row.message_id,
        "template": row.template, "created_at": iso(row.created_at),
        "sent_at": iso(row.sent_at), "last_error": row.last_error,
    }


def user_entry(user: UserRecord) -> dict[str, Any]:
    return {"name": user.name, "email": user.email, "roles": list(user.roles),
            "agency": user.agency, "login": user.login, "active": user.active}
