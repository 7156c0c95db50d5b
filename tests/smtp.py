"""A real SMTP server (aiosmtpd) on a free loopback port, and a self-signed certificate;
the fixtures are made available to every test by tests/conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER = "manager"
PASSWORD = "s3cret:p@ss/word"  # needs percent-encoding in a URL


def free_port() -> int:
    """A loopback port nobody listens on (Controller(port=0) cannot report its port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    connection: int  # which connection (1, 2, ...) carried the message
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    """Stores what arrives and counts connections (one aiosmtpd SMTP object per connection)."""

    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    close_after_each: bool = False  # drop the connection after every accepted message
    busy_after: int | None = None  # answer MAIL with 421 once a connection carried this many
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)
    _servers: list[SMTP] = field(default_factory=list)
    _per_connection: dict[int, int] = field(default_factory=dict)

    @property
    def connections(self) -> int:
        return len(self._servers)

    def _connection(self, server: SMTP) -> int:
        for number, known in enumerate(self._servers, start=1):
            if known is server:
                return number
        self._servers.append(server)
        return len(self._servers)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
        responses: list[str],
    ) -> list[str]:  # fmt: skip
        self._connection(server)
        session.host_name = hostname  # with this hook aiosmtpd leaves it to the handler
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        mail_options: list[str],
    ) -> str:  # fmt: skip
        number = self._connection(server)
        if self.busy_after is not None and self._per_connection.get(number, 0) >= self.busy_after:
            asyncio.get_running_loop().call_soon(_close, server)
            return "421 4.7.0 Too many messages on this connection, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:  # fmt: skip
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        number = self._connection(server)
        self._per_connection[number] = self._per_connection.get(number, 0) + 1
        raw = envelope.original_content or b""
        self.received.append(Received(number, envelope.mail_from or "", envelope.rcpt_tos, raw))
        if self.close_after_each:
            asyncio.get_running_loop().call_soon(_close, server)
        return "250 2.0.0 Accepted"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == PASSWORD.encode()
        )
        self.logins.append((mechanism, ok))
        # handled=False: aiosmtpd then answers a failure with "535 ..." itself.
        return AuthResult(success=ok, handled=False)


def _close(server: SMTP) -> None:
    if server.transport is not None:
        server.transport.close()


@dataclass
class Server:
    port: int
    handler: RecordingHandler
    controller: Controller


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made with the openssl tool."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


# Tests reach these through fixtures, not imports: importing `conftest` is ambiguous once
# other test folders have their own.
StartServer = Callable[..., Server]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start aiosmtpd servers on free loopback ports; all are stopped after the test.

    Keywords: `port`, the RecordingHandler options (`refuse`, `close_after_each`,
    `busy_after`), `login=True` to check USER/PASSWORD, and aiosmtpd SMTP options.
    """
    running: list[Controller] = []

    def start(
        *,
        port: int | None = None,
        refuse: set[str] | None = None,
        close_after_each: bool = False,
        busy_after: int | None = None,
        login: bool = False,
        **smtp: Any,
    ) -> Server:
        handler = RecordingHandler(
            refuse=refuse or set(), close_after_each=close_after_each, busy_after=busy_after
        )
        port = port or free_port()
        if login:
            smtp["authenticator"] = handler.authenticate
            smtp.setdefault("auth_required", True)
        controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp)
        controller.start()
        running.append(controller)
        return Server(port, handler, controller)

    yield start
    for controller in running:
        controller.stop()


@pytest.fixture
def unused_port() -> int:
    """A free loopback port with no server on it."""
    return free_port()


@pytest.fixture
def credentials() -> tuple[str, str]:
    """The user and password the `login=True` server accepts."""
    return USER, PASSWORD


class SilentServer:
    """A mail server that accepts every connection and never says a word (no greeting, no
    reply): the hang a client can only end by its own timeout. Counts the connections."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed
                return
            self._held.append(conn)

    def close(self) -> None:
        # Closing a listening socket does not wake a thread blocked in accept() on it (the
        # join would wait out its whole timeout); shutting it down does.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()
