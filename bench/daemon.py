"""The running daemon: its memory with many open cases, and how soon after its due moment
a timer fires."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

from bench.seed import case_in, clone, fresh
from scr.states.enums import State

ROOT = Path(__file__).resolve().parents[1]


def _env(path: Path, mail: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCR_")}
    env.update({"PYTHONPATH": str(ROOT), "SCR_DATABASE_URL": f"sqlite:///{path}",
                "SCR_MAIL_DIR": str(mail)})
    return env


def _start(path: Path, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "scr.lifecycle.cli", "daemon",
                             "--log-format", "json"], cwd=folder,
                            env=_env(path, folder / "mail"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_cases(folder: Path, n: int) -> Path:
    """`n` open cases in review (their completion timers months ahead), as a board's
    database holds them, and one delivered outbox row each."""
    path = folder / f"open-{n}.db"
    board = fresh(path)
    template = case_in(board, State.REVIEW)
    board.db.dispose()
    clone(path, template, n - 1)
    return path


def daemon_rss(path: Path, folder: Path, *, settle: float = 8.0) -> float:
    """Resident memory (MB) of `scr daemon` on `path` once it has woken and swept."""
    proc = _start(path, folder)
    try:
        time.sleep(settle)  # a benchmark, not a test: it waits for real time to pass
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited with {proc.returncode}")
        return _rss_mb(proc.pid)
    finally:
        _stop(proc)


def memory(folder: Path) -> dict[str, float]:
    small = daemon_rss(open_cases(folder, 1_000), folder)
    large = daemon_rss(open_cases(folder, 100_000), folder)
    return {"daemon_rss_1k_mb": small, "daemon_rss_100k_mb": large,
            "daemon_rss_100k_vs_1k": large / small}


def latency(folder: Path, *, timers: int = 12) -> dict[str, float]:
    """Median seconds between due moments and firings in a running daemon (real clock):
    triage reminders made due 3 to 14 s after the daemon starts."""
    path = folder / "latency.db"
    board = fresh(path)
    template = case_in(board, State.REFERRAL)
    board.db.dispose()
    clone(path, template, timers - 1)
    start = datetime.now(UTC) + timedelta(seconds=3)
    conn = sqlite3.connect(path)
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM timers WHERE name = 'triage.reminder' ORDER BY case_id")]
    for k, timer_id in enumerate(ids):
        due = (start + timedelta(seconds=k)).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("UPDATE timers SET due_at = ? WHERE id = ?", (due, timer_id))
    conn.execute("DELETE FROM timers WHERE name != 'triage.reminder'")
    # The cases were referred an hour ago by the real clock (the seed's T0 may lie ahead).
    earlier = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.execute("UPDATE cases SET referred_at = ?, state_entered_at = ?", (earlier, earlier))
    conn.execute("UPDATE timers SET armed_at = ?", (earlier,))
    conn.commit()
    conn.close()
    proc = _start(path, folder)
    try:
        deadline = time.monotonic() + timers + 30
        while time.monotonic() < deadline:
            conn = sqlite3.connect(path)
            (fired,) = conn.execute("SELECT count(*) FROM timers WHERE status = 'fired'"
                                    ).fetchone()
            conn.close()
            if fired == len(ids):
                break
            time.sleep(0.5)
    finally:
        _stop(proc)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT at, due_at FROM history WHERE trigger = 'timer'").fetchall()
    conn.close()
    delays = [(datetime.fromisoformat(at) - datetime.fromisoformat(due)).total_seconds()
              for at, due in rows]
    if len(delays) != len(ids):
        raise RuntimeError(f"only {len(delays)} of {len(ids)} timers fired")
    return {"timer_latency_s": median(delays), "timer_latency_max_s": max(delays)}


def main(argv: list[str]) -> int:
    """`python -m bench.daemon [RUNS]`: the timer-latency bench alone, RUNS times (3)."""
    import logging
    import tempfile

    from scr.lifecycle import log

    log.configure(level=logging.WARNING)
    runs = int(argv[0]) if argv else 3
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="scr-bench-") as folder:
            figures = latency(Path(folder))
        print(f"timer latency: median {figures['timer_latency_s'] * 1000:.1f} ms, "
              f"max {figures['timer_latency_max_s'] * 1000:.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
