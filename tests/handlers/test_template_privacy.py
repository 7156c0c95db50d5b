from __future__ import annotations

from dataclasses import fields

import pytest
from jinja2 import nodes
from jinja2.meta import find_referenced_templates, find_undeclared_variables

from handlers.notices import Deadline, Notice
from handlers.render import environment, template_files

NOTICE_FIELDS = {f.name for f in fields(Notice)}
DEADLINE_FIELDS = {f.name for f in fields(Deadline)}
# Formatting only: none of these can fetch data from anywhere.
ALLOWED_FILTERS = {"local_time", "duration", "role_label", "state_name", "indent", "wordwrap"}


def parse(name: str) -> nodes.Template:
    env = environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return env.parse(source)


@pytest.mark.parametrize("name", template_files())
def test_templates_read_only_notice_fields(name: str) -> None:
    """No template looks up a variable (or global) that is not a field of Notice."""
    assert find_undeclared_variables(parse(name)) <= NOTICE_FIELDS


@pytest.mark.parametrize("name", template_files())
def test_templates_reach_into_nothing_but_the_deadline(name: str) -> None:
    """The only attribute access is next_deadline.label / .due_at; no item lookups."""
    tree = parse(name)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr), f"{name}: item lookup {node}"
        assert isinstance(node.node, nodes.Name) and node.node.name == "next_deadline", name
        assert node.attr in DEADLINE_FIELDS, f"{name}: next_deadline.{node.attr}"


@pytest.mark.parametrize("name", template_files())
def test_templates_use_only_formatting_filters_and_the_layouts(name: str) -> None:
    """Filters only format; the only other templates pulled in are the two layouts."""
    tree = parse(name)
    # A {% filter %} block holds its filters as Filter nodes, so this finds them too.
    used = {node.name for node in tree.find_all(nodes.Filter)}
    assert used <= ALLOWED_FILTERS
    for call in tree.find_all(nodes.Call):
        assert isinstance(call.node, nodes.Name) and call.node.name == "super", name
    assert set(find_referenced_templates(tree)) <= {"layout.txt", "layout.html"}


def test_environment_offers_no_globals() -> None:
    """Templates cannot reach helpers like range() or lipsum(): the Notice is all there is."""
    env = environment()
    assert env.globals == {}
    assert find_undeclared_variables(env.parse("{{ range(3) }}")) == {"range"}
