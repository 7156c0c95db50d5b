"""What a script or an administrator reads of `scr`: its version, the example it ships, a
failed command's JSON document, and failures in the log beside the successes. The real
command, in a subprocess."""

from __future__ import annotations

import json

from scr.storage.db import SCHEMA_HEAD
from tests.board import BM, CHAIR
from tests.cli.conftest import AFTER_TEMPLATE, CASE_REF, _copy_db
from tests.cli.scr import Scr


def test_version(scr):
    plain = scr.ok("--version")
    assert plain.out.startswith("scr ") and "(scr-case-reviews)" in plain.out
    doc = scr.ok("version", "--json").json()
    assert doc["distribution"] == "scr-case-reviews" and doc["scr"] in plain.out
    assert doc["schema"] == {"code": SCHEMA_HEAD, "database": SCHEMA_HEAD}
    defs = {(d["name"], d["version"]): d["new_cases"] for d in doc["definitions"]}
    assert defs == {("cspr", "1"): False, ("cspr", "2"): False, ("learning", "1"): False,
                    ("scr", "1"): True, ("scr", "2"): False}


def test_version_reads_no_database_into_being(tmp_path):
    scr = Scr.in_dir(tmp_path)
    doc = scr.ok("version", "--json").json()
    assert doc["schema"]["database"] is None
    assert "is not initialised" in scr.ok("version").out
    assert not (tmp_path / "scr.db").exists()


def test_the_example_referral_is_shipped_and_refers(tmp_path):
    scr = Scr.in_dir(tmp_path, SCR_CONFIG="")  # the board's default process: CSPR
    scr.ok("init")
    scr.ok("users", "add", "Sam Patel", "--email", "sam@b.test", "--role",
           "business_manager")
    text = scr.ok("example", "referral").out
    assert json.loads(text)["pseudonym"]
    (tmp_path / "referral.json").write_text(text)
    case = scr.ok("--as", "Sam Patel", "--now", "2026-11-23T10:00", "refer", "--file",
                  "referral.json", "--json").json()
    assert case["process"] == "cspr"
    assert scr("example", "nothing").code == 2


def failed_json(result, status: int) -> dict:
    assert result.code == status, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    doc = json.loads(result.out)
    assert doc["status"] == status and doc["error"] == lines[0].removeprefix("error: ")
    return doc


def test_a_failed_command_prints_one_json_document_with_json(scr, case_template, tmp_path):
    _copy_db(case_template, scr.cwd)
    scr.env["SCR_NOW"] = AFTER_TEMPLATE  # the returns' deadline is still ahead
    refused = failed_json(scr("--as", CHAIR, "advance", CASE_REF, "submit_to_sub_group",
                              "--json"), 3)
    assert refused["reasons"] and all(isinstance(r, str) for r in refused["reasons"])
    several = failed_json(scr("--as", BM, "advance", CASE_REF, "submit_to_sub_group",
                              "--json"), 3)
    assert len(several["reasons"]) >= 1 and "outstanding" in " ".join(several["reasons"])
    version = scr.ok("show", CASE_REF, "--json").json()["version"]
    conflict = failed_json(scr("--as", BM, "advance", CASE_REF, "add_agency",
                               "agency=education", "--if-version", "1", "--json"), 4)
    assert conflict["version"] == version
    bad = failed_json(scr("--json", "advance", "CR-2026-9999", "withdraw", "--as", BM), 2)
    assert bad["reasons"] == [bad["error"]]
    # Without --json, stdout stays empty as before.
    assert scr("--as", BM, "advance", CASE_REF, "teleport").out == ""


def test_refusals_and_conflicts_are_logged_beside_successes(scr, case_template, tmp_path):
    _copy_db(case_template, scr.cwd)
    logged = tmp_path / "scr.log"
    env = {"SCR_LOG_FILE": str(logged)}
    scr.ok("--as", BM, "advance", CASE_REF, "add_agency", "agency=education", **env)
    refused = scr("--as", CHAIR, "advance", CASE_REF, "add_agency", "agency=housing",
                  **env)
    conflict = scr("--as", BM, "advance", CASE_REF, "add_agency", "agency=probation",
                   "--if-version", "1", **env)
    bad = scr("--as", BM, "advance", CASE_REF, "add_agency", "agency=Child-Name-Typed", **env)
    for result in (refused, conflict, bad):
        assert len(result.err.strip().splitlines()) == 1  # the log went to the file only
    events = [json.loads(line) for line in logged.read_text().splitlines()]
    by_name = {e["event"]: e for e in events}
    assert "transition" in by_name
    assert by_name["command.refused"]["case_ref"] == CASE_REF
    assert by_name["command.refused"]["trigger"] == "add_agency"
    assert by_name["command.refused"]["status"] == 3 and by_name["command.refused"]["reasons"]
    assert by_name["command.conflict"]["status"] == 4
    assert by_name["command.invalid"]["status"] == 2
    assert "Child-Name-Typed" not in logged.read_text()  # what was typed is not logged
