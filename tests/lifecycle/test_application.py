"""The application layer every front end stands on (lifecycle/application.py): one
transaction per thing a person does, and typed results."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scr.lifecycle.application import Application, CaseRead, Done
from scr.lifecycle.settings import load
from scr.states.errors import NotFound, Refused
from tests.board import BM, CSC, SCR_REFERRAL
from tests.cli.scr import scr_v1_config
from tests.conftest import T0


@pytest.fixture
def app(board, sqlite_url, tmp_path) -> Application:
    settings = load(environ={"SCR_DATABASE_URL": sqlite_url, "SCR_MAIL_DIR": str(tmp_path),
                             "SCR_ALLOW_CLOCK_OVERRIDE": "1",
                             "SCR_CONFIG": str(scr_v1_config())},
                    now=(T0 + timedelta(hours=1)).isoformat())
    application = Application(settings)
    yield application
    application.close()


def test_open_fire_and_read_give_the_case_as_it_stands(app, board):
    manager, lead = board.actor(BM), board.actor(CSC)
    opened = app.open_record(SCR_REFERRAL, actor=lambda tx: manager)
    ref = opened.case.ref
    assert opened.document["ref"] == ref and opened.case.state == "referral"
    done = app.fire(ref, "request_information", actor=lambda tx: manager,
                    params={"agencies": "childrens_social_care,health"}, document=True)
    assert isinstance(done, Done)
    assert (done.fired.before.state, done.fired.case.state) == ("referral",
                                                                "information_request")
    assert [a["agency"] for a in done.document["agencies"]] == ["childrens_social_care",
                                                                 "health"]
    read = app.read(ref, reader=lambda tx: lead, judged=True, history=True)
    assert isinstance(read, CaseRead)
    assert read.snapshot.state == "information_request" and read.case.version == 2
    assert [h["trigger"] for h in read.history][-1] == "request_information"
    mine = {v.trigger for v in read.verdicts if v.role.ok and not v.guard_reasons}
    assert "record_return" in mine and "request_information" not in mine
    # The lead reads the referral's free text only as far as their role allows.
    assert "summary" not in read.document["referral"]


def test_a_reader_who_may_not_see_the_case_finds_none(app, board):
    ref = board.refer(at=T0)
    with pytest.raises(NotFound):
        app.read(ref, reader=lambda tx: None, visible=lambda tx, case: False)


def test_explain_says_why_not_and_fire_refuses_the_same(app, board):
    ref = board.refer(at=T0)
    lead = board.actor(CSC)
    why = app.explain(ref, "submit_to_sub_group", actor=lambda tx: lead, params={})
    assert why["allowed"] is False and why["reasons"]
    with pytest.raises(Refused):
        app.fire(ref, "submit_to_sub_group", actor=lambda tx: lead, params={})
    assert board.state(ref) == "referral"
