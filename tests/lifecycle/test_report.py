"""`scr report`: the annual report's figures, checked against cases built through the engine
at chosen moments so that every number is known in advance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scr.storage.db import make_engine
from scr.storage.migrate import upgrade
from tests.board import (
    BELOW_THRESHOLD,
    BM,
    CHAIR,
    CSC,
    HEALTH,
    POLICE,
    QUORUM,
    REVIEWER,
    SCR_REFERRAL,
    SUBCHAIR,
    Board,
)
from tests.lifecycle.views_cli import InProcess

# The module's fixtures (the year's six cases) are built once for all its tests: on one xdist
# worker, not once on each.
pytestmark = pytest.mark.xdist_group("report")

YEAR = ("--from", "2027-01-01", "--to", "2027-12-31")
NOW = "2028-01-15T10:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def to_sub_group(b: Board, ref: str, asked: str, submitted: str) -> None:
    b.fire(ref, "request_information", at=at(asked), agencies="childrens_social_care,health,"
           "police")
    for agency, lead in (("childrens_social_care", CSC), ("health", HEALTH),
                         ("police", POLICE)):
        b.fire(ref, "record_return", at=at(asked).replace(hour=15), by=lead, agency=agency,
               view="scr", summary="seen")
    b.fire(ref, "submit_to_sub_group", at=at(submitted))


def to_chair(b: Board, ref: str, recommended: str, recommendation: str) -> None:
    when = at(recommended)
    b.fire(ref, "record_meeting", at=when.replace(hour=9), date=when.date().isoformat(),
           attendees=QUORUM)
    b.fire(ref, "recommend", at=when, by=SUBCHAIR, reason="as discussed",
           recommendation=recommendation)


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Iterator[str]:
    """Six cases around 2027 (the period), built at chosen UTC moments:

    A  referred 2026-12-01; SCR commissioned 15 Jan (scie_systems), completed 15 May (within
       6 months), on hold until published 15 Jul; actions: health signed off, police open
       and overdue, multi_agency open not yet due, education completed awaiting sign-off.
    B  referred 1 Feb; case review commissioned 11 Mar (learning_review), completed 1 Oct
       (after 6 months), still on publication hold at the end of the year.
    C  referred 1 Mar; withdrawn 5 Mar.
    D  referred 1 Apr; no review decided 1 May.
    E  referred 20 Dec; still in referral.
    F  referred 5 Jan 2028: after the period.
    """
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'scr.db'}"
    engine = make_engine(url)
    upgrade(engine)
    b = Board(engine)
    b.seed_users(now=at("2026-01-01T09:00"))

    a = b.refer(SCR_REFERRAL, at=at("2026-12-01T10:00"))
    to_sub_group(b, a, "2026-12-02T10:00", "2026-12-11T10:00")
    to_chair(b, a, "2027-01-05T12:00", "scr")
    b.fire(a, "commission_scr", at=at("2027-01-15T12:00"), by=CHAIR,
           methodology="scie_systems", lead_reviewer=REVIEWER)
    b.fire(a, "complete_review", at=at("2027-05-15T12:00"), by=REVIEWER, report="Overview")
    for output in ("overview_report", "board_response"):
        b.fire(a, "record_output", at=at("2027-05-20T11:00"), output=output, location="x")
    b.fire(a, "send_prepublication_notice", at=at("2027-05-20T12:00"))
    b.fire(a, "publish", at=at("2027-07-15T12:00"))
    for agency, due in (("health", "2027-09-01"), ("police", "2027-12-01"),
                        ("multi_agency", "2028-02-01"), ("education", "2027-11-15")):
        b.fire(a, "add_action", at=at("2027-07-20T10:00"), by=SUBCHAIR, agency=agency,
               description="Improve", owner=HEALTH, due=due)
    b.fire(a, "complete_action", at=at("2027-08-20T10:00"), action="1", evidence="done")
    b.fire(a, "sign_off_action", at=at("2027-08-25T10:00"), by=SUBCHAIR, action="1")
    b.fire(a, "complete_action", at=at("2027-11-01T10:00"), action="4", evidence="done")

    bb = b.refer(BELOW_THRESHOLD, at=at("2027-02-01T10:00"))
    to_sub_group(b, bb, "2027-02-02T10:00", "2027-02-20T10:00")
    to_chair(b, bb, "2027-03-01T10:00", "case_review")
    b.fire(bb, "commission_case_review", at=at("2027-03-11T10:00"), by=CHAIR,
           methodology="learning_review", lead_reviewer=REVIEWER)
    b.fire(bb, "complete_review", at=at("2027-10-01T10:00"), by=BM, report="Briefing")

    c = b.refer(SCR_REFERRAL, at=at("2027-03-01T10:00"))
    b.fire(c, "request_information", at=at("2027-03-03T10:00"), agencies="health")
    b.fire(c, "withdraw", at=at("2027-03-05T10:00"), reason="duplicate referral")

    d = b.refer(BELOW_THRESHOLD, at=at("2027-04-01T10:00"))
    to_sub_group(b, d, "2027-04-04T10:00", "2027-04-10T10:00")
    to_chair(b, d, "2027-04-20T10:00", "no_review")
    b.fire(d, "decide_no_review", at=at("2027-05-01T10:00"), by=CHAIR, reason="single agency")

    b.refer(SCR_REFERRAL, at=at("2027-12-20T10:00"))
    b.refer(SCR_REFERRAL, at=at("2028-01-05T10:00"))
    yield url
    engine.dispose()


@pytest.fixture
def scr(monkeypatch, capsys, year) -> InProcess:
    return InProcess(monkeypatch, capsys, year)


@pytest.fixture
def doc(scr) -> dict:
    return scr.ok("--now", NOW, "report", *YEAR, "--json").json()


def test_referrals_and_decisions(doc):
    """Four referrals in 2027 (two by each route) and one decision of each outcome."""
    assert doc["period"] == {"from": "2027-01-01", "to": "2027-12-31"}
    assert doc["referrals"] == {"received": 4, "by_route": {"child_death_review": 2,
                                                            "professional": 2}}
    assert doc["decisions"] == {"scr": 1, "case_review": 1, "cspr": 0, "no_review": 1,
                                "withdrawn": 1}
    assert doc["reviews"] == [
        {"kind": "case_review", "methodology": "learning_review", "count": 1},
        {"kind": "scr", "methodology": "scie_systems", "count": 1}]


def test_time_in_each_stage(doc):
    """Stays ending in 2027, in days: median and longest per stage, from the history."""
    stages = {s["state"]: (s["count"], s["median_days"], s["longest_days"])
              for s in doc["stages"]}
    assert stages == {
        "referral": (3, 2.0, 3.0),  # B 1, C 2, D 3 (A's ended in 2026)
        "information_request": (3, 6.0, 18.0),  # B 18, C 2, D 6
        "sub_group": (3, 10.0, 25.1),  # A 25 days 2 hours, B 9, D 10
        "chair_decision": (3, 10.0, 11.0),  # A 10, B 10, D 11
        "review": (2, 162.0, 204.0),  # A 120, B 204
        "publication_hold": (1, 61.0, 61.0),  # A
        "published": (0, None, None),
    }


def test_completion_publication_and_holds(doc):
    """Two reviews completed, one within 6 months; one report published; two held."""
    assert doc["completion"] == {"completed": 2, "within_due": 1,
                                 "due": "6 months after commissioning"}
    assert doc["published"] == {"reports": 1, "by_kind": {"scr": 1}}
    # A held 61 days; B from 1 Oct 10:00 to the end of the year: 91 days 14 hours.
    assert doc["holds"] == {"held": 2, "still_held": 1, "count": 2, "median_days": 76.3,
                            "longest_days": 91.6}


def test_actions_by_agency_at_the_end_of_the_period(doc):
    """Open, overdue and awaiting sign-off at 31 Dec; signed off within the year."""
    assert doc["actions"] == [
        {"agency": "education", "open": 0, "overdue": 0, "awaiting_sign_off": 1,
         "signed_off": 0, "total": 1},
        {"agency": "health", "open": 0, "overdue": 0, "awaiting_sign_off": 0,
         "signed_off": 1, "total": 1},
        {"agency": "multi_agency", "open": 1, "overdue": 0, "awaiting_sign_off": 0,
         "signed_off": 0, "total": 1},
        {"agency": "police", "open": 1, "overdue": 1, "awaiting_sign_off": 0,
         "signed_off": 0, "total": 1},
    ]


def test_a_shorter_period_counts_only_its_own_events(scr):
    """January 2027 holds A's recommendation and commissioning but no referral."""
    jan = scr.ok("--now", NOW, "report", "--from", "2027-01-01", "--to", "2027-01-31",
                 "--json").json()
    assert jan["referrals"]["received"] == 0
    assert jan["decisions"] == {"scr": 1, "case_review": 0, "cspr": 0, "no_review": 0,
                                "withdrawn": 0}
    assert {s["state"]: s["count"] for s in jan["stages"]}["sub_group"] == 1
    assert jan["actions"] == []


def test_markdown_and_csv_carry_the_same_figures(scr):
    """The default Markdown and the CSV state the figures the JSON holds."""
    md = scr.ok("--now", NOW, "report", *YEAR).out
    assert md.startswith("# Safeguarding Children Partnership: case reviews, 2027-01-01 to "
                         "2027-12-31\n")
    assert "Referrals received: **4**" in md
    assert "| Withdrawn | 1 |" in md
    assert "| Case review sub-group / Rapid review meeting | 3 | 10.0 | 25.1 |" in md
    assert "Completed: **2**, of which within 6 months after commissioning: **1**" in md
    assert "| Police | 1 | 1 | 0 | 0 | 1 |" in md
    assert not [w for w in md.split() if "_" in w]  # words for people, no identifiers
    rows = scr.ok("--now", NOW, "report", *YEAR, "--format", "csv").out.splitlines()
    assert rows[0] == "section,item,measure,value"
    assert "decisions,no_review,count,1" in rows
    assert "stages,review,median_days,162.0" in rows
    assert "stages,published,median_days," in rows
    assert "holds,,longest_days,91.6" in rows
    assert "actions,education,awaiting_sign_off,1" in rows
    same = scr.ok("--now", NOW, "report", *YEAR, "--format", "json").json()
    assert same == scr.ok("--now", NOW, "report", *YEAR, "--json").json()


def test_bad_periods_are_bad_input(scr):
    """A reversed period or a date that is not a date is one error line, exit 2."""
    reversed_ = scr("report", "--from", "2027-12-31", "--to", "2027-01-01")
    assert reversed_.code == 2 and reversed_.err.startswith("error: --to 2027-01-01 is before")
    bad = scr("report", "--from", "last year", "--to", "2027-01-01")
    assert bad.code == 2 and bad.err.startswith("error: --from: not a date")
    assert scr("report", "--from", "2027-01-01").code == 2
