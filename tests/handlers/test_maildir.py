from __future__ import annotations

import mailbox
import os
import stat
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from scr.handlers.mail import Message, deliver, make_message_id
from scr.handlers.transport import MaildirTransport, maildir_name

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def message(n: int) -> Message:
    return Message(
        outbox_id=n,
        message_id=make_message_id(f"outbox-{n}", "scr.local"),
        sender="Anyshire SCB <scr@localhost>",
        to="pat.lee@health.example",
        subject=f"[CR-2026-0001 Child K] Notice {n}",
        text=f"Notice {n}\n",
        html=f"<p>Notice {n}</p>\n",
        case_ref="CR-2026-0001",
        date=NOW,
    )


def files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_maildir_is_created_with_new_cur_tmp_and_receives_messages(tmp_path: Path) -> None:
    """Delivery creates a standard maildir and writes each message into new/, tmp/ left empty."""
    mail = tmp_path / "mail"
    results = deliver([message(1), message(2)], MaildirTransport(mail))
    assert [r.ok for r in results] == [True, True]
    assert files(mail) == ["cur", "new", "tmp"]
    assert files(mail / "tmp") == [] and files(mail / "cur") == []
    assert files(mail / "new") == sorted(maildir_name(message(n).message_id) for n in (1, 2))
    # The standard library reads it as a maildir, and the Message-ID is the outbox's.
    box = mailbox.Maildir(mail, create=False)
    ids = sorted(m["Message-ID"] for m in box)
    assert ids == sorted(message(n).message_id for n in (1, 2))


def test_maildir_is_private_to_the_daemon(tmp_path: Path) -> None:
    """Folders are 0700 and messages 0600: other local users cannot read case mail."""
    mail = tmp_path / "mail"
    deliver([message(1)], MaildirTransport(mail))
    for folder in (mail, mail / "new", mail / "cur", mail / "tmp"):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    (written,) = (mail / "new").iterdir()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_same_message_twice_is_one_file(tmp_path: Path) -> None:
    """A resend after a crash (same Message-ID) is reported delivered but not written again."""
    mail = tmp_path / "mail"
    assert deliver([message(1)], MaildirTransport(mail))[0].ok
    again = deliver([message(1), message(1)], MaildirTransport(mail))
    assert [r.ok for r in again] == [True, True]
    assert len(files(mail / "new")) == 1


def test_a_message_already_read_is_not_delivered_again(tmp_path: Path) -> None:
    """Once a reader moved the message to cur/ with flags, a resend still finds it."""
    mail = tmp_path / "mail"
    transport = MaildirTransport(mail)
    deliver([message(1)], transport)
    name = maildir_name(message(1).message_id)
    (mail / "new" / name).rename(mail / "cur" / f"{name}:2,S")
    assert transport.delivered(message(1).message_id)
    assert deliver([message(1)], transport)[0].ok
    assert files(mail / "new") == [] and files(mail / "cur") == [f"{name}:2,S"]


def test_delivered_file_is_the_full_message(tmp_path: Path) -> None:
    """The file holds headers and both bodies, readable as an e-mail."""
    mail = tmp_path / "mail"
    deliver([message(3)], MaildirTransport(mail))
    (path,) = (mail / "new").iterdir()
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "[CR-2026-0001 Child K] Notice 3"
    assert parsed["X-SCR-Case"] == "CR-2026-0001"
    html = parsed.get_body(("html",))
    assert isinstance(html, EmailMessage) and html.get_content() == "<p>Notice 3</p>\n"


def test_an_unwritable_maildir_is_a_temporary_failure(tmp_path: Path) -> None:
    """If the maildir cannot be created, each message fails temporarily (retry later)."""
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the maildir should be")
    results = deliver([message(1), message(2)], MaildirTransport(blocker))
    assert [r.ok for r in results] == [False, False]
    assert all(not r.permanent and r.error and "maildir" in r.error for r in results)


def test_a_message_that_cannot_be_built_fails_permanently_alone(tmp_path: Path) -> None:
    """A malformed row is a permanent failure; the rest of the batch is still delivered."""
    mail = tmp_path / "mail"
    broken = replace(message(2), message_id="not-a-message-id")
    results = deliver([message(1), broken, message(3)], MaildirTransport(mail))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].permanent is True
    assert results[1].error is not None and "malformed Message-ID" in results[1].error
    assert len(files(mail / "new")) == 2
