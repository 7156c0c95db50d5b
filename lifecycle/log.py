"""Structured logging: one JSON event per transition, timer and delivery in production,
readable lines at a terminal (SPEC §7).

Privacy: events carry the case reference, pseudonym, trigger and actor only. Keys that
could hold free text about a child are withheld, secret-looking keys and URLs with
passwords are redacted, and exceptions render without local variables.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

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


def configure(*, json: bool | None = None, level: int = logging.INFO,
              stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's logging (SQLAlchemy, APScheduler) through
    one formatter: JSON lines unless `stream` is a terminal (or `json` says otherwise)."""
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
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
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
    for noisy in ("sqlalchemy", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def get(**bound: Any) -> Any:
    """A logger with `bound` context (case_ref, trigger, actor, ...)."""
    return structlog.get_logger("scr").bind(**bound)
