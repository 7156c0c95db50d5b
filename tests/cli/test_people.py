"""The board's people for their whole time with it (README.md, "Commands"; SECURITY.md,
"Identity on the command line"): `scr users change`, `deactivate`, `reactivate`, `rescue`
and `list`, through the command line's own entry point in this process, on a copy of the
board template or a fresh database. Each change is a line in the users' audit trail and
the record verifies after it; bad input and refusals write nothing; a deactivated user can
neither act nor sign in to the portal; the first user of a live board can always be
followed by a second."""

from __future__ import annotations

import os
import pwd
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scr.lifecycle.settings import load
from scr.lifecycle.web import identity
from scr.states.enums import State
from scr.storage import users, web
from scr.storage.db import make_engine, reading, transaction
from tests.board import BM, CHAIR, HEALTH, REVIEWER, SUBCHAIR, Board
from tests.cli.conftest import _copy_db
from tests.cli.scr import Scr, dump

NOW = "2026-12-14T10:00"  # the board's commands run at this fixed moment
AT = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
ME = pwd.getpwuid(os.geteuid()).pw_name  # the login these tests run as
LIVE = {"SCR_ALLOW_CLOCK_OVERRIDE": "0", "SUDO_USER": ""}


@pytest.fixture
def board(tmp_path, board_template) -> Scr:
    """A training board with one user of every role (tests/board.py), at NOW."""
    _copy_db(board_template, tmp_path)
    return Scr.in_dir(tmp_path, SCR_NOW=NOW)


def as_bm(scr: Scr, *args: str) -> Any:
    return scr("--as", BM, "users", *args)


def audit_lines(folder: Path) -> list[Any]:
    db = make_engine(f"sqlite:///{folder / 'scr.db'}")
    try:
        with reading(db) as tx:
            return list(users.audit(tx))
    finally:
        db.dispose()


def verifies(scr: Scr) -> None:
    assert scr.ok("audit", "verify", "--json").json()["intact"]


def listed(scr: Scr) -> dict[str, dict[str, Any]]:
    return {u["name"]: u for u in scr.ok("users", "list", "--json").json()}


# --------------------------------------------------------------------------- change
def test_a_change_is_a_line_in_the_audit_trail_with_the_old_and_new_values(board):
    done = as_bm(board, "change", HEALTH, "--name", "Hal Wells", "--email",
                 "hal.wells@board.test", "--add-role", "subgroup_member", "--login", "halw",
                 "--json")
    assert done.code == 0, done.err
    assert done.json()["changed"] == {
        "name": {"old": HEALTH, "new": "Hal Wells"},
        "email": {"old": "health@board.test", "new": "hal.wells@board.test"},
        "login": {"old": None, "new": "halw"},
        "roles": {"old": ["agency_lead"], "new": ["agency_lead", "subgroup_member"]},
    }
    people = listed(board)
    assert HEALTH not in people
    assert people["Hal Wells"] == {"name": "Hal Wells", "email": "hal.wells@board.test",
                                   "roles": ["agency_lead", "subgroup_member"],
                                   "agency": "health", "login": "halw", "active": True}
    last = audit_lines(board.cwd)[-1]
    assert (last.actor, last.action, last.user_name) == (BM, "change", "Hal Wells")
    assert last.details["name"] == {"old": HEALTH, "new": "Hal Wells"}
    # --role sets every role; --no-login and --no-agency clear them; each a line of its own.
    board.ok("--as", BM, "users", "change", "Hal Wells", "--role", "auditor", "--no-login",
             "--no-agency")
    assert listed(board)["Hal Wells"] == {
        "name": "Hal Wells", "email": "hal.wells@board.test", "roles": ["auditor"],
        "agency": None, "login": None, "active": True}
    board.ok("--as", BM, "users", "change", "Hal Wells", "--remove-role", "auditor",
             "--add-role", "chair")
    assert listed(board)["Hal Wells"]["roles"] == ["chair"]
    assert [line.action for line in audit_lines(board.cwd)][-3:] == ["change"] * 3
    verifies(board)


@pytest.mark.parametrize(("args", "status", "says"), [
    (("change", "Nobody Here", "--email", "x@y.test"), 2, "unknown user"),
    (("change", HEALTH, "--add-role", "wizard"), 2, "unknown role 'wizard'"),
    (("change", HEALTH, "--role", "wizard"), 2, "unknown role 'wizard'"),
    (("change", HEALTH, "--agency", "ministry"), 2, "unknown agency 'ministry'"),
    (("change", HEALTH, "--no-agency"), 2, "an agency_lead needs --agency"),
    (("change", HEALTH, "--email", "CHAIR@board.test"), 2, "already Ivy Chair's"),
    (("change", HEALTH, "--email", "not an address"), 2, "not an e-mail address"),
    (("change", HEALTH, "--name", CHAIR), 2, "already exists"),
    (("change", HEALTH, "--name", "ivy  CHAIR"), 2, "looks like the existing user"),
    (("change", HEALTH, "--name", "system"), 2, "a name scr uses for itself"),
    (("change", HEALTH, "--login", "Not A Login"), 2, "not an operating-system login"),
    (("change", HEALTH, "--remove-role", "agency_lead"), 2, "would hold no role"),
    (("change", HEALTH, "--remove-role", "chair"), 2, "does not hold 'chair'"),
    (("change", HEALTH, "--role", "chair", "--add-role", "auditor"), 2, "not both"),
    (("change", HEALTH, "--email", "health@board.test"), 2, "nothing to change"),
    (("change", HEALTH), 2, "nothing to change"),
    (("change", HEALTH, "--login", "a", "--no-login"), 2, "not allowed with"),
    (("change", BM, "--role", "chair"), 3, "the only active business manager"),
    (("deactivate", BM, "--reason", "left"), 3, "the only active business manager"),
    (("deactivate", "Nobody Here", "--reason", "left"), 2, "unknown user"),
    (("deactivate", HEALTH, "--reason", "  "), 2, "--reason"),
    (("deactivate", HEALTH), 2, "--reason"),
    (("reactivate", HEALTH), 3, "active already"),
    (("reactivate", "Nobody Here"), 2, "unknown user"),
])
def test_bad_input_and_refusals_write_nothing(board, args, status, says):
    board.ok("--as", BM, "users", "change", CHAIR, "--login", "ivy")
    before = dump(board.cwd)
    result = as_bm(board, *args)
    assert result.code == status, result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and says in lines[0], result.err
    assert dump(board.cwd) == before
    if "--login" not in args:
        taken = as_bm(board, "change", HEALTH, "--login", "ivy")
        assert taken.code == 2 and "ivy is already Ivy Chair's" in taken.err


def test_only_a_business_manager_changes_users_in_their_own_name(board):
    before = dump(board.cwd)
    for who in (CHAIR, HEALTH):
        for args in (("change", SUBCHAIR, "--email", "s@board.test"),
                     ("deactivate", SUBCHAIR, "--reason", "left"), ("reactivate", SUBCHAIR)):
            result = board("--as", who, "users", *args)
            assert result.code == 3 and "needs business_manager" in result.err, result.err
    assert dump(board.cwd) == before


# ------------------------------------------------------- open cases name people by name
def _cases(folder: Path) -> tuple[str, str]:
    """Two cases through the engine, as people fire them: one in review with Lee Reviewer as
    its lead reviewer, one published with an action the health lead owns."""
    db = make_engine(f"sqlite:///{folder / 'scr.db'}")
    try:
        b = Board(db)
        start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        review = b.refer(at=start)
        b.walk(review, State.REVIEW, at=start)
        published = b.refer(at=start + timedelta(minutes=5))
        t = b.walk(published, State.PUBLISHED, at=start + timedelta(minutes=5))
        b.fire(published, "add_action", at=t + timedelta(hours=1), by=SUBCHAIR,
               agency="health", description="Update training", owner=HEALTH,
               due="2027-03-01")
        return review, published
    finally:
        db.dispose()


def test_a_rename_is_refused_while_an_open_case_names_them(board):
    review, published = _cases(board.cwd)
    before = dump(board.cwd)
    result = as_bm(board, "change", REVIEWER, "--name", "Lee Hart")
    # Both cases: a published review is still open while its actions are tracked.
    assert result.code == 3, result.err
    assert f"the lead reviewer of {review}, {published}" in result.err, result.err
    result = as_bm(board, "change", HEALTH, "--name", "Hal Wells")
    assert result.code == 3 and f"open actions on {published}" in result.err, result.err
    # Nor may the lead reviewer's role go while they lead an open review.
    result = as_bm(board, "change", REVIEWER, "--role", "auditor")
    assert result.code == 3 and "lead reviewer of" in result.err
    assert dump(board.cwd) == before
    # Anything else about them may change: they keep their name, so the case still names them.
    board.ok("--as", BM, "users", "change", REVIEWER, "--email", "lee@review.test")
    assert board.ok("show", review, "--json").json()["lead_reviewer"] == REVIEWER


def test_deactivating_lists_what_open_cases_still_ask_of_them(board):
    review, published = _cases(board.cwd)
    result = as_bm(board, "deactivate", REVIEWER, "--reason", "left the board", "--json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["active"] is False and doc["reason"] == "left the board"
    led = doc["open"]["leading"]
    assert [(c["ref"], c["state"]) for c in led] == [(review, "review"),
                                                     (published, "published")]
    assert led[0]["deadlines"] and all(d["due"] for d in led[0]["deadlines"])
    assert doc["open"]["actions"] == []
    assert doc["open"]["sole_roles"] == ["lead_reviewer"]
    text = as_bm(board, "deactivate", HEALTH, "--reason", "moved on").out
    assert f"owner of action 1 on {published} (health, due 2027-03-01, open)" in text
    assert "the only active agency_lead (health)" in text
    # Someone whom no open case names, and whose role another holds.
    board.ok("--as", BM, "users", "add", "Ada Second", "--email", "ada@board.test", "--role",
             "auditor")
    assert "No open case names Aud Auditor." in as_bm(board, "deactivate", "Aud Auditor",
                                                      "--reason", "retired").out
    lines = [x for x in audit_lines(board.cwd) if x.action == "deactivate"]
    assert [(x.actor, x.user_name) for x in lines] == [
        (BM, REVIEWER), (BM, HEALTH), (BM, "Aud Auditor")]
    assert lines[0].details == {"reason": "left the board", "sessions_ended": 0}
    verifies(board)


# -------------------------------------------------------------- deactivate, reactivate
def test_a_deactivated_user_cannot_act_and_reactivated_can_again(board, tmp_path):
    ref = board.ok("--as", BM, "refer", "--file", _referral(tmp_path), "--json").json()["ref"]
    as_bm(board, "deactivate", BM, "--reason", "x")  # refused: the only business manager
    board.ok("--as", BM, "users", "deactivate", CHAIR, "--reason", "on leave")
    result = board("--as", CHAIR, "advance", ref, "withdraw", "--reason", "x")
    assert result.code == 3 and f"user {CHAIR} is deactivated" in result.err
    again = as_bm(board, "deactivate", CHAIR, "--reason", "twice")
    assert again.code == 3 and "deactivated already" in again.err
    people = listed(board)
    assert people[CHAIR]["active"] is False and people[BM]["active"] is True
    text = board.ok("users", "list").out
    assert [line.split()[-1] for line in text.splitlines() if line.startswith(CHAIR)] == ["no"]
    board.ok("--as", BM, "users", "reactivate", CHAIR)
    assert listed(board)[CHAIR]["active"] is True
    assert audit_lines(board.cwd)[-1].action == "reactivate"
    board.ok("--as", CHAIR, "why", ref, "withdraw")
    verifies(board)


def test_the_last_active_business_manager_stays(board):
    board.ok("--as", BM, "users", "add", "Zoe Second", "--email", "zoe@board.test", "--role",
             "business_manager")
    board.ok("--as", BM, "users", "deactivate", "Zoe Second", "--reason", "left")
    before = dump(board.cwd)
    for args in (("deactivate", BM, "--reason", "left"),
                 ("change", BM, "--remove-role", "business_manager", "--add-role", "chair")):
        result = as_bm(board, *args)
        assert result.code == 3 and "only active business manager" in result.err
    assert dump(board.cwd) == before
    board.ok("--as", BM, "users", "reactivate", "Zoe Second")
    board.ok("--as", BM, "users", "deactivate", BM, "--reason", "handing over")
    assert board("--as", BM, "users", "reactivate", BM).code == 3  # nobody acts as them
    board.ok("--as", "Zoe Second", "users", "reactivate", BM)
    verifies(board)


def test_a_deactivated_user_cannot_sign_in_and_their_sessions_end(board):
    """At the level the portal uses (lifecycle/web/identity.py): a session started before
    is over, a link sent before no longer works, no new link is sent, and sign-in through
    the board's provider is refused; after reactivation a new sign-in works."""
    url = f"sqlite:///{board.cwd / 'scr.db'}"
    settings = load(environ={"SCR_DATABASE_URL": url, "SCR_ALLOW_CLOCK_OVERRIDE": "1",
                             "SCR_MAIL_DIR": str(board.cwd / "mail")}, now=NOW)
    db = make_engine(url)
    try:
        with transaction(db) as tx:
            chair = users.named(tx, CHAIR)
            for secret in ("first-link", "second-link"):
                web.create_link(tx, token_hash=identity.digest(secret), user_id=chair.id,
                                now=AT, expires_at=AT + timedelta(minutes=15))
        started = identity.complete_sign_in(db, settings, "first-link", now=AT, client="t")
        assert started is not None
        assert identity.visitor(db, settings, started.cookie, AT) is not None

        result = as_bm(board, "deactivate", CHAIR, "--reason", "left", "--json")
        assert result.code == 0 and result.json()["sessions_ended"] == 1
        # The only chair, but no case is open: nothing waits on them.
        assert result.json()["open"] == {"leading": [], "actions": [], "sole_roles": []}

        assert identity.visitor(db, settings, started.cookie, AT) is None
        with reading(db) as tx:
            session = web.session(tx, identity.digest(started.cookie))
            assert session is not None and session.ended_at is not None
        assert identity.complete_sign_in(db, settings, "second-link", now=AT,
                                         client="t") is None
        assert identity.sign_in_as(db, settings, "chair@board.test", method="oidc",
                                   now=AT) is None

        def render(url: str, minutes: int, board_name: str) -> tuple[str, str, str]:
            return "Sign in", url, url

        def links() -> int:
            with reading(db) as tx:
                return len(tx.execute(web._L.select()).all())

        count = links()
        identity.request_link(db, settings, email="chair@board.test", client="t", now=AT,
                              render=render)
        assert links() == count  # the same answer to the visitor, and no link made

        board.ok("--as", BM, "users", "reactivate", CHAIR)
        identity.request_link(db, settings, email="chair@board.test", client="t", now=AT,
                              render=render)
        assert links() == count + 1
        assert identity.sign_in_as(db, settings, "chair@board.test", method="oidc",
                                   now=AT) is not None
    finally:
        db.dispose()
    verifies(board)


def _referral(folder: Path) -> str:
    path = folder / "referral.json"
    path.write_text('{"pseudonym": "Child K", "incident_date": "2026-11-02", "harm": "death",'
                    ' "abuse": "suspected", "route": "child_death_review"}')
    return str(path)


# --------------------------------------------------------- a live board, by its logins
def test_on_a_live_board_the_first_user_acts_as_the_login_that_added_them(tmp_path):
    """The first-user trap, closed: the very first user added without --login is bound to
    the login that added them, who can then add the next; a deactivated user's login, and
    --as their name, act no more."""
    live = Scr.in_dir(tmp_path, **LIVE)
    live.ok("init")
    first = live.ok("users", "add", "Sam Patel", "--email", "sam@board.example", "--role",
                    "business_manager")
    assert f"acting on the command line as login {ME}" in first.out
    assert "the first user acts as the login that adds them" in first.out
    live.ok("users", "add", "Ann Cole", "--email", "ann@council.example", "--role", "chair",
            "--login", "ann")
    assert {u["name"]: u["login"] for u in live.ok("users", "list", "--json").json()} == {
        "Sam Patel": ME, "Ann Cole": "ann"}
    # Only the very first: the others are not bound to whoever adds them.
    live.ok("users", "add", "Ben Ford", "--email", "ben@icb.example", "--role", "auditor")
    assert listed(live)["Ben Ford"]["login"] is None
    referral = _referral(tmp_path)
    live.ok("users", "deactivate", "Ann Cole", "--reason", "left")
    by_login = live("refer", "--file", referral, SUDO_USER="ann")
    assert by_login.code == 3 and "user Ann Cole is deactivated" in by_login.err
    on_behalf = live("--as", "Ann Cole", "refer", "--file", referral)
    assert on_behalf.code == 3 and "user Ann Cole is deactivated" in on_behalf.err
    assert live.ok("list", "--json").json() == []
    # Their login stays theirs (the audit trail names them by it).
    taken = live("users", "add", "Eve Ann", "--email", "eve@x.example", "--role", "chair",
                 "--login", "ann")
    assert taken.code == 2 and "already Ann Cole's" in taken.err
    verifies(live)


def test_a_training_board_binds_no_login_to_its_first_user(tmp_path):
    scr = Scr.in_dir(tmp_path)
    scr.ok("init")
    out = scr.ok("users", "add", "Sam Patel", "--email", "sam@board.example", "--role",
                 "business_manager").out
    assert "login" not in out and listed(scr)["Sam Patel"]["login"] is None


@pytest.fixture
def owner(tmp_path, monkeypatch) -> str:
    """The login these tests act as, owning the database file: this test's own, or when the
    suite runs as root (who may always rescue), an ordinary account's, the file given to it."""
    if os.geteuid() != 0:
        return ME
    try:
        account = pwd.getpwuid(65534)
    except KeyError:
        pytest.skip("no unprivileged account to act as")
    monkeypatch.setattr(os, "geteuid", lambda: account.pw_uid)
    return account.pw_name


def test_the_databases_owner_rescues_a_board_no_business_manager_can_act_on(tmp_path, owner):
    live = Scr.in_dir(tmp_path, **LIVE)
    live.ok("init")
    # The trap: the only business manager acts as a login that is not here.
    live.ok("users", "add", "Sam Patel", "--email", "sam@board.example", "--role",
            "business_manager", "--login", "gone")
    if os.getuid() == 0:
        os.chown(tmp_path / "scr.db", pwd.getpwnam(owner).pw_uid, -1)
    stuck = live("users", "add", "Ann Cole", "--email", "ann@council.example", "--role",
                 "chair")
    assert stuck.code == 3 and "scr users rescue" in stuck.err
    # Not through sudo from another login (people reach the service account that way).
    before = dump(tmp_path)
    refused = live("users", "rescue", "Ann Cole", "--email", "ann@council.example",
                   "--login", owner, SUDO_USER="mallory")
    assert refused.code == 3 and "the server's administrator" in refused.err
    assert "not the login mallory" in refused.err
    bad = live("users", "rescue", "Ann Cole", "--login", owner)
    assert bad.code == 2 and "give their address" in bad.err
    taken = live("users", "rescue", "Ann Cole", "--email", "SAM@board.example", "--login",
                 owner)
    assert taken.code == 2 and "already Sam Patel's" in taken.err
    assert dump(tmp_path) == before
    # The owner makes a new business manager acting as their own login...
    done = live.ok("users", "rescue", "Ann Cole", "--email", "ann@council.example",
                   "--login", owner, "--json").json()
    assert done["roles"] == ["business_manager"] and done["login"] == owner
    line = audit_lines(tmp_path)[-1]
    assert (line.actor, line.action, line.user_name) == (
        f"os:{owner} (the database's owner)", "rescue", "Ann Cole")
    # ...who acts from then on.
    live.ok("users", "add", "Ben Ford", "--email", "ben@icb.example", "--role", "auditor")
    # An existing user may be the one rescued: bound to a login, active, business manager.
    live.ok("users", "change", "Ann Cole", "--login", "ann")
    live.ok("users", "rescue", "Sam Patel", "--login", owner)
    assert listed(live)["Sam Patel"]["login"] == owner
    line = audit_lines(tmp_path)[-1]
    assert line.action == "rescue" and line.details["login"] == {"old": "gone", "new": owner}
    verifies(live)


def test_on_postgresql_only_root_rescues(owner):
    from scr.lifecycle.cli import leavers
    from scr.states.errors import Refused

    with pytest.raises(Refused, match="run it as root"):
        leavers.administrator("postgresql+psycopg://scr@127.0.0.1/scr")
