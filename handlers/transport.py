"""Transports: hand a built e-mail to a local maildir or to an SMTP server.

A transport is a context manager; entering it starts a batch that shares one
SMTP connection (opened lazily on the first send, so that a server being down
is reported per message instead of raised), and leaving the outermost `with`
closes it. `send()` raises `DeliveryError`, which says whether retrying can
help (`permanent`) and whether the connection itself failed (`connection`:
the rest of the batch would fail in the same way).

SMTP URLs (the `SCR_SMTP_URL` setting); STARTTLS is chosen by the scheme:

    smtp://host[:port]                      plain SMTP, port 25 by default
    smtp://user:pass@host[:port]            plain SMTP with AUTH (a local relay only:
                                            the password would cross the network unencrypted)
    smtp+starttls://user:pass@host[:port]   STARTTLS before AUTH, port 587 by default
    smtps://user:pass@host[:port]           implicit TLS, port 465 by default

User and password are percent-decoded (write '@' as %40, ':' as %3A, '/' as %2F).
Optional query parameters: `cafile=/path/ca.pem` trusts a private certificate
authority; `helo=name` sets the EHLO name (default: this host's FQDN). A TLS
connection always verifies the server's certificate and host name; STARTTLS
never falls back to plain text. Log URLs through `redact_url()`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import smtplib
import socket
import ssl
import tempfile
from email.message import Message as EmailMessage
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import parse_qs, quote, unquote, urlsplit

_SECURITY = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}
_DEFAULT_PORT = {"none": 25, "starttls": 587, "tls": 465}
_MAX_ERROR = 300
# 530 authentication or STARTTLS required, 534/538 mechanism or encryption needed, 535 bad login.
_SETTINGS_CODES = frozenset({530, 534, 535, 538})


class DeliveryError(Exception):
    """A message was not delivered. `str()` is one line and never holds a password."""

    def __init__(self, message: str, *, permanent: bool, connection: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.connection = connection


class Transport(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def send(self, mime: EmailMessage) -> None: ...


def redact_url(url: str) -> str:
    """`url` with its password replaced by '***', for logs; works on malformed URLs too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    userinfo, at, hostport = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostport}{tail}"


def one_line(text: str, *secrets: str) -> str:
    """Collapse `text` to one short line with every non-empty secret (and its %-form) hidden."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 3] + "..."


def maildir_name(message_id: str) -> str:
    """The file name for a message: fixed by its Message-ID, so a resend finds the first copy."""
    return "scr-" + hashlib.sha256(message_id.strip().encode("utf-8")).hexdigest()[:40]


class MaildirTransport:
    """Delivers into a standard maildir (new/, cur/, tmp/), once per Message-ID."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def delivered(self, message_id: str) -> bool:
        """Whether a message with this Message-ID is in new/ or cur/ (read or not)."""
        name = maildir_name(message_id)
        if (self.path / "new" / name).exists():
            return True
        # A mail reader moves read mail to cur/ and appends flags after a separator.
        with contextlib.suppress(FileNotFoundError), os.scandir(self.path / "cur") as entries:
            for entry in entries:
                if entry.name == name or (
                    entry.name.startswith(name) and entry.name[len(name)] in ":!;"
                ):
                    return True
        return False

    def send(self, mime: EmailMessage) -> None:
        message_id = mime["Message-ID"]
        if not message_id:
            raise DeliveryError("message has no Message-ID", permanent=True)
        try:
            self._deliver(str(message_id), mime.as_bytes())
        except OSError as exc:
            raise DeliveryError(one_line(f"maildir {self.path}: {exc}"), permanent=False) from exc

    def _deliver(self, message_id: str, data: bytes) -> None:
        # Special-category data: the maildir (itself too, when we create it) is private to
        # the daemon's user.
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(mode=0o700, exist_ok=True)
        if self.delivered(message_id):
            return
        fd, tmp_name = tempfile.mkstemp(dir=self.path / "tmp", prefix="scr-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            target = self.path / "new" / maildir_name(message_id)
            try:
                # link() never overwrites: of two concurrent deliveries, one wins.
                os.link(tmp_name, target)
            except FileExistsError:
                return
            except OSError:
                os.replace(tmp_name, target)  # file systems without hard links
            _fsync_dir(self.path / "new")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Dropped(Exception):
    """The server closed or lost the connection: worth one reconnect."""


class SmtpTransport:
    """Delivers through one SMTP connection per batch; see the module docstring for URLs."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in _DEFAULT_PORT:
            raise ValueError(f"security must be one of {', '.join(_DEFAULT_PORT)}")
        self.host, self.port, self.security = host, port, security
        self.username = username
        self._password = password or ""
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None
        self._depth = 0

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpTransport:
        """Parse `smtp://`, `smtp+starttls://` or `smtps://` URLs.

        Raises ValueError for a malformed URL (its message shows the URL redacted), or
        OSError when `cafile` cannot be read.
        """
        shown = redact_url(url)
        parts = urlsplit(url)
        security = _SECURITY.get(parts.scheme.lower())
        if security is None:
            raise ValueError(f"unsupported mail URL scheme in {shown} (use smtp, smtp+starttls "
                             "or smtps)")  # fmt: skip
        try:
            port = parts.port or _DEFAULT_PORT[security]
        except ValueError:
            raise ValueError(f"bad port in mail URL {shown}") from None
        if not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"mail URL needs a host and no path: {shown}")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = set(query) - {"cafile", "helo"}
        if unknown:
            raise ValueError(f"unknown mail URL parameter {', '.join(sorted(unknown))}: {shown}")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if username and password is None:
            raise ValueError(f"mail URL names a user but no password: {shown}")
        if ssl_context is None and security != "none":
            ssl_context = ssl.create_default_context(cafile=query.get("cafile", [None])[-1])
        return cls(
            parts.hostname,
            port,
            security=security,
            username=username,
            password=password,
            timeout=timeout,
            ssl_context=ssl_context,
            local_hostname=query.get("helo", [None])[-1],
        )

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"SmtpTransport({self.security} {user}{self.host}:{self.port})"

    def __enter__(self) -> Self:
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def send(self, mime: EmailMessage) -> None:
        sender = parseaddr(str(mime["From"] or ""))[1]
        recipient = parseaddr(str(mime["To"] or ""))[1]
        if not sender or not recipient:
            raise DeliveryError("message needs a From and a To address", permanent=True)
        if self._smtp is None:
            self._connect()
        try:
            self._send_once(mime, sender, recipient)
        except _Dropped:
            # A dropped connection (idle timeout, "421 too many messages") gets one reconnect.
            self._discard()
            self._connect()
            try:
                self._send_once(mime, sender, recipient)
            except _Dropped as exc:
                self._discard()
                raise DeliveryError(self._clean(f"connection lost again: {exc}"),
                                    permanent=False) from None  # fmt: skip

    def _send_once(self, mime: EmailMessage, sender: str, recipient: str) -> None:
        assert self._smtp is not None
        try:
            self._smtp.send_message(mime, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (451, b"recipient refused"))
            self._refused(code, reply)
        except smtplib.SMTPResponseException as exc:
            self._refused(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Dropped(_describe(exc)) from None
        except (smtplib.SMTPException, ValueError, UnicodeError) as exc:
            # e.g. an address needing SMTPUTF8 that this server lacks: this message cannot go.
            raise DeliveryError(self._clean(_describe(exc)), permanent=True) from None

    def _refused(self, code: int, reply: bytes | str) -> None:
        text = f"{code} {reply.decode('utf-8', 'replace') if isinstance(reply, bytes) else reply}"
        if code == 421:  # the server is closing this connection
            raise _Dropped(text)
        if code in _SETTINGS_CODES:
            # Refused for want of TLS or login: every message would be; fixing settings helps.
            raise DeliveryError(self._clean(text), permanent=False, connection=True)
        raise DeliveryError(self._clean(text), permanent=500 <= code < 600)

    def _connect(self) -> None:
        try:
            self._smtp = self._open()
        except (smtplib.SMTPException, OSError) as exc:
            where = f"{self.host}:{self.port}"
            raise DeliveryError(
                self._clean(f"cannot use mail server {where}: {_describe(exc)}"),
                permanent=False,  # bad settings or a server down: fixable, so keep retrying
                connection=True,
            ) from None

    def _open(self) -> smtplib.SMTP:
        if self._local_hostname is None:
            # smtplib would look this up again on every connection; it can take a while.
            self._local_hostname = socket.getfqdn()
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, self._local_hostname, timeout=self.timeout,
                context=self._ssl_context,
            )  # fmt: skip
        else:
            smtp = smtplib.SMTP(self.host, self.port, self._local_hostname, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=self._ssl_context)
            if self.username:
                smtp.login(self.username, self._password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _clean(self, text: str) -> str:
        return one_line(text, self._password)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
