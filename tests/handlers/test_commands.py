"""Command lines in e-mail: shown only to the roles that use the command line, always made
from the case's definition, and a wrong name fails the rendering; everyone else is pointed to
the portal's form, or told in words."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from jinja2 import UndefinedError

from scr.handlers.commands import ON_YOUR_BEHALF, Means, UnknownCommand
from scr.handlers.notices import CommandLine
from scr.handlers.render import ROLE_LABELS, TEMPLATE_NAMES, environment, render
from scr.lifecycle.core.notify import command_line
from scr.states.enums import COMMAND_LINE_ROLES
from scr.states.process import ProcessDefinition
from scr.states.registry import REGISTRY
from tests.handlers.samples import (
    CASE_URL,
    definitions_of,
    in_portal,
    levels_of,
    mailed_by,
    make_notice,
)

# "scr" followed by one of its commands or a global option: a command line. Prose says "scr
# will try again", and a notice from the daemon is "by scr (automatic)".
COMMAND_LINE = re.compile(r"\bscr\s+(?!will\b)(?:--[a-z]|[a-z])")
ADVANCE = re.compile(r"scr advance (\S+) ([a-z_]+)((?: (?!--)[a-z_]+=\S+| \.\.\.)*)(?: --reason)?")
PORTAL_ROLES = sorted(set(ROLE_LABELS) - {str(r) for r in COMMAND_LINE_ROLES})


def cases() -> list[object]:
    """Every template with every definition that mails it (the same shared template says
    what to type about a case of each)."""
    return [pytest.param(name, d, id=f"{name}-{d.name}{d.version}")
            for name in TEMPLATE_NAMES for d in definitions_of(name)]


def bodies(name: str, definition: ProcessDefinition, role: str, commands: CommandLine,
           ) -> list[str]:
    """Both bodies for every level of `name`, without a portal and with one."""
    found = []
    for level in levels_of(name):
        notice = make_notice(name, level=level, recipient_role=role)
        for shown in (notice, in_portal(notice, definition)):
            done = render(shown, commands)
            found += [done.text, re.sub(r"</?code>", "", done.html)]
    return found


def test_the_command_line_is_used_by_the_business_manager_and_the_auditor():
    """The declaration (states/enums.py): the business manager (and the auditor, who takes
    backups) use the command line; the chairs, partners, agency leads, reviewers and the
    rest act in the portal."""
    assert {str(r) for r in COMMAND_LINE_ROLES} == {"business_manager", "auditor"}
    assert command_line(REGISTRY.get("cspr", "1")).roles == {"business_manager", "auditor"}


@pytest.mark.parametrize(("name", "definition"), cases())
def test_no_command_line_reaches_a_role_that_does_not_use_it(name, definition):
    """(a) For every template, level and role outside COMMAND_LINE_ROLES, of every
    definition, neither body prints a command line, with a portal or without."""
    commands = command_line(definition)
    for role in PORTAL_ROLES:
        for body in bodies(name, definition, role, commands):
            assert not COMMAND_LINE.findall(body), (name, role, COMMAND_LINE.findall(body))


@pytest.mark.parametrize(("name", "definition"), cases())
def test_every_command_line_names_a_trigger_of_the_definition_and_its_parameters(
        name, definition):
    """(b) Every command line any role could be shown (here every role is shown them, so
    each role's guidance is read) names a trigger a person fires in the case's definition,
    with only that trigger's parameters, for this case."""
    everyone = replace(command_line(definition), roles=frozenset(ROLE_LABELS))
    fired = {spec.name: {p.name for p in spec.params} for spec in definition.all_triggers
             if not spec.system_only}
    for role in ROLE_LABELS:
        for body in bodies(name, definition, role, everyone):
            flat = " ".join(body.split())
            for ref, trigger, params in ADVANCE.findall(flat):
                assert ref == "CR-2026-0001", (name, role, ref)
                assert trigger in fired, (name, role, trigger)
                keys = {p.partition("=")[0] for p in params.split() if p != "..."}
                assert keys <= fired[trigger], (name, role, trigger, keys - fired[trigger])
            assert flat.count("scr advance") == len(ADVANCE.findall(flat)), (name, role, flat)


def test_the_business_manager_is_shown_the_command_generated_from_the_definition():
    """The line is the definition's trigger with the keys the template gives, in the text
    and (as code) in the HTML."""
    notice = make_notice("request_information", recipient_role="business_manager")
    done = render(notice, command_line(REGISTRY.get("scr", "1")))
    assert ("(scr advance CR-2026-0001 add_agency agency=...)" in " ".join(done.text.split()))
    assert ("(<code>scr advance CR-2026-0001 submit_to_sub_group meeting_date=YYYY-MM-DD"
            "</code>)") in done.html


def test_a_portal_role_is_pointed_to_its_form_and_without_a_portal_is_told_in_words():
    """An agency lead is offered the portal's form of the return (its label, its link), or,
    on a board without a portal, no means at all and a word that the business manager
    records it for them."""
    scr = REGISTRY.get("scr", "1")
    notice = make_notice("request_information", recipient_role="agency_lead")
    commands = command_line(scr)
    done = render(in_portal(notice, scr), commands)
    spec = scr.trigger("record_return")
    assert spec is not None
    label = spec.label
    assert f"or record it yourself (in the portal: {label})." in " ".join(done.text.split())
    assert (f'(in the portal: <a href="{CASE_URL}/record_return">{label}</a>)'
            in done.html.replace("&#39;", "'"))
    assert ON_YOUR_BEHALF not in done.text
    bare = render(notice, commands)
    assert "record it yourself" not in bare.text + bare.html
    assert ON_YOUR_BEHALF in " ".join(bare.text.split()) and ON_YOUR_BEHALF in bare.html


def test_a_form_the_role_is_not_offered_now_points_to_the_case():
    """When the notice does not offer the trigger's form to the recipient's role, the
    pointer is to the case in the portal."""
    notice = replace(make_notice("commission_scr", recipient_role="lead_reviewer"),
                     case_url=CASE_URL)
    done = render(notice, command_line(REGISTRY.get("scr", "1")))
    assert "record each milestone as it is reached (in the portal)" in " ".join(
        done.text.split())
    assert f'(<a href="{CASE_URL}">in the portal</a>)' in done.html


def test_a_case_of_another_definition_fails_on_a_trigger_it_does_not_have():
    """(c) Rendering refuses loudly, as for an unknown template, when the template names a
    trigger the case's definition does not have (an SCR's e-mail for a learning register
    record), whether the recipient is shown the command or pointed to the portal."""
    learning = command_line(REGISTRY.get("learning", "1"))
    for template, role, trigger in (("refer", "business_manager", "request_information"),
                                    ("recommend", "chair", "commission_scr")):
        assert trigger not in learning.triggers
        with pytest.raises(UnknownCommand, match=f"no trigger '{trigger}'"):
            render(make_notice(template, recipient_role=role), learning)


@pytest.mark.parametrize(("source", "error"), [
    ('{{ command("no_such_trigger") }}', "no trigger 'no_such_trigger'"),
    ('{{ command("record_return", agency="x", colour="red") }}', "takes no colour"),
    ('{{ command("record_return", "anything") }}', "only '...' may follow"),
])
@pytest.mark.parametrize("role", ["business_manager", "agency_lead"])
def test_an_unknown_trigger_or_parameter_fails(source, error, role):
    """(c) A trigger the definition lacks, a key its trigger does not take, or an unnamed
    value other than "..." raises UnknownCommand, for a role shown commands or not."""
    means = Means(make_notice(recipient_role=role), command_line(REGISTRY.get("scr", "1")),
                  html=False)
    with pytest.raises(UnknownCommand, match=error):
        environment().from_string(source).render(**means.helpers())


def test_reason_is_the_trigger_s_reason_and_may_not_be_a_parameter():
    """`reason=` is every trigger's --reason; a definition with a parameter of that name is
    refused rather than mailed ambiguous commands."""
    means = Means(make_notice(recipient_role="business_manager"),
                  command_line(REGISTRY.get("scr", "1")), html=False)
    said = environment().from_string('{{ command("withdraw", reason="...") }}').render(
        **means.helpers())
    assert said == "scr advance CR-2026-0001 withdraw --reason ..."
    with pytest.raises(ValueError, match="named 'reason'"):
        CommandLine({"record_thing": ("reason",)}, frozenset())


def test_without_a_definition_nobody_is_shown_a_command():
    """A notice rendered without its definition's commands (nothing to check them against)
    shows no command line to anyone, and adds no word about the business manager."""
    for role in ROLE_LABELS:
        done = render(make_notice("request_information", recipient_role=role))
        assert not COMMAND_LINE.findall(done.text + done.html), role
        assert ON_YOUR_BEHALF not in done.text


def test_the_helpers_are_not_globals():
    """A template rendered outside render() has no helpers: the commands always come with
    the notice they are about."""
    with pytest.raises(UndefinedError):
        environment().from_string('{{ command("withdraw") }}').render()


@pytest.mark.parametrize("definition", list(REGISTRY), ids=lambda d: "/".join(d.key))
def test_the_business_manager_is_shown_commands_of_each_definition(definition):
    """The checks above are not empty: e-mail about each definition's cases shows the
    business manager command lines."""
    commands = command_line(definition)
    shown = sum(len(ADVANCE.findall(body)) for name in sorted(mailed_by(definition))
                for body in bodies(name, definition, "business_manager", commands))
    assert shown > 0
