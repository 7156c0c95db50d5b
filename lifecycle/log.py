"""Structured logging: one JSON event per transition, timer and delivery in production,
readable lines at a terminal.

Privacy: events carry the case reference, pseudonym, trigger and actor only. Keys that
could hold free text about a child are withheld, secret-looking keys and URLs with
passwords are redacted, and exceptions render without local variables.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

from scr.states.errors import InvalidInput

SECRET_WORDS = ("password", "passwd", "secret", "token", "authorization", "credential")
# Free text about a child or family never enters a log, whatever key it arrives under.
WITHHELD_KEYS = frozenset({"summary", "evidence", "description", "body", "body_text",
                           "body_html", "text", "html", "params"})
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@", re.I)


def redact_text(text: str) -> str:
    """URLs with a password lose it: smtp://u:secret@h becomes smtp://u:***@h."""
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def _protect(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        lowered = key.lower()
        if key in WITHHELD_KEYS:
            event[key] = "[withheld]"
        elif any(word in lowered for word in SECRET_WORDS):
            event[key] = "***"
        elif isinstance(event[key], str):
            event[key] = redact_text(event[key])
    return event


_configured = False


class _Plain:
    """Until structlog is configured (one-shot commands without a log file), events go to
    the standard library's logging as `event key=value` lines: structlog is slow to import
    and a quick `scr show` should not pay for it."""

    def __init__(self, bound: dict[str, Any]) -> None:
        self._bound = bound

    def bind(self, **more: Any) -> _Plain:
        return _Plain({**self._bound, **more})

    def _log(self, level: int, event: str, **kw: Any) -> None:
        logger = logging.getLogger("scr")
        if logger.isEnabledFor(level):
            fields = _protect(None, "", {**self._bound, **kw})
            logger.log(level, " ".join([event, *(f"{k}={v}" for k, v in fields.items())]))

    def debug(self, event: str, **kw: Any) -> None:
        self._log(logging.DEBUG, event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        self._log(logging.INFO, event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._log(logging.WARNING, event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._log(logging.ERROR, event, **kw)

    def exception(self, event: str, **kw: Any) -> None:
        self._log(logging.ERROR, event, **kw)


def open_file(path: str) -> TextIO:
    """The log file SCR_LOG_FILE, opened to append: made readable by its owner alone (0600,
    whatever the umask) when it is new, since events name cases and people. A directory, a
    path in no directory, or a pipe or socket (which could hold the command up until
    something reads it) is InvalidInput; a character device (/dev/null, a terminal) is
    taken as it is."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise InvalidInput(f"SCR_LOG_FILE {path}: cannot write there "
                           f"({exc.strerror or exc.__class__.__name__})") from None
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):
        os.close(fd)
        raise InvalidInput(f"SCR_LOG_FILE {path}: not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "a", encoding="utf-8", buffering=1)


def configure_quiet() -> None:
    """Warnings and errors only, as plain lines on stderr, without loading structlog."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")


def configure(*, json: bool | None = None, level: int = logging.INFO,
              stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's logging (SQLAlchemy, APScheduler) through
    one formatter: JSON lines unless `stream` is a terminal (or `json` says otherwise)."""
    global _configured
    import structlog

    out = stream or sys.stderr
    as_json = (not out.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _protect,
    ]
    renderer: Any
    if as_json:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)))
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=out.isatty(), exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(
        # Events below the level are dropped before any processor runs (redaction, time).
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("sqlalchemy", "apscheduler", "alembic", "transitions"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    _configured = True


def get(**bound: Any) -> Any:
    """A logger with `bound` context (case_ref, trigger, actor, ...)."""
    if not _configured:
        return _Plain(bound)
    import structlog

    return structlog.get_logger("scr").bind(**bound)


def command_failed(event: str, **fields: Any) -> None:
    """A one-shot command's refusal, conflict or bad input, where its successes go: the
    JSON log SCR_LOG_FILE when it is set, else the system log (/dev/log: the journal on
    systemd) when there is one. Never stderr, which holds the command's one error line."""
    path = os.environ.get("SCR_LOG_FILE")
    if path:
        if not _configured:
            configure(json=True, level=logging.INFO, stream=open_file(path))
        get().warning(event, **fields)
        return
    if not _is_socket("/dev/log"):
        return
    import json
    from logging.handlers import SysLogHandler

    logger = logging.getLogger("scr.commands")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(SysLogHandler(address="/dev/log"))
    protected = _protect(None, "", dict(fields))
    logger.warning("scr: %s", json.dumps({"event": event, **protected}, default=str))


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
