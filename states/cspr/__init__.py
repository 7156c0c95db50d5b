"""The Child Safeguarding Practice Review process, by version, and how running cases move
from one version to the next (states/migration.py)."""

from scr.states.cspr.v1 import DEFINITION as V1
from scr.states.cspr.v2 import DEFINITION as V2
from scr.states.cspr.v2 import MIGRATION as V1_TO_V2

MIGRATIONS = (V1_TO_V2,)

__all__ = ["MIGRATIONS", "V1", "V2"]
