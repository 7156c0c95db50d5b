"""Words for people in e-mail: every trigger and timer of every definition, through the
engine's details, the outbox notice and the templates, reads as words: no identifier with an
underscore outside the commands a person types, the values of closed lists by their labels,
the earlier state and the recipient's role in the regime's own words."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from scr.handlers.notices import notice_from_json, template_for
from scr.handlers.render import render
from scr.lifecycle.core import notify
from scr.lifecycle.core.engine import mail_details, timer_announcement
from scr.lifecycle.core.process import Process, Processes
from scr.lifecycle.settings import Board
from scr.states import words
from scr.states.case import CaseSnapshot, ReferralFacts
from scr.states.params import PType
from scr.states.process import ProcessDefinition, TriggerSpec
from scr.states.registry import REGISTRY

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SNAPSHOT = CaseSnapshot(ref="CR-2026-0001", state="review", referred_at=NOW,
                        state_entered_at=NOW,
                        referral=ReferralFacts(date(2026, 5, 2), "death", "suspected"))
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b")
ROLES = ("business_manager", "subgroup_chair")


def readable(rendered: Any) -> list[str]:
    """What a person reads as prose: the plain text without its must-do section (which
    quotes commands to type) and the HTML, commands (<code>) left out, as plain words."""
    plain = rendered.text.split("What you need to do now\n", 1)
    plain = plain[0] + plain[1].split("\n-- \n", 1)[1]
    rich = re.sub(r"<code>.*?</code>", "", rendered.html, flags=re.S)
    rich = html.unescape(re.sub(r"<[^>]+>", " ", rich))
    return [" ".join(plain.split()), " ".join(rich.split())]


def sample(kind: PType, choices: tuple[str, ...], pick: int) -> Any:
    if kind is PType.CHOICE:
        return choices[pick % len(choices)]
    if kind is PType.CHOICES:
        return list(choices)
    if kind is PType.AGENCY:
        return ("childrens_social_care", "multi_agency")[pick % 2]
    if kind is PType.AGENCIES:
        return ["childrens_social_care", "voluntary_sector"]
    if kind is PType.DATE:
        return date(2026, 2, 6)
    if kind is PType.BOOL:
        return True
    if kind is PType.INT:
        return 2
    return "Hazel Wold"


def mailed(definition: ProcessDefinition, spec: TriggerSpec, role: str, *,
           source: str | None, values: dict[str, Any], template: str, label: str,
           level: str | None = None) -> Any:
    """The e-mail `role` gets, made as the engine makes it: details, outbox row, delivery."""
    process: Process = Processes().get(definition.name, definition.version)
    case = SimpleNamespace(id=1, ref="CR-2026-0001", pseudonym="Child K",
                           state=spec.dest or source or definition.initial,
                           definition=definition.name,
                           definition_version=definition.version)
    event = notify.Event(template=template_for(definition.templates, template), label=label,
                         source=source, actor="Jane Smith", reason=None, level=level,
                         details=mail_details(process, spec, values, {}, SNAPSHOT))
    rows = notify.queue(case, event, [notify.Recipient("Pat Lee", "pat@example.org", role)],
                        state_label=definition.state_label(case.state), board=Board(),
                        timezone="Europe/London", now=NOW, deadline=None, history_seq=1,
                        definition=definition)
    row = rows[0]
    return render(notice_from_json({**row["notice"], "recipient_name": row["recipient_name"],
                                    "recipient_role": row["recipient_role"]}))


def trigger_cases() -> list[Any]:
    found = []
    for d in REGISTRY:
        for spec in (d.create, *d.triggers):
            widest = max([len(p.choices) for p in spec.params] + [2])
            for pick in range(widest):
                found.append(pytest.param(d, spec, pick,
                                          id=f"{d.name}-v{d.version}-{spec.name}-{pick}"))
    return found


@pytest.mark.parametrize(("definition", "spec", "pick"), trigger_cases())
def test_a_trigger_s_e_mail_reads_as_words(definition, spec, pick):
    """Every value a trigger's e-mail states is in words (a closed list's value by its
    label, a date as a day), the earlier state is named as the definition names it, and no
    identifier reaches the prose."""
    values = {p.name: sample(p.type, p.choices, pick) for p in spec.params}
    source = spec.sources[0] if spec.sources else None
    for role in ROLES:
        rendered = mailed(definition, spec, role, source=source, values=values,
                          template=spec.name, label=spec.label)
        for body in readable(rendered):
            assert not IDENTIFIER.findall(body), (spec.name, IDENTIFIER.findall(body))
            for p in spec.params:
                if p.mailed and not p.private and p.type in (PType.CHOICE, PType.AGENCY):
                    assert words.value_label(values[p.name]) in body, (p.name, body)
            if source is not None and spec.dest not in (None, source):
                assert (f"{definition.state_label(source)} -> " in body
                        or f"{definition.state_label(source)} \u2192 " in body), body


def timer_cases() -> list[Any]:
    """Every level that is announced by e-mail (a timed transition's level fires its
    trigger, whose e-mail is the trigger's)."""
    return [pytest.param(d, t.ladder, lv.name, id=f"{d.name}-v{d.version}-{t.ladder}.{lv.name}")
            for d in REGISTRY for t in d.timers for lv in t.announced]


@pytest.mark.parametrize(("definition", "ladder", "level"), timer_cases())
def test_a_timer_s_e_mail_names_the_timer_by_its_label(definition, ladder, level):
    """A timer firing's details name the timer by its label and the level in words, never
    the ladder's identifier."""
    announce = timer_announcement(Processes().get(definition.name, definition.version),
                                  ladder, level)
    timer = definition.timer(ladder)
    rendered = mailed(definition, definition.timer_trigger, "business_manager",
                      source=timer.state, values={"timer": ladder, "level": level},
                      template=announce.template, label=announce.label, level=level)
    for body in readable(rendered):
        assert not IDENTIFIER.findall(body), IDENTIFIER.findall(body)
        assert f"Timer: {timer.label}" in body or f"Timer {timer.label}" in body
        assert f"Timer: {ladder}" not in body


@pytest.mark.parametrize("definition", [d for d in REGISTRY if d.referred],
                         ids=lambda d: f"{d.name}-v{d.version}")
def test_the_footer_names_the_role_in_the_regime_s_words(definition):
    """A CSPR has no case review sub-group: its sub-group chair is told they receive the
    e-mail as the chair of the rapid review meeting; the SCR keeps its own words (and the
    learning register, whose sub-group is the case review sub-group, test_learning)."""
    spec = definition.trigger("submit_to_sub_group")
    rendered = mailed(definition, spec, "subgroup_chair", source=spec.sources[0],
                      values={"meeting_date": date(2026, 6, 8)}, template=spec.name,
                      label=spec.label)
    expected = ("chair of the rapid review meeting" if definition.name == "cspr"
                else "case review sub-group chair")
    for body in (rendered.text, rendered.html):
        assert f"You receive this as the {expected} for this case." in body
        if definition.name == "cspr":
            assert "case review sub-group chair" not in body


def test_details_say_values_in_words():
    """The details of a referral: harm, grounds, agencies and dates in words."""
    d = REGISTRY.get("cspr", "1")
    process = Processes().get("cspr", "1")
    details = dict(mail_details(process, d.create, {
        "harm": "serious_harm", "abuse": "not_suspected",
        "grounds": ["life_threatening_injury", "death_in_custody"],
        "referrer_agency": "childrens_social_care", "aware_on": date(2026, 2, 6),
        "looked_after": False}, {}, SNAPSHOT))
    assert details["Harm"] == "serious harm"
    assert details["Abuse or neglect"] == "not suspected"
    assert details["Grounds to consider a review"] == "life-threatening injury, death in custody"
    assert details["Referring agency"] == "children's social care"
    assert details["Local authority aware on"] == "6 February 2026"
    assert details["Looked-after child"] == "no"


def test_timer_details_name_the_timer_and_its_level():
    """A timer's firing is stated by the timer's label, not as `timer: rapid_review`."""
    d = REGISTRY.get("cspr", "1")
    details = mail_details(Processes().get("cspr", "1"), d.timer_trigger,
                           {"timer": "rapid_review", "level": "reminder"}, {}, SNAPSHOT)
    assert details == (("Timer", "Rapid review due"), ("Level", "reminder"))


def test_the_next_deadline_is_named_in_words():
    """The deadline an e-mail names: the timer's label and its level, the `due` level of a
    "... due" timer being the deadline itself."""
    d = REGISTRY.get("cspr", "1")
    later = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    due = SimpleNamespace(ladder="rapid_review", level="due", key="", due_at=later)
    action = SimpleNamespace(ladder="action", level="reminder", key="2", due_at=later)
    assert notify.next_deadline(d, [due], NOW).label == "Rapid review due"
    assert notify.next_deadline(d, [action], NOW).label == "Action due (action 2, reminder)"


def test_words_for_values_never_keep_an_underscore():
    """Every value of every closed list of every definition has words without underscores,
    and the two role tables (e-mail's and the definitions') agree."""
    from scr.handlers.render import ROLE_LABELS

    for d in REGISTRY:
        for spec in (d.create, *d.all_triggers):
            for p in spec.params:
                for choice in p.choices:
                    assert "_" not in words.value_label(choice), choice
                assert "_" not in words.param_label(p.name)
    assert {r: w for r, w in words.ROLE_LABELS.items() if r != "system"} == dict(ROLE_LABELS)
    assert words.span(datetime(2026, 1, 1, 1, 1) - datetime(2026, 1, 1)) == "1 hour and 1 minute"
    assert words.plural(1, "minute") == "1 minute" and words.plural(2, "hour") == "2 hours"


@pytest.mark.parametrize(("config", "sender"), [
    ('[board]\nname = "Anyshire SCP"\n[web]\nbase_url = "https://scr.anyshire.gov.uk"\n',
     "Anyshire SCP <scr@scr.anyshire.gov.uk>"),
    ('[board]\nname = "Anyshire SCP"\n', "Anyshire SCP <scr@localhost>"),
    ('[board]\nname = "Anyshire SCP"\nmail_from = "Cases <cases@anyshire.gov.uk>"\n',
     "Cases <cases@anyshire.gov.uk>"),
    ("", "scr@localhost"),
])
def test_a_named_board_sends_as_itself(tmp_path, config, sender):
    """Once `[board] name` is set, the sender is the board's name (at the portal's host when
    it has one), not a bare scr@localhost; a `mail_from` that is set is kept as it is."""
    from scr.lifecycle.settings import load

    path = tmp_path / "scr.toml"
    path.write_text(config, encoding="utf-8")
    assert load(config_file=str(path), environ={}).board.mail_from == sender


def test_a_table_fits_the_width_by_wrapping_the_long_column_at_words():
    """Given a width, the long column is wrapped at word boundaries and no line is wider;
    the short columns stay whole."""
    from scr.lifecycle.views.text import table

    reason = "Three agencies knew of the missing episodes and none put them together"
    text = table(["#", "when", "reason"], [[1, "Mon 03 Mar 2025 09:30", reason]], width=50)
    lines = text.splitlines()
    assert all(len(line) <= 50 for line in lines)
    assert "Mon 03 Mar 2025 09:30" in lines[1]
    said = " ".join(line[26:].strip() for line in lines[1:])
    assert said == reason  # every word kept, none broken
    assert table(["#", "reason"], [[1, reason]], width=None).splitlines()[1].endswith(reason)


def test_a_table_piped_without_columns_has_no_limit(monkeypatch):
    """Piped, with COLUMNS unset, a row is never wrapped (scripts see whole rows); COLUMNS
    sets the width."""
    from scr.lifecycle.views.text import table

    row = [["x " * 100]]
    monkeypatch.delenv("COLUMNS", raising=False)
    assert len(table(["text"], row).splitlines()) == 2
    monkeypatch.setenv("COLUMNS", "60")
    assert max(len(line) for line in table(["text"], row).splitlines()) <= 60


def test_shorten_cuts_at_a_word():
    """A long reason is cut after a whole word, with an ellipsis."""
    from scr.lifecycle.views.text import shorten

    assert shorten("Three agencies knew of the missing episodes", 30) == \
        "Three agencies knew of the…"
    assert shorten("short", 30) == "short"
    assert shorten("x" * 40, 10) == "x" * 9 + "…"


def test_the_e_mail_s_role_words_mirror_the_shared_table():
    """handlers/render.py keeps its own copy (handlers imports nothing of the project)."""
    from scr.handlers import render
    from scr.states import words

    assert dict(render.ROLE_LABELS) == {r: w for r, w in words.ROLE_LABELS.items()
                                        if r != "system"}
