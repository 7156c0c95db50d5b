from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from scr.handlers.ics import CalendarEntry, to_ics
from scr.handlers.mail import DeliveryResult, Message, deliver, make_message_id
from scr.handlers.transport import SmtpTransport, redact_url

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
StartServer = Callable[..., Any]  # the start_server fixture (conftest.py)


def message(n: int, to: str = "pat.lee@health.example", ics: str | None = None) -> Message:
    return Message(
        outbox_id=n,
        message_id=make_message_id(f"outbox-{n}", "scr.local"),
        sender="Anyshire SCB <scr@localhost>",
        to=to,
        subject=f"[CR-2026-0001 Child K] Notice {n}",
        text=f"Notice {n}\n",
        html=f"<p>Notice {n}</p>\n",
        ics=ics,
        case_ref="CR-2026-0001",
        date=NOW,
    )


def ok(results: list[DeliveryResult]) -> list[bool]:
    return [r.ok for r in results]


def test_messages_arrive_with_their_message_id_parts_and_invitation(
    start_server: StartServer,
) -> None:
    """Over real SMTP: envelope, Message-ID, text+HTML alternatives and the calendar part."""
    server = start_server()
    invite = CalendarEntry(
        uid="meeting-CR-2026-0001-subgroup@scr", sequence=0, method="REQUEST",
        summary="CR-2026-0001 Child K: sub-group meeting", description="Case review sub-group",
        start=datetime(2026, 12, 10, 14, 0, tzinfo=UTC), stamp=NOW, duration_minutes=90,
        organizer="scr@localhost", attendees=("pat.lee@health.example",),
    )  # fmt: skip
    ics = to_ics(invite)
    results = deliver(
        [message(1), message(2, ics=ics)],
        SmtpTransport.from_url(f"smtp://127.0.0.1:{server.port}?helo=scr.test", timeout=5),
    )
    assert results == [
        DeliveryResult(1, message(1).message_id, True, None, False),
        DeliveryResult(2, message(2).message_id, True, None, False),
    ]
    first, second = server.handler.received
    assert first.mail_from == "scr@localhost" and first.rcpt_tos == ["pat.lee@health.example"]
    assert first.message["Message-ID"] == message(1).message_id
    assert first.message["X-SCR-Case"] == "CR-2026-0001"
    assert [p.get_content_type() for p in first.message.walk()] == [
        "multipart/alternative", "text/plain", "text/html",
    ]  # fmt: skip
    assert second.message["Message-ID"] == message(2).message_id
    calendar = next(p for p in second.message.walk() if p.get_content_type() == "text/calendar")
    assert isinstance(calendar, EmailMessage)
    assert calendar.get_param("method") == "REQUEST"
    assert "UID:meeting-CR-2026-0001-subgroup@scr" in calendar.get_content()
    assert any(p.get_filename() == "invite.ics" for p in second.message.walk())


def test_one_connection_carries_the_whole_batch(start_server: StartServer) -> None:
    """A batch of 20 uses a single SMTP connection, counted on the server."""
    server = start_server()
    results = deliver(
        [message(n) for n in range(20)],
        SmtpTransport.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5),
    )
    assert all(ok(results)) and len(server.handler.received) == 20
    assert server.handler.connections == 1


def test_a_caller_can_share_one_connection_across_deliver_calls(
    start_server: StartServer,
) -> None:
    """Inside an outer `with transport`, several deliver() calls reuse the connection."""
    server = start_server()
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5)
    with transport:
        assert ok(deliver([message(1)], transport)) == [True]
        assert ok(deliver([message(2)], transport)) == [True]
    assert server.handler.connections == 1
    assert ok(deliver([message(3)], transport)) == [True]
    assert server.handler.connections == 2


def test_a_message_id_repeated_in_a_batch_is_sent_once(start_server: StartServer) -> None:
    """Two rows with one Message-ID in a batch: both reported sent, one message on the wire."""
    server = start_server()
    results = deliver(
        [message(1), message(1), message(2)],
        SmtpTransport.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5),
    )
    assert ok(results) == [True, True, True]
    assert [r.message["Message-ID"] for r in server.handler.received] == [
        message(1).message_id,
        message(2).message_id,
    ]


def test_a_refused_recipient_is_permanent_and_does_not_stop_the_batch(
    start_server: StartServer,
) -> None:
    """A 550 for one recipient is permanent=True; the others in the batch still go."""
    server = start_server(refuse={"gone@health.example"})
    results = deliver(
        [message(1), message(2, to="Gone <gone@health.example>"), message(3)],
        SmtpTransport.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5),
    )
    assert ok(results) == [True, False, True]
    refused = results[1]
    assert refused.permanent is True
    assert refused.error is not None and refused.error.startswith("550 5.1.1")
    assert "\n" not in refused.error
    assert [r.message["Message-ID"] for r in server.handler.received] == [
        message(1).message_id, message(3).message_id,
    ]  # fmt: skip
    assert server.handler.connections == 1


def test_server_down_is_temporary_and_a_later_run_delivers(
    start_server: StartServer, unused_port: int
) -> None:
    """Nobody listening: every message fails temporarily; once the server is up, all arrive."""
    port = unused_port
    transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{port}", timeout=5)
    down = deliver([message(1), message(2)], transport)
    assert ok(down) == [False, False]
    assert all(not r.permanent for r in down)
    assert all(r.error and "cannot use mail server 127.0.0.1" in r.error for r in down)
    server = start_server(port=port)
    up = deliver([message(1), message(2)], transport)
    assert ok(up) == [True, True]
    assert len(server.handler.received) == 2


def test_a_dropped_connection_is_reopened(start_server: StartServer) -> None:
    """When the server hangs up after each message, the transport reconnects and carries on."""
    server = start_server(close_after_each=True)
    results = deliver(
        [message(n) for n in range(3)],
        SmtpTransport.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5),
    )
    assert ok(results) == [True, True, True]
    assert [r.connection for r in server.handler.received] == [1, 2, 3]


def test_a_421_closing_reply_is_retried_on_a_new_connection(start_server: StartServer) -> None:
    """A '421 too many messages' is not a failure of the message: it goes on a new connection."""
    server = start_server(busy_after=2)
    results = deliver(
        [message(n) for n in range(5)],
        SmtpTransport.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5),
    )
    assert ok(results) == [True] * 5
    assert [r.connection for r in server.handler.received] == [1, 1, 2, 2, 3]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_and_login(
    start_server: StartServer, server_tls: ssl.SSLContext, certificate: tuple[Path, Path],
    credentials: tuple[str, str], mechanism: str,
) -> None:  # fmt: skip
    """smtp+starttls:// upgrades to TLS (verifying the certificate via ?cafile=) then logs in."""
    user, password = credentials
    other = "LOGIN" if mechanism == "PLAIN" else "PLAIN"
    server = start_server(
        tls_context=server_tls, require_starttls=True, login=True, auth_exclude_mechanism=[other]
    )
    secret = quote(password, safe="")  # the password has ':', '@' and '/' in it
    url = f"smtp+starttls://{user}:{secret}@127.0.0.1:{server.port}?cafile={certificate[0]}"
    results = deliver([message(1), message(2)], SmtpTransport.from_url(url, timeout=5))
    assert ok(results) == [True, True]
    assert server.handler.logins == [(mechanism, True)]
    assert server.handler.connections == 1
    assert len(server.handler.received) == 2


def test_wrong_password_fails_without_revealing_it(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext,
    credentials: tuple[str, str],
) -> None:  # fmt: skip
    """A refused login is a temporary, non-ok result whose error never contains the password."""
    user, _ = credentials
    server = start_server(tls_context=server_tls, require_starttls=True, login=True)
    wrong = "Wr0ng:p@ss"
    url = f"smtp+starttls://{user}:{quote(wrong, safe='')}@127.0.0.1:{server.port}"
    results = deliver(
        [message(1), message(2)], SmtpTransport.from_url(url, timeout=5, ssl_context=client_tls)
    )
    assert ok(results) == [False, False]
    for result in results:
        assert result.error is not None and "535" in result.error
        assert wrong not in result.error and quote(wrong, safe="") not in result.error
        assert result.permanent is False
    # One connection tries the login (smtplib tries each offered mechanism once), and the
    # second message is not tried again with the same refused password.
    assert server.handler.connections == 1
    assert sorted(server.handler.logins) == [("LOGIN", False), ("PLAIN", False)]
    assert server.handler.received == []


def test_an_untrusted_certificate_is_refused(
    start_server: StartServer, server_tls: ssl.SSLContext
) -> None:
    """Without the board's CA the self-signed certificate fails verification: nothing is sent."""
    server = start_server(tls_context=server_tls, require_starttls=True)
    url = f"smtp+starttls://127.0.0.1:{server.port}"
    results = deliver([message(1)], SmtpTransport.from_url(url, timeout=5))
    assert ok(results) == [False]
    assert results[0].error is not None and "CERTIFICATE_VERIFY_FAILED" in results[0].error
    assert server.handler.received == []


def test_smtps_implicit_tls_with_login(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext,
    credentials: tuple[str, str],
) -> None:  # fmt: skip
    """smtps:// speaks TLS from the first byte, logs in and delivers."""
    user, password = credentials
    # aiosmtpd offers AUTH on implicit TLS only with auth_require_tls off (it looks for
    # STARTTLS), and warns if AUTH is then also required: the login is checked below instead.
    server = start_server(
        ssl_context=server_tls, login=True, auth_require_tls=False, auth_required=False
    )
    url = f"smtps://{user}:{quote(password, safe='')}@127.0.0.1:{server.port}"
    transport = SmtpTransport.from_url(url, ssl_context=client_tls, timeout=5)
    assert ok(deliver([message(1)], transport)) == [True]
    assert server.handler.logins == [("PLAIN", True)]
    assert len(server.handler.received) == 1


def test_from_url_parses_and_percent_decodes() -> None:
    """Scheme picks the security, ports default per scheme, user and password are decoded."""
    transport = SmtpTransport.from_url(
        "smtp+starttls://manager:s3cret%3Ap%40ss%2Fword@mail.example"
    )
    assert (transport.host, transport.port, transport.security) == ("mail.example", 587, "starttls")
    assert transport.username == "manager"
    assert transport._password == "s3cret:p@ss/word"
    assert "s3cret" not in repr(transport)
    plain = SmtpTransport.from_url("smtp://localhost")
    assert (plain.port, plain.security, plain.username) == (25, "none", None)
    assert SmtpTransport.from_url("smtps://u:p@mail.example").port == 465
    assert SmtpTransport.from_url("smtp://mail.example:2525").port == 2525


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example",
        "smtp://u:hunter2@mail.example:notaport",
        "smtp://u@mail.example",
        "smtp://mail.example/path",
        "smtp://u:hunter2@mail.example?verify=0",
        "smtp://",
    ],
)
def test_from_url_refuses_bad_urls_without_echoing_the_password(url: str) -> None:
    """A malformed URL is a ValueError whose message hides the password."""
    with pytest.raises(ValueError) as caught:
        SmtpTransport.from_url(url)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("smtp://user:pa%40ss@host:25", "smtp://user:***@host:25"),
        ("smtp+starttls://u:p@ss@host:587?cafile=/x", "smtp+starttls://u:***@host:587?cafile=/x"),
        ("smtp://host:25", "smtp://host:25"),
        ("smtp://user@host", "smtp://user@host"),
        ("smtp://u:secret@host:bad", "smtp://u:***@host:bad"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    """The password, and only the password, is replaced by ***."""
    assert redact_url(url) == shown
