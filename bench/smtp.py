"""Outbox delivery to a local SMTP server (aiosmtpd), messages per second."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from pathlib import Path

from bench.seed import T0, case_in, clone, fresh
from lifecycle.runtime.delivery import deliver_outbox
from lifecycle.settings import MailSettings, Settings
from states.enums import State


class _Count:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rate(folder: Path, *, messages_at_least: int = 1000) -> dict[str, float]:
    from aiosmtpd.controller import Controller

    path = folder / "smtp.db"
    board = fresh(path)
    template = case_in(board, State.INFORMATION_REQUEST)
    board.db.dispose()
    import sqlite3

    conn = sqlite3.connect(path)
    (per_case,) = conn.execute("SELECT count(*) FROM outbox").fetchone()
    conn.close()
    clone(path, template, messages_at_least // per_case, with_timers=False)
    _copy_outbox(path, template)
    handler = _Count()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from storage.db import make_engine

        engine = make_engine(f"sqlite:///{path}")
        settings = Settings(mail=MailSettings(smtp_url=f"smtp://127.0.0.1:{port}",
                                              mail_dir=folder / "mail"))
        start = time.perf_counter()
        report = deliver_outbox(engine, settings, T0 + timedelta(days=1))
        took = time.perf_counter() - start
        engine.dispose()
    finally:
        controller.stop()
    assert report.sent == handler.received > 0
    return {"smtp_messages_per_s": report.sent / took, "smtp_messages": report.sent}


def _copy_outbox(path: Path, ref: str) -> None:
    """Give every cloned case a copy of the template's queued mail (new Message-IDs)."""
    import sqlite3

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
