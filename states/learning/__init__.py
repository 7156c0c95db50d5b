"""The learning register: reviews from elsewhere considered by the board, by version."""

from scr.states.learning.v1 import DEFINITION as V1

__all__ = ["V1"]
