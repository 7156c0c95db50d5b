"""Whole lifecycles through the real `scr` command, as a board would run them."""

from __future__ import annotations

from tests.board import BM, CHAIR, CSC, HEALTH, POLICE, REVIEWER, SUBCHAIR

QUORUM = "attendees=childrens_social_care,health,police"


def at(day: str, time: str = "10:00") -> list[str]:
    return ["--now", f"{day}T{time}"]


def advance(scr, who, day, ref, trigger, *params, reason=None):
    args = ["--as", who, *at(day), "advance", ref, trigger, *params]
    if reason:
        args += ["--reason", reason]
    return scr.ok(*args)


def test_whole_scr_from_referral_to_actions_signed_off(scr, referral_file):
    """An SCR goes from referral to actions signed off, each step allowed and recorded."""
    made = scr.ok("--as", BM, *at("2026-11-23"), "refer", "--file", referral_file(),
                  "--json").json()
    ref = made["ref"]
    assert made["state"] == "referral" and made["criteria"]["met"] is True
    assert {t["name"] for t in made["timers"]} == {"triage.reminder", "triage.escalation"}

    advance(scr, BM, "2026-11-24", ref, "request_information",
            "agencies=childrens_social_care,health,police")
    for who, agency in ((CSC, "childrens_social_care"), (HEALTH, "health"),
                        (POLICE, "police")):
        advance(scr, who, "2026-11-30", ref, "record_return", f"agency={agency}", "view=scr",
                "summary=Known to the service since 2024.")
    advance(scr, BM, "2026-12-01", ref, "submit_to_sub_group", "meeting_date=2026-12-09")
    advance(scr, SUBCHAIR, "2026-12-09", ref, "record_meeting", "date=2026-12-09", QUORUM)
    advance(scr, SUBCHAIR, "2026-12-09", ref, "recommend", "recommendation=scr",
            reason="The child died; abuse suspected.")
    allowed = {t["trigger"]: t for t in
               scr.ok("--as", CHAIR, "triggers", ref, "--json").json()}
    assert allowed["commission_scr"]["allowed"] is True
    assert allowed["commission_case_review"]["allowed"] is False
    assert "an SCR must be commissioned" in allowed["commission_case_review"]["reasons"][0]
    advance(scr, CHAIR, "2026-12-10", ref, "commission_scr", "methodology=scie_systems",
            f"lead_reviewer={REVIEWER}")
    advance(scr, REVIEWER, "2027-02-01", ref, "record_milestone",
            "milestone=practitioner event held")
    advance(scr, REVIEWER, "2027-05-20", ref, "complete_review", "report=Child K overview")
    advance(scr, BM, "2027-05-21", ref, "record_output", "output=overview_report",
            "location=https://board.example/child-k")
    advance(scr, BM, "2027-05-21", ref, "record_output", "output=board_response")
    advance(scr, BM, "2027-05-21", ref, "send_prepublication_notice")
    advance(scr, BM, "2027-05-24", ref, "schedule_publication", "date=2027-06-14")
    advance(scr, BM, "2027-06-14", ref, "publish")
    advance(scr, SUBCHAIR, "2027-06-20", ref, "add_action", "agency=health",
            "description=Refresh bruising protocol training", f"owner={HEALTH}",
            "due=2027-09-30")
    advance(scr, HEALTH, "2027-09-01", ref, "complete_action", "action=1",
            "evidence=Training delivered to 40 staff")
    advance(scr, SUBCHAIR, "2027-09-10", ref, "sign_off_action", "action=1")
    done = advance(scr, SUBCHAIR, "2027-09-10", ref, "sign_off_actions")
    assert "published → actions_signed_off" in done.out

    case = scr.ok("show", ref, "--json").json()
    assert (case["state"], case["kind"]) == ("actions_signed_off", "scr")
    assert case["actions"][0]["status"] == "signed_off"
    assert {o["output"] for o in case["outputs"]} == {"overview_report", "board_response"}
    history = scr.ok("history", ref, "--json").json()
    assert history[0]["trigger"] == "refer" and history[-1]["dest"] == "actions_signed_off"
    assert [h["seq"] for h in history] == list(range(1, len(history) + 1)) == \
        list(range(1, case["version"] + 1))
    assert set(history[0]) >= {"seq", "trigger", "source", "dest", "actor", "reason", "at"}
    assert history[-1]["at"].startswith("2027-09-10T")
    # Only the checks that the learning took hold remain: an audit, training.
    assert [t["trigger"] for t in scr.ok("triggers", ref, "--json").json()] == [
        "record_audit", "record_training"]


def test_case_review_published_as_a_briefing(scr, referral_file):
    """Below the threshold: a case review, published with a learning briefing."""
    path = referral_file(harm="serious_harm", agency_concern=False, route="professional",
                         referrer_agency="health")
    ref = scr.ok("--as", BM, *at("2026-11-23"), "refer", "--file", path, "--json").json()["ref"]
    advance(scr, BM, "2026-11-24", ref, "request_information", "agencies=health,police")
    advance(scr, HEALTH, "2026-11-25", ref, "record_return", "agency=health",
            "view=case_review", "summary=x")
    # The police return never comes: after the deadline the manager submits anyway.
    refused = scr("--as", BM, *at("2026-12-01"), "advance", ref, "submit_to_sub_group")
    assert refused.code == 3 and "returns are outstanding from police" in refused.err
    submitted = advance(scr, BM, "2026-12-09", ref, "submit_to_sub_group")
    assert "information_request → sub_group" in submitted.out
    assert "incomplete_returns" in scr.ok("show", ref, "--json").json()["flags"]
    advance(scr, SUBCHAIR, "2026-12-09", ref, "record_meeting", "date=2026-12-09", QUORUM)
    advance(scr, SUBCHAIR, "2026-12-09", ref, "recommend", "recommendation=case_review",
            reason="Below threshold; learning on information sharing.")
    advance(scr, CHAIR, "2026-12-10", ref, "commission_case_review",
            "methodology=hot_debrief", f"lead_reviewer={REVIEWER}")
    advance(scr, BM, "2027-01-15", ref, "complete_review", "report=Learning from Child K")
    refused = scr("--as", BM, *at("2027-01-15"), "advance", ref, "publish")
    assert refused.code == 3
    assert "outputs not yet recorded: briefing" in refused.err
    advance(scr, BM, "2027-01-15", ref, "record_output", "output=briefing")
    advance(scr, BM, "2027-01-15", ref, "send_prepublication_notice")
    early = scr("--as", BM, *at("2027-01-20"), "advance", ref, "publish")
    assert early.code == 3 and "notice period runs until" in early.err
    advance(scr, BM, "2027-01-26", ref, "publish")
    case = scr.ok("show", ref, "--json").json()
    assert (case["state"], case["kind"]) == ("published", "case_review")
    assert [o["output"] for o in case["outputs"]] == ["briefing"]


def test_no_review_decision_closes_and_reminds_about_the_panel(scr, referral_file):
    """A no-review decision closes the case and arms the national panel reminder until the
    notice is recorded."""
    path = referral_file(harm="other", abuse="not_suspected", route="professional")
    ref = scr.ok("--as", BM, *at("2026-11-23"), "refer", "--file", path, "--json").json()["ref"]
    advance(scr, BM, "2026-11-23", ref, "request_information", "agencies=health")
    advance(scr, HEALTH, "2026-11-24", ref, "record_return", "agency=health",
            "view=no_review", "summary=x")
    advance(scr, BM, "2026-11-25", ref, "submit_to_sub_group")
    advance(scr, SUBCHAIR, "2026-11-25", ref, "record_meeting", "date=2026-11-25", QUORUM)
    advance(scr, SUBCHAIR, "2026-11-25", ref, "recommend", "recommendation=no_review",
            reason="No concerns about joint working.")
    why_not = scr("--as", CHAIR, *at("2026-11-26"), "advance", ref, "decide_no_review")
    assert why_not.code == 3 and "a reason must be given" in why_not.err
    advance(scr, CHAIR, "2026-11-26", ref, "decide_no_review",
            reason="Criteria not met; single-agency learning already in hand.")
    case = scr.ok("show", ref, "--json").json()
    assert case["state"] == "closed"
    pending = {t["name"] for t in case["timers"] if t["status"] == "pending"}
    assert pending == {"panel.reminder", "panel.due"}
    advance(scr, BM, "2026-12-01", ref, "record_panel_notice", "date=2026-12-01")
    case = scr.ok("show", ref, "--json").json()
    assert case["facts"]["panel_notified_on"] == "2026-12-01"
    assert ["panel told", "2026-12-01"] in case["fact_lines"]
    assert [t for t in case["timers"] if t["status"] == "pending"] == []
