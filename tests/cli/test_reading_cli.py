"""Reading commands through the real `scr`: the contracted JSON documents, and the referral's
free text shown only to permitted users."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest

from scr.states.enums import State
from tests.board import BM, HEALTH, POLICE, SCR_REFERRAL, SUBCHAIR, Board
from tests.cli.conftest import CASE_REF
from tests.cli.scr import Scr
from tests.conftest import T0

CASE_KEYS = {"ref", "pseudonym", "state", "kind", "version", "flags", "timers", "criteria",
             "agencies", "proceedings", "outputs", "actions", "process", "process_version"}


def test_documents_have_the_contracted_fields(scr, referral_file):
    """show, triggers, list and outbox print one JSON document with the contract's keys."""
    ref = scr.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file",
                 referral_file(), "--json").json()["ref"]
    scr.ok("--as", BM, "--now", "2026-11-23T11:00", "advance", ref, "request_information",
           "agencies=health,police")
    case = scr.ok("show", ref, "--json").json()
    assert set(case) >= CASE_KEYS
    assert set(case["criteria"]) == {"met", "reasons", "binding", "label"}
    assert all({"name", "due_at", "status"} <= set(t) for t in case["timers"])
    assert all({"agency", "due_at", "returned_at", "view"} <= set(a)
               for a in case["agencies"])
    # Returns are due 10 working days after Mon 23 Nov 11:00: Mon 7 Dec 11:00 GMT.
    assert case["agencies"][0]["due_at"] == "2026-12-07T11:00:00+00:00"
    verdicts = scr.ok("--json", "triggers", ref).json()
    assert all(set(v) >= {"trigger", "allowed", "reasons"} for v in verdicts)
    listed = scr.ok("list", "--state", "information_request", "--json").json()
    assert [c["ref"] for c in listed] == [ref]
    assert scr.ok("list", "--state", "referral", "--json").json() == []
    mail = scr.ok("outbox", "--json").json()
    assert mail and all(set(m) >= {"id", "case_ref", "to", "subject", "status", "attempts",
                                   "message_id"} for m in mail)
    assert {m["status"] for m in mail} == {"pending"}


def test_overdue_lists_cases_past_a_deadline(scr, referral_file):
    """A case whose returns deadline has passed is listed by --overdue, not before."""
    ref = scr.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file",
                 referral_file(), "--json").json()["ref"]
    scr.ok("--as", BM, "--now", "2026-11-23T11:00", "advance", ref, "request_information",
           "agencies=health")
    assert scr.ok("--now", "2026-12-07T10:59", "list", "--overdue", "--json").json() == []
    late = scr.ok("--now", "2026-12-07T11:00", "list", "--overdue", "--json").json()
    assert [c["ref"] for c in late] == [ref] and late[0]["overdue"] is True


def test_summary_shown_only_to_permitted_users(scr, referral_file):
    """The referral's free text is shown to the business manager, not to an agency lead or
    without a named user."""
    text = "Seen at A&E twice in October."
    ref = scr.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file",
                 referral_file(summary=text), "--json").json()["ref"]
    assert scr.ok("--as", BM, "show", ref, "--json").json()["referral"]["summary"] == text
    assert text in scr.ok("--as", BM, "show", ref).out
    assert "summary" not in scr.ok("--as", HEALTH, "show", ref, "--json").json()["referral"]
    assert text not in scr.ok("show", ref).out


def test_earlier_summaries_returns_and_evidence_shown_only_to_their_readers(scr):
    """`scr show` gives the summaries an amendment replaced to those who may read the
    referral; each agency's return and each action's evidence to them and to that agency's
    own lead; anyone else sees that a return or evidence was given, without its text."""
    from scr.storage.db import make_engine

    db = make_engine(scr.env["SCR_DATABASE_URL"])
    board = Board(db)
    ref = board.refer({**SCR_REFERRAL, "summary": "First account."}, at=T0)
    board.fire(ref, "amend_referral", at=T0 + timedelta(hours=1), reason="fuller",
               summary="Second account.")
    at = board.walk(ref, State.PUBLISHED, at=T0 + timedelta(hours=1))
    board.fire(ref, "add_action", at=at, by=SUBCHAIR, agency="health",
               description="Training", owner=HEALTH, due="2027-09-30")
    board.fire(ref, "complete_action", at=at + timedelta(hours=1), by=HEALTH, action="1",
               evidence="Forty staff trained.")
    db.dispose()
    # tests.board.walk records every agency's return as "seen".
    bm = scr.ok("--as", BM, "show", ref, "--json").json()
    assert bm["referral"]["summary"] == "Second account."
    assert [(v["version"], v["summary"], v["replaced_by"])
            for v in bm["referral"]["earlier_summaries"]] == [(1, "First account.", BM)]
    assert {a["agency"]: a["summary"] for a in bm["agencies"]} == {
        "childrens_social_care": "seen", "health": "seen", "police": "seen"}
    assert bm["actions"][0]["evidence"] == "Forty staff trained."
    text = scr.ok("--as", BM, "show", ref).out
    assert "First account." in text and "Forty staff trained." in text

    health = scr.ok("--as", HEALTH, "show", ref, "--json").json()
    assert "summary" not in health["referral"]
    assert "earlier_summaries" not in health["referral"]
    assert {a["agency"] for a in health["agencies"] if "summary" in a} == {"health"}
    assert all(a["returned_at"] for a in health["agencies"])
    assert health["actions"][0]["evidence"] == "Forty staff trained."
    text = scr.ok("--as", HEALTH, "show", ref).out
    assert "First account." not in text
    assert "police (round 1): (given; not shown to you)" in text

    police = scr.ok("--as", POLICE, "show", ref, "--json").json()
    assert "evidence" not in police["actions"][0]
    assert police["actions"][0]["completed_at"]
    assert "action 1: (given; not shown to you)" in scr.ok("--as", POLICE, "show", ref).out
    nobody = scr.ok("show", ref).out
    assert "seen" not in nobody and "Forty staff" not in nobody and "account" not in nobody


@pytest.mark.parametrize(("command", "shows"), [
    (["show", CASE_REF], f"{CASE_REF}  Child K"),
    (["history", CASE_REF], "Information requested from agencies"),
    (["list"], CASE_REF),
])
def test_reading_commands_start_without_the_orm(case_template, command, shows):
    """show, history and list read with Core statements (storage.tables): a fresh process
    never loads SQLModel, pydantic or the ORM, which cost a cold start about 0.15 s
    (make bench)."""
    where = Scr.in_dir(case_template)  # these only read: the shared template will do
    probe = ("import sys\nfrom lifecycle.cli.main import run\n"
             f"code = run({command!r})\n"
             "heavy = sorted(m for m in ('sqlmodel', 'pydantic', 'sqlalchemy.orm') "
             "if m in sys.modules)\nprint('loaded:', heavy, 'exit:', code)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=where.cwd, env=where.env,
                          capture_output=True, text=True, timeout=60)
    assert shows in proc.stdout, proc.stderr
    assert "loaded: [] exit: 0" in proc.stdout


def test_definitions_lists_each_process_and_where_new_cases_start(scr, tmp_path):
    """`scr definitions --json`: name, version, label, whether new cases start under it;
    the board's [process] setting must name a definition this scr has."""
    listed = scr.ok("definitions", "--json").json()  # this board is pinned to scr 1
    assert [(d["name"], d["version"], d["starts_new_cases"], d["draft"]) for d in listed] == \
        [("cspr", "1", False, False), ("cspr", "2", False, False),
         ("learning", "1", False, False), ("scr", "1", True, False), ("scr", "2", False, False)]
    assert [d["label"] for d in listed] == ["Child Safeguarding Practice Review",
                                            "Child Safeguarding Practice Review",
                                            "Learning from reviews elsewhere",
                                            "Serious Case Review", "Serious Case Review"]
    assert [d["opens"] for d in listed] == ["referral", "referral", "learning", "referral",
                                            "referral"]
    assert "start here" in scr.ok("definitions").out
    bad = tmp_path / "bad.toml"
    bad.write_text('[process]\ndefault = "lscb"\n', encoding="utf-8")
    result = scr("--config", str(bad), "definitions")
    assert result.code == 2
    assert result.err.startswith("error: config: process: no process definition called 'lscb'")
    # Without a [process] setting, new cases are CSPRs; `default = "scr"` is its newest.
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    starts = {(d["name"], d["version"]) for d in scr.ok(
        "--config", str(empty), "definitions", "--json").json() if d["starts_new_cases"]}
    assert starts == {("cspr", "2")}  # the newest
    pinned = tmp_path / "pinned.toml"
    pinned.write_text('[process]\ndefault = "cspr"\nversion = "1"\n', encoding="utf-8")
    starts = {(d["name"], d["version"]) for d in scr.ok(
        "--config", str(pinned), "definitions", "--json").json() if d["starts_new_cases"]}
    assert starts == {("cspr", "1")}
    scr_default = tmp_path / "scr.toml"
    scr_default.write_text('[process]\ndefault = "scr"\n', encoding="utf-8")
    starts = {(d["name"], d["version"]) for d in scr.ok(
        "--config", str(scr_default), "definitions", "--json").json() if d["starts_new_cases"]}
    assert starts == {("scr", "2")}


def test_a_case_document_names_its_definition(scr, referral_file):
    """show --json says which definition (and version) the case runs under."""
    ref = scr.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file",
                 referral_file(), "--json").json()["ref"]
    case = scr.ok("show", ref, "--json").json()
    assert (case["process"], case["process_version"]) == ("scr", "1")


LONG_REASON = ("The referral was withdrawn because the family moved out of the area before "
               "the agencies could be asked, and the receiving board takes it on")


@pytest.mark.parametrize("columns", [60, 200])
def test_history_reads_as_words_and_fits_the_terminal(scr, referral_file, columns):
    """`scr history` names each step and stage by its label, not its identifier, cuts a long
    reason after a whole word, and fits COLUMNS; --json keeps the identifiers."""
    ref = scr.ok("--as", BM, "--now", "2026-11-23T10:00", "refer", "--file",
                 referral_file(), "--json").json()["ref"]
    scr.ok("--as", BM, "--now", "2026-11-23T11:00", "advance", ref, "request_information",
           "agencies=health,police")
    scr.ok("--as", BM, "--now", "2026-11-23T12:00", "advance", ref, "withdraw",
           "--reason", LONG_REASON)
    text = scr.ok("history", ref, COLUMNS=str(columns)).out
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= columns
    said = " ".join(" ".join(lines).split())
    for identifier in ("request_information", "information_request", "withdraw", "refer"):
        assert not re.search(rf"\b{identifier}\b", said), identifier
    if columns == 200:
        for label in ("Information requested from agencies", "Referral withdrawn, by Bea "
                      "Manager", "new case: Referral"):
            assert label in text, label
        assert "Referral → Information request" in text
        assert "Information request → Closed" in text
        reason = next(line for line in lines if line.startswith("3 "))
        cut = reason.rstrip().rsplit("  ", 1)[1]
        assert cut.endswith("…") and LONG_REASON.startswith(cut[:-1].rstrip())
        assert LONG_REASON[len(cut[:-1].rstrip())] == " "  # cut after a whole word
    entries = scr.ok("history", ref, "--json").json()
    assert [e["trigger"] for e in entries] == ["refer", "request_information", "withdraw"]
    assert entries[2]["reason"] == LONG_REASON


def test_a_table_piped_without_columns_keeps_each_row_on_one_line(scr):
    """Piped (as here) with COLUMNS unset, `scr users` rows are never wrapped, whatever
    their length: a script sees whole rows."""
    env = {"COLUMNS": ""}
    narrow = scr.ok("users", "list", COLUMNS="60").out.splitlines()
    whole = scr.ok("users", "list", **env).out.splitlines()
    assert max(len(line) for line in narrow) <= 60 < max(len(line) for line in whole)
    assert len(whole) <= len(narrow)


def test_show_gives_values_and_timers_in_words(scr, case_template):
    """`scr show` for people: the referral's values, agencies and timers in words; --json
    keeps the identifiers (and adds each timer's label)."""
    from tests.cli.conftest import CASE_REF, _copy_db

    _copy_db(case_template, scr.cwd)
    text = scr.ok("--as", "Bea Manager", "show", CASE_REF).out
    assert "returns.reminder" not in text and "Agency returns due (reminder)" in text
    doc = scr.ok("--as", "Bea Manager", "show", CASE_REF, "--json").json()
    assert {t["name"] for t in doc["timers"]} >= {"returns.reminder"}
    assert all(t["label"] for t in doc["timers"])
