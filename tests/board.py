"""A test harness: a board of users on a real database, firing triggers through the engine
as people would, at moments the test chooses."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine as DbEngine

from scr.lifecycle.core.engine import Engine
from scr.states.case import Actor
from scr.states.config import ProcessConfig
from scr.states.enums import State
from scr.storage import cases, users
from scr.storage.cases import CaseRecord
from scr.storage.db import reading, transaction

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# name, e-mail, roles, agency
USERS = (
    ("Bea Manager", "bm@board.test", ("business_manager",), None),
    ("Ivy Chair", "chair@board.test", ("chair",), None),
    ("Sol Subchair", "subchair@board.test", ("subgroup_chair",), None),
    ("Mo Member", "member@board.test", ("subgroup_member",), "education"),
    ("Cass Social", "csc@board.test", ("agency_lead",), "childrens_social_care"),
    ("Hal Health", "health@board.test", ("agency_lead",), "health"),
    ("Pip Police", "police@board.test", ("agency_lead",), "police"),
    ("Lee Reviewer", "reviewer@board.test", ("lead_reviewer",), None),
    ("Aud Auditor", "auditor@board.test", ("auditor",), None),
    # The safeguarding partners and the independent scrutineer (Child Safeguarding Practice
    # Reviews).
    ("Lou Authority", "la@board.test", ("safeguarding_partner",), "local_authority"),
    ("Ira Board", "icb@board.test", ("safeguarding_partner",), "integrated_care_board"),
    ("Pat Constable", "constable@board.test", ("safeguarding_partner",), "police"),
    ("Sky Scrutineer", "scrutineer@board.test", ("scrutineer",), None),
    # Working Together 2023's lead safeguarding partner (here the chief officer of police)
    # and the partnership chair (CSPR version 2).
    ("Quinn Chief", "chief@board.test", ("lead_safeguarding_partner",), "police"),
    ("Wren Chair", "pchair@board.test", ("partnership_chair",), None),
)
(BM, CHAIR, SUBCHAIR, MEMBER, CSC, HEALTH, POLICE, REVIEWER, AUDITOR, LA, ICB, CONSTABLE,
 SCRUTINEER, LEAD_POLICE, PARTNERSHIP_CHAIR) = (u[0] for u in USERS)
PARTNER_USERS = (LA, ICB, CONSTABLE)
QUORUM = "childrens_social_care,health,police"

SCR_REFERRAL = {
    "pseudonym": "Child K", "incident_date": "2026-11-02", "harm": "death",
    "abuse": "suspected", "route": "child_death_review", "summary": "free text",
}
BELOW_THRESHOLD = {
    "pseudonym": "Child M", "incident_date": "2026-10-30", "harm": "serious_harm",
    "abuse": "suspected", "agency_concern": False, "route": "professional",
    "referrer_agency": "health",
}


def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Board:
    db: DbEngine
    # Every trigger's derived snapshot is checked against the stored case
    # (Engine.check_snapshots).
    # Cases start under SCR version 1, the process these suites were written for; the
    # regimes' own suites start theirs under the definition they test.
    engine: Engine = field(default_factory=lambda: Engine(
        ProcessConfig(start=("scr", "1")), check_snapshots=True))

    def seed_users(self, now: datetime | None = None) -> None:
        from tests.conftest import T0

        with transaction(self.db) as tx:
            for name, email, roles, agency in USERS:
                users.add(tx, name=name, email=email, agency=agency, roles=roles,
                          by="test", now=now or T0)

    def actor(self, name: str) -> Actor:
        if name == "system":
            from scr.states.case import SYSTEM_ACTOR

            return SYSTEM_ACTOR
        with reading(self.db) as tx:
            user = users.named(tx, name)
            return Actor(user.name, frozenset(user.roles), user.agency)

    def refer(self, params: dict[str, Any] | None = None, *, at: datetime,
              by: str = BM) -> str:
        actor = self.actor(by)
        with transaction(self.db) as tx:
            case = self.engine.refer(tx, actor=actor, params=params or SCR_REFERRAL, now=at)
            return case.ref

    def fire(self, ref: str, trigger: str, *, at: datetime, by: str = BM,
             reason: str | None = None, expect_version: int | None = None,
             **params: Any) -> CaseRecord:
        actor = self.actor(by)
        with transaction(self.db) as tx:
            return self.engine.fire(tx, ref, trigger, actor=actor, params=params,
                                    reason=reason, now=at, expect_version=expect_version).case

    def case(self, ref: str) -> CaseRecord:
        with reading(self.db) as tx:
            return cases.load(tx, ref)

    def state(self, ref: str) -> str:
        return self.case(ref).state

    # ------------------------------------------------------------------ walking paths
    def walk(self, ref: str, target: State, *, at: datetime, scr: bool = True) -> datetime:
        """Take case `ref` from referral along the usual path until it reaches `target`.

        Returns the moment after the last step. SCR path unless `scr` is False (a case
        review published as a briefing).
        """
        t = at
        step = timedelta(hours=1)

        def go(trigger: str, by: str = BM, reason: str | None = None, **p: Any) -> None:
            nonlocal t
            t += step
            self.fire(ref, trigger, at=t, by=by, reason=reason, **p)

        order = list(State)
        stop = order.index(target)
        if stop >= order.index(State.INFORMATION_REQUEST):
            go("request_information", agencies="childrens_social_care,health,police")
        if stop >= order.index(State.SUB_GROUP):
            for agency, lead in (("childrens_social_care", CSC), ("health", HEALTH),
                                 ("police", POLICE)):
                go("record_return", by=lead, agency=agency, view="scr", summary="seen")
            go("submit_to_sub_group")
        if stop >= order.index(State.CHAIR_DECISION):
            go("record_meeting", date=_day(t), attendees=QUORUM)
            go("recommend", by=SUBCHAIR, reason="criteria met",
               recommendation="scr" if scr else "case_review")
        if stop >= order.index(State.REVIEW):
            trigger = "commission_scr" if scr else "commission_case_review"
            go(trigger, by=CHAIR, methodology="scie_systems", lead_reviewer=REVIEWER)
        if stop >= order.index(State.PUBLICATION_HOLD):
            go("complete_review", by=REVIEWER, report="Overview report")
        if stop >= order.index(State.PUBLISHED):
            outputs = ("overview_report", "board_response") if scr else ("briefing",)
            for output in outputs:
                go("record_output", output=output, location="https://board.example/pub")
            go("send_prepublication_notice")
            t += timedelta(days=21)
            go("publish")
        if stop >= order.index(State.ACTIONS_SIGNED_OFF):
            go("add_action", by=SUBCHAIR, agency="health", description="Update training",
               owner=HEALTH, due=_day(t + timedelta(days=60)))
            go("complete_action", by=HEALTH, action="1", evidence="done")
            go("sign_off_action", by=SUBCHAIR, action="1")
            go("sign_off_actions", by=SUBCHAIR)
        return t


def _day(moment: datetime) -> str:
    return moment.date().isoformat()
