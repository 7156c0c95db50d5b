"""The process definitions: states, triggers, guards, timers and recipients, as data and pure
functions, registered by name and version (states.registry). Imports nothing of the
project; every definition is validated when it is registered.
"""

from scr.states.process import ProcessDefinition
from scr.states.registry import REGISTRY, Registry, UnknownDefinition

__all__ = ["REGISTRY", "ProcessDefinition", "Registry", "UnknownDefinition"]
