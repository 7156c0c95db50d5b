"""Running `scr` commands in this process (lifecycle.cli.main.run) against a test's database,
for the views' tests: the real parser, settings, App and error mapping, without the cost of
a subprocess."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from scr.lifecycle.cli import main as cli
from tests.cli.scr import Result


@dataclass
class InProcess:
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    url: str

    def __call__(self, *argv: str) -> Result:
        for name in ("SCR_ACTOR", "SCR_NOW", "SCR_CONFIG", "SCR_LOG_FILE"):
            self.monkeypatch.delenv(name, raising=False)
        self.monkeypatch.setenv("SCR_DATABASE_URL", self.url)
        self.monkeypatch.setenv("SCR_ALLOW_CLOCK_OVERRIDE", "1")
        self.monkeypatch.setenv("SCR_CHECK_VIEWS", "1")
        self.capsys.readouterr()
        code = cli.run(list(argv))
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def ok(self, *argv: str) -> Result:
        result = self(*argv)
        assert result.code == 0, f"scr {' '.join(argv)} exited {result.code}: {result.err}"
        return result
