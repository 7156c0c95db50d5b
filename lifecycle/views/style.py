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

from scr.states.enums import State

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
    """States, verdicts and statuses in colour (only called when colour is on), where such a
    word stands alone as a value: a table cell, the value after a label, the state a
    sentence of scr's names (`is in review (...)`). Never inside a label ('notice sent',
    'Case review sub-group', a table's header) or inside free text someone typed, where the
    same words are only words."""
    lines = text.split("\n")
    return "\n".join(line if BOLD in line or _markdown_header(line, lines[n + 1:n + 2])
                     else _PATTERN.sub(_paint, line) for n, line in enumerate(lines))


# What may stand before a value (a column gap after a cell, a table's bar, an arrow, the
# words scr writes before a state) and after one (the end, a gap, punctuation closing it).
_OPENS = re.compile(r"(?:\S {2,}|\| |→ |\bis in |\bstays in |\S {2,}in |\(state )$")
_VERDICT_OPENS = re.compile(r"\S: $")  # `role  chair: holds`, `guards  x  fails: why`
_CLOSES = re.compile(r"(?:$| {2,}| \|| →|[;:,)]| \(| —)")
_VERDICTS = frozenset(("allowed", "holds", "fails", "refused"))
_ANYWHERE = frozenset(("OVERDUE",))  # a shout no label or sentence uses


def _paint(m: re.Match[str]) -> str:
    word, line = m.group(1), m.string
    before = line[:m.start()]
    opens = _OPENS.search(before) or (word in _VERDICTS and _VERDICT_OPENS.search(before))
    if word in _ANYWHERE or (opens and _CLOSES.match(line, m.end())):
        return f"{_WORDS[word]}{word}{RESET}"
    return word


def _markdown_header(line: str, following: list[str]) -> bool:
    """Whether `line` names a Markdown table's columns (the next line is its |---| rule)."""
    return line.startswith("|") and bool(following) and following[0].startswith("|-")


def error(text: str) -> str:
    return f"{BOLD}{RED}{text}{RESET}"


def plain(text: str) -> str:
    """The text without any colour codes."""
    return ANSI.sub("", text)
