"""Build and deliver outbox messages.

`deliver()` is what the daemon calls with a batch of outbox rows turned into
`Message`s: it never raises for a message that fails, it reports each one in a
`DeliveryResult` so the engine can mark it sent, schedule a retry at
`next_attempt_at()`, or (when `permanent`) mark it failed and escalate.
Delivery is at least once: a crash between sending and recording can resend,
and the stable Message-ID (`make_message_id`) lets the maildir transport and
mail clients recognise the second copy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from handlers.transport import DeliveryError, Transport, one_line

# Serialised as 7-bit (quoted-printable or base64 bodies, RFC 2047 headers), so that any
# SMTP server can relay it, 8BITMIME or not.
MAIL_POLICY = policy.default.clone(cte_type="7bit")
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>\Z")
_METHOD = re.compile(r"^METHOD:(REQUEST|CANCEL)\r?$", re.MULTILINE)


@dataclass(frozen=True)
class Message:
    outbox_id: int
    message_id: str
    sender: str
    to: str
    subject: str
    text: str
    html: str
    ics: str | None = None
    case_ref: str | None = None
    date: datetime | None = None


@dataclass(frozen=True)
class DeliveryResult:
    outbox_id: int
    message_id: str
    ok: bool
    error: str | None
    permanent: bool


def make_message_id(key: str, domain: str) -> str:
    """A Message-ID fixed by `key` (e.g. "outbox-<uuid>"): "<hex@domain>"."""
    if not key:
        raise ValueError("a Message-ID needs a key")
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain) or domain.startswith((".", "-")):
        raise ValueError(f"not a mail domain: {domain!r}")
    # Hashed so the key's own characters can never break the header.
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def build_mime(msg: Message) -> EmailMessage:
    """The e-mail: text and HTML alternatives, plus the invitation when `ics` is given.

    With an invitation the structure is multipart/mixed[multipart/alternative[text/plain,
    text/html, text/calendar; method=...], application/ics "invite.ics"]: calendar
    clients read the inline part, others still get the file. Raises ValueError.
    """
    if not _MESSAGE_ID.match(msg.message_id):
        raise ValueError(f"malformed Message-ID {msg.message_id!r}")
    mime = EmailMessage(policy=MAIL_POLICY)
    mime["Message-ID"] = msg.message_id
    if msg.date is not None:
        if msg.date.tzinfo is None or msg.date.utcoffset() is None:
            raise ValueError("the Date header needs a timezone-aware datetime")
        mime["Date"] = format_datetime(msg.date)
    mime["From"] = msg.sender
    mime["To"] = msg.to
    mime["Subject"] = msg.subject
    if msg.case_ref is not None:
        mime["X-SCR-Case"] = msg.case_ref
    # RFC 3834: tells out-of-office robots not to answer a notification.
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(msg.text)
    mime.add_alternative(msg.html, subtype="html")
    if msg.ics is not None:
        found = _METHOD.search(msg.ics)
        if found is None:
            raise ValueError("the calendar part has no METHOD:REQUEST or METHOD:CANCEL line")
        mime.add_alternative(msg.ics, subtype="calendar", params={"method": found.group(1)})
        mime.add_attachment(
            msg.ics.encode("utf-8"), maintype="application", subtype="ics", filename="invite.ics"
        )
    return mime


def deliver(messages: Sequence[Message], transport: Transport) -> list[DeliveryResult]:
    """Send each message over one transport batch; one result per message, in order.

    One message's failure does not stop the others. When the connection itself fails
    (server down, login refused), the messages not yet tried get the same temporary
    failure without further attempts. A message id already sent in this batch is not
    sent again.
    """
    results: list[DeliveryResult] = []
    sent: set[str] = set()
    broken: DeliveryError | None = None
    with transport:
        for msg in messages:
            if broken is not None:
                results.append(_failed(msg, str(broken), permanent=False))
                continue
            if msg.message_id in sent:
                results.append(DeliveryResult(msg.outbox_id, msg.message_id, True, None, False))
                continue
            try:
                mime = build_mime(msg)
            except ValueError as exc:  # retrying the same row will not help
                results.append(_failed(msg, f"cannot build message: {exc}", permanent=True))
                continue
            try:
                transport.send(mime)
            except DeliveryError as exc:
                results.append(_failed(msg, str(exc), permanent=exc.permanent))
                if exc.connection:
                    broken = exc
            except Exception as exc:  # a transport bug must not lose the batch's results
                results.append(_failed(msg, f"{type(exc).__name__}: {exc}", permanent=False))
            else:
                sent.add(msg.message_id)
                results.append(DeliveryResult(msg.outbox_id, msg.message_id, True, None, False))
    return results


def next_attempt_at(
    attempts: int,
    now: datetime,
    *,
    base_seconds: float = 60,
    cap_seconds: float = 6 * 3600,
) -> datetime:
    """When to retry after `attempts` failed attempts (>= 1): base * 2**(attempts-1), capped.

    Deterministic: 1 min, 2, 4, 8 ... up to 6 hours with the defaults.
    """
    if attempts < 1:
        raise ValueError("attempts counts failed attempts and starts at 1")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    # Past 2**64 the cap has long applied; stop before the float overflows.
    delay = cap_seconds if attempts > 64 else min(cap_seconds, base_seconds * 2 ** (attempts - 1))
    return now + timedelta(seconds=delay)


def _failed(msg: Message, error: str, *, permanent: bool) -> DeliveryResult:
    return DeliveryResult(msg.outbox_id, msg.message_id, False, one_line(error), permanent)
