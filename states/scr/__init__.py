"""The Serious Case Review process, by version."""

from scr.states.scr.v1 import DEFINITION as V1
from scr.states.scr.v2 import DEFINITION as V2

__all__ = ["V1", "V2"]
