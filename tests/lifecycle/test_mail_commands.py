"""Delivery renders each notice with the commands of its case's definition, from the
definitions it is given: the business manager reads command lines, an agency lead none; a
notice queued before notices named their definition is rendered with its case's."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from pathlib import Path

from scr.lifecycle.core import notify
from scr.lifecycle.core.process import Processes
from scr.lifecycle.runtime.delivery import deliver_outbox
from scr.lifecycle.settings import MailSettings, Settings
from scr.states.registry import REGISTRY, Registry
from scr.storage import cases, outbox
from scr.storage.db import transaction
from tests.conftest import T0

H = timedelta(hours=1)
ASK = "scr advance {ref} add_agency agency=..."


def bodies(tmp_path: Path, about: str = "Information requested") -> dict[str, str]:
    """The plain text of each message delivered into the maildir whose subject says
    `about`, by its recipient."""
    found = {}
    for path in (tmp_path / "mail" / "new").iterdir():
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if about not in str(message["Subject"]):
            continue
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found[str(message["To"])] = " ".join(text.split())
    return found


def asked(board) -> str:
    ref = board.refer(at=T0)
    board.fire(ref, "request_information", at=T0 + H, agencies="health,police")
    return ref


def by_role(board, ref: str) -> dict[str, str]:
    """Each recipient's address by role, from the outbox of the request for information."""
    from tests import records

    return {m.recipient_role: m.recipient for m in records.mail(board.db, ref)
            if m.template == "request_information"}


def test_the_business_manager_reads_the_command_and_an_agency_lead_does_not(board, tmp_path):
    """The business manager's e-mail carries the definition's command line; the agency
    lead's none, and (no portal) the word that the business manager records for them."""
    ref = asked(board)
    settings = Settings(mail=MailSettings(mail_dir=tmp_path / "mail"))
    deliver_outbox(board.db, settings, T0 + 2 * H, processes=Processes(settings.process))
    mail, to = bodies(tmp_path), by_role(board, ref)
    assert ASK.format(ref=ref) in mail[to["business_manager"]]
    lead = mail[to["agency_lead"]]
    assert "scr advance" not in lead and "scr show" not in lead
    assert "business manager records what you decide or do" in lead


def test_the_definitions_are_the_ones_delivery_is_given(board, tmp_path):
    """Delivery looks the case's definition up in the processes it is given, not in the
    shipped registry: given none that has it, the business manager is shown no command."""
    ref = asked(board)
    settings = Settings(mail=MailSettings(mail_dir=tmp_path / "mail"))
    others = Processes(settings.process, Registry(REGISTRY.get("learning", "1")))
    deliver_outbox(board.db, settings, T0 + 2 * H, processes=others)
    assert "scr advance" not in bodies(tmp_path)[by_role(board, ref)["business_manager"]]


def test_a_notice_queued_before_notices_named_their_definition_reads_the_case_s(
        board, tmp_path):
    """An outbox row whose notice has no definition (queued by the code before) is rendered
    with the commands of the definition its case runs under."""
    ref = board.refer(at=T0)
    with transaction(board.db) as tx:
        case = cases.load(tx, ref)
        event = notify.Event(template="request_information", label="Information requested",
                             source="referral", actor="Jane Smith", reason=None)
        rows = notify.queue(case, event, [notify.Recipient("Bea", "bea@old.test",
                                                           "business_manager")],
                            state_label="Information request", board=Settings().board,
                            timezone="Europe/London", now=T0 + H, deadline=None,
                            history_seq=None, definition=REGISTRY.get("scr", "1"))
        for row in rows:
            assert row["notice"].pop("definition") == "scr"
            row["notice"].pop("definition_version")
        outbox.queue(tx, rows)
    settings = Settings(mail=MailSettings(mail_dir=tmp_path / "mail"))
    deliver_outbox(board.db, settings, T0 + 2 * H)
    assert ASK.format(ref=ref) in bodies(tmp_path)["bea@old.test"]
