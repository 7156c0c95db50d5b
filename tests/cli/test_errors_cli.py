"""Bad input through the real `scr`: one `error:` line, the contracted exit status, no traceback,
and nothing written (the database is byte-for-byte the same)."""

from __future__ import annotations

import json

import pytest

from tests.board import BM, CHAIR, HEALTH
from tests.cli.conftest import CASE_REF as REF
from tests.cli.conftest import _copy_db
from tests.cli.scr import Scr, dump


@pytest.fixture
def case(scr, case_template) -> str:
    _copy_db(case_template, scr.cwd)
    return REF


def one_error_line(result, code: int, words: str) -> None:
    assert result.code == code, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert words in lines[0]
    assert "Traceback" not in result.err and result.out == ""


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--as", BM, "advance", "CR-2026-9999", "withdraw", "--reason", "x"], 2,
         "unknown case"),
        (["--as", BM, "advance", "{ref}", "teleport"], 2, "unknown trigger"),
        (["--as", BM, "advance", "{ref}", "add_agency", "agency=fire_brigade"], 2,
         "unknown agency"),
        (["--as", BM, "advance", "{ref}", "add_agency", "agency"], 2, "expected KEY=VALUE"),
        (["--as", BM, "advance", "{ref}", "add_agency", "agency=x", "agency=y"], 2,
         "given twice"),
        (["--as", BM, "advance", "{ref}", "withdraw"], 3, "a reason must be given"),
        (["--as", CHAIR, "advance", "{ref}", "withdraw", "--reason", "x"], 3,
         "it needs business_manager"),
        (["--as", HEALTH, "advance", "{ref}", "record_return", "agency=police", "view=scr",
          "summary=x"], 3, "agency_lead (of that agency)"),
        (["--as", BM, "advance", "{ref}", "publish"], 3, "does not apply"),
        (["--as", BM, "advance", "{ref}", "add_agency", "agency=education", "--if-version",
          "1"], 4, "changed since it was read"),
        (["--as", BM, "advance", "{ref}", "publish", "--if-version", "1"], 4,
         "changed since it was read"),
        (["--as", "Nobody", "advance", "{ref}", "withdraw", "--reason", "x"], 2,
         "unknown user"),
        (["advance", "{ref}", "withdraw", "--reason", "x"], 2, "no acting user"),
        (["--as", BM, "--now", "next tuesday", "show", "{ref}"], 2, "not an ISO date-time"),
        (["--as", BM, "frobnicate"], 2, "invalid choice"),
        (["--as", BM, "list", "--state", "limbo"], 2, "unknown state"),
        (["--as", BM, "advance", "{ref}", "add_agency", "agency=educ\x07ation"], 2,
         "unknown agency"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(scr, case, args, code, words):
    """Each mistake gets one error line and its exit status; the database is unchanged."""
    before = dump(scr.cwd)
    result = scr(*[a.replace("{ref}", case) for a in args])
    one_error_line(result, code, words)
    assert dump(scr.cwd) == before


def test_clock_override_needs_permission(scr, case):
    """--now is refused (exit 2) unless SCR_ALLOW_CLOCK_OVERRIDE=1."""
    result = scr("--now", "2027-01-01T09:00", "list", SCR_ALLOW_CLOCK_OVERRIDE="0")
    one_error_line(result, 2, "SCR_ALLOW_CLOCK_OVERRIDE")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "one JSON object"),
        (json.dumps({"pseudonym": "Child Q", "colour": "red"}), "unknown parameter 'colour'"),
        (json.dumps({"pseudonym": "Child Q", "incident_date": "2026-02-30", "harm": "death",
                     "abuse": "known", "route": "professional"}), "incident_date: not a date"),
        (json.dumps({"pseudonym": "Child Q", "incident_date": "2099-01-01", "harm": "death",
                     "abuse": "known", "route": "professional"}), "in the future"),
        (json.dumps({"pseudonym": "Child Q", "incident_date": "2026-11-01", "harm": "death",
                     "abuse": "known", "route": "professional", "agency_concern": "maybe"}),
         "agency_concern: not true or false"),
        (json.dumps({"pseudonym": "", "incident_date": "2026-11-01", "harm": "death",
                     "abuse": "known", "route": "professional"}), "pseudonym: must not be empty"),
    ],
)
def test_bad_referral_files_are_refused(scr, tmp_path, content, words):
    """A malformed referral file is bad input: nothing is created."""
    before = dump(scr.cwd)
    path = tmp_path / "bad.json"
    path.write_text(content)
    one_error_line(scr("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file", str(path)),
                   2, words)
    assert dump(scr.cwd) == before


def test_commands_before_init_say_so_and_create_nothing(tmp_path):
    """Without a database, commands point to `scr init` and leave no file behind."""
    fresh = Scr.in_dir(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    one_error_line(fresh("list"), 2, "run scr init")
    assert not (tmp_path / "empty" / "scr.db").exists()
    fresh.ok("init")
    fresh.ok("init")  # safe to run again
    assert fresh.ok("list", "--json").json() == []


def test_only_the_first_user_is_added_without_as(tmp_path):
    """Roles are checked for everyone but the very first user: users add, restore and
    outbox retry without --as are refused once anyone exists."""
    fresh = Scr.in_dir(tmp_path / "fresh")
    (tmp_path / "fresh").mkdir()
    fresh.ok("init")
    fresh.ok("users", "add", "Sam Patel", "--email", "sam@b.test", "--role", "business_manager")
    one_error_line(fresh("users", "add", "Eve", "--email", "e@b.test", "--role", "chair"), 3,
                   "only the very first user")
    fresh.ok("--as", "Sam Patel", "backup", str(tmp_path / "b.db"))
    one_error_line(fresh("restore", str(tmp_path / "b.db")), 3, "give --as")
    one_error_line(fresh("outbox", "retry", "1"), 3, "give --as")
    assert [u["name"] for u in fresh.ok("users", "list", "--json").json()] == ["Sam Patel"]


def test_users_are_validated(scr):
    """Duplicate names, unknown roles and agency leads without an agency are refused."""
    one_error_line(scr("--as", BM, "users", "add", BM, "--email", "x@y.org", "--role", "chair"),
                   2, "already exists")
    one_error_line(scr("users", "add", "Zed", "--email", "x@y.org", "--role", "wizard"), 2,
                   "unknown role")
    one_error_line(scr("users", "add", "Zed", "--email", "x@y.org", "--role", "agency_lead"),
                   2, "needs --agency")
    one_error_line(scr("users", "add", "Zed", "--email", "not-an-address", "--role", "chair"),
                   2, "not an e-mail address")
    one_error_line(scr("--as", CHAIR, "users", "add", "Zed", "--email", "z@y.org", "--role",
                       "chair"), 3, "may not change users")
    listed = scr.ok("users", "list", "--json").json()
    assert "Zed" not in {u["name"] for u in listed}


def test_a_mail_url_scr_cannot_send_through_fails_at_start(scr, referral_file):
    """SCR_SMTP_URL=ftp://x: one clear error line, exit 2, for tick and the daemon alike,
    and no message has an attempt counted that was never tried."""
    scr.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file", referral_file())
    for command in (["tick"], ["daemon"]):
        result = scr(*command, SCR_SMTP_URL="ftp://user:secret@mail.example")
        one_error_line(result, 2, "SCR_SMTP_URL: unsupported mail URL scheme")
        assert "secret" not in result.err
    queued = scr.ok("outbox", "--json").json()
    assert queued and all(m["attempts"] == 0 and m["status"] == "pending" for m in queued)
