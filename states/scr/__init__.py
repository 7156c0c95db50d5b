"""The Serious Case Review process, by version."""

from states.scr.v1 import DEFINITION as V1

__all__ = ["V1"]
