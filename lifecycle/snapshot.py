"""Reading a stored case into the immutable view that `states/` reasons about."""

from __future__ import annotations

from sqlmodel import Session

from states.case import ActionFacts, AgencyAsk, CaseView, MeetingFacts, ReferralFacts
from states.enums import State
from storage import queries
from storage.models import Case, Referral


def referral_facts(referral: Referral) -> ReferralFacts:
    return ReferralFacts(
        incident_date=referral.incident_date,
        harm=referral.harm,
        abuse=referral.abuse,
        agency_concern=referral.agency_concern,
        grounds=tuple(referral.grounds),
        route=referral.route,
        referrer_agency=referral.referrer_agency,
        criminal_proceedings=referral.criminal_proceedings,
    )


def snapshot(session: Session, case: Case) -> CaseView:
    """Everything guards and timers may look at, read in one place."""
    assert case.id is not None
    cid = case.id
    proceedings = queries.proceedings(session, cid)
    return CaseView(
        ref=case.ref,
        state=State(case.state),
        referral=referral_facts(queries.referral(session, cid)),
        referred_at=case.referred_at,
        state_entered_at=case.state_entered_at,
        kind=case.kind,
        flags=frozenset(case.flags),
        round=case.round,
        agencies=tuple(
            AgencyAsk(a.agency, a.round, a.requested_at, a.due_at, a.returned_at, a.view)
            for a in queries.agency_requests(session, cid)
        ),
        returns_due_at=case.returns_due_at,
        meeting_date=case.meeting_date,
        meetings=tuple(
            MeetingFacts(m.held_on, frozenset(present), m.recorded_at)
            for m, present in queries.meetings(session, cid)
        ),
        recommendation=case.recommendation,
        lead_reviewer=case.lead_reviewer,
        commissioned_at=case.commissioned_at,
        decided_at=case.decided_at,
        criminal=proceedings.criminal,
        care=proceedings.care,
        expected_conclusion=proceedings.expected_conclusion,
        outputs=frozenset(o.output for o in queries.outputs(session, cid)),
        notice_sent_at=case.notice_sent_at,
        scheduled_publication=case.scheduled_publication,
        actions=tuple(
            ActionFacts(a.number, a.agency, a.owner, a.due, a.status)
            for a in queries.actions(session, cid)
        ),
        panel_notified=case.panel_notified_on is not None,
    )
