"""A sample notice for the handlers' tests: one realistic set of safe fields; and the shipped
definitions' commands, to render a template as delivery does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from scr.handlers.catalogue import SYSTEM_TEMPLATES, TIMER_PREFIX, shared_of, template_for
from scr.handlers.notices import CommandLine, Deadline, Notice, Rendered
from scr.handlers.render import render
from scr.lifecycle.core.notify import command_line
from scr.states.process import ProcessDefinition
from scr.states.registry import REGISTRY

DUE_UTC = datetime(2026, 6, 5, 9, 15, tzinfo=UTC)
PORTAL = "https://scr.anyshire.example"
CASE_URL = f"{PORTAL}/cases/CR-2026-0001"


def make_notice(template: str = "request_information", **changes: object) -> Notice:
    notice = Notice(
        template=template,
        board_name="Anyshire Safeguarding Children Board",
        case_ref="CR-2026-0001",
        pseudonym="Child K",
        state="information_request",
        state_label="Information request",
        source="referral",
        event_label="Information requested from agencies",
        actor="Jane Smith",
        reason="Agreed at the triage call",
        details=(("Agencies", "health, police"),),
        next_deadline=Deadline("Agency returns due", DUE_UTC),
        recipient_name="Pat Lee",
        recipient_role="agency_lead",
    )
    return replace(notice, **changes)  # type: ignore[arg-type]


def mailed_by(definition: ProcessDefinition) -> set[str]:
    """The templates a case of `definition` is mailed with: each trigger's (the daemon's
    own aside), each timer ladder's that announces a level by e-mail, and the system's."""
    names = {spec.name for spec in (definition.create, *definition.all_triggers)
             if spec is not definition.timer_trigger}
    names |= {f"{TIMER_PREFIX}{t.ladder}" for t in definition.timers if t.announced}
    return {template_for(definition.templates, name) for name in names | set(SYSTEM_TEMPLATES)}


def definitions_of(template: str) -> list[ProcessDefinition]:
    """The shipped definitions a template is mailed for."""
    return [d for d in REGISTRY if template in mailed_by(d)]


def levels_of(template: str) -> tuple[str | None, ...]:
    """The levels a template fires at; (None,) for a trigger's or the system's."""
    base = shared_of(template)
    if not base.startswith(TIMER_PREFIX):
        return (None,)
    ladder = base.removeprefix(TIMER_PREFIX)
    return tuple(dict.fromkeys(level.name for d in REGISTRY for t in d.timers
                               if t.ladder == ladder for level in t.announced))


def commands_for(template: str) -> CommandLine:
    """The commands of the first shipped definition that mails `template`."""
    return command_line(definitions_of(template)[0])


def rendered(template: str, **changes: object) -> Rendered:
    """`template` rendered as delivery renders it: with its definition's commands."""
    return render(make_notice(template, **changes), commands_for(template))


def in_portal(notice: Notice, definition: ProcessDefinition) -> Notice:
    """The notice on a board with a portal, offering its recipient the form of every trigger
    their role may fire in `definition` (the engine offers those of the case's state)."""
    role = notice.recipient_role
    act = tuple((role, spec.label, f"{CASE_URL}/{spec.name}")
                for spec in definition.all_triggers if not spec.system_only
                and any(str(rule.role) == role for rule in spec.roles))
    return replace(notice, case_url=CASE_URL, act=act)
