from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from importlib.resources import files

import pytest
from jinja2 import UndefinedError

from scr.handlers.notices import REGIME_TEMPLATES, Deadline, Notice, template_for
from scr.handlers.render import (
    ROLE_LABELS,
    SHARED_TEMPLATES,
    TEMPLATE_NAMES,
    TRIGGER_TEMPLATES,
    UnknownTemplate,
    duration,
    environment,
    local_time,
    render,
    subject,
    template_files,
)
from tests.handlers.samples import DUE_UTC, levels_of, make_notice, rendered

# 09:15 UTC in June is 10:15 in London (BST): proves the deadline is shown in local time.
DUE_LOCAL = "Friday 5 June 2026, 10:15"
GENERIC = "No action is needed from you now. This message is for your information."
ROLES = tuple(ROLE_LABELS)


def combinations() -> list[tuple[str, str | None]]:
    """Every template name with every level it can fire at (None for non-timers)."""
    return [(name, level) for name in TEMPLATE_NAMES for level in levels_of(name)]


def words(text: str) -> str:
    return " ".join(text.split())


def must_do_text(text: str) -> str:
    """The plain-text 'What you need to do now' section, whitespace-normalised."""
    section = text.split("What you need to do now\n", 1)[1].split("\n-- \n", 1)[0]
    return words(section.split("\nIn the portal\n", 1)[0])


def html_words(body: str) -> str:
    """HTML as plain words: inline <code> dropped, other tags become spaces."""
    inline_dropped = re.sub(r"</?code>", "", body)
    return words(html.unescape(re.sub(r"<[^>]+>", " ", inline_dropped)))


def must_do_html(body: str) -> str:
    """The HTML must-do section as plain words."""
    return html_words(body.split('<div class="must-do">', 1)[1].split("</div>", 1)[0])


def shipped_files() -> set[str]:
    """Every file under templates/, as a path relative to it ("cspr/refer.txt")."""
    root = files("scr.handlers").joinpath("templates")
    found: set[str] = set()
    for entry in root.iterdir():
        if entry.is_dir():
            if entry.name == "__pycache__":
                continue
            found |= {f"{entry.name}/{p.name}" for p in entry.iterdir()}
        else:
            found.add(entry.name)
    return found


def test_every_template_name_has_exactly_its_two_files() -> None:
    """templates/ holds layout.txt/.html and one .txt and one .html per name, nothing else
    (a regime's own wordings in its folder, e.g. cspr/refer.txt)."""
    assert shipped_files() == set(template_files())
    assert set(REGIME_TEMPLATES) == {"cspr", "scr2"}


def test_a_regime_rewords_only_shared_templates() -> None:
    """Each CSPR or SCR version 2 wording replaces a shared template; the rest are mailed
    as they are."""
    for folder, names in REGIME_TEMPLATES.items():
        assert len(set(names)) == len(names), folder
        for name in names:
            assert name in SHARED_TEMPLATES, (folder, name)
            assert template_for(folder, name) == f"{folder}/{name}"
    assert template_for("cspr", "add_action") == "add_action"
    assert template_for("cspr", "record_partner_view") == "record_partner_view"
    assert template_for("scr", "refer") == "refer"
    assert template_for("scr2", "refer") == "scr2/refer"
    assert template_for("scr2", "decide_no_review") == "decide_no_review"
    assert template_for("scr2", "record_notification") == "record_notification"


@pytest.mark.parametrize(("template", "level"), combinations())
@pytest.mark.parametrize("role", ROLES)
def test_every_template_says_what_happened_and_what_to_do(
    template: str, level: str | None, role: str
) -> None:
    """Both bodies carry ref, pseudonym, event, actor, reason, local deadline and a must-do."""
    done = rendered(template, level=level, recipient_role=role)
    plain, rich = words(done.text), html_words(done.html)
    for body in (plain, rich):
        for expected in (
            "CR-2026-0001",
            "Child K",
            "Information requested from agencies",
            "By: Jane Smith" if body is plain else "By Jane Smith",
            "Agreed at the triage call",
            "Agencies",
            "health, police",
            f"Agency returns due: {DUE_LOCAL}",
            "What you need to do now",
        ):
            assert expected in body, (template, level, role, expected)
        assert "09:15" not in body
    assert must_do_text(done.text)
    # The guidance is written twice (text and HTML): both must say the same thing.
    assert must_do_text(done.text) == must_do_html(done.html)
    assert done.subject == "[CR-2026-0001 Child K] Information requested from agencies"


# (template, level, roles) the process names as recipients: each gets guidance of its own.
ADDRESSED = [
    *((name, None, "business_manager") for name in TRIGGER_TEMPLATES),
    ("request_information", None, "agency_lead"),
    ("add_agency", None, "agency_lead"),
    ("request_more_information", None, "agency_lead"),
    ("submit_to_sub_group", None, "subgroup_chair"),
    ("submit_to_sub_group", None, "subgroup_member"),
    ("record_meeting", None, "subgroup_chair"),
    ("recommend", None, "chair"),
    ("refer_back", None, "subgroup_chair"),
    ("commission_scr", None, "lead_reviewer"),
    ("commission_case_review", None, "lead_reviewer"),
    ("record_milestone", None, "lead_reviewer"),
    ("add_action", None, "action_owner"),
    ("complete_action", None, "subgroup_chair"),
    ("sign_off_action", None, "subgroup_chair"),
    ("timer.triage", "reminder", "business_manager"),
    ("timer.triage", "escalation", "chair"),
    ("timer.returns", "reminder", "agency_lead"),
    ("timer.returns", "overdue", "agency_lead"),
    ("timer.returns", "overdue", "business_manager"),
    ("timer.recommendation", "escalation", "subgroup_chair"),
    ("timer.recommendation", "chair", "chair"),
    ("timer.decision", "reminder", "chair"),
    ("timer.decision", "due", "chair"),
    ("timer.decision", "due", "business_manager"),
    ("timer.panel", "reminder", "business_manager"),
    ("timer.panel", "due", "business_manager"),
    ("timer.completion", "reminder", "lead_reviewer"),
    ("timer.completion", "reminder", "business_manager"),
    ("timer.completion", "due", "chair"),
    ("timer.completion", "overdue", "chair"),
    ("timer.proceedings_check", "check", "business_manager"),
    ("timer.long_hold", "escalation", "chair"),
    ("timer.publication", "blocked", "business_manager"),
    ("timer.publication", "blocked", "chair"),
    ("timer.action", "reminder", "action_owner"),
    ("timer.action", "overdue", "subgroup_chair"),
    ("delivery_failed", None, "business_manager"),
    # SCR version 2
    ("record_notification", None, "chair"),
    ("decide_not_to_publish", None, "chair"),
    ("decide_not_to_publish", None, "subgroup_chair"),
    ("decide_not_to_publish", None, "lead_reviewer"),
    ("decide_not_to_publish", None, "agency_lead"),
    ("timer.notification", "reminder", "business_manager"),
    ("timer.notification", "due", "business_manager"),
    ("timer.notification", "due", "chair"),
    ("timer.panel_case_review", "reminder", "business_manager"),
    ("timer.panel_case_review", "due", "business_manager"),
    ("timer.panel_not_published", "reminder", "business_manager"),
    ("timer.panel_not_published", "due", "business_manager"),
    # CSPR: the partners' own triggers and timers
    ("record_partner_view", None, "safeguarding_partner"),
    ("commission_practice_review", None, "safeguarding_partner"),
    ("commission_practice_review", None, "scrutineer"),
    ("commission_practice_review", None, "lead_reviewer"),
    ("commission_practice_review", None, "agency_lead"),
    ("send_rapid_review", None, "safeguarding_partner"),
    ("send_rapid_review", None, "scrutineer"),
    ("record_panel_response", None, "safeguarding_partner"),
    ("record_panel_response", None, "scrutineer"),
    ("record_panel_response", None, "lead_reviewer"),
    ("timer.rapid_review", "reminder", "business_manager"),
    ("timer.rapid_review", "reminder", "subgroup_chair"),
    ("timer.rapid_review", "due", "safeguarding_partner"),
    ("timer.rapid_review", "due", "business_manager"),
    ("timer.panel_response", "reminder", "business_manager"),
    ("timer.panel_response", "reminder", "safeguarding_partner"),
    ("timer.publication_due", "reminder", "business_manager"),
    ("timer.publication_due", "reminder", "lead_reviewer"),
    ("timer.publication_due", "reminder", "safeguarding_partner"),
    ("timer.publication_due", "due", "safeguarding_partner"),
    ("timer.publication_due", "due", "business_manager"),
    ("timer.publication_due", "due", "scrutineer"),
    ("timer.publication_due", "overdue", "safeguarding_partner"),
    ("timer.publication_due", "overdue", "business_manager"),
    # CSPR wordings of shared templates: the business manager has a copy of every trigger's
    # e-mail; the partners stand where the independent chair was.
    *(
        (f"cspr/{name}", None, "business_manager")
        for name in REGIME_TEMPLATES["cspr"]
        if not name.startswith("timer.")
    ),
    ("cspr/refer", None, "safeguarding_partner"),
    ("cspr/refer", None, "subgroup_chair"),
    ("cspr/request_information", None, "agency_lead"),
    ("cspr/request_information", None, "subgroup_chair"),
    ("cspr/withdraw", None, "safeguarding_partner"),
    ("cspr/withdraw", None, "agency_lead"),
    ("cspr/record_notification", None, "safeguarding_partner"),
    ("cspr/add_agency", None, "agency_lead"),
    ("cspr/record_return", None, "agency_lead"),
    ("cspr/submit_to_sub_group", None, "subgroup_chair"),
    ("cspr/submit_to_sub_group", None, "subgroup_member"),
    ("cspr/record_meeting", None, "subgroup_chair"),
    ("cspr/request_more_information", None, "agency_lead"),
    ("cspr/recommend", None, "safeguarding_partner"),
    ("cspr/decide_no_review", None, "safeguarding_partner"),
    ("cspr/decide_no_review", None, "scrutineer"),
    ("cspr/decide_no_review", None, "subgroup_chair"),
    ("cspr/refer_back", None, "subgroup_chair"),
    ("cspr/record_milestone", None, "lead_reviewer"),
    ("cspr/complete_review", None, "safeguarding_partner"),
    ("cspr/complete_review", None, "lead_reviewer"),
    ("cspr/record_proceedings", None, "safeguarding_partner"),
    ("cspr/send_prepublication_notice", None, "safeguarding_partner"),
    ("cspr/schedule_publication", None, "safeguarding_partner"),
    ("cspr/publish", None, "safeguarding_partner"),
    ("cspr/publish", None, "agency_lead"),
    ("cspr/amend_referral", None, "safeguarding_partner"),
    ("cspr/timer.notification", "reminder", "business_manager"),
    ("cspr/timer.notification", "due", "business_manager"),
    ("cspr/timer.notification", "due", "safeguarding_partner"),
    ("cspr/timer.triage", "reminder", "business_manager"),
    ("cspr/timer.triage", "escalation", "safeguarding_partner"),
    ("cspr/timer.returns", "reminder", "agency_lead"),
    ("cspr/timer.returns", "overdue", "agency_lead"),
    ("cspr/timer.returns", "overdue", "business_manager"),
    ("cspr/timer.recommendation", "escalation", "subgroup_chair"),
    ("cspr/timer.recommendation", "chair", "safeguarding_partner"),
    ("cspr/timer.proceedings_check", "check", "business_manager"),
    ("cspr/timer.long_hold", "escalation", "safeguarding_partner"),
    ("cspr/timer.publication", "blocked", "business_manager"),
    ("cspr/timer.publication", "blocked", "safeguarding_partner"),
    ("cspr/timer.action", "reminder", "action_owner"),
    ("cspr/timer.action", "overdue", "subgroup_chair"),
    # SCR version 2 wordings of shared templates
    *(
        (f"scr2/{name}", None, "business_manager")
        for name in REGIME_TEMPLATES["scr2"]
        if not name.startswith("timer.")
    ),
    ("scr2/refer", None, "chair"),
    ("scr2/refer", None, "subgroup_chair"),
    ("scr2/amend_referral", None, "chair"),
    ("scr2/commission_case_review", None, "lead_reviewer"),
    ("scr2/commission_case_review", None, "chair"),
    ("scr2/commission_case_review", None, "agency_lead"),
    ("scr2/complete_review", None, "chair"),
    ("scr2/complete_review", None, "lead_reviewer"),
    ("scr2/schedule_publication", None, "chair"),
    ("scr2/schedule_publication", None, "subgroup_chair"),
    ("scr2/timer.decision", "reminder", "chair"),
    ("scr2/timer.decision", "due", "chair"),
    ("scr2/timer.decision", "due", "business_manager"),
    ("scr2/timer.proceedings_check", "check", "business_manager"),
    ("scr2/timer.long_hold", "escalation", "chair"),
    ("scr2/timer.long_hold", "escalation", "business_manager"),
    ("scr2/timer.publication", "blocked", "business_manager"),
    ("scr2/timer.publication", "blocked", "chair"),
]


@pytest.mark.parametrize(("template", "level", "role"), ADDRESSED)
def test_each_named_recipient_gets_specific_guidance(
    template: str, level: str | None, role: str
) -> None:
    """A recipient the process names is told what to do, not just 'for information'."""
    done = rendered(template, level=level, recipient_role=role)
    assert must_do_text(done.text) != GENERIC


@pytest.mark.parametrize(
    ("template", "level", "role", "phrases"),
    [
        (
            "request_information",
            None,
            "agency_lead",
            ["written summary of its involvement", "view on the kind of review", "deadline"],
        ),
        ("recommend", None, "chair", ["Decide by the deadline", "must commission a serious"]),
        (
            "decide_no_review",
            None,
            "business_manager",
            ["with its reasons", "national panel and to Ofsted within 14 days"],
        ),
        ("timer.panel", "due", "business_manager", ["national panel and Ofsted", "14 days"]),
        ("timer.returns", "overdue", "agency_lead", ["return is overdue"]),
        ("timer.decision", "reminder", "chair", ["within one month of notification"]),
        ("timer.proceedings_check", "check", "business_manager", ["criminal and care"]),
        ("timer.action", "overdue", "subgroup_chair", ["overdue", "agree a new date"]),
        ("timer.action", "reminder", "subgroup_chair", ["due soon"]),
        ("commission_scr", None, "lead_reviewer", ["within six months"]),
        ("submit_to_sub_group", None, "subgroup_chair", ["social care, health and police"]),
        ("complete_action", None, "subgroup_chair", ["sign it off"]),
        # SCR version 2
        ("record_notification", None, "chair", ["within one month of this notification"]),
        (
            "decide_not_to_publish",
            None,
            "business_manager",
            ["national panel within 14 days", "record_panel_notice", "add_action"],
        ),
        (
            "timer.notification",
            "reminder",
            "business_manager",
            ["Ofsted and the national panel", "5 working days", "record_notification"],
        ),
        ("timer.notification", "due", "chair", ["overdue", "business manager sends it"]),
        (
            "timer.panel_case_review",
            "due",
            "business_manager",
            ["decision not to hold a serious case review", "14 days", "record_panel_notice"],
        ),
        (
            "timer.panel_not_published",
            "reminder",
            "business_manager",
            ["decision not to publish", "14 days", "record_panel_notice"],
        ),
        # CSPR
        (
            "cspr/timer.notification",
            "reminder",
            "business_manager",
            ["Child Safeguarding Practice Review Panel and Ofsted", "5 working days"],
        ),
        ("cspr/timer.notification", "due", "safeguarding_partner", ["overdue"]),
        (
            "record_partner_view",
            None,
            "safeguarding_partner",
            ["all three", "If your agency's view is not yet recorded, record it"],
        ),
        ("commission_practice_review", None, "lead_reviewer", ["within 6 months"]),
        (
            "send_rapid_review",
            None,
            "business_manager",
            ["15 working days", "record_panel_response response="],
        ),
        ("record_panel_response", None, "safeguarding_partner", ["national review"]),
        ("timer.rapid_review", "due", "safeguarding_partner", ["15 working days"]),
        ("timer.panel_response", "reminder", "business_manager", ["Chase the Panel"]),
        (
            "timer.publication_due",
            "due",
            "safeguarding_partner",
            ["within 6 months", "criminal proceedings or an inquest"],
        ),
        (
            "cspr/recommend",
            None,
            "safeguarding_partner",
            ["Each partner records a view", "commission a local child safeguarding practice review",
             "needs a reason"],
        ),
        (
            "cspr/request_information",
            None,
            "agency_lead",
            ["rapid review", "a national review by the Child Safeguarding Practice Review Panel"],
        ),
        ("cspr/decide_no_review", None, "business_manager", ["send_rapid_review"]),
        (
            "cspr/send_prepublication_notice",
            None,
            "business_manager",
            ["Panel and the Secretary of State", "7 working days"],
        ),
        ("cspr/timer.proceedings_check", "check", "business_manager", ["inquest"]),
        # SCR version 2
        (
            "scr2/refer",
            None,
            "business_manager",
            [
                "Ofsted and the national panel",
                "5 working days",
                "looked-after child",
                "Secretary of State",
                "record_notification date=YYYY-MM-DD",
            ],
        ),
        ("scr2/refer", None, "chair", ["within one month of the notification"]),
        (
            "scr2/amend_referral",
            None,
            "business_manager",
            ["5 working days", "record_notification"],
        ),
        (
            "scr2/commission_case_review",
            None,
            "business_manager",
            ["decision not to hold a serious case review", "14 days", "record_panel_notice"],
        ),
        ("scr2/commission_case_review", None, "chair", ["decision not to hold", "14 days"]),
        (
            "scr2/timer.decision",
            "reminder",
            "chair",
            ["one month from the serious incident notification", "within 14 days"],
        ),
        ("scr2/timer.decision", "due", "business_manager", ["record_notification"]),
        (
            "scr2/complete_review",
            None,
            "business_manager",
            ["inquest=", "care proceedings do not hold it back"],
        ),
        ("scr2/complete_review", None, "chair", ["should not be published, record the decision",
                                                "14 days"]),
        (
            "scr2/record_proceedings",
            None,
            "business_manager",
            ["criminal proceedings or an inquest", "care proceedings do not", "inquest=..."],
        ),
        (
            "scr2/timer.proceedings_check",
            "check",
            "business_manager",
            ["inquest=...", "coroner", "care proceedings do not"],
        ),
        ("scr2/schedule_publication", None, "business_manager", ["inquest", "every week"]),
        ("scr2/timer.long_hold", "escalation", "chair", ["coroner",
                                                         "should not be published at all"]),
        ("scr2/timer.publication", "blocked", "chair", ["should not be published at all",
                                                  "14 days"]),
    ],
)
def test_guidance_is_concrete_for_the_domain(
    template: str, level: str | None, role: str, phrases: list[str]
) -> None:
    """Key duties are spelled out (returns, chair's decision, 14-day notice to the panel)."""
    done = rendered(template, level=level, recipient_role=role)
    for phrase in phrases:
        assert phrase in must_do_text(done.text)
        assert phrase in must_do_html(done.html)


# Templates only a CSPR case is mailed with: the CSPR wordings and the CSPR-only names.
CSPR_ONLY = (
    "record_partner_view",
    "commission_practice_review",
    "send_rapid_review",
    "record_panel_response",
    "timer.rapid_review",
    "timer.panel_response",
    "timer.publication_due",
    # CSPR version 2's own
    "record_rapid_review",
    "reopen_for_local_review",
    "record_national_review_support",
    "record_other_area_told",
    "timer.other_area",
    "timer.review_due",
    "timer.progress_check",
    "decide_what_to_publish",
    "record_repository_deposit",
    "timer.kept_public",
    "timer.repository",
    "link_incident",
    "request_from_reviewer",
    "timer.death_notification",
    "request_from_reviewer",
)
SCR_WORDS = (
    "independent chair",
    "serious case review",
    "national panel",
    "Department for Education",
    "board's response",
)


@pytest.mark.parametrize(
    ("template", "level"),
    [
        (t, lv)
        for t, lv in combinations()
        if t.startswith("cspr/") or t.rpartition("/")[2] in CSPR_ONLY
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_cspr_wording_never_speaks_of_the_scr_process(
    template: str, level: str | None, role: str
) -> None:
    """A CSPR case's guidance names the safeguarding partners, the local review and the
    Child Safeguarding Practice Review Panel, never the chair, the SCR or the national panel."""
    done = rendered(template, level=level, recipient_role=role)
    for section in (must_do_text(done.text), must_do_html(done.html)):
        for scr_words in SCR_WORDS:
            assert scr_words not in section, (template, level, role, scr_words)


def must_do_sections(name: str) -> list[tuple[str | None, str, str, str]]:
    """(level, role, text, html) of the must-do section for every level and role."""
    found = []
    for level in levels_of(name):
        for role in ROLES:
            done = rendered(name, level=level, recipient_role=role)
            found.append((level, role, must_do_text(done.text), must_do_html(done.html)))
    return found


@pytest.mark.parametrize(
    ("folder", "name"),
    [(folder, name) for folder, names in REGIME_TEMPLATES.items() for name in names],
)
def test_regime_wording_differs_from_the_shared_one(folder: str, name: str) -> None:
    """An override that says what the shared template says would be dead weight."""
    differs = False
    for level in levels_of(name):
        for role in ROLES:
            shared = rendered(name, level=level, recipient_role=role)
            own = rendered(f"{folder}/{name}", level=level, recipient_role=role)
            differs |= must_do_text(shared.text) != must_do_text(own.text)
    assert differs, (folder, name)


CSPR_WORDS = (
    "safeguarding partner",
    "Child Safeguarding Practice Review Panel",
    "rapid review",
    "local review",
)


@pytest.mark.parametrize("name", REGIME_TEMPLATES["scr2"])
def test_scr2_wording_never_speaks_of_the_cspr_process(name: str) -> None:
    """An SCR version 2 case is still an SCR: the chair, the national panel, no partners."""
    for level, role, *sections in must_do_sections(f"scr2/{name}"):
        for section in sections:
            for cspr_words in CSPR_WORDS:
                assert cspr_words not in section, (name, level, role, cspr_words)


@pytest.mark.parametrize("name", REGIME_TEMPLATES["scr2"])
def test_scr2_proceedings_always_come_with_the_inquest(name: str) -> None:
    """Under SCR version 2 a pending inquest holds publication back beside criminal
    proceedings: every version 2 wording that speaks of proceedings names the inquest."""
    for level, role, *sections in must_do_sections(f"scr2/{name}"):
        for section in sections:
            if "proceedings" in section:
                assert "inquest" in section, (name, level, role)
            if "record_proceedings" in section:
                assert "inquest=" in section, (name, level, role)


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in SHARED_TEMPLATES
        if name not in CSPR_ONLY
        and any("proceedings" in text for _, _, text, _ in must_do_sections(name))
    ],
)
def test_scr2_rewords_every_shared_template_that_speaks_of_proceedings(name: str) -> None:
    """Under SCR version 2 a pending inquest holds publication back and care proceedings do
    not: a shared template that speaks of proceedings is wrong for a version 2 case, so it
    has a version 2 wording (which the test above holds to naming the inquest)."""
    assert name in REGIME_TEMPLATES["scr2"], name


@pytest.mark.parametrize(
    ("template", "role"),
    [
        ("timer.publication", "business_manager"),
        ("timer.publication", "chair"),
        ("cspr/timer.publication", "business_manager"),
        ("cspr/timer.publication", "safeguarding_partner"),
        ("scr2/timer.publication", "business_manager"),
        ("scr2/timer.publication", "chair"),
    ],
)
def test_a_refused_timed_publication_says_it_is_tried_again(template: str, role: str) -> None:
    """The daemon tries a refused publication again every week; the people told of
    the refusal are told so, and that they will hear each time it cannot go through."""
    done = rendered(template, level="blocked", recipient_role=role)
    for section in (must_do_text(done.text), must_do_html(done.html)):
        assert "try again every week, at the start of the working day," in section
        assert "until it goes through or someone schedules a new date" in section
        assert "you will be told each time it cannot" in section


def test_html_escapes_every_field_and_text_keeps_it_verbatim() -> None:
    """A reason like <script> is escaped in HTML (never live markup) and verbatim in text."""
    script = '<script>alert("x")</script>'
    rendered = render(
        make_notice(
            reason=script,
            pseudonym="Child <b>K</b> & co",
            details=(("<i>Label</i>", "<img src=x>"),),
        )
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.html
    assert "Child &lt;b&gt;K&lt;/b&gt; &amp; co" in rendered.html
    assert "<img" not in rendered.html and "<i>" not in rendered.html
    assert script in rendered.text


def test_unknown_template_raises_clearly() -> None:
    """There is no fallback: an unknown template name is refused, naming it."""
    with pytest.raises(UnknownTemplate, match="no notification template named 'escalate_all'"):
        render(make_notice("escalate_all"))


def test_timer_without_a_level_raises() -> None:
    """A timer notice must name a level (which levels a ladder announces is its definition's
    business: tests/lifecycle/test_announced.py)."""
    with pytest.raises(UnknownTemplate, match="has no level"):
        render(make_notice("timer.triage", level=None))


def test_unknown_role_and_timezone_are_refused() -> None:
    """A recipient role or timezone outside the contract fails before rendering."""
    with pytest.raises(ValueError, match="unknown recipient role"):
        render(make_notice(recipient_role="parent"))
    with pytest.raises(ValueError, match="unknown timezone"):
        render(make_notice(timezone="Mars/Olympus"))


def test_subject_is_one_line() -> None:
    """Line breaks in a label cannot reach the Subject header."""
    notice = make_notice(event_label="Returns\r\n due", pseudonym="Child\nK")
    assert subject(notice) == "[CR-2026-0001 Child K] Returns due"


def test_stage_line_for_new_internal_and_changing_events() -> None:
    """The state change reads as new case, unchanged, or from -> to."""
    created = render(make_notice("refer", source=None, state="referral", state_label="Referral"))
    internal = render(make_notice("record_return", source="information_request"))
    moved = render(make_notice("submit_to_sub_group", source="information_request",
                               state="sub_group", state_label="Sub-group"))  # fmt: skip
    assert "Stage:    new case, now at Referral" in created.text
    assert "Stage:    Information request (unchanged)" in internal.text
    assert "Stage:    Information request -> Sub-group" in moved.text
    assert "Information request &rarr; Sub-group" in moved.html


def test_late_timer_and_blocked_reasons_are_shown() -> None:
    """A timer fired after an outage says how late; a blocked publication lists why."""
    rendered = render(
        make_notice(
            "timer.publication",
            level="blocked",
            recipient_role="chair",
            late_by=timedelta(days=2, hours=3, minutes=5),
            reasons=("criminal proceedings pending", "no board_response recorded"),
        )
    )
    for body in (words(rendered.text), html_words(rendered.html)):
        assert "2 days, 3 hours and 5 minutes after it was due" in body
        assert "criminal proceedings pending" in body
        assert "no board_response recorded" in body


def test_no_deadline_is_said_plainly() -> None:
    """Without a next deadline both bodies say so instead of failing."""
    rendered = render(make_notice("withdraw", next_deadline=None, recipient_role="auditor"))
    assert "No deadline is set at this stage." in rendered.text
    assert "No deadline is set at this stage." in rendered.html
    assert must_do_text(rendered.text) == GENERIC


def test_local_time_follows_daylight_saving() -> None:
    """Winter times are GMT, summer times BST; the format is English whatever the locale."""
    assert local_time(datetime(2026, 12, 4, 10, 15, tzinfo=UTC), "Europe/London") == (
        "Friday 4 December 2026, 10:15"
    )
    assert local_time(DUE_UTC, "Europe/London") == DUE_LOCAL
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time(datetime(2026, 6, 5, 9, 15), "Europe/London")


def test_deadline_refuses_a_naive_time() -> None:
    """A deadline without a timezone cannot be built."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Deadline("Agency returns due", datetime(2026, 6, 5, 9, 15))


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=5), "5 hours"),
        (timedelta(days=1, minutes=3), "1 day and 3 minutes"),
    ],
)
def test_duration_in_words(delta: timedelta, expected: str) -> None:
    """Lateness reads naturally."""
    assert duration(delta) == expected


def test_fields_of_a_subclass_never_reach_a_template() -> None:
    """Only Notice's declared fields are rendered, even if a richer object is passed."""

    @dataclass(frozen=True)
    class Leaky(Notice):
        child_name: str = "Jane Doe"

    base = make_notice()
    leaky = Leaky(**{f.name: getattr(base, f.name) for f in fields(Notice)})
    rendered = render(leaky)
    assert "Jane Doe" not in rendered.text and "Jane Doe" not in rendered.html


def test_a_template_using_a_missing_field_fails() -> None:
    """StrictUndefined: a name outside the context is an error, not an empty string."""
    template = environment().from_string("{{ child_name }}")
    with pytest.raises(UndefinedError):
        template.render({f.name: None for f in fields(Notice)})


def test_the_earlier_state_and_the_role_are_in_the_notice_s_words() -> None:
    """A notice that carries the earlier state's label and its regime's words for a role is
    rendered with them, not with the identifiers made into words."""
    rendered = render(make_notice(
        "submit_to_sub_group", source="chair_decision", state="review",
        state_label="Local child safeguarding practice review",
        source_label="Safeguarding partners' decision", recipient_role="subgroup_chair",
        role_words=(("subgroup_chair", "chair of the rapid review meeting"),)))
    assert ("Stage:    Safeguarding partners' decision -> Local child safeguarding practice "
            "review") in rendered.text
    assert "Safeguarding partners&#39; decision &rarr; Local child" in rendered.html
    for body in (rendered.text, rendered.html):
        assert "Chair decision" not in body
        assert "You receive this as the chair of the rapid review meeting for this case." in body
