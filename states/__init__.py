"""The process definition: states, triggers, guards, timers and recipients, as data and pure
functions. Imports nothing of the project; validated at import."""

from states import validate as _validate
from states.definition import VERSION

_validate.check()

__all__ = ["VERSION"]
