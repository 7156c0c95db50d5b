"""Bad input at the edges, through the real `scr`: nesting and numbers no parser should
take, bytes that are not UTF-8, dates at the ends of the calendar, numbers that overflow,
a region the holidays package does not know, a log file or backup that cannot be written,
and input files that are devices or pipes. Each is one `error:` line, exit 2, no
traceback, the database byte-for-byte the same and no file left behind."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.board import BM
from tests.cli.conftest import CASE_REF as REF
from tests.cli.conftest import _copy_db
from tests.cli.scr import Result, Scr, dump

NOW = "2026-11-24T10:00"
# A subprocess that hangs on a pipe fails the test instead of holding the run up.
QUICK = 20


@pytest.fixture
def board(scr, case_template) -> Scr:
    """`scr` on this test's own copy of the board with case REF in information_request."""
    _copy_db(case_template, scr.cwd)
    return scr


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def refused_cleanly(scr: Scr, args: list[str], *, words: str = "", **env: str) -> Result:
    """Run `scr *args`: exit 2, one `error:` line, nothing on stdout, the database the same
    and no file made in the board's folder."""
    before, present = dump(scr.cwd), files(scr.cwd)
    result = scr(*args, timeout=QUICK, **env)
    assert result.code == 2, (args, result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.err)
    assert "Traceback" not in result.err and result.out == ""
    assert words in lines[0], (words, lines[0])
    assert dump(scr.cwd) == before, f"{args} wrote to the database"
    assert files(scr.cwd) == present, f"{args} left files: {files(scr.cwd) - present}"
    return result


def referral(**fields) -> str:
    data = {"pseudonym": "Child Q", "incident_date": "2026-11-01", "harm": "death",
            "abuse": "known", "route": "professional"}
    data.update(fields)
    return json.dumps(data)


# --------------------------------------------------------------- nesting and long numbers
DEEP = 100_000
JSON_FILES = [
    pytest.param("[" * DEEP + "]" * DEEP, "nested too deeply", id="deep-list"),
    pytest.param('{"pseudonym": ' + "[" * DEEP + "]" * DEEP + "}", "nested too deeply",
                 id="deep-value"),
    pytest.param('{"a": ' * DEEP + "1" + "}" * DEEP, "nested too deeply", id="deep-objects"),
    pytest.param(referral()[:-1] + ', "pseudonym": ' + "9" * 5000 + "}", "5000 digits",
                 id="5000-digit-number"),
    pytest.param(referral()[:-1] + ', "agency_concern": -' + "1" * 5000 + "}", "digits",
                 id="5000-digit-negative"),
    pytest.param(referral()[:-1] + ', "agency_concern": ' + "1" * 30 + "}", "digits",
                 id="30-digit-number"),
]


@pytest.mark.parametrize(("content", "words"), JSON_FILES)
def test_deep_or_long_json_is_bad_input(board, tmp_path, content, words):
    """A referral nested past the parser's depth or holding a number of thousands of
    digits is refused as bad input, not an internal error."""
    path = tmp_path / "outside" / "referral.json"
    path.parent.mkdir()
    path.write_text(content)
    refused_cleanly(board, ["--as", BM, "--now", NOW, "refer", "--file", str(path)],
                    words=words)


# --------------------------------------------------------------- bytes that are not UTF-8
BAD = os.fsdecode(b"\xff\xfe")  # as Python hands over argv bytes that are not UTF-8
NOT_UTF8 = [
    pytest.param(["--as", BM, "show", f"CR-2026-0001{BAD}"], id="reference"),
    pytest.param(["--as", BM, "history", BAD], id="reference-alone"),
    pytest.param(["--as", f"Bea{BAD}", "list"], id="acting-user"),
    pytest.param(["--as", BM, "advance", REF, "withdraw", "--reason", f"gone{BAD}"],
                 id="reason"),
    pytest.param(["--as", BM, "advance", REF, "add_agency", f"agency=health{BAD}"],
                 id="parameter"),
    pytest.param(["--as", BM, "list", "--state", BAD], id="option"),
    pytest.param(["--as", BM, "users", "add", f"Zed{BAD}", "--email", "z@b.test", "--role",
                  "chair"], id="user-name"),
    pytest.param(["--as", BM, "backup", f"copy{BAD}.db"], id="file-name"),
]


@pytest.mark.parametrize("args", NOT_UTF8)
def test_argv_bytes_that_are_not_utf8_are_bad_input(board, args):
    """A command-line word that is not UTF-8 is refused before anything runs."""
    refused_cleanly(board, args, words="not UTF-8")


def test_an_acting_user_from_the_environment_that_is_not_utf8_is_bad_input(board):
    """SCR_ACTOR holding bytes that are not UTF-8 is refused like the option."""
    refused_cleanly(board, ["list"], words="SCR_ACTOR", SCR_ACTOR=f"Bea{BAD}")


# --------------------------------------------------------------- the ends of the calendar
CALENDAR_ENDS = [
    pytest.param(["--as", BM, "--now", "0001-01-01", "list"], id="now-year-1"),
    pytest.param(["--as", BM, "--now", "9999-12-31T23:59:59", "tick"], id="now-year-9999"),
    pytest.param(["--as", BM, "--now", "0001-01-01T00:00+14:00", "list"],
                 id="now-before-year-1-in-utc"),
    pytest.param(["--as", BM, "--now", "9999-12-31T23:00-14:00", "list"],
                 id="now-after-year-9999-in-utc"),
    pytest.param(["--as", BM, "--now", NOW, "advance", REF, "amend_referral",
                  "incident_date=0001-01-01", "--reason", "typo"], id="trigger-year-1"),
    pytest.param(["--as", BM, "--now", NOW, "advance", REF, "amend_referral",
                  "incident_date=9999-12-31", "--reason", "typo"], id="trigger-year-9999"),
    pytest.param(["--as", BM, "--now", NOW, "overdue", "--within", "2000000"],
                 id="overdue-past-year-9999"),
]


@pytest.mark.parametrize("args", CALENDAR_ENDS)
def test_dates_at_the_ends_of_the_calendar_are_bad_input(board, args):
    """Year 1 and year 9999, as --now, as a trigger's date or as a horizon, are refused;
    no working-day arithmetic overflows."""
    refused_cleanly(board, args)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_referral_dates_at_the_ends_of_the_calendar_are_bad_input(board, tmp_path, day):
    """A referral whose incident date is year 1 or year 9999 is refused."""
    path = tmp_path / "outside.json"
    path.write_text(referral(incident_date=day))
    refused_cleanly(board, ["--as", BM, "--now", NOW, "refer", "--file", str(path)],
                    words="incident_date")


def test_the_environment_clock_at_the_end_of_the_calendar_is_bad_input(board):
    """SCR_NOW in year 9999 is refused like --now."""
    refused_cleanly(board, ["list"], SCR_NOW="9999-12-31T23:59")


# --------------------------------------------------------------- numbers that overflow
OVERFLOWING = [
    pytest.param(["--as", BM, "outbox", "retry", "1e30"], id="retry-1e30"),
    pytest.param(["--as", BM, "outbox", "retry", "9" * 23], id="retry-23-digits"),
    pytest.param(["--as", BM, "outbox", "retry", "9" * 5000], id="retry-5000-digits"),
    pytest.param(["--as", BM, "outbox", "retry", "-" + "9" * 20], id="retry-negative"),
    pytest.param(["--as", BM, "overdue", "--within", "1000000000"], id="within-1e9"),
    pytest.param(["--as", BM, "overdue", "--within", "9" * 23], id="within-23-digits"),
    pytest.param(["--as", BM, "overdue", "--within", "9" * 5000], id="within-5000-digits"),
    pytest.param(["--as", BM, "overdue", "--within", "-1"], id="within-negative"),
]


@pytest.mark.parametrize("args", OVERFLOWING)
def test_numbers_that_overflow_are_bad_input(board, args):
    """Message ids and horizons beyond any real one are refused, never an overflow."""
    refused_cleanly(board, args)


# --------------------------------------------------------------- the board's region
REGIONS = [
    pytest.param('country = "ZZ"', "calendar.country", id="unknown-country"),
    pytest.param('country = "gb"', "calendar.country", id="lower-case-country"),
    pytest.param('country = ""', "calendar.country", id="empty-country"),
    pytest.param('subdivision = "XXX"', "calendar.subdivision", id="unknown-subdivision"),
    pytest.param('country = "US"', "calendar.subdivision", id="england-in-the-us"),
]


@pytest.mark.parametrize(("setting", "key"), REGIONS)
def test_a_region_the_holidays_package_does_not_know_is_bad_input(board, tmp_path, setting,
                                                                   key):
    """An unknown country or subdivision fails at start, naming the key, whatever the
    command (not later, when a deadline is first counted)."""
    config = tmp_path / "region.toml"
    config.write_text(f'[process]\ndefault = "scr"\nversion = "1"\n[calendar]\n{setting}\n')
    for args in (["--as", BM, "list"],
                 ["--as", BM, "--now", NOW, "advance", REF, "add_agency", "agency=education"]):
        refused_cleanly(board, args, words=key, SCR_CONFIG=str(config))


def test_another_known_region_is_accepted(board, tmp_path):
    """Scotland's bank holidays are a region the package knows: accepted."""
    config = tmp_path / "scotland.toml"
    config.write_text('[process]\ndefault = "scr"\nversion = "1"\n[calendar]\n'
                      'subdivision = "SCT"\n')
    board.ok("--as", BM, "list", SCR_CONFIG=str(config))


# --------------------------------------------------------------- log files and backups
def test_a_log_file_that_is_a_directory_is_bad_input(board, tmp_path):
    """SCR_LOG_FILE naming a directory is refused."""
    refused_cleanly(board, ["--as", BM, "list"], words="SCR_LOG_FILE",
                    SCR_LOG_FILE=str(tmp_path))


def test_a_log_file_in_a_missing_directory_is_bad_input(board, tmp_path):
    """SCR_LOG_FILE in a directory that does not exist is refused; nothing is made."""
    log = tmp_path / "nowhere" / "scr.log"
    refused_cleanly(board, ["--as", BM, "list"], words="SCR_LOG_FILE", SCR_LOG_FILE=str(log))
    assert not log.parent.exists()


def test_a_log_file_that_is_a_pipe_does_not_hang(board, tmp_path):
    """SCR_LOG_FILE naming a pipe nobody reads is refused at once."""
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    refused_cleanly(board, ["--as", BM, "list"], words="SCR_LOG_FILE", SCR_LOG_FILE=str(fifo))


@pytest.mark.parametrize("where", ["missing/dir/x.db", "scr.db/x.db"])
def test_a_backup_where_no_file_can_be_made_is_bad_input(board, where):
    """A backup into a directory that does not exist (or under a file) is refused."""
    refused_cleanly(board, ["--as", BM, "backup", str(board.cwd / where)], words="cannot")


def test_a_backup_into_the_root_of_a_missing_tree_is_bad_input(board):
    """The brief's own example: /nonexistent/dir/x.db."""
    assert not Path("/nonexistent").exists()
    refused_cleanly(board, ["--as", BM, "backup", "/nonexistent/dir/x.db"], words="cannot")


# --------------------------------------------------------------- input files
def test_a_referral_file_that_is_dev_zero_is_bad_input(board):
    """/dev/zero never ends: refused (it is not a regular file), not read into memory."""
    refused_cleanly(board, ["--as", BM, "--now", NOW, "refer", "--file", "/dev/zero"],
                    words="not a regular file")


def test_a_referral_file_that_is_a_pipe_does_not_hang(board, tmp_path):
    """A pipe with no writer is refused at once, not waited on."""
    fifo = tmp_path / "referral.fifo"
    os.mkfifo(fifo)
    refused_cleanly(board, ["--as", BM, "--now", NOW, "refer", "--file", str(fifo)],
                    words="not a regular file")


def test_a_referral_file_that_is_a_directory_is_bad_input(board, tmp_path):
    """A directory is not a referral."""
    refused_cleanly(board, ["--as", BM, "--now", NOW, "refer", "--file", str(tmp_path)])


def test_a_referral_file_over_the_limit_is_bad_input(board, tmp_path):
    """A file over the size limit is refused by its first bytes past the limit."""
    path = tmp_path / "huge.json"
    path.write_text(referral(summary="x" * 2_000_000))
    refused_cleanly(board, ["--as", BM, "--now", NOW, "refer", "--file", str(path)],
                    words="too large")


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory"])
def test_a_config_file_that_is_not_a_regular_file_is_bad_input(board, tmp_path, kind):
    """--config naming /dev/zero, a pipe or a directory is refused at once."""
    path = {"dev-zero": Path("/dev/zero"), "directory": tmp_path}.get(kind)
    if path is None:
        path = tmp_path / "config.fifo"
        os.mkfifo(path)
    assert not stat.S_ISREG(os.stat(path).st_mode)
    refused_cleanly(board, ["--config", str(path), "--as", BM, "list"], words="config file")


def test_a_config_file_with_a_5000_digit_number_is_bad_input(board, tmp_path):
    """A number too long for Python to read in the TOML file is bad input."""
    config = tmp_path / "long.toml"
    config.write_text("[mail]\nbatch_size = " + "9" * 5000 + "\n")
    refused_cleanly(board, ["--config", str(config), "--as", BM, "list"],
                    words="config file")
