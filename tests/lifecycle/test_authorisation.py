"""Authorisation, generated from the definition: every trigger is refused to every role
that lacks it, auditors never write, and changes to users are kept in their own trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from scr.states.enums import USER_ROLES, State
from scr.states.errors import Refused
from scr.states.scr.v1 import TRIGGERS
from scr.storage.models import UserAudit
from tests.board import USERS
from tests.conftest import T0
from tests.lifecycle.test_properties import menu
from tests.lifecycle.test_table import case_in

# The module's fixtures (a case in every state) are built once for all its tests: on one xdist
# worker, not once on each.
pytestmark = pytest.mark.xdist_group("authorisation")

HOLDER = {roles[0]: name for name, _, roles, _ in USERS}
CASES = [
    (spec.name, role)
    for spec in TRIGGERS if spec.sources
    for role in USER_ROLES
    if role not in {r.role for r in spec.roles}
]


@pytest.fixture(scope="module")
def cases(shared_board) -> dict[State, str]:
    """A case in every state; the published one has an action to act on."""
    made = {state: case_in(shared_board, state)[0] for state in State}
    shared_board.fire(made[State.PUBLISHED], "add_action", at=T0 + timedelta(days=100),
                      agency="health", description="d", owner="o", due="2027-06-01")
    return made


@pytest.mark.parametrize(("trigger", "role"), CASES)
def test_every_trigger_is_refused_to_roles_without_it(shared_board, cases, trigger, role):
    """A user whose only role is not among the trigger's roles is refused, nothing written."""
    spec = next(t for t in TRIGGERS if t.name == trigger)
    ref = cases[spec.sources[0]]
    before = shared_board.case(ref).version
    params = menu(trigger, (T0 + timedelta(days=400)).date().isoformat())[0]
    with pytest.raises(Refused, match=f"may not fire {trigger}"):
        shared_board.fire(ref, trigger, at=T0 + timedelta(days=400), by=HOLDER[role],
                          reason="because", **params)
    assert shared_board.case(ref).version == before


def test_auditors_hold_no_trigger():
    """No trigger names the auditor: auditors read everything and change nothing."""
    assert all("auditor" not in {r.role for r in t.roles} for t in TRIGGERS)


def test_user_changes_are_recorded_in_their_own_trail(tmp_path):
    """Adding users writes an audit row naming who added whom, with roles."""
    from tests.cli.scr import Scr

    scr = Scr.in_dir(tmp_path)
    scr.ok("init")
    scr.ok("users", "add", "Bea Manager", "--email", "bm@b.test", "--role", "business_manager")
    scr.ok("--as", "Bea Manager", "users", "add", "Aud", "--email", "a@b.test", "--role",
           "auditor")
    refused = scr("--as", "Aud", "users", "add", "Eve", "--email", "e@b.test", "--role",
                  "chair")
    assert refused.code == 3
    from scr.storage.db import make_engine

    engine = make_engine(scr.env["SCR_DATABASE_URL"])
    with Session(engine) as s:
        trail = [(a.actor, a.action, a.user_name, a.details["roles"])
                 for a in s.exec(select(UserAudit).order_by(UserAudit.id))]
    engine.dispose()
    assert trail[0][0].startswith("os:") and trail[0][1:] == ("add", "Bea Manager",
                                                              ["business_manager"])
    assert trail[1] == ("Bea Manager", "add", "Aud", ["auditor"])
    assert len(trail) == 2
