"""Colour for people at a terminal; nothing at all for pipes, files and scripts.

Text is always built plain. Colour is added last, only when the stream it goes to is a
terminal and the user has not asked for none (NO_COLOR, TERM=dumb), so output piped to
another program or a file is byte-for-byte the plain text.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from typing import TextIO

from states.enums import State

# Whether text being built now may carry colour (set by the shell around each command).
ENABLED: ContextVar[bool] = ContextVar("scr_colour", default=False)

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
CYAN = "\x1b[36m"

_WORDS = {
    State.REFERRAL: CYAN, State.INFORMATION_REQUEST: CYAN, State.SUB_GROUP: CYAN,
    State.CHAIR_DECISION: CYAN, State.REVIEW: BLUE, State.PUBLICATION_HOLD: YELLOW,
    State.PUBLISHED: GREEN, State.ACTIONS_SIGNED_OFF: DIM, State.CLOSED: DIM,
    "allowed": GREEN, "holds": GREEN, "sent": GREEN, "signed_off": GREEN, "yes": GREEN,
    "refused": BOLD + RED, "fails": BOLD + RED, "failed": BOLD + RED,
    "OVERDUE": BOLD + RED, "overdue": RED, "pending": YELLOW, "due": YELLOW,
}
_PATTERN = re.compile(r"(?<![\w.-])(" + "|".join(sorted(map(re.escape, _WORDS), key=len,
                                                         reverse=True)) + r")(?![\w-])")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def wanted(stream: TextIO) -> bool:
    """Whether `stream` is a terminal that wants colour."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def header(line: str) -> str:
    """A table's header line, bold when colour is on."""
    return f"{BOLD}{line}{RESET}" if ENABLED.get() and line else line


def highlight(text: str) -> str:
    """States, verdicts and statuses in colour (only called when colour is on). A bold
    header line is left as it is, and so is a label opening a line ('  referral   harm')."""

    def paint(m: re.Match[str]) -> str:
        word, line_start = m.group(1), m.string.rfind("\n", 0, m.start()) + 1
        if not m.string[line_start:m.start()].strip() and \
                m.string.startswith("  ", m.end()):
            return word
        return f"{_WORDS[word]}{word}{RESET}"

    return "\n".join(line if BOLD in line else _PATTERN.sub(paint, line)
                     for line in text.split("\n"))


def error(text: str) -> str:
    return f"{BOLD}{RED}{text}{RESET}"


def plain(text: str) -> str:
    """The text without any colour codes."""
    return ANSI.sub("", text)
