"""The README's tour, run exactly as written: every command of its shell blocks, in order,
in one bash session, from a folder laid out as the repository's (its `.venv` the one these
tests run in). Each must exit 0 but the one the tour says is refused; and what the text
claims of them holds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.cli.scr import Scr
from tests.clock import DAYS_AHEAD, days_ahead, pythonpath

ROOT = Path(__file__).resolve().parent.parent
REFUSED = re.compile(r"#\s*refused: exit status (\d)")


def tour_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", tour, flags=re.S):
        commands += [line for line in block.splitlines()
                     if line.strip() and not line.lstrip().startswith("#")]
    return commands


def test_the_tour_has_the_steps_it_describes():
    commands = tour_commands()
    assert commands[0] == "source .venv/bin/activate"
    assert any(c.startswith("scr refer") for c in commands)
    assert sum(c.startswith("scr tick") for c in commands) == 2
    assert [c for c in commands if REFUSED.search(c)], "the refused step is marked"


def test_the_tour_runs_as_written(tmp_path):
    """In a folder like the repository's: `.venv/bin/activate` puts this environment's
    `scr` first on the path, as the real one does. The wall clock is three years ahead."""
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "activate").write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    script = ["set -u", "exec 3>status"]
    expected = []
    for number, command in enumerate(tour_commands()):
        script += [command, f'echo "{number} $?" >&3']
        found = REFUSED.search(command)
        expected.append(int(found.group(1)) if found else 0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCR_")}
    env["PYTHONPATH"] = pythonpath()
    # The tour runs on its own clock (SCR_NOW): it holds with the wall clock three years
    # further ahead than the suite's (tests/clock.py).
    env[DAYS_AHEAD] = str(days_ahead() + 1096)
    run = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    statuses = [int(line.split()[1]) for line in
                (tmp_path / "status").read_text().splitlines()]
    commands = tour_commands()
    assert len(statuses) == len(commands), run.stderr[-2000:]
    wrong = [(c, s, e) for c, s, e in zip(commands, statuses, expected, strict=True)
             if s != e]
    assert not wrong, (wrong, run.stderr[-2000:])
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: submit_to_sub_group refused")
    assert "outstanding" in errors[0]
    board = tmp_path / "tour"
    # What the text says of the run: the board of its own, the first tick's reminder, the
    # second's escalation and automatic submission flagged incomplete, the e-mail delivered.
    # Read through the command line's own entry point in this process, at the tour's last
    # moment (SCR_NOW): only the tour itself needs the moved wall clock.
    reading = {k: v for k, v in env.items() if k != DAYS_AHEAD}
    if DAYS_AHEAD in os.environ:
        reading[DAYS_AHEAD] = os.environ[DAYS_AHEAD]  # this process's clock
    reading.update(SCR_DATABASE_URL="sqlite:///scr.db", SCR_ALLOW_CLOCK_OVERRIDE="1",
                   SCR_NOW="2026-12-08T09:00")
    scr = Scr(board, reading)
    case = scr.ok("show", "CR-2026-0001", "--json").json()
    assert case["process"] == "cspr" and "incomplete_returns" in case["flags"]
    history = scr.ok("history", "CR-2026-0001", "--json").json()
    moments = [h["at"] for h in history]
    assert moments == sorted(moments), "history in the order things happened"
    timers = [(h["params"].get("timer"), h["params"].get("level")) for h in history
              if h["trigger"] == "timer"]
    assert ("returns", "reminder") in timers and ("returns", "overdue") in timers
    assert len(list((board / "mail" / "new").iterdir())) > 5
    assert not (tmp_path / "scr.db").exists()  # the tour never touched another board
