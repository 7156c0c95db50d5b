"""Running the real `scr` command in a subprocess, on the code of this tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.clock import DAYS_AHEAD, pythonpath

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Scr:
    """`scr` in a working directory of its own, with its own database and maildir."""

    cwd: Path
    env: dict[str, str]

    @classmethod
    def in_dir(cls, cwd: Path, *, database_url: str | None = None, **extra: str) -> Scr:
        """`scr` as a board whose new cases start under SCR version 1 (the process these
        suites were written for) unless SCR_CONFIG says otherwise."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCR_")}
        env.update({
            "SCR_CONFIG": str(scr_v1_config()),
            "PYTHONPATH": pythonpath(),  # this tree, and the tests' clock
            "SCR_DATABASE_URL": database_url or f"sqlite:///{cwd / 'scr.db'}",
            "SCR_MAIL_DIR": str(cwd / "mail"),
            "SCR_ALLOW_CLOCK_OVERRIDE": "1",
            "SCR_CHECK_VIEWS": "1",  # every trigger's derived view checked against the rows
        })
        env.update(extra)
        return cls(cwd, env)

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 60,
                 process: bool = False, **env: str) -> Result:
        """Run `scr ARGS`: in this process, through the command line's own entry point,
        unless `process` asks for a process of its own (or the command is one that runs on:
        the shell, the daemon, the portal, the demo). The environment and the working
        directory are the command's for the length of the call."""
        merged = {**self.env, **env}
        if process or _runs_on(args) or merged.get(DAYS_AHEAD) != os.environ.get(DAYS_AHEAD):
            proc = subprocess.run(
                [sys.executable, "-m", "scr.lifecycle.cli", *args], cwd=self.cwd, env=merged,
                input=stdin, capture_output=True, text=True, timeout=timeout,
            )
            return Result(proc.returncode, proc.stdout, proc.stderr)
        return _in_process(args, merged, self.cwd, stdin)

    def ok(self, *args: str, **kw: Any) -> Result:
        """Run and insist on exit 0, showing stderr if not."""
        result = self(*args, **kw)
        assert result.code == 0, f"scr {' '.join(args)} exited {result.code}: {result.err}"
        return result


# Commands that run until stopped, or read a terminal: always in a process of their own.
_LONG_RUNNING = frozenset({"shell", "daemon", "web", "demo"})


def _runs_on(args: tuple[str, ...]) -> bool:
    from scr.lifecycle.cli.main import command_word

    return command_word(list(args)) in _LONG_RUNNING


def _in_process(args: tuple[str, ...], env: dict[str, str], cwd: Path,
                stdin: str | None) -> Result:
    """`scr ARGS` through lifecycle.cli.main.run in this process, as a process would see
    it: its own environment, working directory, standard input and output."""
    import io
    import logging
    from contextlib import redirect_stderr, redirect_stdout

    from scr.lifecycle.cli.main import run
    from scr.lifecycle.log import configure as configure_logging

    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    before = {id(getattr(h, "stream", None)) for h in logging.getLogger().handlers}
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")),
                                     encoding="utf-8")
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = run(list(args))
            except SystemExit as exc:  # argparse: --help, --version, a usage error
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.stdin = saved_stdin
        for handler in logging.getLogger().handlers:  # a log file the command opened
            stream = getattr(handler, "stream", None)
            if stream is not None and id(stream) not in before and stream not in (out, err):
                stream.close()
        configure_logging(level=logging.WARNING)  # as tests/conftest.py left it
    texts = []
    for stream in (out, err):
        stream.flush()
        raw = stream.buffer
        assert isinstance(raw, io.BytesIO)
        texts.append(raw.getvalue().decode("utf-8"))
    return Result(code, texts[0], texts[1])


def scr_v1_config() -> Path:
    """A configuration file that starts new cases under SCR version 1 (written once, beside
    the tests' temporary folders, so no test's own folder holds it)."""
    path = Path(tempfile.gettempdir()) / f"scr-tests-{os.getuid()}" / "scr-v1.toml"
    text = '[process]\ndefault = "scr"\nversion = "1"\n'
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)  # atomic: parallel workers never read half a file
    return path


def dump(folder: Path) -> str:
    """The SQLite database in `folder` as SQL text: equal dumps mean nothing was written."""
    import sqlite3

    conn = sqlite3.connect(folder / "scr.db")
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def in_process(monkeypatch: Any, folder: Path, *, now: datetime) -> None:
    """The environment for `scr` run in this process on the database in `folder` at `now`,
    its mail to a maildir there, new cases under SCR version 1, and nothing of the caller's
    own environment (views checked, an acting user, an audit key, a log file) let in."""
    for name, value in {"SCR_DATABASE_URL": f"sqlite:///{folder / 'scr.db'}",
                        "SCR_MAIL_DIR": str(folder / "mail"),
                        "SCR_CONFIG": str(scr_v1_config()), "SCR_ALLOW_CLOCK_OVERRIDE": "1",
                        "SCR_NOW": now.isoformat()}.items():
        monkeypatch.setenv(name, value)
    for name in ("SCR_CHECK_VIEWS", "SCR_ACTOR", "SCR_AUDIT_KEY", "SCR_AUDIT_KEY_FILE",
                 "SCR_LOG_FILE"):
        monkeypatch.delenv(name, raising=False)
