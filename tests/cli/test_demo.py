"""`scr demo`: the real command runs a whole training board into a folder of its own, on a
simulated clock, through the product's engine, sweep and delivery, and touches nothing else.
Its older cases run to the end under SCR version 1 while a new case runs as a Child
Safeguarding Practice Review (cspr version 1)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from scr.handlers.transport import maildir_name
from scr.lifecycle.demo.cast import PLANTED_BIRTH_DATES, PLANTED_NAMES
from scr.storage.db import make_engine
from scr.storage.migrate import upgrade
from tests.cli.scr import Result, Scr
from tests.clock import DAYS_AHEAD, days_ahead

# The two demo runs are this module's fixture: its tests on one xdist worker, so that only
# one worker runs them.
pytestmark = pytest.mark.xdist_group("demo")

PLANTED = (*PLANTED_NAMES, *PLANTED_BIRTH_DATES)
MOVED = 1096  # days: the narrated run's clock is this far ahead of the suite's
LADDERS = {
    "triage.reminder", "triage.escalation", "returns.reminder", "returns.overdue",
    "returns_auto_submit.transition", "recommendation.escalation", "decision.due",
    "panel.reminder", "completion.reminder", "completion.due", "proceedings_check.check",
    "publication.blocked", "publication.transition", "action.reminder", "action.overdue",
    # Child Kestrel, the CSPR: the notification, the rapid review and publication clocks.
    "notification.reminder", "rapid_review.reminder", "publication_due.reminder",
    # The learning register's national review, not considered within two months.
    "consideration.reminder",
}
# The process (name, version) each case ran under, from its referral to the end.
PROCESSES = {"Child Robin": ("scr", "1"), "Child Wren": ("scr", "1"),
             "Child Linnet": ("scr", "1"), "Child Kestrel": ("cspr", "1"),
             "The Myth of Invisible Men": ("learning", "1")}


@dataclass
class DemoRun:
    folder: Path
    result: Result
    doc: dict[str, Any]
    scr: Scr
    live_db: Path
    live_hash: str
    narrated: Result  # a second run, in words, into a default folder under `narrated_in`
    narrated_in: Path

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.folder / "scr.db")) as conn:
            return conn.execute(sql).fetchall()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _start(scr: Scr, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "scr.lifecycle.cli", *args], cwd=scr.cwd,
                            env=scr.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc: subprocess.Popen[str]) -> Result:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"scr demo exited {proc.returncode}: {err}"
    return Result(proc.returncode, out, err)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoRun:
    """Two demo runs side by side: one with --json while the environment points at a live
    board's database, an SMTP server that is not there and no clock override; one in words,
    without --dir, with the wall clock three years ahead."""
    base = tmp_path_factory.mktemp("demo")
    board = base / "board"
    board.mkdir()
    live_db = board / "live.db"
    engine = make_engine(f"sqlite:///{live_db}")
    upgrade(engine)
    engine.dispose()
    live_hash = _digest(live_db)
    scr = Scr.in_dir(board, database_url=f"sqlite:///{live_db}",
                     SCR_SMTP_URL="smtp://127.0.0.1:9", SCR_MAIL_DIR=str(board / "mail"),
                     SCR_ALLOW_CLOCK_OVERRIDE="0")
    # The demo runs on a clock of its own: the narrated run, with the wall clock moved three
    # years further ahead than the suite's (tests/clock.py), tells the same story.
    words = Scr.in_dir(tmp_path_factory.mktemp("narrated"), SCR_ALLOW_CLOCK_OVERRIDE="0",
                       **{DAYS_AHEAD: str(days_ahead() + MOVED)})
    running = _start(scr, "demo", "--dir", str(base / "demo"), "--json")
    telling = _start(words, "demo", "--fast")
    result, narrated = _finish(running), _finish(telling)
    return DemoRun(base / "demo", result, result.json(), scr, live_db, live_hash, narrated,
                   words.cwd)


def test_demo_takes_each_case_to_the_end_of_its_lifecycle(demo):
    """The SCR ends with its actions signed off, the case review published, the no-review
    decision closed, the CSPR and the review from elsewhere with their actions signed off;
    history counts match the database."""
    cases = {c["pseudonym"]: c for c in demo.doc["cases"]}
    assert {p: (c["kind"], c["state"]) for p, c in cases.items()} == {
        "Child Robin": ("scr", "actions_signed_off"),
        "Child Wren": ("case_review", "published"),
        "Child Linnet": (None, "closed"),
        "Child Kestrel": ("cspr", "actions_signed_off"),
        # The review from elsewhere, its local action signed off.
        "The Myth of Invisible Men": (None, "actions_signed_off"),
    }
    assert cases["Child Robin"]["flags"] == ["incomplete_returns"]
    stored = dict(demo.rows("SELECT c.ref, count(*) FROM history h JOIN cases c "
                            "ON c.id = h.case_id GROUP BY c.ref"))
    assert {c["ref"]: c["history_rows"] for c in cases.values()} == stored
    assert demo.doc["history_rows"] == sum(stored.values())
    assert demo.result.err == ""


def test_the_older_scrs_finish_under_version_1_beside_a_cspr(demo):
    """The three January 2025 referrals run to the end under scr version 1, the board's
    process when they began; the case referred after the switch runs under cspr version 1.
    `scr show --json` on the demo's database says so, as do the rows and the JSON."""
    demo_db = {"SCR_DATABASE_URL": f"sqlite:///{demo.folder / 'scr.db'}"}
    shown = {}
    for case in demo.doc["cases"]:
        doc = demo.scr.ok("show", case["ref"], "--json", **demo_db).json()
        shown[doc["pseudonym"]] = (doc["process"], doc["process_version"])
    assert shown == PROCESSES
    stored = {p: (d, v) for p, d, v in demo.rows(
        "SELECT pseudonym, definition, definition_version FROM cases")}
    assert stored == PROCESSES
    assert {c["pseudonym"]: (c["process"], c["process_version"])
            for c in demo.doc["cases"]} == PROCESSES
    # Only the CSPR's timers are the CSPR's; the SCRs never had them.
    ladders = set(demo.rows(
        "SELECT c.pseudonym, t.ladder FROM timers t JOIN cases c ON c.id = t.case_id"))
    cspr_only = {"notification", "rapid_review", "panel_response", "publication_due"}
    assert {p for p, ladder in ladders if ladder in cspr_only} == {"Child Kestrel"}


def test_demo_fires_every_ladder_it_claims_on_time(demo):
    """The timer levels the story claims are exactly those the daemon fired (recorded in
    history as the system), each at its due moment, never late."""
    assert set(demo.doc["ladders_claimed"]) == set(demo.doc["ladders_fired"]) == LADDERS
    levels = {f"{t}.{lv}" for t, lv in demo.rows(
        "SELECT json_extract(params, '$.timer'), json_extract(params, '$.level') "
        "FROM history WHERE trigger = 'timer' AND actor = 'system'")}
    moves = {t for (t,) in demo.rows(
        "SELECT trigger FROM history WHERE actor = 'system' AND trigger != 'timer'")}
    assert levels == LADDERS - {"returns_auto_submit.transition", "publication.transition"}
    assert moves == {"submit_to_sub_group", "publish"}
    late = demo.rows("SELECT trigger, at, due_at FROM history WHERE actor = 'system' "
                     "AND (due_at IS NULL OR at != due_at)")
    assert late == []


def test_demo_delivers_exactly_the_outbox_into_its_maildir(demo):
    """Every outbox row was sent, once, into the demo's maildir, and nothing else is there."""
    outbox = demo.rows("SELECT message_id, status FROM outbox")
    assert outbox and {status for _, status in outbox} == {"sent"}
    mail = demo.folder / "mail"
    files = sorted(p.name for p in (mail / "new").iterdir())
    assert files == sorted(maildir_name(mid) for mid, _ in outbox)
    assert list((mail / "cur").iterdir()) == [] and list((mail / "tmp").iterdir()) == []
    messages = demo.doc["messages"]
    assert messages["total"] == messages["in_maildir"] == len(outbox)
    assert messages["by_status"] == {"sent": len(outbox)}
    assert Path(messages["example"]["path"]).is_file()


def test_no_message_or_output_carries_the_planted_name_or_birth_date(demo):
    """The referrals' and returns' free text holds each child's name and date of birth in the
    database; no e-mail part, the JSON, the log, the README or the picture does."""
    stored = " ".join(s for (s,) in demo.rows(
        "SELECT summary FROM referrals UNION ALL SELECT summary FROM agency_requests") if s)
    assert all(p in stored for p in (*PLANTED_NAMES, "14/03/2019", "2 July 2023",
                                     "21/11/2021", "9 October 2014", "09/10/2014"))
    texts = [demo.result.out]
    for path in (demo.folder / "mail" / "new").iterdir():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        texts.append(str(message["Subject"]))
        texts += [part.get_content() for part in message.walk()
                  if not part.is_multipart()]
    for name in ("scr.log", "README.txt", demo.doc["files"]["timeline_svg"]):
        texts.append((demo.folder / name).read_text(encoding="utf-8"))
    leaks = [(p, t[:80]) for t in texts for p in PLANTED
             if p in (t if isinstance(t, str) else t.decode("utf-8", "replace"))]
    assert leaks == []
    assert len(texts) > 300


def test_demo_draws_the_scr_timeline_as_svg(demo):
    """The SCR's timeline is an SVG document that parses as XML and names the case."""
    svg = Path(demo.doc["files"]["timeline_svg"])
    ref = next(c["ref"] for c in demo.doc["cases"] if c["kind"] == "scr")
    assert svg.parent == demo.folder and svg.name == f"{ref}-timeline.svg"
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findtext("{http://www.w3.org/2000/svg}title") == f"{ref} timeline"


def test_a_second_run_into_the_same_folder_is_refused(demo):
    """Exit 2 with one error line, and the first run's database and mail are untouched."""
    before = (_digest(demo.folder / "scr.db"), len(list((demo.folder / "mail/new").iterdir())))
    result = demo.scr("demo", "--dir", str(demo.folder), "--json")
    assert result.code == 2
    assert result.err.startswith(f"error: {demo.folder} already holds scr.db")
    # --json: the one document on stdout is the error, for a script to read.
    assert json.loads(result.out)["status"] == 2
    assert result.err.count("\n") == 1
    assert (_digest(demo.folder / "scr.db"),
            len(list((demo.folder / "mail/new").iterdir()))) == before


def test_demo_ignores_the_configured_database_and_mail_settings(demo):
    """SCR_DATABASE_URL's database is byte for byte as it was, SCR_MAIL_DIR was never made,
    and SCR_SMTP_URL (nothing listening) was not used: every message went to the maildir."""
    assert _digest(demo.live_db) == demo.live_hash
    assert not (demo.live_db.parent / "mail").exists()
    assert Path(demo.doc["files"]["database"]) == demo.folder / "scr.db"
    assert demo.doc["messages"]["by_status"] == {"sent": demo.doc["messages"]["total"]}


def test_demo_narrates_in_words_into_a_new_folder(demo):
    """Without --json or --dir: a new ./scr-demo-* folder, the steps told in plain English
    (refusals with their reasons, the daemon's rules, the CSPR in its own words), and a
    summary naming a message. Its wall clock was three years ahead of the suite's (the
    folder is named by it), and the story is the same."""
    out = demo.narrated.out
    folders = list(demo.narrated_in.glob("scr-demo-*"))
    assert len(folders) == 1 and (folders[0] / "scr.db").is_file()
    named = datetime.strptime(folders[0].name, "scr-demo-%Y%m%d-%H%M%S")
    assert (named - datetime.now()).days >= MOVED - 2
    assert out.count("refused (exit status 3); nothing was written, because:") == 6
    assert "- criminal proceedings are pending (expected to conclude 2025-11-28)" in out
    assert "- the SCR criteria are met: an SCR must be commissioned" in out
    assert "the daemon: CR-2025-0001 (Child Robin) returns_auto_submit.transition → " \
        "submit_to_sub_group" in out
    assert "rule: 10 days after the decision (Mon 17 Feb 2025 10:00)" in out
    # The switch, and the CSPR told in CSPR words: partners, the rapid review, the Panel.
    assert "The board now starts new cases as Child Safeguarding Practice Reviews" in out
    assert "CR-2025-0004 (Child Kestrel): a new case in referral (Serious incident " \
        "notification), under Child Safeguarding Practice Review (cspr version 1)." in \
        " ".join(out.split())
    assert "CR-2025-0001 (Child Robin): a new case in referral, under Serious Case Review " \
        "(scr version 1)." in " ".join(out.split())
    assert "- the safeguarding partners decide together: no view of local_review is " \
        "recorded from integrated_care_board, police (record_partner_view)" in \
        " ".join(out.split())
    for timer in ("notification.reminder", "rapid_review.reminder",
                  "publication_due.reminder"):
        assert f"the daemon: CR-2025-0004 (Child Kestrel) {timer}\n" in out
    assert "chair_decision → review (Local child safeguarding practice review)" in \
        " ".join(out.split())
    assert "[CR-2025-0004 Child Kestrel] Local child safeguarding practice review " \
        "commissioned" in out
    example = out.split("Open one in full")[1].splitlines()[1].strip()
    assert Path(demo.narrated_in, example).is_file()
    assert not any(p in out for p in PLANTED)
    assert demo.narrated.err == ""
