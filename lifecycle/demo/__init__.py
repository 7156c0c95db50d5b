"""`scr demo`: a self-contained training run on a throwaway board with a simulated clock.

Four cases go through their lifecycles by the product's own Engine.fire, sweep and
deliver_outbox, narrated step by step: three of the board's older Serious Case Reviews (an
SCR, a case review published as a learning briefing, and a decision not to review), which
finish under the rules they began with (`scr` version 1), and a Child Safeguarding Practice
Review begun after the board switched new cases to `cspr` version 1. The run ends with the
e-mail in a maildir and a timeline picture of the SCR. See play (the stage), story (the
script) and run (the driver).

Only `add_commands` is imported when `scr` starts; the demo loads when it runs.
"""

from __future__ import annotations

import argparse
from argparse import Namespace
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scr.lifecycle.cli.app import App, Output


def demo(app: App, args: Namespace) -> Output:
    from scr.lifecycle.demo.play import play

    return play(app, args)


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`scr demo`."""
    p = command("demo", "a training run on a throwaway board: four cases (three under "
                "the SCR process, then a CSPR) through their lifecycles on a simulated clock, "
                "narrated, ending with their e-mail and a timeline picture")
    p.add_argument("--dir", metavar="DIR",
                   help="a new or empty folder for the demo's database, maildir, log and "
                   "picture (default: ./scr-demo-YYYYmmdd-HHMMSS); never one holding a "
                   "database")
    p.add_argument("--fast", action="store_true",
                   help="no pauses between chapters (there are none unless the output is a "
                   "terminal)")
    # Not inside the shell: the shell is a board's live database; the demo makes its own.
    p.set_defaults(func=demo, in_shell=False)
