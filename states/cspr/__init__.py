"""The Child Safeguarding Practice Review process, by version."""

from scr.states.cspr.v1 import DEFINITION as V1

__all__ = ["V1"]
