"""How an e-mail tells its recipient the way to do what it asks: a command line, the portal's
form, or nothing but the words around it.

The templates never spell a command out. They call the helpers a body is rendered with:

- `command(trigger, **params)`: fire a trigger of the case's definition. Each key is one
  of the trigger's parameters, its value what the reader fills in (`"YYYY-MM-DD"`,
  `"..."`); `reason` is the trigger's `--reason`; a positional `"..."` says that more
  parameters follow. A trigger the definition does not have, or a key the trigger does not
  take, raises `UnknownCommand`, whoever the recipient.
- `case_record()`: where the case record is read.
- `scr(*words)`: another command of the command line (`scr("users")`).

and the `aside` filter, which puts what one returns in brackets after the words it follows
(or leaves nothing, when it returned nothing).

Only a recipient whose role uses the command line (`CommandLine.roles`) is shown a command.
Anyone else is pointed to the portal, when the board has one: to the form of the trigger
when the notice offers it to their role (`Notice.act`), else to the case. Without a portal
they are shown nothing, and the layout adds that the business manager records for them
what they decide or do (`on_your_behalf`), as SECURITY.md's "Identity on the command line"
describes (`scr --as NAME`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from scr.handlers.notices import CommandLine, Notice

# The words each body adds when a command was not shown and there is no portal.
ON_YOUR_BEHALF = ("The business manager records what you decide or do in the case system on "
                  "your behalf.")
# A parameter's value, or more of them, still to be filled in.
MORE = "..."


class UnknownCommand(LookupError):
    """A template names a trigger the case's definition does not have, or a parameter the
    trigger does not take."""


class Means:
    """The helpers one body (text or HTML) of one notice is rendered with."""

    def __init__(self, notice: Notice, commands: CommandLine | None, *, html: bool) -> None:
        self.notice = notice
        self.commands = commands
        self.html = html
        self.typed = commands is not None and notice.recipient_role in commands.roles
        # A command was asked for and nothing could be shown: no command line, no portal.
        self.unshown = False

    def helpers(self) -> dict[str, Callable[..., Any]]:
        return {"command": self.command, "case_record": self.case_record, "scr": self.scr,
                "on_your_behalf": self.on_your_behalf}

    def command(self, trigger: str, *more: str, **params: str) -> str:
        """`scr advance REF TRIGGER key=value ... [--reason R]`, or the portal's form."""
        self._check(trigger, more, params)
        if self.typed:
            reason = params.pop("reason", None)
            words = ["scr", "advance", self.notice.case_ref, trigger,
                     *(f"{key}={value}" for key, value in params.items()), *more]
            if reason is not None:
                words += ["--reason", reason]
            return self._code(words)
        if self.notice.case_url is None:
            self.unshown = self.commands is not None
            return ""
        form = f"{self.notice.case_url}/{trigger}"
        for role, label, address in self.notice.act:
            if role == self.notice.recipient_role and address == form:
                return self._link("in the portal: ", form, label)
        return self._link("", self.notice.case_url, "in the portal")

    def case_record(self) -> str:
        """`scr show REF` (`scr learning show REF` for a review), or the case in the
        portal."""
        if self.typed:
            read = ("learning", "show") if self.notice.record == "review" else ("show",)
            return self._code(["scr", *read, self.notice.case_ref])
        if self.notice.case_url is None:
            return ""
        return self._link("", self.notice.case_url, "in the portal")

    def scr(self, *words: str) -> str:
        """Another command of the command line, for those who use it; nothing for anyone
        else."""
        return self._code(["scr", *words]) if self.typed else ""

    def on_your_behalf(self) -> str:
        """What a recipient without a command line or a portal is told once, when a command
        could not be shown to them."""
        return ON_YOUR_BEHALF if self.unshown else ""

    def _check(self, trigger: str, more: tuple[str, ...], params: dict[str, str]) -> None:
        if any(word != MORE for word in more):
            raise UnknownCommand(f"command({trigger!r}): only {MORE!r} may follow the trigger "
                                 f"unnamed, not {more!r}")
        if self.commands is None:  # no definition to check against: nothing will be shown
            return
        known = self.commands.triggers.get(trigger)
        if known is None:
            raise UnknownCommand(f"{self.notice.template}: the case's definition has no "
                                 f"trigger {trigger!r}")
        unknown = sorted(set(params) - {*known, "reason"})
        if unknown:
            raise UnknownCommand(f"{self.notice.template}: {trigger} takes no "
                                 f"{', '.join(unknown)}; it takes: {', '.join(known) or '-'}")

    def _code(self, words: list[str]) -> str:
        line = " ".join(words)
        return Markup("<code>{}</code>").format(line) if self.html else line

    def _link(self, lead: str, address: str, label: str) -> str:
        if self.html:
            return Markup('{}<a href="{}">{}</a>').format(lead, address, label)
        return f"{lead}{label}"


def aside(means: str) -> str:
    """The means in brackets after the words before it (" (scr show CR-2026-0001)"), or
    nothing."""
    if not means:
        return ""
    if isinstance(means, Markup):
        return Markup(" ({})").format(means)
    return f" ({means})"
