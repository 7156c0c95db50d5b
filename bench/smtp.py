"""Outbox delivery to a local SMTP server (aiosmtpd), against plain `smtplib` sending the
same messages to the same server over one connection."""

from __future__ import annotations

import shutil
import smtplib
import socket
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

from bench.seed import T0, case_in, clone, fresh
from scr.lifecycle.runtime.delivery import deliver_outbox
from scr.lifecycle.settings import MailSettings, Settings
from scr.states.enums import State

if TYPE_CHECKING:
    from aiosmtpd.smtp import Envelope

Sent = tuple[str, list[str], bytes]  # envelope sender, recipients, the message as sent


class _Keep:
    """Counts the messages it receives, and keeps them when asked (the floor's messages)."""

    def __init__(self) -> None:
        self.received = 0
        self.kept: list[Sent] | None = None

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.received += 1
        if self.kept is not None:
            content = envelope.content
            assert isinstance(content, bytes) and envelope.mail_from is not None
            self.kept.append((envelope.mail_from, list(envelope.rcpt_tos), content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _queued(folder: Path, messages_at_least: int) -> Path:
    """A database whose outbox holds at least `messages_at_least` messages due, as a
    referral's request for information queues them, each still to be rendered."""
    path = folder / "smtp.db"
    board = fresh(path)
    template = case_in(board, State.INFORMATION_REQUEST)
    board.db.dispose()
    conn = sqlite3.connect(path)
    (per_case,) = conn.execute("SELECT count(*) FROM outbox").fetchone()
    conn.close()
    clone(path, template, -(-messages_at_least // per_case) - 1, with_timers=False)
    _copy_outbox(path, template)
    return path


def _ours(queued: Path, run: Path, port: int, mail: Path) -> tuple[int, float]:
    """Our delivery of a fresh copy of the queued outbox: (messages sent, seconds)."""
    from scr.storage.db import make_engine

    for suffix in ("", "-wal", "-shm"):
        Path(f"{run}{suffix}").unlink(missing_ok=True)
        if Path(f"{queued}{suffix}").exists():
            shutil.copy2(f"{queued}{suffix}", f"{run}{suffix}")
    engine = make_engine(f"sqlite:///{run}")
    try:
        settings = Settings(mail=MailSettings(smtp_url=f"smtp://127.0.0.1:{port}",
                                              mail_dir=mail))
        start = time.perf_counter()
        report = deliver_outbox(engine, settings, T0 + timedelta(days=1))
        return report.sent, time.perf_counter() - start
    finally:
        engine.dispose()


def _plain(messages: list[Sent], port: int) -> float:
    """Seconds for `smtplib` to send `messages` as they are, over one connection."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipients, data in messages:
            smtp.sendmail(sender, recipients, data)
    return time.perf_counter() - start


def rate(folder: Path, *, messages_at_least: int = 600, rounds: int = 5) -> dict[str, float]:
    """Both sides alternated round by round; the ratio is the median of the rounds'.
    Our side claims, renders, builds and sends each message and marks it sent in its own
    transaction; the floor sends the bytes our side sent in the first round."""
    from aiosmtpd.controller import Controller

    queued = _queued(folder, messages_at_least)
    handler = _Keep()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        handler.kept = []
        sent, _ = _ours(queued, folder / "run.db", port, folder / "mail")  # warm up
        messages, handler.kept = handler.kept, None
        assert sent == len(messages) == handler.received > 0
        _plain(messages[:50], port)
        ours, plain, ratios = [], [], []
        for _ in range(rounds):
            n, took = _ours(queued, folder / "run.db", port, folder / "mail")
            assert n == sent
            ours.append(n / took)
            plain.append(len(messages) / _plain(messages, port))
            ratios.append(ours[-1] / plain[-1])
    finally:
        controller.stop()
    assert handler.received == sent * (rounds + 1) + rounds * len(messages) + 50
    return {"smtp_messages_per_s": median(ours), "smtplib_messages_per_s": median(plain),
            "smtp_vs_smtplib": median(ratios), "smtp_messages": sent}


def _copy_outbox(path: Path, ref: str) -> None:
    """Give every cloned case a copy of the template's queued mail (new Message-IDs)."""
    conn = sqlite3.connect(path)
    (source,) = conn.execute("SELECT id FROM cases WHERE ref = ?", (ref,)).fetchone()
    cols = [r[1] for r in conn.execute("PRAGMA table_info(outbox)")
            if r[1] not in ("id", "case_id", "message_id")]
    conn.execute(
        f"INSERT INTO outbox (case_id, message_id, {', '.join(cols)}) "
        f"SELECT c.id, '<' || c.id || '.' || o.id || '@bench>', "
        f"{', '.join('o.' + c for c in cols)} FROM cases c, outbox o "
        f"WHERE o.case_id = ? AND c.id != ? AND c.ref LIKE 'BN-%'", (source, source))
    conn.commit()
    conn.close()
