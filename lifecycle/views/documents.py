"""Documents (for --json) and text (for people) of cases, history, users and the outbox.

A case's document is read with Core statements on storage.tables, so `scr show` runs
without importing the ORM; they run as well in a Session as on a Connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from lifecycle.core.arming import DISARMED, PENDING, label
from lifecycle.core.snapshot import snapshot
from lifecycle.views import style
from states.calendar import WorkingCalendar
from states.criteria import assess
from states.enums import STATE_LABELS, Role, State
from storage import tables

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

    from storage.caserow import AnyCase
    from storage.models import History, Outbox, User

_ID: Any = bindparam("case_id")
_T, _R, _P = tables.TIMERS, tables.REFERRALS, tables.PROCEEDINGS
_A, _M, _MA = tables.AGENCY_REQUESTS, tables.MEETINGS, tables.MEETING_ATTENDANCE
_O, _X = tables.OUTPUTS, tables.ACTIONS
_TIMERS = select(_T).where(_T.c.case_id == _ID).order_by(_T.c.due_at, _T.c.rank)
_REFERRAL = select(_R).where(_R.c.case_id == _ID)
_PROCEEDINGS = select(_P).where(_P.c.case_id == _ID)
_ASKS = select(_A).where(_A.c.case_id == _ID).order_by(_A.c.round, _A.c.id)
_MEETINGS = select(_M.c.id, _M.c.held_on).where(_M.c.case_id == _ID).order_by(_M.c.id)
_ATTENDANCE = select(_MA.c.meeting_id, _MA.c.agency).join(_M, _M.c.id == _MA.c.meeting_id).where(
    _M.c.case_id == _ID).order_by(_MA.c.agency)
_OUTPUTS = select(_O).where(_O.c.case_id == _ID).order_by(_O.c.id)
_ACTIONS = select(_X).where(_X.c.case_id == _ID).order_by(_X.c.number)
_H, _C = tables.HISTORY, tables.CASES
_HISTORY = select(_H).where(_H.c.case_id == _ID).order_by(_H.c.seq)
_CASES = select(_C.c.id, _C.c.ref, _C.c.pseudonym, _C.c.state, _C.c.kind, _C.c.version,
                _C.c.flags, _C.c.state_entered_at).order_by(_C.c.ref)
# Cases with a deadline-level timer of their current stay in their state due by `now`.
_OVERDUE = select(_T.c.case_id).join(_C, _C.c.id == _T.c.case_id).where(
    (_T.c.status == "pending") | (_T.c.status == "fired"), _T.c.state == _C.c.state,
    _T.c.armed_at >= _C.c.state_entered_at, _T.c.level.in_(bindparam("levels", expanding=True)),
    _T.c.due_at <= bindparam("now", _T.c.due_at.type))

# Who may read the referral's free text (SPEC §6: "shown by show to permitted users").
READ_SUMMARY = frozenset({Role.BUSINESS_MANAGER, Role.CHAIR, Role.SUBGROUP_CHAIR,
                          Role.SUBGROUP_MEMBER, Role.LEAD_REVIEWER, Role.AUDITOR})


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def current_timers(db: Session | Connection, case: Any) -> list[Any]:
    """Timers armed since the case entered its current state, but not disarmed ones, by
    due moment then ladder rank (rows with the timers table's columns as attributes).
    `case` is anything with the case's `id` and `state_entered_at`."""
    return [t for t in db.execute(_TIMERS, {"case_id": case.id})
            if t.armed_at >= case.state_entered_at and t.status != DISARMED]


def case_document(session: Session | Connection, case: AnyCase, *,
                  show_summary: bool) -> dict[str, Any]:
    assert case.id is not None
    ids = {"case_id": case.id}
    view = snapshot(session, case)
    referral = session.execute(_REFERRAL, ids).one()
    proceedings = session.execute(_PROCEEDINGS, ids).one()
    present: dict[int, list[str]] = {}
    for meeting_id, agency in session.execute(_ATTENDANCE, ids):
        present.setdefault(meeting_id, []).append(agency)
    doc: dict[str, Any] = {
        "ref": case.ref,
        "pseudonym": case.pseudonym,
        "state": case.state,
        "kind": case.kind,
        "version": case.version,
        "definition_version": case.definition_version,
        "flags": list(case.flags),
        "referred_at": iso(case.referred_at),
        "state_entered_at": iso(case.state_entered_at),
        "criteria": assess(view.referral).as_dict(),
        "referral": {
            "incident_date": iso(referral.incident_date),
            "harm": referral.harm,
            "abuse": referral.abuse,
            "agency_concern": referral.agency_concern,
            "grounds": list(referral.grounds),
            "route": referral.route,
            "referrer_agency": referral.referrer_agency,
            "criminal_proceedings": referral.criminal_proceedings,
        },
        "timers": [
            {"name": t.name, "due_at": iso(t.due_at), "status": t.status, "rule": t.rule,
             "fires": t.fires}
            for t in current_timers(session, case)
        ],
        "agencies": [
            {"agency": a.agency, "round": a.round, "requested_at": iso(a.requested_at),
             "due_at": iso(a.due_at), "returned_at": iso(a.returned_at), "view": a.view}
            for a in session.execute(_ASKS, ids)
        ],
        "returns_due_at": iso(case.returns_due_at),
        "meetings": [
            {"date": iso(held_on), "attendees": present.get(meeting_id, [])}
            for meeting_id, held_on in session.execute(_MEETINGS, ids)
        ],
        "recommendation": case.recommendation,
        "methodology": case.methodology,
        "lead_reviewer": case.lead_reviewer,
        "commissioned_at": iso(case.commissioned_at),
        "decided_at": iso(case.decided_at),
        "report": case.report_title,
        "proceedings": {
            "criminal": proceedings.criminal,
            "care": proceedings.care,
            "expected_conclusion": iso(proceedings.expected_conclusion),
        },
        "outputs": [
            {"output": o.output, "location": o.location, "recorded_at": iso(o.recorded_at)}
            for o in session.execute(_OUTPUTS, ids)
        ],
        "notice_sent_at": iso(case.notice_sent_at),
        "scheduled_publication": iso(case.scheduled_publication),
        "published_at": iso(case.published_at),
        "panel_notified_on": iso(case.panel_notified_on),
        "actions": [
            {"action": a.number, "agency": a.agency, "description": a.description,
             "owner": a.owner, "due": iso(a.due), "status": a.status,
             "completed_at": iso(a.completed_at), "signed_off_at": iso(a.signed_off_at)}
            for a in session.execute(_ACTIONS, ids)
        ],
    }
    if show_summary:
        doc["referral"]["summary"] = referral.summary
    return doc


def history_document(db: Session | Connection, case: AnyCase) -> list[dict[str, Any]]:
    """The case's history, oldest first."""
    return [history_entry(row) for row in db.execute(_HISTORY, {"case_id": case.id})]


def case_list(db: Session | Connection, *, now: datetime, levels: Sequence[str],
              state: str | None = None, overdue_only: bool = False) -> list[dict[str, Any]]:
    """Every case (or those in `state`) by reference, each with its next pending timer and
    whether a deadline of one of `levels` has passed in its current stay in its state."""
    overdue = set(db.execute(_OVERDUE, {"levels": list(levels), "now": now}).scalars())
    stmt = _CASES if state is None else _CASES.where(_C.c.state == state)
    rows: list[dict[str, Any]] = []
    for case in db.execute(stmt):
        if overdue_only and case.id not in overdue:
            continue
        pending = [t for t in current_timers(db, case) if t.status == PENDING]
        first = min(pending, key=lambda t: t.due_at) if pending else None
        rows.append({
            "ref": case.ref, "pseudonym": case.pseudonym, "state": case.state,
            "kind": case.kind, "version": case.version, "flags": list(case.flags),
            "overdue": case.id in overdue,
            "next_timer": first.name if first else None,
            "next_due_at": iso(first.due_at) if first else None,
        })
    return rows


def history_entry(row: History | Any) -> dict[str, Any]:
    return {
        "seq": row.seq, "trigger": row.trigger, "source": row.source, "dest": row.dest,
        "actor": row.actor, "reason": row.reason, "at": iso(row.at), "params": row.params,
        "due_at": iso(row.due_at),
    }


def outbox_entry(row: Outbox) -> dict[str, Any]:
    return {
        "id": row.id, "case_ref": row.case_ref, "to": row.recipient, "subject": row.subject,
        "status": row.status, "attempts": row.attempts, "message_id": row.message_id,
        "template": row.template, "created_at": iso(row.created_at),
        "sent_at": iso(row.sent_at), "last_error": row.last_error,
    }


def user_entry(user: User, roles: Sequence[str]) -> dict[str, Any]:
    return {"name": user.name, "email": user.email, "roles": list(roles),
            "agency": user.agency, "active": user.active}


# ---------------------------------------------------------------------------- text
def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned table; empty cells show as '-'."""
    cells = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = [style.header(
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines)


def when(moment: str | datetime | None, cal: WorkingCalendar) -> str:
    if moment is None:
        return "-"
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return cal.local(value).strftime("%a %d %b %Y %H:%M")


def case_text(doc: dict[str, Any], cal: WorkingCalendar) -> str:
    state = State(doc["state"])
    lines = [
        f"{doc['ref']}  {doc['pseudonym']}",
        f"  state      {state.value} — {STATE_LABELS[state]} (since "
        f"{when(doc['state_entered_at'], cal)})",
        f"  kind       {doc['kind'] or '-'}    version {doc['version']}    "
        f"flags {', '.join(doc['flags']) or '-'}",
        f"  referred   {when(doc['referred_at'], cal)}",
    ]
    ref = doc["referral"]
    lines.append(f"  referral   harm {ref['harm']}, abuse {ref['abuse']}, agency concern "
                 f"{'yes' if ref['agency_concern'] else 'no'}, route {ref['route']}"
                 + (f", grounds {', '.join(ref['grounds'])}" if ref["grounds"] else ""))
    crit = doc["criteria"]
    lines.append("  criteria   " + "; ".join(crit["reasons"]))
    if ref.get("summary"):
        lines.append("  summary    " + ref["summary"].replace("\n", "\n             "))
    if doc["agencies"]:
        lines.append("\nAgencies asked")
        lines.append(_indent(table(
            ["agency", "round", "due", "returned", "view"],
            [[a["agency"], a["round"], when(a["due_at"], cal), when(a["returned_at"], cal),
              a["view"]] for a in doc["agencies"]])))
    if doc["meetings"]:
        lines.append("\nMeetings")
        lines.extend(f"  {m['date']}: {', '.join(m['attendees'])}" for m in doc["meetings"])
    facts = [("recommendation", doc["recommendation"]), ("methodology", doc["methodology"]),
             ("lead reviewer", doc["lead_reviewer"]), ("report", doc["report"]),
             ("notice sent", when(doc["notice_sent_at"], cal) if doc["notice_sent_at"] else None),
             ("publication", doc["scheduled_publication"]),
             ("published", when(doc["published_at"], cal) if doc["published_at"] else None),
             ("panel told", doc["panel_notified_on"])]
    shown = [(k, v) for k, v in facts if v]
    if shown:
        lines.append("")
        lines.extend(f"  {k:<15}{v}" for k, v in shown)
    p = doc["proceedings"]
    if state in (State.PUBLICATION_HOLD, State.PUBLISHED) or p["criminal"] != "none":
        lines.append(f"  {'proceedings':<15}criminal {p['criminal']}, care {p['care']}"
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
    if doc["timers"]:
        lines.append("\nTimers")
        lines.append(_indent(table(
            ["timer", "due", "status", "rule"],
            [[t["name"], when(t["due_at"], cal), t["status"], t["rule"]]
             for t in doc["timers"]])))
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def timer_label(timer: Any) -> str:
    return label(timer)
