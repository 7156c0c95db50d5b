"""The demo's script: four cases and a review from elsewhere through nearly two years of a
board's work, under two regimes: the board's older Serious Case Reviews finish under the
rules they began with (`scr` version 1) while a new case runs as a Child Safeguarding
Practice Review (`cspr` version 1).

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
- Child Kestrel: referred in March 2025, after the board began new cases as CSPRs. The
  notification to the Panel and Ofsted is recorded after its reminder; the rapid review
  (agencies' information, its meeting, a recommendation) is reminded at ten working days;
  one safeguarding partner may not decide alone; the three partners commission a local
  review inside the rapid review's fifteen working days; the rapid review goes to the Panel,
  which responds; the report, reminded at five months, is published inside six; its action
  plan is signed off by a partner.
- Learning from elsewhere (2026): a national review by the Panel goes on the learning
  register; the sub-group, reminded at two months, finds it relevant and adopts its
  recommendations, and the local action it raises is tracked to sign-off. Training is given
  in response to Child Robin's learning, and a quality assurance audit finds his SCR's
  changes embedded.

Moments are the board's local time. People act at the moments given; between them the
daemon fires whatever falls due (see run.Run.at).
"""

from __future__ import annotations

from scr.lifecycle.demo import cast
from scr.lifecycle.demo.cast import (
    AUDITOR,
    BM,
    CHAIR,
    CSC,
    EDUCATION,
    HEALTH,
    PARTNER_ICB,
    PARTNER_LA,
    POLICE,
    REVIEWER_CR,
    REVIEWER_SCR,
    SUBCHAIR,
)
from scr.lifecycle.demo.run import Run

START = "2025-01-13 09:30"
QUORUM = "childrens_social_care,health,police,education,voluntary_sector"
# The process new cases start under when the demo begins, and the one the board switches
# to (story._new_regime); both name their version, as the story's dates rely on its rules.
FIRST_PROCESS = ("scr", "1")
NEW_PROCESS = ("cspr", "1")
# The timer levels the story shows firing; the run checks each did.
LADDERS = (
    "triage.reminder", "triage.escalation", "returns.reminder", "returns.overdue",
    "returns_auto_submit.transition", "recommendation.escalation", "decision.due",
    "panel.reminder", "completion.reminder", "completion.due", "proceedings_check.check",
    "publication.blocked", "publication.transition", "action.reminder", "action.overdue",
    # Child Kestrel, a CSPR.
    "notification.reminder", "rapid_review.reminder", "publication_due.reminder",
    # The learning register.
    "consideration.reminder",
)
AGENCY_LABELS = {"childrens_social_care": "children's social care", "health": "health",
                 "police": "police", "education": "education"}
# A review from elsewhere, on the learning register (its title stands for a pseudonym).
NATIONAL_REVIEW = {
    "title": "The Myth of Invisible Men", "source": "national_review",
    "publisher": "Child Safeguarding Practice Review Panel", "published_on": "2021-09-15",
    "themes": "non_accidental_injury_in_infants,working_with_fathers",
    "link": "https://www.gov.uk/government/publications/"
            "safeguarding-children-under-1-year-old",
}
LEARNING = ("learning", "1")
FINAL_STATES = {"Child Robin": "actions_signed_off", "Child Wren": "published",
                "Child Linnet": "closed", "Child Kestrel": "actions_signed_off",
                NATIONAL_REVIEW["title"]: "actions_signed_off"}
# The process (name, version) each case runs under from referral to the end; the run checks.
PROCESSES = {"Child Robin": FIRST_PROCESS, "Child Wren": FIRST_PROCESS,
             "Child Linnet": FIRST_PROCESS, "Child Kestrel": NEW_PROCESS,
             NATIONAL_REVIEW["title"]: LEARNING}


def tell(run: Run) -> dict[str, str]:
    """Play the whole script; returns each pseudonym's case reference."""
    robin, wren, linnet = _referrals(run)
    _returns(run, robin, wren, linnet)
    _sub_group(run, robin, wren, linnet)
    _decisions(run, robin, wren, linnet)
    kestrel = _new_regime(run)
    _reviews(run, robin, wren)
    _publication_hold(run, robin)
    _practice_review(run, kestrel)
    _trial(run, robin)
    _action_plan(run, robin)
    review = _learning(run, robin)
    return {"Child Robin": robin, "Child Wren": wren, "Child Linnet": linnet,
            "Child Kestrel": kestrel, NATIONAL_REVIEW["title"]: review}


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


def _new_regime(run: Run) -> str:
    """Child Kestrel, the board's first Child Safeguarding Practice Review: from the serious
    incident to the partners' decision, the rapid review sent to the Panel and its answer."""
    run.say.chapter("New cases are Child Safeguarding Practice Reviews (March 2025)")
    run.at("2025-03-03 09:00")
    run.switch(NEW_PROCESS)
    run.say.line()
    run.say.line("The board now starts new cases as Child Safeguarding Practice Reviews "
                 "(Working Together 2023): its configuration says [process] default = "
                 f'"{NEW_PROCESS[0]}", version = "{NEW_PROCESS[1]}". The three safeguarding '
                 "partners (local authority, integrated care board, police) decide together "
                 "in place of the independent chair, and an independent scrutineer is told "
                 "of what they decide. Child Robin, Child Wren and Child Linnet finish under "
                 "the SCR rules they began with (scr version 1).", 2)
    run.at("2025-03-03 09:30")
    kestrel = run.refer(BM, cast.KESTREL, "From the police: a child found exploited after "
                        "going missing; the local authority became aware on Friday 28 "
                        "February, so the serious incident notification to the Child "
                        "Safeguarding Practice Review Panel and Ofsted is due within 5 working "
                        "days of then.")
    run.at("2025-03-03 11:00")
    run.fire(BM, kestrel, "request_information", "The rapid review begins: four agencies "
             "are asked for what they knew; their information is due in 7 working days.",
             agencies="childrens_social_care,health,police,education")
    run.at("2025-03-05 14:00")
    _return(run, POLICE, kestrel, cast.KESTREL, "police", "local_review")
    run.at("2025-03-06 10:00")
    run.fire(BM, kestrel, "record_notification", "A day before it was due, after the "
             "daemon's reminder: the rapid review is due 15 working days from the "
             "notification.", date="2025-03-06")
    run.at("2025-03-06 15:00")
    _return(run, CSC, kestrel, cast.KESTREL, "childrens_social_care", "local_review")
    run.at("2025-03-07 11:00")
    _return(run, EDUCATION, kestrel, cast.KESTREL, "education", "local_review")
    run.at("2025-03-07 14:00")
    _return(run, HEALTH, kestrel, cast.KESTREL, "health", "local_review")
    run.at("2025-03-07 15:00")
    run.fire(BM, kestrel, "submit_to_sub_group", "All four agencies' information is in: "
             "the rapid review meeting is next Thursday.", meeting_date="2025-03-13")
    run.at("2025-03-13 16:00")
    run.fire(BM, kestrel, "record_meeting", "The rapid review meeting, quorate.",
             date="2025-03-13", attendees=QUORUM)
    run.at("2025-03-13 16:30")
    run.fire(SUBCHAIR, kestrel, "recommend", "The rapid review recommends a local review "
             "to the safeguarding partners.", recommendation="local_review",
             reason="Three agencies knew of the missing episodes and none put them together; "
             "the learning is for the area's agencies working together.")
    run.at("2025-03-14 10:00")
    run.refuse(PARTNER_LA, kestrel, "commission_practice_review", "The safeguarding partners "
               "decide together: one partner may not commission a review alone.",
               reason="The rapid review's recommendation.", methodology="learning_review",
               lead_reviewer=REVIEWER_CR)
    run.at("2025-03-17 10:00")
    run.fire(PARTNER_ICB, kestrel, "record_partner_view", "The integrated care board's view: "
             "a local review.", partner="integrated_care_board", decision="local_review")
    run.at("2025-03-20 14:00")
    run.fire(BM, kestrel, "record_partner_view", "The police partner gave their view at the "
             "partners' meeting; the business manager may record any partner's view, a "
             "partner only their own.", partner="police", decision="local_review")
    run.at("2025-03-21 10:00")
    run.fire(PARTNER_LA, kestrel, "commission_practice_review", "The local authority fires "
             "the partners' decision, the other two agreeing: a local child safeguarding "
             "practice review, inside the rapid review's 15 working days (due 27 March), so "
             "that clock stops; publication is due within six months.",
             reason="Missing episodes known to three agencies were never put together; the "
             "partners expect learning for how agencies share return interviews.",
             methodology="learning_review", lead_reviewer=REVIEWER_CR)
    run.at("2025-03-21 11:00")
    run.fire(BM, kestrel, "send_rapid_review", "The rapid review, with the partners' "
             "decision, goes to the Panel; its response is awaited.", date="2025-03-21")
    run.at("2025-04-08 10:00")
    run.fire(BM, kestrel, "record_panel_response", "The Panel agrees the case is best "
             "reviewed locally; it answered inside 15 working days, so its reminder never "
             "fires.", response="local_review", date="2025-04-08")
    run.expect(kestrel, "review")
    return kestrel


def _practice_review(run: Run, kestrel: str) -> None:
    """Child Kestrel's practice review: published inside six months of the decision, its
    action plan signed off by a safeguarding partner."""
    run.say.chapter("Child Kestrel's practice review is published (September 2025)")
    run.at("2025-09-09 10:00")
    run.fire(REVIEWER_CR, kestrel, "complete_review", "The practice review's report waits "
             "on publication hold; no proceedings hold it back.",
             report="Child Safeguarding Practice Review: Child Kestrel, final report")
    run.at("2025-09-09 11:00")
    run.fire(BM, kestrel, "record_output", "A CSPR publishes its final report.",
             output="overview_report",
             location="https://demoshire.example.org/cspr/child-kestrel")
    run.at("2025-09-09 11:10")
    run.fire(BM, kestrel, "send_prepublication_notice", "The final report goes to the Panel "
             "and the Secretary of State, at least 7 working days before publication.")
    run.at("2025-09-18 10:00")
    run.fire(BM, kestrel, "publish", "Published by hand, the notice period over and inside "
             "the six months from the partners' decision (due 22 September): the publication "
             "clock stops.")
    run.at("2025-09-19 10:00")
    run.fire(SUBCHAIR, kestrel, "add_action", "The partners' one action, due in a "
             "fortnight.", agency="childrens_social_care",
             description="Share every return home interview with the child's school and the "
             "police missing persons coordinator", owner=CSC, due="2025-10-03")
    run.at("2025-10-01 15:00")
    run.fire(CSC, kestrel, "complete_action", "Done after the daemon's reminder.",
             action="1", evidence="Return interviews now shared on the day; audit of 20 "
             "cases.")
    run.at("2025-10-02 10:00")
    run.fire(SUBCHAIR, kestrel, "sign_off_action", "Signed off.", action="1")
    run.at("2025-10-06 10:00")
    run.fire(PARTNER_ICB, kestrel, "sign_off_actions", "A safeguarding partner signs the "
             "action plan off: the case ends as actions_signed_off.")
    run.expect(kestrel, "actions_signed_off")


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


def _trial(run: Run, robin: str) -> None:
    run.say.chapter("The trial: the SCR's publication refused, blocked, then done")
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


def _learning(run: Run, robin: str) -> str:
    run.say.chapter("Learning from elsewhere, and whether it took hold (2026)")
    run.at("2026-05-11 10:00")
    review = run.register(BM, NATIONAL_REVIEW, "A national review for the sub-group to "
                          "consider: it is due by the next quarterly meeting.")
    run.at("2026-06-10 10:00")
    run.fire(SUBCHAIR, robin, "record_training", "Training in response to Child Robin's "
             "learning, answering the protocol and the GP records actions.",
             course="Bruising in babies who are not yet mobile",
             audience="GPs, health visitors and social workers", starts_on="2026-06-08",
             ends_on="2026-06-09", trained="64", actions="1,3")
    run.at("2026-07-20 14:00")
    run.fire(SUBCHAIR, review, "consider_relevant", "After the daemon's two-month reminder, "
             "the sub-group finds the review relevant here.", date="2026-07-20",
             adopted="Midwives and health visitors ask who lives in the home, and about "
             "every man in the household, at every contact.",
             reason="Two of our reviews found the men in the household unknown to services")
    run.fire(SUBCHAIR, review, "add_action", "The local action the review raises, under the "
             "same rules as a case's.", agency="health",
             description="Ask about every man in the household at every health visit",
             owner=HEALTH, due="2026-10-30")
    run.at("2026-09-15 11:00")
    run.fire(BM, robin, "record_audit", "The quality assurance sub-group's multi-agency audit "
             "of Child Robin's learning as a whole.", date="2026-09-14", finding="embedded",
             note="Protocol used in 9 of 10 cases sampled; GP flags present in all.")
    run.at("2026-10-26 09:30")
    run.fire(HEALTH, review, "complete_action", "After the daemon's reminder.", action="1",
             evidence="New question in the health visiting record; 120 staff briefed.")
    run.at("2026-10-28 10:00")
    run.fire(SUBCHAIR, review, "sign_off_action", "Signed off.", action="1")
    run.fire(SUBCHAIR, review, "sign_off_actions", "The review's learning is acted on: the "
             "record closes as actions_signed_off.")
    run.expect(review, "actions_signed_off")
    return review
