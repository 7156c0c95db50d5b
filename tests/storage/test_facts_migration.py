"""Migration 0011 moves the regimes' own columns into the case's facts document, and the
seals written before it still verify.

fixtures/schema_0010.sql.gz is a board written by the code before the facts document (at
schema 0010): `scr demo`'s run (SCR version 1 cases, one of them with the national panel
told; a CSPR case with its notification, the partners' views, the rapid review and the
Panel's response; a learning record) and an SCR version 2 case whose serious incident
notification was recorded, dumped with sqlite3's `.dump`. Its history rows were sealed at
seal version 1.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from scr.storage import migrate
from scr.storage.db import make_engine
from tests.cli.scr import Scr

BEFORE = Path(__file__).with_name("fixtures") / "schema_0010.sql.gz"
CSPR, SCR_V2, SCR_V1_TOLD = "CR-2025-0004", "CR-2026-0001", "CR-2025-0003"
MOVED = ("panel_notified_on", "notified_on", "rapid_review_sent_on", "panel_response",
         "panel_response_on", "partner_views")


@pytest.fixture
def before(tmp_path) -> Scr:
    """`scr` on a copy of the board written before the facts document."""
    with sqlite3.connect(tmp_path / "scr.db") as conn:
        conn.executescript(gzip.decompress(BEFORE.read_bytes()).decode("utf-8"))
    return Scr.in_dir(tmp_path)


def _facts(scr: Scr, ref: str) -> dict[str, object]:
    with sqlite3.connect(scr.cwd / "scr.db") as conn:
        (stored,) = conn.execute("SELECT facts FROM cases WHERE ref = ?", (ref,)).fetchone()
    return dict(json.loads(stored))


def _tamper(scr: Scr, ref: str, facts: dict[str, object]) -> None:
    with sqlite3.connect(scr.cwd / "scr.db") as conn:
        conn.execute("UPDATE cases SET facts = ? WHERE ref = ?", (json.dumps(facts), ref))


def test_a_board_written_before_the_facts_document_migrates_and_verifies(before):
    scr = before
    refused = scr("audit", "verify")
    assert refused.code == 2 and "run scr init to upgrade" in refused.err
    scr.ok("init")
    with sqlite3.connect(scr.cwd / "scr.db") as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(cases)")}
        (head,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert head == "0011" and "facts" in columns and not columns & set(MOVED)
    verified = scr.ok("audit", "verify")
    assert "history intact: 6 cases" in verified.out
    assert "6 cases match the seal of their newest row" in verified.out
    # Each value moved in its stored form; a column that held nothing left no key.
    assert _facts(scr, SCR_V1_TOLD) == {"panel_notified_on": "2025-02-28"}
    assert _facts(scr, SCR_V2) == {"notified_on": "2026-10-28"}
    cspr = _facts(scr, CSPR)
    assert {k: cspr[k] for k in ("notified_on", "rapid_review_sent_on", "panel_response")} \
        == {"notified_on": "2025-03-06", "rapid_review_sent_on": "2025-03-21",
            "panel_response": "local_review"}
    assert cspr["partner_views"]["police"] == {  # type: ignore[index]
        "decision": "local_review", "at": "2025-03-20T14:00:00+00:00", "by": "Ada Quill"}
    shown = scr.ok("--as", "Ada Quill", "show", CSPR, "--json").json()
    assert shown["facts"] == cspr
    assert ["panel response", "local child safeguarding practice review"] \
        in shown["fact_lines"]


def test_a_case_sealed_before_the_migration_still_shows_a_change_behind_its_back(before):
    """A case whose newest row was sealed at version 1 is checked against the document: a
    moved value changed, or a fact version 1 never knew added, breaks it."""
    scr = before
    scr.ok("init")
    _tamper(scr, SCR_V1_TOLD, {"panel_notified_on": "2025-03-01"})
    _tamper(scr, SCR_V2, {"notified_on": "2026-10-28", "rapid_review_sent_on": "2026-10-29"})
    broken = scr("audit", "verify")
    assert broken.code == 5
    assert SCR_V1_TOLD in broken.err and SCR_V2 in broken.err and CSPR not in broken.err


def test_a_trigger_after_the_migration_seals_at_the_new_version(before):
    scr = before
    scr.ok("init")
    scr.ok("--as", "Ada Quill", "--now", "2026-10-29T09:00", "advance", SCR_V2,
           "request_information", "agencies=health,police")
    assert "6 cases match the seal" in scr.ok("audit", "verify").out
    with sqlite3.connect(scr.cwd / "scr.db") as conn:
        (state,) = conn.execute("SELECT state FROM cases WHERE ref = ?", (SCR_V2,)).fetchone()
    assert state == "information_request"
    _tamper(scr, SCR_V2, {"notified_on": "2026-10-27"})
    assert scr("audit", "verify").code == 5


def test_the_migration_moves_the_columns_on_postgresql_too(pg_url):
    """The same move on PostgreSQL (JSONB), from rows stored at 0010, and back."""
    engine = make_engine(pg_url)
    migrate.upgrade(engine, "0010")
    views = {"police": {"decision": "no_review", "at": "2025-03-20T14:00:00+00:00",
                        "by": "Ada Quill"}}
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (ref, pseudonym, state, version, definition, "
            "definition_version, flags, round, referred_at, state_entered_at, updated_at, "
            "notified_on, panel_response, partner_views) VALUES ('CR-2025-0009', 'Child P', "
            "'review', 1, 'cspr', '1', '[]', 1, now(), now(), now(), '2025-03-06', "
            "'no_review', CAST(:views AS json)), ('CR-2025-0010', 'Child Q', 'referral', 1, "
            "'scr', '1', '[]', 1, now(), now(), now(), NULL, NULL, '{}')"),
            {"views": json.dumps(views)})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT ref, facts FROM cases ORDER BY ref")).all()
        stored: dict[str, object] = {ref: facts for ref, facts in rows}
        kind = conn.execute(text(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'cases' "
            "AND column_name = 'facts'")).scalar()
    assert kind == "jsonb"
    assert stored == {"CR-2025-0009": {"notified_on": "2025-03-06",
                                       "panel_response": "no_review", "partner_views": views},
                      "CR-2025-0010": {}}
    migrate.downgrade(engine, "0010")
    with engine.connect() as conn:
        back = conn.execute(text(
            "SELECT notified_on, panel_response, partner_views FROM cases "
            "WHERE ref = 'CR-2025-0009'")).one()
    assert (back[0].isoformat(), back[1], back[2]) == ("2025-03-06", "no_review", views)
    engine.dispose()
