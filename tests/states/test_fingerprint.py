"""Each shipped definition is frozen: the code still produces exactly the canonical form
kept for it in tests/states/golden/ (states, triggers, parameters, roles, guards with their
code, effects, recipients, ladders, levels and offsets). Changing a shipped version fails
here; a change to the rules is a new version (tests/states/golden/__main__.py)."""

from __future__ import annotations

import dataclasses
import difflib

import pytest

from scr.states.fingerprint import canonical, fingerprint, text
from scr.states.params import Param
from scr.states.registry import REGISTRY
from tests.states.golden.__main__ import FOLDER, path_of

SHIPPED = [d.key for d in REGISTRY]


@pytest.mark.parametrize(("name", "version"), SHIPPED)
def test_a_shipped_definition_is_what_it_was_when_it_shipped(name, version):
    definition = REGISTRY.get(name, version)
    golden = path_of(name, version).read_text(encoding="utf-8")
    now = text(definition)
    if now != golden:
        diff = "".join(list(difflib.unified_diff(
            golden.splitlines(keepends=True), now.splitlines(keepends=True),
            f"golden {name} {version}", "the code now", n=2))[:80])
        pytest.fail(f"{name} version {version} has changed since it shipped; cases run "
                    f"under it. Make the change a new version.\n{diff}")


def test_every_registered_definition_has_its_golden_form_and_no_other():
    kept = {p.stem for p in FOLDER.glob("*.json")}
    assert kept == {f"{n}-{v}" for n, v in SHIPPED}


def _rewritten(case, ctx):
    return None


def test_the_fingerprint_sees_a_changed_offset_a_guard_and_a_parameter():
    """The check can fail: each kind of change gives another fingerprint."""
    scr1 = REGISTRY.get("scr", "1")
    before = fingerprint(scr1)
    offsets = dict(scr1.default_offsets)
    key = next(iter(offsets))
    changed = [
        dataclasses.replace(scr1, default_offsets={**offsets, key: "99 working days"}),
        dataclasses.replace(scr1, guards={**scr1.guards, next(iter(scr1.guards)): _rewritten}),
        dataclasses.replace(scr1, triggers=(dataclasses.replace(
            scr1.triggers[0], params=scr1.triggers[0].params[1:]), *scr1.triggers[1:])),
    ]
    prints = [fingerprint(d) for d in changed]
    assert before not in prints and len(set(prints)) == 3


def test_the_canonical_form_is_plain_json_data():
    """Functions stand as a name and a digest of their code; nothing else is left unread."""
    form = canonical(REGISTRY.get("cspr", "1"))
    guards = form["definition"]["guards"]
    assert all(set(g) == {"function", "source_sha256"} for g in guards.values())
    assert form["definition"]["name"] == "cspr" and form["definition"]["version"] == "1"
    assert form["defaults"]["Param"]["required"] is True


def test_a_changed_default_changes_the_fingerprint(monkeypatch):
    """Fields at their defaults are left out of the definition, so the defaults are part of
    the form: a parameter that silently stopped being required would show."""
    scr1 = REGISTRY.get("scr", "1")
    before = fingerprint(scr1)
    monkeypatch.setattr(Param.__dataclass_fields__["required"], "default", False)
    assert fingerprint(scr1) != before
