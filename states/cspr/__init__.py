"""The Child Safeguarding Practice Review process, by version."""

from scr.states.cspr.v1 import DEFINITION as V1
from scr.states.cspr.v2 import DEFINITION as V2

__all__ = ["V1", "V2"]
