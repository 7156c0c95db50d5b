"""Triggers per second through `Engine.fire`, against raw sqlite3 committing the same rows."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from bench.seed import T0, case_in, clone, fresh
from scr.states.enums import State
from scr.storage import cases as stored_cases
from scr.storage.db import reading, transaction
from tests.board import QUORUM, SUBCHAIR, Board


def fire_rate(board: Board, refs: list[str], per_case: int) -> float:
    """record_meeting (re-arms the recommendation ladder, mails the sub-group and queues
    its calendar invitations), fired `per_case` times on each case, one transaction each."""
    actor = board.actor(SUBCHAIR)
    moments = [T0 + timedelta(days=30, minutes=k) for k in range(per_case)]
    start = time.perf_counter()
    for k, at in enumerate(moments):
        for ref in refs:
            with transaction(board.db) as tx:
                board.engine.fire(tx, ref, "record_meeting", actor=actor,
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
    for _ in range(per_case):
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
                "'pending', 0, ?, ?)", (case_id, f"<raw-{uuid4().hex}@bench>", stamp, stamp))
            conn.execute("COMMIT")
            n += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def _sub_group_cases(folder: Path, name: str, cases: int) -> tuple[Board, list[str]]:
    board = fresh(folder / name)
    template = case_in(board, State.SUB_GROUP)
    clone(folder / name, template, cases - 1)
    with reading(board.db) as tx:
        refs = [c.ref for c in stored_cases.listing(tx, state="sub_group")]
    return board, refs


def sqlite_ratio(folder: Path, *, cases: int = 20, per_case: int = 2,
                 rounds: int = 11) -> dict[str, float]:
    """Both rates measured in alternation, round by round, so a noisy moment on the machine
    weighs on both; the ratio is the median of the rounds' ratios. Many short rounds
    (40 triggers, then the raw side) alternate often enough that the host's noise cancels:
    five long rounds swung between 0.25 and 0.30 from one run to the next."""
    from statistics import median

    board, refs = _sub_group_cases(folder, "fire.db", cases)
    raw_board, _ = _sub_group_cases(folder, "raw.db", cases)
    raw_board.db.dispose()
    conn = sqlite3.connect(folder / "raw.db")
    ids = [r[0] for r in conn.execute("SELECT id FROM cases WHERE state = 'sub_group'")]
    conn.close()
    fire_rate(board, refs[:2], 1)  # warm up: imports, caches, templates
    ours, raw, ratios = [], [], []
    for _ in range(rounds):
        ours.append(fire_rate(board, refs, per_case))
        raw.append(raw_rate(folder / "raw.db", ids, per_case))
        ratios.append(ours[-1] / raw[-1])
    board.db.dispose()
    return {"trigger_per_s_sqlite": median(ours), "raw_sqlite_per_s": median(raw),
            "trigger_vs_raw_sqlite": median(ratios)}


def postgres_rate(url: str, *, cases: int = 20, per_case: int = 5) -> float:
    """Triggers per second through `Engine.fire` on PostgreSQL (same trigger as above)."""
    from scr.lifecycle.core.engine import Engine
    from scr.states.config import ProcessConfig
    from scr.storage.db import make_engine
    from scr.storage.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        board = Board(engine, Engine(ProcessConfig(start=("scr", "1"))))
        board.seed_users()
        refs = [case_in(board, State.SUB_GROUP) for _ in range(cases)]
        fire_rate(board, refs[:2], 1)
        return fire_rate(board, refs, per_case)
    finally:
        engine.dispose()
