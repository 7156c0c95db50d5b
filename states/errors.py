"""The one small tree of exceptions that every layer raises and the command line maps
to exit codes (README.md, "Commands"): bad input 2, refused 3, conflict 4."""

from __future__ import annotations


class LifecycleError(Exception):
    """Base of every error a user can cause; its message is one line meant for them."""

    exit_code = 1


class InvalidInput(LifecycleError):
    """A missing, unknown or malformed value: nothing was written.

    `fields` holds each field's problem, by field, when the input was a set of fields (a
    trigger's parameters): every one of them, so that a form shows them all at once."""

    exit_code = 2

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class NotFound(InvalidInput):
    """An unknown case, user or trigger."""


class Refused(LifecycleError):
    """A guard is false, the trigger does not apply in this state, or the actor lacks the role.

    `reasons` holds every failing reason, so a user can mend them all at once; `fields`
    those that are about one field of the input, by field (the reason a form shows by it).
    """

    exit_code = 3

    def __init__(self, message: str, reasons: tuple[str, ...] = (),
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.reasons = reasons or (message,)
        self.fields = fields or {}


class Conflict(LifecycleError):
    """The case changed since it was read; `version` is the one it is at now, when known."""

    exit_code = 4

    def __init__(self, message: str, version: int | None = None) -> None:
        super().__init__(message)
        self.version = version
