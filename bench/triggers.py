"""Triggers per second through `Engine.fire`, against raw sqlite3 committing the same rows."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from bench.seed import T0, case_in, clone, fresh
from states.enums import State
from storage.db import transaction
from tests.board import QUORUM, SUBCHAIR, Board


def fire_rate(board: Board, refs: list[str], per_case: int) -> float:
    """record_meeting (re-arms the recommendation ladder, mails the sub-group and queues
    its calendar invitations), fired `per_case` times on each case, one transaction each."""
    actor = board.actor(SUBCHAIR)
    moments = [T0 + timedelta(days=30, minutes=k) for k in range(per_case)]
    start = time.perf_counter()
    for k, at in enumerate(moments):
        for ref in refs:
            with transaction(board.db) as session:
                board.engine.fire(session, ref, "record_meeting", actor=actor,
                                  params={"date": (at - timedelta(days=k % 3)).date()
                                          .isoformat(), "attendees": QUORUM}, now=at)
    return len(refs) * per_case / (time.perf_counter() - start)


def raw_rate(path: Path, case_ids: list[int], per_case: int) -> float:
    """The same rows written with plain sqlite3 and the same pragmas: the case updated with
    a version check, a history row, the ladder's timers replaced, an outbox row."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    stamp = "2026-12-23 10:00:00.000000"
    start = time.perf_counter()
    n = 0
    for k in range(per_case):
        for case_id in case_ids:
            conn.execute("BEGIN IMMEDIATE")
            (version, seq) = conn.execute(
                "SELECT version, (SELECT coalesce(max(seq), 0) FROM history WHERE case_id = ?)"
                " FROM cases WHERE id = ?", (case_id, case_id)).fetchone()
            updated = conn.execute(
                "UPDATE cases SET version = ?, updated_at = ? WHERE id = ? AND version = ?",
                (version + 1, stamp, case_id, version)).rowcount
            assert updated == 1
            conn.execute(
                "INSERT INTO history (case_id, seq, trigger, source, dest, actor, reason, "
                "params, at, prev_hash, hash) VALUES (?, ?, 'record_meeting', 'sub_group', "
                "'sub_group', 'bench', NULL, '{}', ?, '', '')", (case_id, seq + 1, stamp))
            conn.execute("UPDATE timers SET status = 'disarmed' WHERE case_id = ? AND "
                         "ladder = 'recommendation' AND status = 'pending'", (case_id,))
            conn.executemany(
                "INSERT INTO timers (case_id, ladder, level, rank, key, name, state, due_at, "
                "rule, status, armed_at, sequence) VALUES (?, 'recommendation', ?, ?, '', ?, "
                "'sub_group', ?, 'bench', 'pending', ?, 0)",
                [(case_id, "escalation", 1, "recommendation.escalation", stamp, stamp),
                 (case_id, "chair", 2, "recommendation.chair", stamp, stamp)])
            conn.execute(
                "INSERT INTO outbox (case_id, case_ref, recipient, recipient_name, "
                "recipient_role, template, subject, body_text, body_html, message_id, status, "
                "attempts, created_at, next_attempt_at) VALUES (?, 'BN', 'bm@x', 'BM', "
                "'business_manager', 'record_meeting', 'subject', 'text', 'html', ?, "
                "'pending', 0, ?, ?)", (case_id, f"<raw-{k}-{case_id}@bench>", stamp, stamp))
            conn.execute("COMMIT")
            n += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def sqlite_ratio(folder: Path, *, cases: int = 20, per_case: int = 10) -> dict[str, float]:
    board = fresh(folder / "fire.db")
    template = case_in(board, State.SUB_GROUP)
    clone(folder / "fire.db", template, cases - 1)
    with transaction(board.db) as s:
        from sqlmodel import select

        from storage.models import Case
        rows = s.exec(select(Case).where(Case.state == "sub_group")).all()
        refs = [c.ref for c in rows]
    ours = fire_rate(board, refs, per_case)
    board.db.dispose()
    raw_board = fresh(folder / "raw.db")
    template = case_in(raw_board, State.SUB_GROUP)
    clone(folder / "raw.db", template, cases - 1)
    raw_board.db.dispose()
    conn = sqlite3.connect(folder / "raw.db")
    ids = [r[0] for r in conn.execute("SELECT id FROM cases WHERE state = 'sub_group'")]
    conn.close()
    raw = raw_rate(folder / "raw.db", ids, per_case)
    return {"trigger_per_s_sqlite": ours, "raw_sqlite_per_s": raw,
            "trigger_vs_raw_sqlite": ours / raw}
