"""The demo's script: three cases through a year and a half of a board's work.

- Child Robin: a death where abuse is suspected. The SCR criteria are met; returns come in
  late and the daemon submits the case to the sub-group without the last one; the chair
  may not commission a lesser review; the review runs past six months; publication waits
  for a criminal trial (refused by hand, blocked on its scheduled date, then published by
  the daemon); the action plan is chased to sign-off.
- Child Wren: serious harm below the SCR threshold. Triage is late and escalated; the
  sub-group may not recommend before its meeting is recorded; a case review is published
  as a learning briefing, and its action plan is still being monitored at the end.
- Child Linnet: an accident. No review is decided; the daemon reminds the business manager
  that the national panel must be told, until that is recorded.

Moments are the board's local time. People act at the moments given; between them the
daemon fires whatever falls due (see run.Run.at).
"""

from __future__ import annotations

from lifecycle.demo import cast
from lifecycle.demo.cast import (
    AUDITOR,
    BM,
    CHAIR,
    CSC,
    EDUCATION,
    HEALTH,
    POLICE,
    REVIEWER_CR,
    REVIEWER_SCR,
    SUBCHAIR,
)
from lifecycle.demo.run import Run

START = "2025-01-13 09:30"
QUORUM = "childrens_social_care,health,police,education,voluntary_sector"
# The timer levels the story shows firing; the run checks each did.
LADDERS = (
    "triage.reminder", "triage.escalation", "returns.reminder", "returns.overdue",
    "returns_auto_submit.transition", "recommendation.escalation", "decision.due",
    "panel.reminder", "completion.reminder", "completion.due", "proceedings_check.check",
    "publication.blocked", "publication.transition", "action.reminder", "action.overdue",
)
AGENCY_LABELS = {"childrens_social_care": "children's social care", "health": "health",
                 "police": "police", "education": "education"}
FINAL_STATES = {"Child Robin": "actions_signed_off", "Child Wren": "published",
                "Child Linnet": "closed"}


def tell(run: Run) -> dict[str, str]:
    """Play the whole script; returns each pseudonym's case reference."""
    robin, wren, linnet = _referrals(run)
    _returns(run, robin, wren, linnet)
    _sub_group(run, robin, wren, linnet)
    _decisions(run, robin, wren, linnet)
    _reviews(run, robin, wren)
    _publication_hold(run, robin)
    _action_plan(run, robin)
    return {"Child Robin": robin, "Child Wren": wren, "Child Linnet": linnet}


def _referrals(run: Run) -> tuple[str, str, str]:
    run.say.chapter("Three referrals reach the board (January 2025)")
    run.at("2025-01-13 09:30")
    robin = run.refer(BM, cast.ROBIN, "From the child death review process: a child died "
                      "and abuse is suspected; criminal proceedings are expected.")
    run.at("2025-01-13 11:00")
    wren = run.refer(BM, cast.WREN, "From a nursery, through its safeguarding lead: a baby "
                     "seriously injured; no concern about how agencies worked together.")
    run.at("2025-01-14 14:00")
    linnet = run.refer(BM, cast.LINNET, "From a health visitor: a scald at home; no abuse "
                       "or neglect is suspected.")
    run.at("2025-01-14 15:00")
    run.fire(BM, robin, "request_information", "Each agency's written summary of its "
             "involvement is due in 10 working days; triage is done, so its timers stop.",
             agencies="childrens_social_care,health,police,education")
    run.at("2025-01-15 10:00")
    run.fire(BM, linnet, "request_information", "Three agencies are asked.",
             agencies="childrens_social_care,health,police")
    return robin, wren, linnet


def _returns(run: Run, robin: str, wren: str, linnet: str) -> None:
    run.say.chapter("Agencies' returns, reminders and an automatic submission")
    run.at("2025-01-16 12:00")
    _return(run, HEALTH, linnet, cast.LINNET, "health", "no_review")
    run.at("2025-01-20 10:00")
    _return(run, HEALTH, robin, cast.ROBIN, "health", "scr")
    run.at("2025-01-20 10:30")
    _return(run, POLICE, linnet, cast.LINNET, "police", "no_review")
    run.at("2025-01-20 14:00")
    run.fire(BM, wren, "request_information", "Late, after the daemon's escalation to the "
             "chair.", agencies="childrens_social_care,health,police,education")
    run.at("2025-01-21 09:45")
    _return(run, CSC, linnet, cast.LINNET, "childrens_social_care", "no_review")
    run.at("2025-01-21 11:00")
    _return(run, EDUCATION, wren, cast.WREN, "education", "case_review")
    run.at("2025-01-22 09:30")
    run.fire(BM, linnet, "submit_to_sub_group", "Every return is in, so it may go before "
             "the sub-group's next meeting, which gets a calendar invitation.",
             meeting_date="2025-02-06")
    run.at("2025-01-22 12:00")
    _return(run, CSC, robin, cast.ROBIN, "childrens_social_care", "scr")
    run.at("2025-01-24 10:00")
    _return(run, HEALTH, wren, cast.WREN, "health", "case_review")
    run.at("2025-01-27 10:00")
    run.refuse(BM, robin, "submit_to_sub_group", "The business manager must wait for the "
               "returns or for the deadline.")
    run.at("2025-01-27 11:00")
    _return(run, CSC, wren, cast.WREN, "childrens_social_care", "case_review")
    run.at("2025-01-27 16:00")
    _return(run, POLICE, robin, cast.ROBIN, "police", "scr")
    run.at("2025-01-29 09:30")
    _return(run, POLICE, wren, cast.WREN, "police", "case_review")
    run.at("2025-01-30 10:00")
    run.fire(BM, wren, "submit_to_sub_group", "All four returns are in.",
             meeting_date="2025-02-06")
    run.at("2025-02-05 09:00")
    run.expect(robin, "sub_group", flag="incomplete_returns")


def _return(run: Run, who: str, ref: str, referral: dict[str, str], agency: str,
            view: str) -> None:
    label = AGENCY_LABELS[agency]
    run.fire(who, ref, "record_return", f"The {label} return, with its view: {view}. Its "
             "summary stays in the database.", agency=agency, view=view,
             summary=cast.return_summary(referral, agency))


def _sub_group(run: Run, robin: str, wren: str, linnet: str) -> None:
    run.say.chapter("The case review sub-group meets (February 2025)")
    run.at("2025-02-06 16:00")
    run.fire(BM, robin, "record_meeting", "Police, health and children's social care were "
             "there, so the meeting may recommend; the recommendation is due the next "
             "working day.", date="2025-02-06", attendees=QUORUM)
    run.at("2025-02-06 16:05")
    run.fire(BM, linnet, "record_meeting", "The same meeting.", date="2025-02-06",
             attendees=QUORUM)
    run.at("2025-02-06 16:30")
    run.fire(SUBCHAIR, linnet, "recommend", "The sub-group recommends no review.",
             recommendation="no_review",
             reason="No abuse or neglect is suspected; health will share its own learning.")
    run.at("2025-02-06 16:40")
    run.refuse(SUBCHAIR, wren, "recommend", "The meeting must be on the case's record "
               "first.", recommendation="case_review",
               reason="Learning about injuries in babies who are not yet mobile.")
    run.at("2025-02-06 16:50")
    run.fire(BM, wren, "record_meeting", "Now on the record.", date="2025-02-06",
             attendees=QUORUM)
    run.at("2025-02-06 17:00")
    run.fire(SUBCHAIR, wren, "recommend", "Below the SCR threshold, with learning worth "
             "a review.", recommendation="case_review",
             reason="Learning about injuries in babies who are not yet mobile.")
    run.at("2025-02-10 11:00")
    run.fire(SUBCHAIR, robin, "recommend", "After the daemon's reminder to the sub-group "
             "chair.", recommendation="scr",
             reason="The child died and abuse is suspected: the SCR criteria are met. "
             "Education's return is still to come.")


def _decisions(run: Run, robin: str, wren: str, linnet: str) -> None:
    run.say.chapter("The independent chair decides")
    run.at("2025-02-10 15:00")
    run.fire(CHAIR, wren, "commission_case_review", "A multi-agency learning review; "
             "the criteria are not met, so a case review is the chair's choice.",
             methodology="learning_review", lead_reviewer=REVIEWER_CR)
    run.at("2025-02-11 10:00")
    run.refuse(CHAIR, robin, "commission_case_review", "Where the criteria are met the "
               "board must commission an SCR.", methodology="learning_review",
               lead_reviewer=REVIEWER_SCR)
    run.at("2025-02-11 10:15")
    run.fire(CHAIR, robin, "commission_scr", "A systems review (SCIE Learning Together); "
             "it should be complete within six months.", methodology="scie_systems",
             lead_reviewer=REVIEWER_SCR)
    run.at("2025-02-17 10:00")
    run.fire(CHAIR, linnet, "decide_no_review", "Closed; the national panel must have the "
             "decision and reasons within 14 days.",
             reason="Accidental injury; no abuse or neglect suspected; agencies responded "
             "well.")
    run.expect(linnet, "closed")
    run.at("2025-02-28 12:00")
    run.fire(BM, linnet, "record_panel_notice", "The panel and Ofsted have the decision: "
             "the reminders stop.", date="2025-02-28")


def _reviews(run: Run, robin: str, wren: str) -> None:
    run.say.chapter("Reviews under way; a learning briefing is published")
    run.at("2025-04-09 14:00")
    run.fire(REVIEWER_SCR, robin, "record_milestone", "A milestone on the record.",
             milestone="Practitioner learning event held")
    run.at("2025-05-09 10:00")
    run.fire(REVIEWER_CR, wren, "complete_review", "The report waits on publication hold.",
             report="Learning briefing: Child Wren")
    run.at("2025-05-12 10:00")
    run.refuse(AUDITOR, wren, "record_output", "The auditor reads everything and "
               "changes nothing.", output="briefing",
               location="https://demoshire.example.org/learning/child-wren")
    run.at("2025-05-12 10:30")
    run.fire(BM, wren, "record_output", "A case review publishes a learning briefing.",
             output="briefing", location="https://demoshire.example.org/learning/child-wren")
    run.at("2025-05-12 10:40")
    run.fire(BM, wren, "send_prepublication_notice", "Ofsted and the Department have the "
             "briefing; the notice period (7 working days) starts.")
    run.at("2025-05-12 10:50")
    run.fire(BM, wren, "schedule_publication", "The daemon will publish on the day if every "
             "guard holds.", date="2025-05-28")
    run.at("2025-06-02 11:00")
    run.expect(wren, "published")
    run.fire(SUBCHAIR, wren, "add_action", "Due at the end of July.", agency="education",
             description="Refresh staff training on injuries in babies who are not mobile",
             owner=EDUCATION, due="2025-07-31")
    run.at("2025-06-02 11:10")
    run.fire(SUBCHAIR, wren, "add_action", "Due next autumn: still open when the demo ends.",
             agency="health", description="Record who lives in the home at every "
             "health visiting contact", owner=HEALTH, due="2026-09-30")
    run.at("2025-07-28 15:00")
    run.fire(EDUCATION, wren, "complete_action", "Done after the daemon's reminder.",
             action="1", evidence="Training delivered on 21 July; attendance held by school.")
    run.at("2025-07-30 10:00")
    run.fire(SUBCHAIR, wren, "sign_off_action", "Signed off.", action="1")
    run.at("2025-08-20 16:00")
    run.fire(REVIEWER_SCR, robin, "complete_review", "Past the six months: the daemon "
             "reminded at five and escalated at six.",
             report="Serious Case Review: Child Robin, overview report")


def _publication_hold(run: Run, robin: str) -> None:
    run.say.chapter("Publication held for a criminal trial")
    run.at("2025-08-22 10:00")
    run.fire(BM, robin, "record_proceedings", "The trial is listed for November.",
             criminal="pending", expected_conclusion="2025-11-28")
    for minute, output in enumerate(("overview_report", "executive_summary",
                                     "board_response")):
        run.at(f"2025-09-01 10:{minute * 5:02d}")
        run.fire(BM, robin, "record_output", "An SCR publishes its overview report and the "
                 "board's response.", output=output,
                 location=f"https://demoshire.example.org/scr/child-robin/{output}")
    run.at("2025-09-08 10:00")
    run.fire(BM, robin, "send_prepublication_notice", "The notice period starts.")
    run.at("2025-09-08 10:10")
    run.fire(BM, robin, "schedule_publication", "In hope that the trial is over by then.",
             date="2025-10-15")
    run.at("2025-10-13 10:00")
    run.refuse(BM, robin, "publish", "Publishing could prejudice the trial.")
    run.at("2025-12-03 14:00")
    run.expect(robin, "publication_hold")
    run.fire(BM, robin, "record_proceedings", "The trial is over: the proceedings checks "
             "stop.", criminal="concluded")
    run.at("2025-12-03 14:10")
    run.fire(BM, robin, "schedule_publication", "A new date; the notice period has long "
             "passed.", date="2025-12-10")
    run.at("2025-12-10 12:00")
    run.expect(robin, "published")


def _action_plan(run: Run, robin: str) -> None:
    run.say.chapter("The SCR's action plan, chased to sign-off (2026)")
    actions = (
        ("multi_agency", "Agree a joint protocol for sharing concerns about infants with "
         "unexplained bruising", BM, "2026-03-31"),
        ("police", "Brief every officer attending a child death on the joint agency "
         "response", POLICE, "2026-02-27"),
        ("health", "Audit the safeguarding flag in GP records of children under two",
         HEALTH, "2026-04-30"),
    )
    for minute, (agency, description, owner, due) in enumerate(actions):
        run.at(f"2025-12-11 10:{minute * 10:02d}")
        run.fire(SUBCHAIR, robin, "add_action", f"Owned by {owner}, due {due}.",
                 agency=agency, description=description, owner=owner, due=due)
    run.at("2026-03-04 11:00")
    run.fire(POLICE, robin, "complete_action", "Late: the daemon reminded, then escalated.",
             action="2", evidence="Briefing delivered to all response teams; log kept.")
    run.at("2026-03-05 10:00")
    run.fire(SUBCHAIR, robin, "sign_off_action", "Signed off.", action="2")
    run.at("2026-03-27 15:00")
    run.fire(BM, robin, "complete_action", "A multi-agency action: the business manager "
             "records it.", action="1", evidence="Protocol agreed by all partners.")
    run.at("2026-03-30 10:00")
    run.fire(SUBCHAIR, robin, "sign_off_action", "Signed off.", action="1")
    run.at("2026-04-28 12:00")
    run.fire(HEALTH, robin, "complete_action", "On time, after a reminder.", action="3",
             evidence="Audit of 40 records completed; report to the board.")
    run.at("2026-05-05 10:00")
    run.fire(SUBCHAIR, robin, "sign_off_action", "Signed off.", action="3")
    run.at("2026-05-07 10:00")
    run.fire(SUBCHAIR, robin, "sign_off_actions", "Every action is signed off: the case is "
             "closed as actions_signed_off.")
    run.expect(robin, "actions_signed_off")
