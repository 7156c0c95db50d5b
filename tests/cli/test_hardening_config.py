"""Nonsense in the configuration file is refused when scr starts, by the real `scr`: one
`error:` line naming the key that is wrong, exit 2, and nothing written. Every numeric key
is tried with zero, a negative, `inf`, `nan` and a value far past its bounds (and the
counts with a fraction); the text keys that go into mail headers and references with line
breaks and empty values; the timers with distances that cannot count forward."""

from __future__ import annotations

import pytest

from tests.board import BM
from tests.cli.scr import dump

V1 = '[process]\ndefault = "scr"\nversion = "1"\n'
NUMBERS = {
    "mail": ["max_attempts", "backoff_seconds", "backoff_cap_seconds", "batch_size"],
    "daemon": ["interval_seconds"],
    "web": ["session_idle_minutes", "session_hours", "link_minutes"],
}
COUNTS = {"max_attempts", "batch_size"}


def _numeric_cases():
    for section, keys in NUMBERS.items():
        for key in keys:
            values = ["0", "-1", "inf", "-inf", "nan", "1e30"]
            if key in COUNTS:
                values.append("2.5")
            for value in values:
                yield pytest.param(f"[{section}]\n{key} = {value}\n", f"{section}.{key}",
                                   id=f"{section}.{key}={value}")


TEXT = [
    # TOML's own escapes: a header break in the sender, a second header after it.
    pytest.param('[board]\nmail_from = "scr@board.test\\r\\nBcc: everyone@example.com"\n',
                 "board.mail_from", id="mail_from-crlf"),
    pytest.param('[board]\nmail_from = "scr@board.test\\nX: y"\n', "board.mail_from",
                 id="mail_from-lf"),
    pytest.param('[board]\nmail_from = ""\n', "board.mail_from", id="mail_from-empty"),
    pytest.param('[board]\nmail_from = "nobody"\n', "board.mail_from", id="mail_from-no-at"),
    pytest.param('[board]\nmail_from = "a@board.test, b@board.test"\n', "board.mail_from",
                 id="mail_from-two-addresses"),
    pytest.param('[board]\nname = "Anyshire\\r\\nBcc: x@example.com"\n', "board.name",
                 id="name-crlf"),
    pytest.param('[board]\nname = ""\n', "board.name", id="name-empty"),
    pytest.param('[board]\nref_prefix = ""\n', "board.ref_prefix", id="ref_prefix-empty"),
    pytest.param('[board]\nref_prefix = "C R"\n', "board.ref_prefix", id="ref_prefix-space"),
    pytest.param('[board]\nref_prefix = "CR-2026"\n', "board.ref_prefix",
                 id="ref_prefix-dash"),
    pytest.param('[board]\nref_prefix = "CR\\n"\n', "board.ref_prefix", id="ref_prefix-lf"),
    pytest.param('[board]\nref_prefix = "%"\n', "board.ref_prefix", id="ref_prefix-wildcard"),
]

TIMERS = [
    pytest.param('[timers]\n"triage.reminder" = "0wd"\n', "triage.reminder", id="zero-after"),
    pytest.param('[timers]\n"triage.reminder" = "-3wd"\n', "triage.reminder",
                 id="negative-after"),
    pytest.param('[timers]\n"returns.due" = "0wd"\n', "returns.due", id="zero-due"),
    pytest.param('[timers]\n"returns.due" = "-10wd"\n', "returns.due", id="negative-due"),
    pytest.param('[timers]\n"notice_period" = "-7wd"\n', "notice_period",
                 id="negative-notice"),
    pytest.param('[timers]\n"completion.due" = "0m"\n', "completion.due", id="zero-months"),
    pytest.param('[timers]\n"panel.due" = "-14d"\n', "panel.due", id="negative-days"),
    pytest.param('[timers]\n"proceedings_check.check.every" = "0wd"\n',
                 "proceedings_check.check.every", id="zero-recurrence"),
    pytest.param('[timers]\n"completion.overdue.every" = "-1m"\n', "completion.overdue.every",
                 id="negative-recurrence"),
    pytest.param('[timers]\n"returns.due" = "10 weeks"\n', "returns.due", id="not-an-offset"),
]


@pytest.mark.parametrize(("setting", "key"), [*_numeric_cases(), *TEXT, *TIMERS])
def test_nonsense_settings_are_refused_at_start_naming_the_key(scr, tmp_path, setting, key):
    """The configuration is checked whole when scr starts: the one error line names the
    key, exit 2, and the database is untouched."""
    config = tmp_path / "board.toml"
    config.write_text(V1 + setting, encoding="utf-8")
    before = dump(scr.cwd)
    result = scr("--as", BM, "list", SCR_CONFIG=str(config))
    assert result.code == 2, (setting, result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: config"), result.err
    assert key in lines[0], (key, lines[0])
    assert "Traceback" not in result.err and result.out == ""
    assert dump(scr.cwd) == before


def test_a_cap_below_the_first_backoff_is_refused(scr, tmp_path):
    """A retry cap shorter than the first wait is named, not silently used."""
    config = tmp_path / "board.toml"
    config.write_text(V1 + "[mail]\nbackoff_seconds = 600\nbackoff_cap_seconds = 60\n")
    result = scr("--as", BM, "list", SCR_CONFIG=str(config))
    assert result.code == 2 and "mail.backoff_cap_seconds" in result.err


SENSIBLE = V1 + """
[board]
name = "Anyshire Safeguarding Children Partnership"
mail_from = "Anyshire SCP <scr@anyshire.gov.uk>"
ref_prefix = "CR"
agencies = ["camhs", "ambulance"]

[calendar]
timezone = "Europe/London"
country = "GB"
subdivision = "ENG"
day_start = "09:00"

[timers]
"returns.due" = "10wd"
"triage.reminder" = "3wd"
"notice_period" = "7wd"
"returns.reminder" = "-3wd"
"returns.overdue" = "0wd"
"returns_auto_submit.transition" = "-3wd"
"action.reminder" = "-10wd"
"publication.transition" = "0d"

[mail]
max_attempts = 8
backoff_seconds = 60
backoff_cap_seconds = 3600
batch_size = 200

[daemon]
interval_seconds = 15

[web]
base_url = "https://reviews.example.gov.uk"
session_idle_minutes = 30
session_hours = 8
link_minutes = 15
"""


def test_a_sensible_configuration_is_accepted(scr, tmp_path):
    """Every key set to a sensible value, distances before a dated anchor included: the
    checks refuse nonsense, not choices."""
    config = tmp_path / "board.toml"
    config.write_text(SENSIBLE, encoding="utf-8")
    scr.ok("--as", BM, "list", SCR_CONFIG=str(config))
