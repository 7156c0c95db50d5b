"""`scr diagram`: the lifecycle drawn from the definition, as Mermaid and as SVG, and
the docs/lifecycle-*.md pages kept up to date with the definitions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scr.lifecycle.views import diagram
from scr.states.enums import FINAL_STATES, State
from scr.states.registry import REGISTRY
from scr.states.scr.v1 import DEFINITION
from tests.lifecycle.views_cli import InProcess

ALL_TRIGGERS = DEFINITION.all_triggers

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def scr(monkeypatch, capsys, tmp_path) -> InProcess:
    return InProcess(monkeypatch, capsys, f"sqlite:///{tmp_path / 'none.db'}")


def test_mermaid_names_every_state_and_trigger():
    """Every state is declared and every trigger appears as a word in the Mermaid text (a
    timer's firing as the timers themselves)."""
    text = diagram.mermaid(DEFINITION)
    assert text.startswith("stateDiagram-v2\n")
    for state in State:
        assert re.search(rf"^    {state.value} : ", text, re.M), state
    for spec in ALL_TRIGGERS[:-1]:
        assert re.search(rf"\b{spec.name}\b", text), spec.name


def test_mermaid_transitions_match_the_definition():
    """One arrow per (source, trigger) that moves a case, the start arrow, and final exits."""
    text = diagram.mermaid(DEFINITION)
    arrows = re.findall(r"^    (\S+) --> (\S+) : (\w+)", text, re.M)
    expected = {(s.value, t.dest.value, t.name) for t in ALL_TRIGGERS
                if t.dest is not None and t.sources for s in t.sources}
    assert {a for a in arrows if a[0] != "[*]"} == expected
    assert ("[*]", "referral", "refer") in arrows
    finals = re.findall(r"^    (\S+) --> \[\*\]$", text, re.M)
    assert set(finals) == {s.value for s in FINAL_STATES}
    assert ";" not in text.replace("\n", "")  # Mermaid would end a description there


def test_internal_transitions_are_listed_in_their_states_notes():
    """Each internal trigger is in the note of every state it records in, with its guards."""
    text = diagram.mermaid(DEFINITION)
    notes = dict(re.findall(r"note right of (\w+)\n(.*?)\n    end note", text, re.S))
    for spec in ALL_TRIGGERS:
        if spec.dest is None and spec.name != "timer":
            for state in spec.sources:
                assert spec.name in notes[state.value], (spec.name, state)
    assert ("schedule_publication: Publication scheduled [publication_date_after_notice]"
            in notes["publication_hold"])


@pytest.mark.parametrize("definition", list(REGISTRY), ids=lambda d: f"{d.name}-v{d.version}")
def test_the_diagram_says_what_a_person_reads_in_words(definition):
    """Each transition says what its trigger does by its label; each state's timers are named
    by their labels, not as `timer: triage`; the page's table names the states by their
    labels and the roles in the definition's words; the picture heads each box with the
    state's label."""
    text = diagram.mermaid(definition)
    for spec in (definition.create, *definition.all_triggers):
        if spec is not definition.timer_trigger:
            assert diagram._safe(f"{spec.name}: {spec.label}") in text, spec.name
    assert "timer:" not in text
    for t in definition.timers:
        assert diagram._safe(t.label) in text, t.ladder
    page = diagram.markdown(definition)
    table = page.split("| trigger |", 1)[1]
    assert "sub_group" not in table.replace("submit_to_sub_group", "")
    assert "subgroup_chair" not in table and "business_manager" not in table
    assert "business manager" in table
    if definition.name == "cspr":
        assert "chair of the rapid review meeting" in table
    svg = diagram.svg(definition)
    labels = re.findall(r'font-size="13"[^>]*>([^<]*)</text>', svg)
    assert {definition.state_label(s).replace("'", "&#x27;") for s in definition.states} \
        <= {label.replace("&#x27;", "'").replace("'", "&#x27;") for label in labels}


@pytest.mark.parametrize("definition", list(REGISTRY), ids=lambda d: f"{d.name}-v{d.version}")
def test_docs_lifecycle_pages_are_up_to_date(definition):
    """Each definition's page in docs/ is exactly what `scr diagram --process NAME --version
    V --out PAGE` writes now."""
    page = diagram.doc_path(definition)
    on_disk = (ROOT / page).read_text(encoding="utf-8")
    assert on_disk == diagram.markdown(definition), (
        f"{page} is stale: run scr diagram --process {definition.name} --version "
        f"{definition.version} --out {page}")
    assert "```mermaid\n" + diagram.mermaid(definition) + "```" in on_disk


def test_svg_is_well_formed_and_names_every_state_and_trigger(scr, tmp_path):
    """The SVG parses as XML and its text names every state and every trigger (a timer's
    firing as the timers themselves)."""
    target = tmp_path / "lifecycle.svg"
    result = scr.ok("diagram", "--process", "scr", "--version", "1", "--format", "svg",
                    "--out", str(target))
    assert result.out.strip() == f"wrote the svg diagram to {target}"
    root = ET.parse(target).getroot()
    assert root.tag == f"{SVG}svg"
    words = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for state in State:
        assert re.search(rf"\b{state.value}\b", words), state
    for spec in ALL_TRIGGERS[:-1]:
        assert re.search(rf"\b{spec.name}\b", words), spec.name


def test_diagram_command_prints_mermaid_and_json(scr):
    """Without --out the Mermaid text is printed; --json gives one document of the graph."""
    assert scr.ok("diagram", "--process", "scr", "--version", "1").out == \
        diagram.mermaid(DEFINITION)
    doc = scr.ok("diagram", "--process", "scr", "--version", "1", "--json").json()
    assert doc["states"] == [s.value for s in State]
    assert {"trigger": "publish", "source": "publication_hold", "dest": "published",
            "guards": ["no_criminal_proceedings_pending", "notice_period_elapsed",
                       "outputs_recorded"]} in doc["transitions"]
    assert doc["internal"]["published"] == ["add_action", "complete_action",
                                            "sign_off_action", "record_audit",
                                            "record_training"]
    # The board's default, a Child Safeguarding Practice Review, in its own words.
    cspr = scr.ok("diagram", "--json").json()
    assert (cspr["definition"], cspr["version"]) == ("cspr", "2")
    assert {"trigger": "commission_practice_review", "source": "chair_decision",
            "dest": "review", "guards": ["rapid_review_may_begin",
                                         "methodology_and_reviewer_given",
                                         "partners_agree_on_local_review",
                                         "lead_partner_decides", "reason_given"]} \
        in cspr["transitions"]
    assert {"trigger": "reopen_for_local_review", "source": "closed",
            "dest": "chair_decision", "guards": ["panel_asked_for_local_review",
                                                 "reason_given"]} in cspr["transitions"]
    assert "Safeguarding partners' decision" in scr.ok("diagram").out
    bad = scr("diagram", "--format", "png")
    assert bad.code == 2 and bad.err.startswith("error: argument --format")
