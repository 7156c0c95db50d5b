"""`scr show` from a cold start, and the same inside one shell session."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

from bench.seed import case_in, fresh
from states.enums import State

ROOT = Path(__file__).resolve().parents[1]


def _scr() -> list[str]:
    """The installed console script when there is one (as a user runs it)."""
    script = Path(sys.executable).with_name("scr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lifecycle.cli"]


def show_times(folder: Path, *, runs: int = 7) -> dict[str, float]:
    path = folder / "show.db"
    board = fresh(path)
    ref = case_in(board, State.PUBLISHED)
    board.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCR_")}
    env.update({"PYTHONPATH": str(ROOT), "SCR_DATABASE_URL": f"sqlite:///{path}"})
    cold = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*_scr(), "show", ref], env=env, cwd=folder, check=True,
                       stdout=subprocess.DEVNULL)
        cold.append(time.perf_counter() - start)
    return {"show_cold_s": median(cold), "show_in_shell_ms": _in_shell(path, ref, runs) * 1e3}


def _in_shell(path: Path, ref: str, runs: int) -> float:
    from lifecycle.cli.app import App
    from lifecycle.cli.shell import Shell
    from lifecycle.settings import load

    app = App(load(environ={"SCR_DATABASE_URL": f"sqlite:///{path}"}))
    shell = Shell(app, stdin=io.StringIO(), stdout=io.StringIO())
    shell.onecmd_plus_hooks(f"show {ref}")  # the session's first command opens the database
    times = []
    for _ in range(runs * 3):
        start = time.perf_counter()
        shell.onecmd_plus_hooks(f"show {ref}")
        times.append(time.perf_counter() - start)
    app.close()
    return median(times)
