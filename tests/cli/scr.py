"""Running the real `scr` command in a subprocess, on the code of this tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.clock import pythonpath

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
                 **env: str) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "lifecycle.cli", *args], cwd=self.cwd,
            env={**self.env, **env}, input=stdin, capture_output=True, text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kw: Any) -> Result:
        """Run and insist on exit 0, showing stderr if not."""
        result = self(*args, **kw)
        assert result.code == 0, f"scr {' '.join(args)} exited {result.code}: {result.err}"
        return result


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
