"""The templates present and the shipped definitions agree: each trigger and timer ladder of
each definition has its template, each template serves a definition, and a regime's
wording extends the shared template, overriding only blocks it has."""

from __future__ import annotations

import pytest
from jinja2 import nodes
from jinja2.meta import find_referenced_templates

from scr.handlers.catalogue import REGIME_TEMPLATES, SHARED_TEMPLATES, TEMPLATE_NAMES, TIMER_PREFIX
from scr.handlers.render import ROLE_LABELS, environment
from scr.states.registry import REGISTRY
from tests.handlers.samples import mailed_by


def parse(name: str) -> nodes.Template:
    env = environment()
    assert env.loader is not None
    return env.parse(env.loader.get_source(env, name)[0])


def blocks(name: str) -> set[str]:
    return {block.name for block in parse(name).find_all(nodes.Block)}


@pytest.mark.parametrize("definition", list(REGISTRY), ids=lambda d: "/".join(d.key))
def test_every_trigger_and_ladder_of_a_definition_has_its_template(definition):
    """A case of any shipped definition is never mailed a template that is not there."""
    assert mailed_by(definition) <= set(TEMPLATE_NAMES)


def test_every_template_serves_a_definition():
    """No template is left over from a trigger or ladder no definition has."""
    assert set().union(*(mailed_by(d) for d in REGISTRY)) == set(TEMPLATE_NAMES)


def test_each_regime_folder_is_a_definition_s():
    """A folder of wordings is named by a definition (ProcessDefinition.templates)."""
    assert set(REGIME_TEMPLATES) == {d.templates for d in REGISTRY if d.templates}


@pytest.mark.parametrize("ladder", sorted({t.ladder for d in REGISTRY for t in d.timers
                                            if t.announced}))
def test_a_ladder_announced_by_e_mail_has_its_template(ladder):
    """Each ladder whose levels are announced by a notice of its own (TimerSpec.announced)
    has its shared template; the levels it words are the definitions' (nothing in
    handlers/ lists them again)."""
    assert f"{TIMER_PREFIX}{ladder}" in SHARED_TEMPLATES


@pytest.mark.parametrize(("name", "ext"), [(f"{folder}/{name}", ext)
                                           for folder, names in REGIME_TEMPLATES.items()
                                           for name in names for ext in ("txt", "html")])
def test_a_regime_s_wording_overrides_blocks_of_the_shared_template(name, ext):
    """cspr/refer.txt extends refer.txt and says nothing outside the blocks refer.txt and
    the layout have: it changes the words, never the shape."""
    file = f"{name}.{ext}"
    shared = f"{name.rpartition('/')[2]}.{ext}"
    tree = parse(file)
    assert list(find_referenced_templates(tree)) == [shared]
    assert blocks(file) <= blocks(shared) | blocks(f"layout.{ext}"), file
    outside = [node for node in tree.body if not isinstance(node, nodes.Extends | nodes.Block)]
    assert all(isinstance(node, nodes.Output) and not "".join(
        n.data for n in node.nodes if isinstance(n, nodes.TemplateData)).strip()
        for node in outside), file


@pytest.mark.parametrize("name", SHARED_TEMPLATES)
def test_a_shared_template_fills_the_layout_s_blocks_by_role(name):
    """A shared template's top-level blocks are the layout's (a role's, or the whole
    must-do), or blocks of words a role block or a regime's wording names (self.<block>)."""
    for ext in ("txt", "html"):
        tree = parse(f"{name}.{ext}")
        named = {node.attr for node in tree.find_all(nodes.Getattr)
                 if isinstance(node.node, nodes.Name) and node.node.name == "self"}
        for folder, names in REGIME_TEMPLATES.items():
            if name in names:
                named |= {node.attr for node in parse(f"{folder}/{name}.{ext}").find_all(
                    nodes.Getattr) if isinstance(node.node, nodes.Name)
                    and node.node.name == "self"}
        top = {node.name for node in tree.body if isinstance(node, nodes.Block)}
        unnamed = top - set(ROLE_LABELS) - {"must_do"} - named
        # register_review's "subgroup_members" is the one exception, and says so.
        assert unnamed <= {"subgroup_members"}, (name, ext, unnamed)
