"""Parameters are checked and converted before any guard; bad input is InvalidInput."""

from __future__ import annotations

from datetime import date

import pytest

from scr.states.enums import CORE_AGENCIES
from scr.states.errors import InvalidInput
from scr.states.params import parse_params
from scr.states.scr.v1 import DEFINITION, REFERRAL_PARAMS

TRIGGER_BY_NAME = {t.name: t for t in (DEFINITION.create, *DEFINITION.all_triggers)}
TODAY = date(2026, 11, 23)


def parse(trigger, raw):
    return parse_params(TRIGGER_BY_NAME[trigger].params, raw, agencies=CORE_AGENCIES,
                        today=TODAY, context=trigger)


def test_strings_and_typed_values_convert_alike():
    """'true', 'health,police' and '2026-11-01' from the command line equal typed JSON."""
    from_cli = parse("request_information", {"agencies": "health, police", "urgent": "yes"})
    from_json = parse("request_information", {"agencies": ["health", "police"], "urgent": True})
    assert from_cli == from_json == {"agencies": ["health", "police"], "urgent": True}


@pytest.mark.parametrize(
    ("trigger", "raw", "message"),
    [
        ("request_information", {}, "missing parameter"),
        ("request_information", {"agencies": "health", "colour": "red"}, "unknown parameter"),
        ("request_information", {"agencies": "health,fire_brigade"}, "unknown value"),
        ("request_information", {"agencies": "health", "urgent": "perhaps"}, "true or false"),
        ("recommend", {"recommendation": "maybe"}, "unknown value"),
        ("schedule_publication", {"date": "2027-02-30"}, "not a date"),
        ("schedule_publication", {"date": "next tuesday"}, "not a date"),
        ("schedule_publication", {"date": "20270105"}, "not a date"),
        ("record_meeting", {"date": "2026-12-01", "attendees": "health"}, "in the future"),
        ("complete_action", {"action": "one", "evidence": "x"}, "whole number"),
        ("complete_action", {"action": "-3", "evidence": "x"}, "whole number"),
        ("record_milestone", {"milestone": "a\x00b"}, "control character"),
        ("record_milestone", {"milestone": "x" * 301}, "too long"),
        ("record_milestone", {"milestone": 12}, "not text"),
    ],
)

def test_bad_input_is_refused_with_a_clear_message(trigger, raw, message):
    """Missing, unknown and malformed values are InvalidInput naming the problem."""
    with pytest.raises(InvalidInput, match=message):
        parse(trigger, raw)


def test_referral_in_the_future_is_refused():
    """An incident date after today is bad input."""
    raw = {"pseudonym": "Child K", "incident_date": "2026-11-24", "harm": "death",
           "abuse": "known", "route": "professional"}
    with pytest.raises(InvalidInput, match="incident_date: in the future"):
        parse_params(REFERRAL_PARAMS, raw, agencies=CORE_AGENCIES, today=TODAY, context="refer")


def test_optional_parameters_take_their_defaults():
    """Leaving out optional referral fields gives their defaults."""
    raw = {"pseudonym": "Child K", "incident_date": "2026-11-01", "harm": "death",
           "abuse": "known", "route": "professional"}
    parsed = parse_params(REFERRAL_PARAMS, raw, agencies=CORE_AGENCIES, today=TODAY,
                          context="refer")
    assert parsed["grounds"] == [] and parsed["agency_concern"] is False
    assert parsed["summary"] == "" and parsed["referrer_agency"] is None
