"""A Hypothesis battery of bad input against the command line and the referral file: wrong
types, unknown values, huge values, control characters, SQL, malformed dates and `--now`.
Whatever arrives: exit 2 or 3 (or 0 when it happens to be valid), one `error:` line, no
traceback, and on any error the database is exactly as it was."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scr.lifecycle.cli.main import run
from scr.states.scr.v1 import DEFINITION
from tests.board import BM, HEALTH, USERS
from tests.cli.conftest import CASE_REF as REF
from tests.cli.conftest import _copy_db
from tests.cli.scr import Scr, dump

NASTY = [
    "'; DROP TABLE cases; --", "\" OR 1=1 --", "Robert'); DELETE FROM history;--",
    "\x00", "\x1b[31mred", "\u202eevil", "\ufeff",
    "9" * 400, "x" * 30000, "-1", "0", "1e999", "NaN", "true", "[]", "{}", "null",
    "2026-02-30", "2026-13-01", "20261301", "1899-12-31", "9999-12-31", "tomorrow",
    "2026-11-23T25:00", "health,,police", ",", "health,fire", "💥",
    "\uff28\uff25\uff21\uff2c\uff34\uff28",  # HEALTH in full-width letters
    # The ends of the calendar, a number Python will not read, and a byte that is not UTF-8
    # as Python hands it over from argv (tests/cli/test_hardening_input.py has more).
    "0001-01-01", "9999-12-31T23:59", "9" * 5000, "CR-2026-0001\udcff",
]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60),
                 st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
keys = st.sampled_from(sorted({p.name for t in DEFINITION.all_triggers for p in t.params}
                              | {"x", ""}))
triggers = st.one_of(st.sampled_from([t.name for t in DEFINITION.all_triggers]), text)
users = st.sampled_from([u[0] for u in USERS] + ["Nobody", "", "system"])


@pytest.fixture(scope="module")
def world(tmp_path_factory, case_template) -> Path:
    """This module's own copy of the board with one case in information_request."""
    folder = tmp_path_factory.mktemp("battery")
    _copy_db(case_template, folder)
    return folder


@contextlib.contextmanager
def environment(folder: Path):
    saved = dict(os.environ)
    os.environ.update({"SCR_DATABASE_URL": f"sqlite:///{folder / 'scr.db'}",
                       "SCR_MAIL_DIR": str(folder / "mail"), "SCR_ALLOW_CLOCK_OVERRIDE": "1"})
    for key in ("SCR_ACTOR", "SCR_NOW", "SCR_CONFIG", "SCR_SMTP_URL", "SCR_LOG_FILE"):
        os.environ.pop(key, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def check(folder: Path, argv: list[str]) -> None:
    before = dump(folder)
    out, err = io.StringIO(), io.StringIO()
    with environment(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    assert "Traceback" not in err.getvalue()
    if code == 0:
        return
    assert code in (2, 3, 4), (argv, code, err.getvalue())
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err.getvalue())
    assert dump(folder) == before, f"{argv} failed with {code} but wrote"


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(who=users, trigger=triggers, pairs=st.lists(st.tuples(keys, text), max_size=4),
       reason=st.one_of(st.none(), text), now=st.one_of(st.none(), text))
def test_advance_survives_anything(world, who, trigger, pairs, reason, now):
    """Random advances: a clear exit, one error line, nothing written on error."""
    argv = ["--as", who] + (["--now", now] if now is not None else [])
    argv += ["advance", REF, trigger, *[f"{k}={v}" for k, v in pairs]]
    if reason is not None:
        argv += ["--reason", reason]
    check(world, [a.replace("\x00", "") for a in argv])


referral_values = st.one_of(text, st.integers(), st.floats(allow_nan=True), st.booleans(),
                            st.none(), st.lists(text, max_size=3),
                            st.dictionaries(text, text, max_size=2))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fields=st.dictionaries(
    st.one_of(st.sampled_from(["pseudonym", "incident_date", "harm", "abuse", "agency_concern",
                               "grounds", "route", "referrer_agency", "criminal_proceedings",
                               "summary"]), text),
    referral_values, max_size=10),
    raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_referral_files_survive_anything(world, tmp_path_factory, fields, raw):
    """Random referral files (and random bytes): created, or one error line and nothing
    written."""
    path = tmp_path_factory.mktemp("ref") / "referral.json"
    if raw is not None:
        path.write_bytes(raw)
    else:
        try:
            path.write_text(json.dumps(fields))
        except (UnicodeEncodeError, ValueError):
            return
    check(world, ["--as", BM, "--now", "2026-11-23T12:00", "refer", "--file", str(path)])


def test_sql_in_text_is_stored_verbatim(world, tmp_path):
    """SQL in a text parameter is data: stored as typed, every table intact."""
    _copy_db(world, tmp_path)
    world = tmp_path
    nasty = "'); DROP TABLE history; --"
    check(world, ["--as", HEALTH, "advance", REF, "record_return", "agency=health", "view=scr",
                  f"summary={nasty}"])
    conn = sqlite3.connect(world / "scr.db")
    try:
        stored = conn.execute("SELECT summary FROM agency_requests WHERE agency='health' "
                              "AND returned_at IS NOT NULL").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert stored == (nasty,) and {"history", "cases"} <= tables


@pytest.mark.parametrize("argv", [
    ["--now", "2026-11-23T25:61", "list"],
    ["--as", BM, "advance", REF, "add_agency", "agency=" + "a" * 100_000],
    ["--as", BM, "advance", REF, "record_meeting", "date=2026-11-23\x00"],
    ["--as", BM, "advance", REF, "add_agency", "agency=health'--"],
])
def test_the_real_command_refuses_bad_input_cleanly(world, argv):
    """The same, through the real `scr` in a subprocess, for a few representative cases."""
    before = dump(world)
    result = Scr.in_dir(world)(*[a.replace("\x00", "\x01") for a in argv])
    assert result.code in (2, 3)
    assert result.err.count("\n") == 1 and result.err.startswith("error: ")
    assert "Traceback" not in result.err
    assert dump(world) == before


def test_abbreviated_options_are_refused(scr, referral_file):
    """argparse would take `--summ` for `--summary`; scr takes only whole option names, so
    no spelling of a private option gets past the shell's history filter."""
    result = scr("--as", "Bea Manager", "refer", "--file", referral_file(), "--summ", "x")
    assert result.code == 2 and result.err.startswith("error:")
    assert "--summ" in result.err
    assert scr("--as", "Bea Manager", "list", "--over").code == 2
