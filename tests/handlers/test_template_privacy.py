from __future__ import annotations

import itertools
from dataclasses import fields, replace
from datetime import date

import pytest
from jinja2 import nodes
from jinja2.meta import find_referenced_templates, find_undeclared_variables

from scr.handlers.catalogue import LAYOUTS
from scr.handlers.commands import Means
from scr.handlers.notices import Deadline, Notice, template_for
from scr.handlers.render import TEMPLATE_NAMES, environment, render, template_files
from scr.states.case import CaseSnapshot, ReferralFacts
from scr.states.params import PType
from tests.handlers.samples import CASE_URL, DUE_UTC, commands_for, make_notice

NOTICE_FIELDS = {f.name for f in fields(Notice)}
DEADLINE_FIELDS = {f.name for f in fields(Deadline)}
# The case the e-mails below are about (only a trigger that shows the criteria reads it).
SNAPSHOT = CaseSnapshot(ref="CR-2026-0001", state="review", referred_at=DUE_UTC,
                        state_entered_at=DUE_UTC,
                        referral=ReferralFacts(date(2026, 11, 2), "death", "suspected"))
# Formatting only: none of these can fetch data from anywhere.
ALLOWED_FILTERS = {"local_time", "duration", "role_label", "state_name", "indent", "wordwrap",
                   "aside", "trim"}
# The commands of the case's definition and where the case record is (handlers/commands.py):
# they read the notice's reference, role and portal addresses, nothing more.
HELPERS = set(Means(make_notice(), None, html=False).helpers())


def parse(name: str) -> nodes.Template:
    env = environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return env.parse(source)


@pytest.mark.parametrize("name", template_files())
def test_templates_read_only_notice_fields(name: str) -> None:
    """No template looks up a variable (or global) that is not a field of Notice, or one of
    the helpers that say how to act."""
    assert find_undeclared_variables(parse(name)) <= NOTICE_FIELDS | HELPERS


@pytest.mark.parametrize("name", template_files())
def test_templates_reach_into_nothing_but_the_deadline(name: str) -> None:
    """The only attribute access is next_deadline.label / .due_at, or a block of the template
    (self.<block>); no item lookups."""
    tree = parse(name)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr), f"{name}: item lookup {node}"
        assert isinstance(node.node, nodes.Name), name
        if node.node.name == "self":
            assert node.attr in blocks_of(name), f"{name}: self.{node.attr}"
            continue
        assert node.node.name == "next_deadline", name
        assert node.attr in DEADLINE_FIELDS, f"{name}: next_deadline.{node.attr}"


def blocks_of(name: str) -> set[str]:
    """The blocks of a template and of those it extends."""
    tree = parse(name)
    found = {block.name for block in tree.find_all(nodes.Block)}
    for parent in find_referenced_templates(tree):
        found |= blocks_of(str(parent))
    return found


@pytest.mark.parametrize("name", template_files())
def test_templates_use_only_formatting_filters_and_the_layouts(name: str) -> None:
    """Filters only format; the only calls are super(), a block of the template and the
    helpers; the only other template pulled in is the layout, or for a regime's wording the
    shared template it words (cspr/refer.txt extends refer.txt)."""
    tree = parse(name)
    # A {% filter %} block holds its filters as Filter nodes, so this finds them too.
    used = {node.name for node in tree.find_all(nodes.Filter)}
    assert used <= ALLOWED_FILTERS
    for call in tree.find_all(nodes.Call):
        called = call.node
        if isinstance(called, nodes.Getattr):
            assert isinstance(called.node, nodes.Name) and called.node.name == "self", name
        else:
            assert isinstance(called, nodes.Name), name
            assert called.name in {"super"} | HELPERS, (name, called.name)
    folder, _, base = name.rpartition("/")
    allowed = {base} if folder else set(LAYOUTS)
    assert set(find_referenced_templates(tree)) <= allowed


def test_environment_offers_no_globals() -> None:
    """Templates cannot reach helpers like range() or lipsum(): the Notice is all there is
    (with, per body, the helpers that say how to act)."""
    env = environment()
    assert env.globals == {}
    assert find_undeclared_variables(env.parse("{{ range(3) }}")) == {"range"}


# ------------------------------------------------ free text a person types, in e-mail
# The free text that never reaches an e-mail's details (SECURITY.md, "Free text"): the
# pseudonym (every e-mail names the case by it already), the private text about the child,
# and the text that may hold case detail (an audit's note, the recommendations adopted from
# a review elsewhere, kept in their own tables).
NOT_MAILED = {"pseudonym", "summary", "evidence", "milestone", "location", "description",
              "note", "adopted",
              # CSPR version 2: the area the child lives in, and the rapid review's record
              "lives_in_area", "involvement", "practice_episodes", "safety_actions",
              "learning", "context"}
PLANTED = "Jaydon Wolfenden-Pryce"


def _triggers_with_free_text() -> list[tuple[str, str]]:
    from scr.states.registry import REGISTRY

    return [(f"{d.name}/{d.version}", t.name) for d in REGISTRY
            for t in (d.create, *d.all_triggers)
            if t.name != d.timer_trigger.name
            and any(p.type in (PType.TEXT, PType.LONG_TEXT) for p in t.params)]


@pytest.mark.parametrize(("process", "trigger"), _triggers_with_free_text())
def test_e_mail_states_no_free_text_that_may_hold_case_detail(process, trigger):
    """A name planted in every free-text parameter of every trigger reaches the trigger's
    rendered e-mail only through those it may (a report title, an action's owner, a lead
    reviewer): never through a milestone, an output's location, an action's description,
    the pseudonym or the private text."""
    from scr.lifecycle.core.engine import mail_details
    from scr.lifecycle.core.process import Processes

    found = Processes().get(*process.split("/"))
    spec = found.definition.trigger(trigger)
    assert spec is not None
    texts = {p.name: f"{PLANTED} ({p.name})" for p in spec.params
             if p.type in (PType.TEXT, PType.LONG_TEXT)}
    details = mail_details(found, spec, texts, {}, SNAPSHOT)
    done = render(make_notice(template_for(found.definition.templates, trigger),
                              details=details))
    for name, text in texts.items():
        shown = [part for part in (done.text, done.html) if text in part]
        assert bool(shown) == (name not in NOT_MAILED), name


@pytest.mark.parametrize("name", [n for n in TEMPLATE_NAMES
                                  if n.rpartition("/")[2] in ("add_action", "timer.action")])
def test_an_action_owner_is_sent_to_the_case_record_for_what_the_action_asks(name):
    """E-mail does not carry an action's description: what its owner is told to do says
    where to read it (the case in the portal, where the board has one), and never points at
    a description "above"."""
    levels = ("reminder", "overdue") if name.endswith("timer.action") else (None,)
    for level, portal in itertools.product(levels, (False, True)):
        notice = make_notice(name, recipient_role="action_owner", level=level)
        if portal:
            notice = replace(notice, case_url=CASE_URL)
        done = render(notice, commands_for(name))
        for part in (done.text, done.html):
            said = " ".join(part.replace("<code>", "").replace("</code>", "").split())
            assert "described above" not in said and "see the details above" not in said
            assert "in the case record" in said and "scr show" not in said
        assert ("in the case record (in the portal)" in " ".join(done.text.split())) is portal
        assert (f'(<a href="{CASE_URL}">in the portal</a>)' in done.html) is portal


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_prose_names_no_identifier(name):
    """Outside the commands a person types (<code> in HTML), no template says an identifier
    with an underscore, for any role or level."""
    import html
    import re

    from scr.handlers.render import ROLE_LABELS
    from tests.handlers.samples import levels_of

    levels = levels_of(name)
    for level in levels:
        for role in ROLE_LABELS:
            done = render(make_notice(name, level=level, recipient_role=role))
            prose = re.sub(r"<code>.*?</code>", "", done.html, flags=re.S)
            prose = html.unescape(re.sub(r"<[^>]+>", " ", prose))
            assert not re.findall(r"\b[a-z]+_[a-z_]+\b", prose), (level, role)
