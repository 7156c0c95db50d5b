"""`scr show` from a cold start against a bare interpreter that only imports SQLAlchemy,
and `scr show` inside one shell session."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

from bench.seed import case_in, fresh
from scr.states.enums import State

ROOT = Path(__file__).resolve().parents[1]


def _scr() -> list[str]:
    """The installed console script when there is one (as a user runs it)."""
    script = Path(sys.executable).with_name("scr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scr.lifecycle.cli"]


def _interpreter(command: list[str]) -> list[str]:
    """The interpreter `command` starts, with its flags: the console script's `#!` line,
    else this interpreter. The floor runs on exactly what `scr` runs on."""
    script = Path(command[0])
    if len(command) == 1:
        with script.open("rb") as f:
            first = f.readline().decode()
        if first.startswith("#!"):
            return shlex.split(first[2:])
    return [sys.executable]


def _cold(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def show_times(folder: Path, *, rounds: int = 11) -> dict[str, float]:
    """A cold `scr show` and the floor (the same interpreter with the same flags and
    environment, doing nothing but `import sqlalchemy`), alternated round by round; the
    ratio is the median of the rounds' ratios."""
    path = folder / "show.db"
    board = fresh(path)
    ref = case_in(board, State.PUBLISHED)
    board.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCR_")}
    env.update({"PYTHONPATH": str(ROOT), "SCR_DATABASE_URL": f"sqlite:///{path}"})
    show = [*_scr(), "show", ref]
    floor = [*_interpreter(_scr()), "-c", "import sqlalchemy"]
    _cold(show, env, folder)  # warm up: the file system's cache, as for any second run
    _cold(floor, env, folder)
    ours, bare, ratios = [], [], []
    for _ in range(rounds):
        ours.append(_cold(show, env, folder))
        bare.append(_cold(floor, env, folder))
        ratios.append(ours[-1] / bare[-1])
    return {"show_cold_s": median(ours), "import_sqlalchemy_s": median(bare),
            "show_cold_vs_import": median(ratios),
            "show_in_shell_ms": _in_shell(path, ref, rounds) * 1e3}


def _in_shell(path: Path, ref: str, runs: int) -> float:
    from scr.lifecycle.cli.app import App
    from scr.lifecycle.cli.shell import Shell
    from scr.lifecycle.settings import load

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
