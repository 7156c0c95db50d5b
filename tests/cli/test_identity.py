"""Identity on the command line of a live board: the actor is the operating-system login
that runs `scr` (SUDO_USER when it runs as the service account through sudo), `--as NAME`
is a business manager recording what NAME decided, kept as both names in history and
e-mail; training mode keeps `--as` as the name of who acts. The real command, on a real
database, as the account these tests run under."""

from __future__ import annotations

import email
import pwd
from email import policy
from pathlib import Path

import pytest

from tests.cli.conftest import _copy_db
from tests.cli.scr import Scr

LIVE = {"SCR_ALLOW_CLOCK_OVERRIDE": "0"}
ME = pwd.getpwuid(__import__("os").geteuid()).pw_name  # the login these tests run as


@pytest.fixture(scope="module")
def live_made(tmp_path_factory) -> Path:
    """A live board (no training mode) whose business manager is this test's own login;
    the chair and the health lead are logins that reach scr through sudo. Made once for the
    module through the real command; each test gets a copy of its database."""
    folder = tmp_path_factory.mktemp("live")
    scr = Scr.in_dir(folder, **LIVE)
    scr.ok("init")
    scr.ok("users", "add", "Bea Manager", "--email", "bea@board.test", "--role",
           "business_manager", "--login", ME)
    scr.ok("users", "add", "Ivy Chair", "--email", "ivy@board.test", "--role", "chair",
           "--login", "ivy")
    scr.ok("users", "add", "Hal Health", "--email", "hal@health.test", "--role",
           "agency_lead", "--agency", "health", "--login", "hal")
    return folder


@pytest.fixture
def live(tmp_path, live_made) -> Scr:
    """The live board, on this test's own copy of its database."""
    _copy_db(live_made, tmp_path)
    return Scr.in_dir(tmp_path, **LIVE)


def as_login(login: str) -> dict[str, str]:
    """The environment sudo gives a command it runs as the service account for `login`."""
    return {"SUDO_USER": login}


def _referral(tmp_path: Path) -> str:
    path = tmp_path / "referral.json"
    path.write_text('{"pseudonym": "Child K", "incident_date": "2026-11-02", "harm": "death",'
                    ' "abuse": "suspected", "agency_concern": false, "grounds": [], "route": '
                    '"child_death_review", "criminal_proceedings": false, "summary": "x"}')
    return str(path)


def test_the_login_is_who_acts(live, tmp_path):
    ref = live.ok("refer", "--file", _referral(tmp_path), "--json").json()["ref"]
    live.ok("advance", ref, "request_information", "agencies=health")
    history = live.ok("history", ref, "--json").json()
    assert [h["actor"] for h in history] == ["Bea Manager", "Bea Manager"]
    # The health lead, through sudo, acts as themself and no one else.
    live.ok("advance", ref, "record_return", "agency=health", "view=scr", "summary=seen",
            **as_login("hal"))
    assert live.ok("history", ref, "--json").json()[-1]["actor"] == "Hal Health"
    # The first user was added by the login that ran scr; the others by its user.
    added = {u["name"]: u["login"] for u in live.ok("users", "list", "--json").json()}
    assert added == {"Bea Manager": ME, "Ivy Chair": "ivy", "Hal Health": "hal"}


def test_a_login_no_user_has_is_refused(live, tmp_path):
    before = (tmp_path / "scr.db").read_bytes()
    result = live("refer", "--file", _referral(tmp_path), **as_login("mallory"))
    assert result.code == 3 and "the login mallory is no scr user's" in result.err
    assert (tmp_path / "scr.db").read_bytes() == before


def test_as_is_refused_to_anyone_but_a_business_manager(live, tmp_path):
    ref = live.ok("refer", "--file", _referral(tmp_path), "--json").json()["ref"]
    result = live("--as", "Bea Manager", "advance", ref, "withdraw", "--reason", "x",
                  **as_login("hal"))
    assert result.code == 3 and "Hal Health may not act on someone's behalf" in result.err
    assert live("--as", "Bea Manager", "users", "add", "Eve", "--email", "e@x.test",
                "--role", "business_manager", **as_login("ivy")).code == 3
    assert live("users", "add", "Eve", "--email", "e@x.test", "--role", "business_manager",
                **as_login("ivy")).code == 3  # the chair adds nobody
    assert [h["actor"] for h in live.ok("history", ref, "--json").json()] == ["Bea Manager"]


def test_a_decision_recorded_on_someones_behalf_keeps_both_names(live, tmp_path):
    ref = live.ok("refer", "--file", _referral(tmp_path), "--json").json()["ref"]
    live.ok("advance", ref, "request_information", "agencies=health,police")
    # On someone's behalf, their roles count, not the business manager's: the health lead
    # gives no return for the police.
    other = live("--as", "Hal Health", "advance", ref, "record_return", "agency=police",
                 "view=scr", "summary=seen")
    assert other.code == 3 and "agency_lead (of that agency)" in other.err, other.err
    # The return the health lead gave by telephone, recorded on the lead's behalf.
    live.ok("--as", "Hal Health", "advance", ref, "record_return", "agency=health",
            "view=scr", "summary=seen")
    last = live.ok("history", ref, "--json").json()[-1]
    assert (last["actor"], last["recorded_by"]) == ("Hal Health", "Bea Manager")
    assert "Hal Health (recorded by Bea Manager)" in live.ok("history", ref).out
    assert live.ok("audit", "verify", "--json").json()["intact"]  # both names are sealed
    live.ok("tick")
    bodies = []
    for path in (tmp_path / "mail" / "new").iterdir():
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["Subject"].endswith("Agency return received"):
            bodies.append(message.get_body(("plain",)).get_content())
    assert bodies and all("Hal Health (recorded by Bea Manager)" in b for b in bodies), bodies
    # Users are added in one's own name only.
    result = live("--as", "Ivy Chair", "users", "add", "Eve", "--email", "e@x.test",
                  "--role", "chair")
    assert result.code == 3 and "not on someone's behalf" in result.err


def test_training_mode_keeps_as_as_the_name_of_who_acts(live, tmp_path):
    ref = live.ok("refer", "--file", _referral(tmp_path), "--json").json()["ref"]
    live.ok("--as", "Ivy Chair", "history", ref, SCR_ALLOW_CLOCK_OVERRIDE="1")
    live.ok("--as", "Bea Manager", "advance", ref, "request_information", "agencies=health",
            SCR_ALLOW_CLOCK_OVERRIDE="1", **as_login("mallory"))
    last = live.ok("history", ref, "--json").json()[-1]
    assert (last["actor"], last["recorded_by"]) == ("Bea Manager", None)


@pytest.mark.parametrize(("name", "like"), [
    ("bea manager", "Bea Manager"), ("BEA MANAGER", "Bea Manager"),
    ("B\u0435a Manager", "Bea Manager"),  # a Cyrillic ie for the e
    ("\uff29vy Chair", "Ivy Chair"),  # a full-width I
    ("lvy Chair", "Ivy Chair"),  # a small L for the capital i
    ("Hal Heal\u0074h\u0301", "Hal Health"),  # a combining accent
])
def test_a_name_that_looks_like_a_user_s_is_refused(live, name, like):
    result = live("users", "add", name, "--email", "x@board.test", "--role", "chair")
    assert result.code == 2 and f"looks like the existing user {like!r}" in result.err, \
        result.err


@pytest.mark.parametrize("name", ["system", "System", "SYSTEM ", "scr", "scr (automatic)",
                                  "os:root", "OS: ivy", "\u0455ystem"])
def test_the_names_scr_uses_for_itself_are_refused(live, name):
    result = live("users", "add", name, "--email", "x@board.test", "--role", "chair")
    assert result.code == 2 and "a name scr uses for itself" in result.err, result.err


def test_spacing_is_tidied_before_names_are_compared(live):
    again = live("users", "add", " Bea   Manager ", "--email", "x@board.test", "--role",
                 "chair")
    assert again.code == 2 and "user 'Bea Manager' already exists" in again.err


def test_a_login_is_one_user_s(live):
    taken = live("users", "add", "Ann Other", "--email", "a@board.test", "--role", "chair",
                 "--login", "ivy")
    assert taken.code == 2 and "ivy is already Ivy Chair's" in taken.err
    bad = live("users", "add", "Ann Other", "--email", "a@board.test", "--role", "chair",
               "--login", "Ann Other")
    assert bad.code == 2 and "not an operating-system login" in bad.err
