"""Delivering the outbox after commit, at least once.

1. Claim a batch of due messages in one short transaction: each gets a lease
   (`claimed_until`) and its attempt counted. PostgreSQL claims with FOR UPDATE SKIP LOCKED
   so several daemons share the work; SQLite's BEGIN IMMEDIATE makes the claim exclusive.
2. Send the batch over one connection (SMTP when SCR_SMTP_URL is set, else the maildir).
3. Mark each message in a second transaction: sent; or retried later with exponential
   back-off; or, after the configured attempts (or a permanent refusal), failed, with the
   business manager alerted. Nothing is ever dropped.

A crash between sending and marking leaves the lease to expire; the message is sent again
with the same Message-ID, so the copy is recognisable (and the maildir skips it).

A notice is rendered with the commands of its case's definition, looked up in the
`processes` the caller passes (Application.processes, Engine.processes; unless given, the
shipped definitions with the board's configuration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from scr.handlers.mail import DeliveryResult, Message, deliver, next_attempt_at
from scr.handlers.notices import CommandLine
from scr.handlers.transport import MaildirTransport, SmtpTransport, Transport
from scr.lifecycle import log
from scr.lifecycle.core import notify
from scr.lifecycle.core.process import Processes
from scr.lifecycle.settings import Settings
from scr.states.enums import Role
from scr.states.process import ProcessDefinition
from scr.states.registry import UnknownDefinition
from scr.storage import cases, outbox, users
from scr.storage.db import Database, Tx, transaction
from scr.storage.outbox import FAILED, PENDING, SENT, OutboxRecord

LEASE = timedelta(minutes=10)
__all__ = ["FAILED", "LEASE", "PENDING", "SENT", "Composed", "DeliveryReport", "claim",
           "compose", "composed", "deliver_outbox", "mark", "retry", "transport_for"]


@dataclass(frozen=True)
class Composed:
    """What an outbox row says, ready to send."""

    subject: str
    text: str
    html: str
    ics: str | None


def compose(notice: dict[str, Any], calendar: dict[str, Any] | None,
            created_at: datetime, commands: CommandLine | None) -> Composed:
    """Render a stored notice (and calendar entry) with the commands of its case's
    definition; raises if a template fails."""
    from scr.handlers.ics import entry_from_json, to_ics
    from scr.handlers.notices import notice_from_json
    from scr.handlers.render import render

    rendered = render(notice_from_json(notice), commands)
    ics = to_ics(entry_from_json(calendar, stamp=created_at)) if calendar is not None else None
    return Composed(rendered.subject, rendered.text, rendered.html, ics)


def composed(row: Any, processes: Processes | None = None) -> Composed:
    """What an outbox row says: its kept bodies once rendered, else rendered now (without
    command lines if its notice, queued before notices named their definition, does not
    say which definition its case runs under)."""
    if row.body_text or row.notice is None:
        return Composed(row.subject, row.body_text, row.body_html, row.ics)
    commands = _Commands(processes or Processes())(row)
    return compose(addressed(row), row.calendar, row.created_at, commands)


class _Commands:
    """The commands each outbox row's notice is rendered with: those of its case's
    definition, made once per definition."""

    def __init__(self, processes: Processes, tx: Tx | None = None) -> None:
        self.processes = processes
        self.tx = tx  # to read the case of a row whose notice does not name its definition
        self._made: dict[tuple[str, str], CommandLine | None] = {}

    def __call__(self, row: OutboxRecord) -> CommandLine | None:
        notice = row.notice or {}
        key = (notice.get("definition"), notice.get("definition_version"))
        if None in key and self.tx is not None and row.case_id is not None:
            case = cases.load_by_id(self.tx, row.case_id)
            key = (case.definition, case.definition_version)
        name, version = key
        if name is None or version is None:
            return None
        if (name, version) not in self._made:
            definition = self._definition(name, version)
            self._made[name, version] = (notify.command_line(definition)
                                         if definition is not None else None)
        return self._made[name, version]

    def _definition(self, name: str, version: str) -> ProcessDefinition | None:
        try:
            return self.processes.get(name, version).definition
        except UnknownDefinition:  # a definition this code does not ship: words only
            return None


def addressed(row: Any) -> dict[str, Any]:
    """The row's notice addressed to the row's recipient (rows queued before the notice was
    shared by an event's rows carry the same names in the notice itself): of the next steps
    the event offers, those of the recipient's role."""
    mine = [a for a in row.notice.get("act", ()) if a[0] == row.recipient_role]
    return {**row.notice, "recipient_name": row.recipient_name,
            "recipient_role": row.recipient_role, "act": mine}


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # The mail server could not be reached (or would not let us in): delivery stopped
    # after the batch that found it so, rather than waiting out its timeout once a batch.
    unreachable: bool = False

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.sent + other.sent, self.retried + other.retried,
                              self.failed + other.failed,
                              self.unreachable or other.unreachable)

    @property
    def tried(self) -> int:
        return self.sent + self.retried + self.failed


def transport_for(settings: Settings) -> Transport:
    if settings.mail.smtp_url:
        return SmtpTransport.from_url(settings.mail.smtp_url)
    return MaildirTransport(settings.mail.mail_dir)


def deliver_outbox(db: Database, settings: Settings, now: datetime, *,
                   batches: int | None = None, transport: Transport | None = None,
                   processes: Processes | None = None) -> DeliveryReport:
    """Deliver every message due at `now`, a batch at a time; returns what happened.

    Stops after a batch whose connection failed (`unreachable`): a mail server that is down
    or never answers costs one connection attempt (one timeout) a call, not one a batch."""
    processes = processes or Processes(settings.process)
    report = DeliveryReport()
    done = 0
    # The transport is made before any message is leased: a bad mail URL fails here, and
    # no message has an attempt counted that was never tried.
    channel = transport or transport_for(settings)
    while batches is None or done < batches:
        messages = claim(db, settings, now, settings.mail.batch_size, processes=processes)
        if not messages:
            break
        marked: list[int] = []
        refs = {m.outbox_id: m.case_ref for m in messages}
        with channel:
            results = deliver(messages, channel, on_sent=partial(
                _mark_sent, db, now=now, refs=refs, marked=marked))
        report += mark(db, settings, [r for r in results if not r.ok], now,
                       processes=processes)
        report += DeliveryReport(sum(marked), 0, 0)
        done += 1
        if any(r.connection for r in results):
            return report + DeliveryReport(unreachable=True)
    return report


def claim(db: Database, settings: Settings, now: datetime, limit: int, *,
          processes: Processes | None = None) -> list[Message]:
    """Lease up to `limit` due messages, oldest first, count the attempt, and render each
    queued notice (once) into the message that will be sent."""
    processes = processes or Processes(settings.process)
    with transaction(db) as tx:
        messages, bodies, unrenderable = [], [], []
        commands = _Commands(processes, tx)
        for row in outbox.lease(tx, now=now, limit=limit, until=now + LEASE):
            done = _render_once(row, commands)
            if isinstance(done, str):  # kept, failed and alerted: never sent, never dropped
                unrenderable.append(replace(row, last_error=done, status=FAILED))
                continue
            if done is not _KEPT:
                bodies.append((row.id, done.subject, done.text, done.html, done.ics))
                row = replace(row, subject=done.subject, body_text=done.text,
                              body_html=done.html, ics=done.ics)
            messages.append(_message(row, settings.board.mail_from))
        outbox.rendered(tx, bodies)
        outbox.settle(tx, now=now, failed=[(r.id, str(r.last_error)) for r in unrenderable])
        for row in unrenderable:
            _alert(tx, settings, row, now, processes)
        return messages


_KEPT = Composed("", "", "", None)  # the row's bodies were rendered before: send them


def _render_once(row: OutboxRecord, commands: _Commands) -> Composed | str:
    """The bodies to store for a queued notice rendered now, _KEPT when the row has them
    already, or the error (logged) if its templates fail."""
    if row.body_text or row.notice is None:
        return _KEPT
    try:
        return compose(addressed(row), row.calendar, row.created_at, commands(row))
    except Exception as exc:  # a template bug must not stop the rest of the batch
        error = f"could not render: {exc.__class__.__name__}: {exc}"[:500]
        log.get(case_ref=row.case_ref, outbox_id=row.id).error("mail.unrenderable",
                                                               error=error)
        return error


def _message(row: OutboxRecord, sender: str) -> Message:
    return Message(
        outbox_id=row.id, message_id=row.message_id, sender=sender, to=row.recipient,
        subject=row.subject, text=row.body_text, html=row.body_html, ics=row.ics,
        case_ref=row.case_ref, date=row.created_at,
    )


def _mark_sent(db: Database, result: DeliveryResult, *, now: datetime,
               refs: Mapping[int, str | None], marked: list[int]) -> None:
    """Record one message sent, in its own transaction, as soon as the server accepted it
    (one conditional UPDATE: a message settled already, by another daemon, is left as it
    is); appends 1 to `marked` when this call marked it."""
    with transaction(db) as tx:
        done = outbox.mark_sent(tx, result.outbox_id, now)
    marked.append(done)
    if done:
        log.get(case_ref=refs.get(result.outbox_id), outbox_id=result.outbox_id).info(
            "mail.sent", message_id=result.message_id)


def mark(db: Database, settings: Settings, results: Sequence[DeliveryResult],
         now: datetime, *, processes: Processes | None = None) -> DeliveryReport:
    """Record each result: sent, due again after back-off, or failed (and alerted)."""
    processes = processes or Processes(settings.process)
    sent: list[int] = []
    retry: list[tuple[int, datetime, str]] = []
    failed: list[OutboxRecord] = []
    with transaction(db) as tx:
        rows = outbox.get(tx, [r.outbox_id for r in results])
        for result in results:
            row = rows.get(result.outbox_id)
            if row is None or row.status != PENDING:
                continue
            logger = log.get(case_ref=row.case_ref, outbox_id=row.id, template=row.template)
            if result.ok:
                sent.append(row.id)
                logger.info("mail.sent", message_id=row.message_id, attempts=row.attempts)
                continue
            error = (result.error or "unknown error")[:500]
            if result.permanent or row.attempts >= settings.mail.max_attempts:
                failed.append(replace(row, last_error=error, status=FAILED))
                logger.error("mail.failed", attempts=row.attempts, error=error)
            else:
                at = next_attempt_at(row.attempts, now, base_seconds=settings.mail.backoff_seconds,
                                     cap_seconds=settings.mail.backoff_cap_seconds)
                retry.append((row.id, at, error))
                logger.warning("mail.retry", attempts=row.attempts, error=error,
                               next_attempt_at=at.isoformat())
        outbox.settle(tx, now=now, sent=sent, retry=retry,
                      failed=[(r.id, str(r.last_error)) for r in failed])
        for row in failed:
            _alert(tx, settings, row, now, processes)
    return DeliveryReport(len(sent), len(retry), len(failed))


def _alert(tx: Tx, settings: Settings, row: OutboxRecord, now: datetime,
           processes: Processes) -> None:
    """Tell the business managers a message failed; an alert that fails raises no alert."""
    if row.template == "delivery_failed" or row.case_id is None:
        return
    case = cases.load_by_id(tx, row.case_id)
    try:
        definition: ProcessDefinition | None = processes.of(case).definition
    except UnknownDefinition:  # a definition this code does not ship: the state's name
        definition = None
    state_label = definition.state_label(case.state) if definition else case.state
    managers = [notify.Recipient(u.name, u.email, Role.BUSINESS_MANAGER)
                for u in users.with_role(tx, Role.BUSINESS_MANAGER)]
    event = notify.Event(
        template="delivery_failed", label="An e-mail about this case could not be delivered",
        source=case.state, actor="scr (automatic)", reason=None,
        details=(("Outbox message", str(row.id)), ("Address", row.recipient),
                 ("Attempts", str(row.attempts)), ("Message", row.subject)),
    )
    outbox.queue(tx, notify.queue(
        case, event, managers, board=settings.board, state_label=state_label,
        timezone=settings.process.working_days.timezone, now=now,
        deadline=None, history_seq=row.history_seq, definition=definition))


def retry(db: Database, outbox_id: int, now: datetime) -> OutboxRecord:
    """Put a failed message back in the queue, due now, with its attempts reset."""
    with transaction(db) as tx:
        return outbox.requeue(tx, outbox_id, now)
