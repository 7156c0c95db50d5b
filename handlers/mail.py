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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import Message as MimeMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache
from typing import Any, TypeVar

from scr.handlers.transport import DeliveryError, Transport, one_line

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
    # The failure was the connection's (server down or silent, login refused), not this
    # message's: the rest of the queue would fail the same way until it is mended.
    connection: bool = False


@cache
def _is_domain(domain: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9.-]+", domain)) and not domain.startswith((".", "-"))


def make_message_id(key: str, domain: str) -> str:
    """A Message-ID fixed by `key` (e.g. "outbox-<uuid>"): "<hex@domain>"."""
    if not key:
        raise ValueError("a Message-ID needs a key")
    if not _is_domain(domain):
        raise ValueError(f"not a mail domain: {domain!r}")
    # Hashed so the key's own characters can never break the header.
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def build_mime(msg: Message) -> MimeMessage:
    """The e-mail: text and HTML alternatives, plus the invitation when `ics` is given.

    With an invitation the structure is multipart/mixed[multipart/alternative[text/plain,
    text/html, text/calendar; method=...], application/ics "invite.ics"]: calendar
    clients read the inline part, others still get the file. Raises ValueError.

    Built with the classic `email.mime` classes: the same message as `EmailMessage` would
    make, in a fifth of the time (a burst of mail is mostly this). Everything is 7-bit:
    bodies quoted-printable (the attachment base64), headers RFC 2047 encoded.
    """
    if not _MESSAGE_ID.match(msg.message_id):
        raise ValueError(f"malformed Message-ID {msg.message_id!r}")
    # Boundaries fixed by the Message-ID: "=_" never occurs in a quoted-printable or base64
    # body, so no part can contain one (and the generator need not search them for it).
    stem = "=_scr_" + hashlib.sha256(msg.message_id.encode("utf-8")).hexdigest()[:24]
    body = MIMEMultipart("alternative", policy=MAIL_POLICY, boundary=f"{stem}_a")
    body.attach(_text(msg.text, "plain"))
    body.attach(_text(msg.html, "html"))
    mime: MimeMessage = body
    if msg.ics is not None:
        found = _METHOD.search(msg.ics)
        if found is None:
            raise ValueError("the calendar part has no METHOD:REQUEST or METHOD:CANCEL line")
        calendar = _text(msg.ics, "calendar")
        calendar.set_param("method", found.group(1))
        body.attach(calendar)
        attachment = MIMEApplication(msg.ics.encode("utf-8"), "ics", policy=MAIL_POLICY)
        attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
        mime = MIMEMultipart("mixed", policy=MAIL_POLICY, boundary=f"{stem}_m")
        mime.attach(_part(body))
        mime.attach(_part(attachment))
    _header(mime, "Message-ID", msg.message_id)
    if msg.date is not None:
        if msg.date.tzinfo is None or msg.date.utcoffset() is None:
            raise ValueError("the Date header needs a timezone-aware datetime")
        _header(mime, "Date", format_datetime(msg.date))
    _header(mime, "From", _address(msg.sender))
    _header(mime, "To", _address(msg.to))
    _header(mime, "Subject", _words(msg.subject))
    if msg.case_ref is not None:
        _header(mime, "X-SCR-Case", msg.case_ref)
    # RFC 3834: tells out-of-office robots not to answer a notification.
    _header(mime, "Auto-Submitted", "auto-generated")
    return mime


class _Policy(Compat32):
    """compat32, but a short plain-ASCII header is written as it is instead of being run
    through the RFC 2047 folding machinery (most of a message's headers, and most of the
    cost of writing it out)."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if isinstance(value, str) and value.isascii() and "\n" not in value \
                and "\r" not in value and len(name) + 2 + len(value) <= 78:
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


MAIL_POLICY = _Policy()
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = QP
_UTF8.body_encoding = QP


def _text(content: str, subtype: str) -> MIMEText:
    return _part(MIMEText(content, subtype, _charset=_UTF8,  # type: ignore[arg-type]
                          policy=MAIL_POLICY))


_P = TypeVar("_P", bound=MimeMessage)


def _part(part: _P) -> _P:
    del part["MIME-Version"]  # the message says it once, at the top
    return part


def _header(mime: MimeMessage, name: str, value: str | Header) -> None:
    mime[name] = value  # type: ignore[assignment]


def _words(value: str) -> str | Header:
    """A header value, as RFC 2047 encoded words (folded when written) when it is not
    plain ASCII. A line break in it would begin a header of the caller's choosing."""
    if "\r" in value or "\n" in value:
        raise ValueError("a header value must be one line")
    return value if value.isascii() else Header(value, _UTF8)


def _address(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("an address must be one line")
    name, address = parseaddr(value)
    if not address or not address.isascii():
        raise ValueError(f"not an e-mail address: {value!r}")
    return formataddr((name, address), charset="utf-8") if name else address


def deliver(messages: Sequence[Message], transport: Transport,
            on_sent: Callable[[DeliveryResult], None] | None = None) -> list[DeliveryResult]:
    """Send each message over one transport batch; one result per message, in order.
    `on_sent` is told of each message as soon as the server has accepted it (the caller
    records it sent there and then, so a crash later in the batch sends it no second time).

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
                results.append(_failed(msg, str(broken), permanent=False, connection=True))
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
                results.append(_failed(msg, str(exc), permanent=exc.permanent,
                                       connection=exc.connection))
                if exc.connection:
                    broken = exc
            except Exception as exc:  # a transport bug must not lose the batch's results
                results.append(_failed(msg, f"{type(exc).__name__}: {exc}", permanent=False))
            else:
                sent.add(msg.message_id)
                done = DeliveryResult(msg.outbox_id, msg.message_id, True, None, False)
                if on_sent is not None:
                    on_sent(done)
                results.append(done)
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


def _failed(msg: Message, error: str, *, permanent: bool,
            connection: bool = False) -> DeliveryResult:
    return DeliveryResult(msg.outbox_id, msg.message_id, False, one_line(error), permanent,
                          connection)
