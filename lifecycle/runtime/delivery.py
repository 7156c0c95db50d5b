"""Delivering the outbox after commit, at least once (SPEC §5, §7).

1. Claim a batch of due messages in one short transaction: each gets a lease
   (`claimed_until`) and its attempt counted. PostgreSQL claims with FOR UPDATE SKIP LOCKED
   so several daemons share the work; SQLite's BEGIN IMMEDIATE makes the claim exclusive.
2. Send the batch over one connection (SMTP when SCR_SMTP_URL is set, else the maildir).
3. Mark each message in a second transaction: sent; or retried later with exponential
   back-off; or, after the configured attempts (or a permanent refusal), failed, with the
   business manager alerted. Nothing is ever dropped.

A crash between sending and marking leaves the lease to expire; the message is sent again
with the same Message-ID, so the copy is recognisable (and the maildir skips it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, col, select

from handlers.mail import DeliveryResult, Message, deliver, next_attempt_at
from handlers.transport import MaildirTransport, SmtpTransport, Transport
from lifecycle import log
from lifecycle.core import notify
from lifecycle.settings import Settings
from states.enums import Role
from storage import queries
from storage.db import is_sqlite, transaction
from storage.models import Case, Outbox

LEASE = timedelta(minutes=10)
PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Composed:
    """What an outbox row says, ready to send."""

    subject: str
    text: str
    html: str
    ics: str | None


def compose(notice: dict[str, Any], calendar: dict[str, Any] | None,
            created_at: datetime) -> Composed:
    """Render a stored notice (and calendar entry); raises if a template fails."""
    from handlers.ics import entry_from_json, to_ics
    from handlers.notices import notice_from_json
    from handlers.render import render

    rendered = render(notice_from_json(notice))
    ics = to_ics(entry_from_json(calendar, stamp=created_at)) if calendar is not None else None
    return Composed(rendered.subject, rendered.text, rendered.html, ics)


def composed(row: Any) -> Composed:
    """What an outbox row says: its kept bodies once rendered, else rendered now."""
    if row.body_text or row.notice is None:
        return Composed(row.subject, row.body_text, row.body_html, row.ics)
    return compose(row.notice, row.calendar, row.created_at)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.sent + other.sent, self.retried + other.retried,
                              self.failed + other.failed)


def transport_for(settings: Settings) -> Transport:
    if settings.mail.smtp_url:
        return SmtpTransport.from_url(settings.mail.smtp_url)
    return MaildirTransport(settings.mail.mail_dir)


def deliver_outbox(db: DbEngine, settings: Settings, now: datetime, *,
                   batches: int | None = None, transport: Transport | None = None,
                   ) -> DeliveryReport:
    """Deliver every message due at `now`, a batch at a time; returns what happened."""
    report = DeliveryReport()
    done = 0
    while batches is None or done < batches:
        messages = claim(db, settings, now, settings.mail.batch_size)
        if not messages:
            break
        channel = transport or transport_for(settings)
        with channel:
            results = deliver(messages, channel)
        report += mark(db, settings, results, now)
        done += 1
    return report


def claim(db: DbEngine, settings: Settings, now: datetime, limit: int) -> list[Message]:
    """Lease up to `limit` due messages, oldest first, count the attempt, and render each
    queued notice (once) into the message that will be sent."""
    stmt = (
        select(Outbox)
        .where(Outbox.status == PENDING, col(Outbox.next_attempt_at) <= now,
               or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) <= now))
        .order_by(col(Outbox.id))
        .limit(limit)
    )
    if not is_sqlite(db):
        stmt = stmt.with_for_update(skip_locked=True)
    with transaction(db) as session:
        rows = session.exec(stmt).all()
        messages = []
        for row in rows:
            row.claimed_until = now + LEASE
            row.attempts += 1
            if _render_once(row):
                messages.append(_message(row, settings.board.mail_from, now))
            else:  # kept, failed and alerted: never sent empty, never dropped
                row.status, row.claimed_until = FAILED, None
                _alert(session, settings, row, now)
        return messages


def _render_once(row: Outbox) -> bool:
    """Render a queued notice into the row, once, so a retry sends the same words;
    False (with the error kept on the row) if its templates fail."""
    if row.body_text or row.notice is None:
        return True
    try:
        done = composed(row)
    except Exception as exc:  # a template bug must not stop the rest of the batch
        row.last_error = f"could not render: {exc.__class__.__name__}: {exc}"[:500]
        log.get(case_ref=row.case_ref, outbox_id=row.id).error("mail.unrenderable",
                                                               error=row.last_error)
        return False
    row.subject, row.body_text, row.body_html, row.ics = (done.subject, done.text,
                                                          done.html, done.ics)
    return True


def _message(row: Outbox, sender: str, now: datetime) -> Message:
    assert row.id is not None
    return Message(
        outbox_id=row.id, message_id=row.message_id, sender=sender, to=row.recipient,
        subject=row.subject, text=row.body_text, html=row.body_html, ics=row.ics,
        case_ref=row.case_ref, date=row.created_at,
    )


def mark(db: DbEngine, settings: Settings, results: Sequence[DeliveryResult],
         now: datetime) -> DeliveryReport:
    """Record each result: sent, due again after back-off, or failed (and alerted)."""
    sent = retried = failed = 0
    with transaction(db) as session:
        ids = [r.outbox_id for r in results]
        rows = {row.id: row for row in session.exec(
            select(Outbox).where(col(Outbox.id).in_(ids)))} if ids else {}
        for result in results:
            row = rows.get(result.outbox_id)
            if row is None or row.status != PENDING:
                continue
            row.claimed_until = None
            logger = log.get(case_ref=row.case_ref, outbox_id=row.id, template=row.template)
            if result.ok:
                row.status, row.sent_at, row.last_error = SENT, now, None
                sent += 1
                logger.info("mail.sent", message_id=row.message_id, attempts=row.attempts)
                continue
            row.last_error = (result.error or "unknown error")[:500]
            if result.permanent or row.attempts >= settings.mail.max_attempts:
                row.status = FAILED
                failed += 1
                logger.error("mail.failed", attempts=row.attempts, error=row.last_error)
                _alert(session, settings, row, now)
            else:
                row.next_attempt_at = next_attempt_at(
                    row.attempts, now, base_seconds=settings.mail.backoff_seconds,
                    cap_seconds=settings.mail.backoff_cap_seconds)
                retried += 1
                logger.warning("mail.retry", attempts=row.attempts, error=row.last_error,
                               next_attempt_at=row.next_attempt_at.isoformat())
    return DeliveryReport(sent, retried, failed)


def _alert(session: Session, settings: Settings, row: Outbox, now: datetime) -> None:
    """Tell the business managers a message failed; an alert that fails raises no alert."""
    if row.template == "delivery_failed" or row.case_id is None:
        return
    case = session.get(Case, row.case_id)
    assert case is not None
    managers = [notify.Recipient(u.name, u.email, Role.BUSINESS_MANAGER)
                for u in queries.users_with_role(session, Role.BUSINESS_MANAGER)]
    event = notify.Event(
        template="delivery_failed", label="An e-mail about this case could not be delivered",
        source=case.state, actor="scr (automatic)", reason=None,
        details=(("Outbox message", str(row.id)), ("Address", row.recipient),
                 ("Attempts", str(row.attempts)), ("Message", row.subject)),
    )
    notify.insert(session, notify.queue(
        case, event, managers, board=settings.board,
        timezone=settings.process.calendar.timezone, now=now, deadline=None,
        history_seq=row.history_seq))


def retry(db: DbEngine, outbox_id: int, now: datetime) -> Outbox:
    """Put a failed message back in the queue, due now, with its attempts reset."""
    from states.errors import InvalidInput, NotFound

    with transaction(db) as session:
        row = session.get(Outbox, outbox_id)
        if row is None:
            raise NotFound(f"no outbox message {outbox_id}")
        if row.status != FAILED:
            raise InvalidInput(f"outbox message {outbox_id} is {row.status}, not failed")
        row.status, row.attempts, row.next_attempt_at = PENDING, 0, now
        row.claimed_until, row.last_error = None, None
        return row
