"""`scr outbox` and `scr outbox retry ID`: the e-mail waiting, sent and failed."""

from __future__ import annotations

import argparse
import re
from argparse import Namespace
from collections.abc import Callable

from scr.lifecycle.cli.app import App, Output
from scr.lifecycle.views.documents import outbox_entry
from scr.lifecycle.views.text import table
from scr.states.enums import Role
from scr.states.errors import InvalidInput, Refused
from scr.storage import outbox as stored
from scr.storage.db import reading


def outbox(app: App, args: Namespace) -> Output:
    if args.action is not None:
        return outbox_retry(app, args)
    status = args.status
    if status is not None and status not in ("pending", "sent", "failed"):
        raise InvalidInput(f"unknown status {status!r} (pending, sent or failed)")
    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        entries = [outbox_entry(o) for o in stored.listing(tx, status=status)]
    text = table(
        ["id", "case", "to", "status", "tries", "subject"],
        [[e["id"], e["case_ref"], e["to"], e["status"], e["attempts"], e["subject"]]
         for e in entries])
    return Output(entries, text if entries else "the outbox is empty")


def outbox_retry(app: App, args: Namespace) -> Output:
    """Re-queue a failed message (after mending an address or the mail settings)."""
    from scr.lifecycle.runtime.delivery import retry

    if args.action != "retry" or args.id is None:
        raise InvalidInput("usage: scr outbox retry ID")
    with reading(app.db()) as tx:
        by = app.actor(tx, required=False)
    if by is None:
        raise Refused("give --as NAME: retrying mail needs a business manager")
    if Role.BUSINESS_MANAGER not in by.roles:
        raise Refused(f"{by.name} may not retry mail: it needs business_manager")
    row = retry(app.db(), args.id, app.now())
    return Output(outbox_entry(row), f"outbox message {row.id} to {row.recipient} is queued "
                  "again")


def _message_id(text: str) -> int:
    """An outbox message's id: a whole number a database key can hold (SQLite's and
    PostgreSQL's are 64-bit), so a mistyped one is unknown rather than an overflow."""
    if not re.fullmatch(r"-?\d{1,18}", text.strip()):
        raise argparse.ArgumentTypeError(f"not a message id: {text[:40]!r} (a whole number, "
                                         "as scr outbox lists)")
    return int(text)


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`outbox` and `outbox retry ID`."""
    ob = command("outbox", "the e-mail outbox; 'outbox retry ID' re-queues a failed message")
    ob.add_argument("action", nargs="?", metavar="retry", help="re-queue a failed message")
    ob.add_argument("id", nargs="?", type=_message_id, metavar="ID")
    ob.add_argument("--status", help="pending, sent or failed")
    ob.set_defaults(func=outbox)
