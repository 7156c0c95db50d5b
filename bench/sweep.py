"""A sweep's cost follows what is due, not what is stored: 1,000 due timers among
1,000,000 pending, against the same among 10,000."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from bench.seed import T0, case_in, clone, far_future_timers, fresh
from scr.lifecycle.runtime.sweep import sweep
from scr.states.enums import State

DUE = 1000


def _world(folder: Path, stored: int) -> Path:
    """`DUE` cases in referral whose triage reminders are due, and `stored` pending timers
    in all (the rest due years ahead, spread over filler cases, ten per case)."""
    path = folder / f"sweep-{stored}.db"
    board = fresh(path)
    template = case_in(board, State.REFERRAL)
    board.db.dispose()
    clone(path, template, DUE - 1)
    conn = sqlite3.connect(path)
    # Keep only the triage reminder as each case's pending timer: one due firing per case.
    conn.execute("DELETE FROM timers WHERE name != 'triage.reminder'")
    conn.commit()
    (have,) = conn.execute("SELECT count(*) FROM timers WHERE status = 'pending'").fetchone()
    conn.close()
    far_future_timers(path, stored - have, max(1, (stored - have) // 10))
    return path


def sweep_seconds(path: Path) -> float:
    """Seconds for one sweep firing the `DUE` reminders (a fresh copy of the database)."""
    import shutil

    from scr.lifecycle.core.engine import Engine
    from scr.storage.db import make_engine

    copy = path.with_suffix(".run.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copy2(path, copy)
    engine = make_engine(f"sqlite:///{copy}")
    try:
        start = time.perf_counter()
        report = sweep(engine, Engine(), T0 + timedelta(days=4))
        took = time.perf_counter() - start
        fired = len(report.of("fired"))
        assert fired == DUE, f"the sweep fired {fired}, not {DUE}"
        return took
    finally:
        engine.dispose()


def ratio(folder: Path, *, runs: int = 3) -> dict[str, float]:
    from statistics import median

    small, large = _world(folder, 10_000), _world(folder, 1_000_000)
    times_small, times_large = [], []
    for _ in range(runs):  # alternated, so that both see the same machine
        times_small.append(sweep_seconds(small))
        times_large.append(sweep_seconds(large))
    return {"sweep_10k_s": median(times_small), "sweep_1m_s": median(times_large),
            "sweep_1m_vs_10k": median(times_large) / median(times_small)}
