"""The recipient selectors a trigger or a timer level may name, and how each resolves (in
lifecycle/core/notify.py); the descriptions are what `scr help` and `scr why` show."""

from __future__ import annotations

from types import MappingProxyType

RECIPIENTS = MappingProxyType({
    "business_manager": "every business manager",
    "chair": "every independent chair",
    "subgroup_chair": "every sub-group chair",
    "subgroup_members": "every sub-group member",
    "lead_reviewer": "the case's lead reviewer",
    "agency_leads:params": "the leads of the agencies named in the trigger",
    "agency_leads:asked": "the leads of every agency asked on the case",
    "agency_leads:outstanding": "the leads of agencies whose return is outstanding",
    "agency_leads:action": "the lead of the action's agency",
    "agency_leads:actions": "the leads of the agencies of the actions named (all the "
    "case's actions when none is named)",
    "action_owner": "the action's owner (or its agency's lead)",
    "safeguarding_partner": "every safeguarding partner",
    "scrutineer": "the independent scrutineer",
})
