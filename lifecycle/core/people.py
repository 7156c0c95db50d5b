"""Names and logins of the board's people: what makes two names the same person's, and the
names scr keeps for itself.

Two names are taken for one when they differ only in case, spacing, compatibility forms
(full-width letters, ligatures) or characters that look alike across scripts (Cyrillic
U+0435 for a Latin "e", "I" for "l"), by the confusables data of Unicode Technical Standard
#39 (the confusable_homoglyphs package ships it). A user whose name looks like another's
could be mistaken for them in history and e-mail, where the name is all a reader sees.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# The names scr writes for itself in history and e-mail: the daemon, the account that adds
# the first user, and the label of automatic firings (lifecycle.core.engine).
RESERVED = ("system", "scr", "scr (automatic)", "test")
RESERVED_PREFIX = "os:"
# A POSIX login as Debian's adduser accepts it by default.
LOGIN = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")


@cache
def _classes() -> dict[str, str]:
    """Each character that looks like another, to one character standing for all that look
    alike (an ASCII one when there is one). The data lists look-alikes one way ("I" looks
    like "l"; "l" like "1", "|" and "I"), so its lists are joined into classes."""
    from confusable_homoglyphs import confusables

    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for char, glyphs in confusables.confusables_data.items():
        for glyph in glyphs:
            if len(char) == 1 and len(glyph["c"]) == 1:
                parent[root(glyph["c"])] = root(char)
    members: dict[str, list[str]] = {}
    for c in parent:
        members.setdefault(root(c), []).append(c)
    chosen = {}
    for group in members.values():
        plain = [c for c in group if c.isascii()]
        stand = min(plain or group)
        chosen.update(dict.fromkeys(group, stand))
    return chosen


def _skeleton(text: str) -> str:
    classes = _classes()
    return "".join(classes.get(c, c) for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c))


def keys(name: str) -> frozenset[str]:
    """What two names that only look different have in common: they share a key. Two,
    because case and look-alikes overlap: "Ivy" looks like "lvy" before case is folded,
    and like "ivy" after."""
    spaced = " ".join(unicodedata.normalize("NFKC", name).split())
    return frozenset({_skeleton(spaced.casefold()).casefold(),
                      _skeleton(spaced).casefold()})


def looks_like(name: str, other: str) -> bool:
    return bool(keys(name) & keys(other))


def reserved(name: str) -> bool:
    """A name scr uses for itself, in any spelling that looks like it."""
    if any(looks_like(name, r) for r in RESERVED):
        return True
    prefix = len(RESERVED_PREFIX)
    return looks_like(" ".join(name.split())[:prefix], RESERVED_PREFIX)
