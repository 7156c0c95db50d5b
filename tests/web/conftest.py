"""The portal through a real HTTP server: uvicorn on a free loopback port, serving the
application in a thread of the test process, over a test's own SQLite board."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from scr.lifecycle.runtime.delivery import deliver_outbox
from scr.lifecycle.settings import load
from scr.lifecycle.web.app import create_app
from tests.board import Board
from tests.cli.scr import scr_v1_config
from tests.conftest import T0

# An httpx client reads the system's certificates into an SSL context of its own when it is
# made (some 50 ms); the tests make one for each person signing in, so they share one
# context, read once. The portal itself is plain HTTP on loopback.
TLS = ssl.create_default_context()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    """The running portal: its address, the board behind it, and its clock."""

    url: str
    board: Board
    app: Any
    mail_dir: Path
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def portal(self) -> Any:
        return self.app.state.portal

    def at(self, moment: datetime) -> None:
        """Move the portal's clock (its settings' --now)."""
        self.portal.settings = replace(self.portal.settings, now=moment)

    @property
    def now(self) -> datetime:
        return self.portal.settings.now

    def client(self) -> httpx.Client:
        made = httpx.Client(base_url=self.url, follow_redirects=False, timeout=10, verify=TLS)
        self.clients.append(made)
        return made

    def deliver(self) -> None:
        deliver_outbox(self.board.db, self.portal.settings, self.now,
                       processes=self.portal.app.processes)

    def mails(self) -> list[bytes]:
        """The maildir's messages, oldest first."""
        new = self.mail_dir / "new"
        if not new.exists():
            return []
        return [p.read_bytes() for p in sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns)]

    def sign_in_link(self, email: str) -> str:
        """The newest sign-in link e-mailed to `email`, from the maildir."""
        self.deliver()
        import re

        found = [m for m in self.mails() if email.encode() in m.split(b"\n\n", 1)[0]
                 and b"/sign-in/" in m]
        assert found, f"no message to {email} in the maildir"
        link = re.search(rb"(http://127\.0\.0\.1:\d+/sign-in/[A-Za-z0-9_\-]+)", found[-1])
        assert link, "the message holds no sign-in link"
        return link.group(1).decode()


def form_token(page: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form token"
    return found.group(1)


@pytest.fixture
def site(board: Board, sqlite_url, tmp_path) -> Iterator[Site]:
    port = free_port()
    mail = tmp_path / "mail"
    settings = load(environ={
        "SCR_DATABASE_URL": sqlite_url, "SCR_MAIL_DIR": str(mail),
        "SCR_ALLOW_CLOCK_OVERRIDE": "1", "SCR_CONFIG": str(scr_v1_config()),
        "SCR_CHECK_VIEWS": "1",
    }, now=T0.isoformat())
    base = f"http://127.0.0.1:{port}"
    settings = replace(settings, web=replace(settings.web, base_url=base),
                       board=replace(settings.board, portal_url=base))
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.02)
    running = Site(f"http://127.0.0.1:{port}", board, app, mail)
    try:
        yield running
    finally:
        for c in running.clients:
            c.close()
        server.should_exit = True
        thread.join(10)
        app.state.portal.app.close()


def sign_in(site: Site, email: str, client: httpx.Client | None = None) -> httpx.Client:
    """Sign in as the user with `email` through the real flow: the form, the link from the
    maildir, the one click. Returns the client holding the session cookie."""
    c = client or site.client()
    page = c.get("/sign-in")
    sent = c.post("/sign-in", data={"email": email, "csrf_token": form_token(page.text)})
    assert sent.status_code == 200, sent.text
    link = site.sign_in_link(email)
    path = httpx.URL(link).path
    confirm = c.get(path)
    assert confirm.status_code == 200, confirm.text
    done = c.post(path, data={"csrf_token": form_token(confirm.text)})
    assert done.status_code == 303 and done.headers["location"] == "/", done.text
    return c


LATER = timedelta(minutes=1)
