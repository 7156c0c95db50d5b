"""Logs: one JSON event per transition, secrets redacted, free text withheld, exceptions
without local variables; a whole lifecycle's log never names the child."""

from __future__ import annotations

import io
import json
import logging

import pytest

from scr.lifecycle import log
from scr.states.enums import State
from tests.board import SCR_REFERRAL
from tests.conftest import T0


@pytest.fixture
def captured():
    stream = io.StringIO()
    log.configure(json=True, level=logging.INFO, stream=stream)
    yield stream
    log.configure(level=logging.WARNING)


def events(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_each_transition_is_one_json_event(board, captured):
    """Firing a trigger logs one 'transition' event with the case, trigger and actor bound."""
    ref = board.refer(at=T0)
    found = [e for e in events(captured) if e["event"] == "transition"]
    assert len(found) == 1
    assert found[0]["case_ref"] == ref and found[0]["trigger"] == "refer"
    assert found[0]["actor"] == "Bea Manager" and found[0]["pseudonym"] == "Child K"


def test_secrets_are_redacted_and_free_text_withheld(captured):
    """Passwords, tokens and URL passwords never reach the log; free-text keys are withheld."""
    log.get().warning("probe", smtp_url="smtps://mail:hunter2@smtp.board.example:465",
                      password="hunter2", api_token="abc123", summary="Jane, born 2019",
                      note="connect to postgresql://scr:hunter2@db/scr failed")
    text = captured.getvalue()
    assert "hunter2" not in text and "abc123" not in text and "Jane" not in text
    event = events(captured)[0]
    assert event["smtp_url"] == "smtps://mail:***@smtp.board.example:465"
    assert event["summary"] == "[withheld]"


def test_exceptions_render_without_local_variables(captured):
    """A traceback in the log shows where, never the values of local variables."""
    def explode(child_name: str) -> None:
        secret_local = f"{child_name} lives at 1 Acacia Avenue"
        raise RuntimeError(f"failed after {len(secret_local)} characters")

    try:
        explode("Jaydon")
    except RuntimeError:
        log.get(case_ref="CR-2026-0001").exception("crash")
    text = captured.getvalue()
    assert "crash" in text and "explode" in text
    assert "Jaydon" not in text and "Acacia" not in text


def test_a_whole_lifecycle_logs_no_child_data(board, captured):
    """Name and date of birth planted in the referral never appear in any log line."""
    ref = board.refer({**SCR_REFERRAL, "summary": "Jaydon Pryce, born 14/03/2019"}, at=T0)
    board.walk(ref, State.ACTIONS_SIGNED_OFF, at=T0)
    text = captured.getvalue()
    transitions = [e for e in events(captured) if e.get("event") == "transition"]
    assert len(transitions) == board.case(ref).version  # one per history row
    assert "Jaydon" not in text and "14/03/2019" not in text and "Pryce" not in text
