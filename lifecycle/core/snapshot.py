"""Reading a stored case into the immutable view that `states/` reasons about.

Six prepared statements read everything (the referral with its proceedings; agencies;
meetings; their attendance; outputs; actions), on the driver's cursor (storage.direct),
beside the case's own row. The engine reads a case once per trigger, before its effects,
and derives the view after them (`after`): this is on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from states.case import ActionFacts, AgencyAsk, CaseView, MeetingFacts, ReferralFacts
from states.enums import State
from storage import tables
from storage.direct import Prepared

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

    from storage.caserow import AnyCase

_R, _P = tables.REFERRALS, tables.PROCEEDINGS
_A, _M = tables.AGENCY_REQUESTS, tables.MEETINGS
_MA, _O = tables.MEETING_ATTENDANCE, tables.OUTPUTS
_X = tables.ACTIONS
_ID: Any = bindparam("case_id")

_REFERRAL = Prepared(select(
    _R.c.incident_date, _R.c.harm, _R.c.abuse, _R.c.agency_concern, _R.c.grounds, _R.c.route,
    _R.c.referrer_agency, _R.c.criminal_proceedings, _P.c.criminal, _P.c.care,
    _P.c.expected_conclusion,
).join(_P, _P.c.case_id == _R.c.case_id).where(_R.c.case_id == _ID))
_AGENCIES = Prepared(select(_A.c.agency, _A.c.round, _A.c.requested_at, _A.c.due_at,
                            _A.c.returned_at, _A.c.view).where(_A.c.case_id == _ID).order_by(
                                _A.c.round, _A.c.id))
# Only the meetings of the current stay in the state count (CaseView.meetings): what is
# read does not grow with the case's history. Attendance is read apart, unprocessed.
_SINCE: Any = bindparam("entered", _M.c.recorded_at.type)
_MEETINGS = Prepared(select(_M.c.id, _M.c.held_on, _M.c.recorded_at).where(
    _M.c.case_id == _ID, _M.c.recorded_at >= _SINCE).order_by(_M.c.id))
_ATTENDANCE = Prepared(select(_MA.c.meeting_id, _MA.c.agency).join(
    _M, _MA.c.meeting_id == _M.c.id).where(_M.c.case_id == _ID, _M.c.recorded_at >= _SINCE))
_OUTPUTS = Prepared(select(_O.c.output).where(_O.c.case_id == _ID))
_ACTIONS = Prepared(select(_X.c.number, _X.c.agency, _X.c.owner, _X.c.due, _X.c.status).where(
    _X.c.case_id == _ID).order_by(_X.c.number))


def case_fields(case: AnyCase) -> dict[str, Any]:
    """What the view takes from the case's own row."""
    return {
        "ref": case.ref, "state": State(case.state), "referred_at": case.referred_at,
        "state_entered_at": case.state_entered_at, "kind": case.kind,
        "flags": frozenset(case.flags), "round": case.round,
        "returns_due_at": case.returns_due_at, "meeting_date": case.meeting_date,
        "recommendation": case.recommendation, "lead_reviewer": case.lead_reviewer,
        "commissioned_at": case.commissioned_at, "decided_at": case.decided_at,
        "notice_sent_at": case.notice_sent_at,
        "scheduled_publication": case.scheduled_publication,
        "panel_notified": case.panel_notified_on is not None,
    }


def snapshot(session: Session | Connection, case: AnyCase) -> CaseView:
    """Everything guards and timers may look at, read in one place."""
    assert case.id is not None
    ids = {"case_id": case.id}
    r = _REFERRAL.one(session, ids)
    assert r is not None, f"case {case.ref} has no referral"
    (incident, harm, abuse, concern, grounds, route, referrer, criminal_proceedings,
     criminal, care, expected) = r
    since = {"case_id": case.id, "entered": case.state_entered_at}
    present: dict[int, set[str]] = {}
    for meeting_id, agency in _ATTENDANCE.all(session, since):
        present.setdefault(meeting_id, set()).add(agency)
    return CaseView(
        **case_fields(case),
        referral=ReferralFacts(incident, harm, abuse, concern, tuple(grounds), route, referrer,
                               criminal_proceedings),
        agencies=tuple(AgencyAsk(*a) for a in _AGENCIES.all(session, ids)),
        meetings=tuple(MeetingFacts(held, frozenset(present.get(meeting_id, ())), recorded)
                       for meeting_id, held, recorded in _MEETINGS.all(session, since)),
        criminal=criminal,
        care=care,
        expected_conclusion=expected,
        outputs=frozenset(o for (o,) in _OUTPUTS.all(session, ids)),
        actions=tuple(ActionFacts(*a) for a in _ACTIONS.all(session, ids)),
    )


def after(before: CaseView, case: AnyCase, changes: Mapping[str, Any]) -> CaseView:
    """The view after a trigger, without reading the case again: the case's row as saved,
    and what the trigger's effect changed in the other tables (`changes`, by field of
    CaseView). Meetings of an earlier stay in the state drop out, as `snapshot` reads them.

    The engine checks this against a fresh `snapshot` when asked to (Engine.check_views;
    the tests always ask)."""
    fields = case_fields(case)
    if "meetings" not in changes:
        fields["meetings"] = tuple(m for m in before.meetings
                                   if m.recorded_at >= case.state_entered_at)
    return replace(before, **fields, **changes)
