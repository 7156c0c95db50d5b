"""Configuration, read once at the edge and passed in (README.md, "Configuration").

Precedence: command-line option, then environment variable, then the TOML file given by
`--config` / `SCR_CONFIG`, then the defaults below. An unknown section or key in the file
is an error, so a misspelt setting never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from states.config import ProcessConfig
from states.enums import CORE_AGENCIES, PARTNERS
from states.errors import InvalidInput
from states.working_days import WorkingDays

DEFAULT_PROCESS = "cspr"
_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
_SCHEMA: dict[str, set[str]] = {
    "board": {"name", "mail_from", "ref_prefix", "agencies"},
    "calendar": {"timezone", "country", "subdivision", "day_start"},
    "timers": set(),  # any key of a definition's default_offsets
    "mail": {"max_attempts", "backoff_seconds", "backoff_cap_seconds", "batch_size"},
    "database": {"url"},
    "daemon": {"interval_seconds"},
    "process": {"default", "version", "lead_partner"},
    "web": {"base_url", "session_idle_minutes", "session_hours", "link_minutes", "oidc"},
}


@dataclass(frozen=True)
class Board:
    name: str = "Local Safeguarding Children Board"
    mail_from: str = "scr@localhost"
    ref_prefix: str = "CR"
    # The portal's address (`[web] base_url`): e-mail links to the case's page there.
    portal_url: str | None = None

    # Worked out once per board, not once per message (cached in the instance's dict,
    # which a frozen dataclass allows).
    @cached_property
    def domain(self) -> str:
        return self.mail_from.rpartition("@")[2].strip("> ") or "scr.local"

    @cached_property
    def address(self) -> str:
        """The bare address of mail_from, for calendar ORGANIZER lines."""
        from email.utils import parseaddr

        return parseaddr(self.mail_from)[1] or "scr@localhost"


@dataclass(frozen=True)
class MailSettings:
    mail_dir: Path = Path("mail")
    smtp_url: str | None = None
    max_attempts: int = 8
    backoff_seconds: float = 60.0
    backoff_cap_seconds: float = 6 * 3600.0
    batch_size: int = 200


@dataclass(frozen=True)
class WebSettings:
    """The portal (`scr web`): the address people reach it at (for the links in e-mail),
    and the limits of its sign-in links and sessions."""

    base_url: str = "http://127.0.0.1:8080"
    session_idle_minutes: float = 30.0
    session_hours: float = 8.0
    link_minutes: float = 15.0
    # `[web.oidc]`: sign-in through the board's identity provider (OpenID Connect), beside
    # the e-mail link; None when not configured. Its keys: issuer, client_id, label,
    # scopes, email_claim; the client secret comes from SCR_OIDC_CLIENT_SECRET.
    oidc: Any = None

    @property
    def secure(self) -> bool:
        """Served behind TLS: cookies are `Secure`, and HSTS is sent."""
        return self.base_url.startswith("https://")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///scr.db"
    actor: str | None = None
    now: datetime | None = None  # the clock override of --now / SCR_NOW
    process: ProcessConfig = field(default_factory=ProcessConfig)
    board: Board = field(default_factory=Board)
    mail: MailSettings = field(default_factory=MailSettings)
    daemon_interval: float = 15.0
    web: WebSettings = field(default_factory=WebSettings)
    # SCR_CHECK_VIEWS=1: the engine re-reads each case after its trigger and compares
    # (lifecycle.core.engine.Engine.check_snapshots); the tests turn it on.
    check_snapshots: bool = False

    def clock(self) -> datetime:
        """The moment commands run as: the override, or the real time."""
        return self.now or datetime.now(UTC)


def load(
    *,
    config_file: str | None = None,
    actor: str | None = None,
    now: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    path = config_file or env.get("SCR_CONFIG")
    data = _read_toml(Path(path)) if path else {}
    board = data.get("board", {})
    cal = data.get("calendar", {})
    mail = data.get("mail", {})

    calendar = WorkingDays(
        timezone=_zone(cal.get("timezone", "Europe/London")),
        country=_text(cal, "country", "GB"),
        subdiv=_text(cal, "subdivision", "ENG") or None,
        day_start=_clock_time(cal.get("day_start", "09:00")),
    )
    extra = board.get("agencies", [])
    if not isinstance(extra, list) or not all(isinstance(a, str) and _SLUG.match(a)
                                              for a in extra):
        raise InvalidInput("config: board.agencies must be a list of lower-case slugs")
    section = data.get("process", {})
    process = ProcessConfig(agencies=tuple(dict.fromkeys((*CORE_AGENCIES, *extra))),
                            working_days=calendar, start=_start(section),
                            lead_partner=_lead_partner(section))
    try:
        process = process.with_offsets({str(k): str(v) for k, v in data.get("timers", {}).items()})
    except ValueError as exc:
        raise InvalidInput(f"config: timers: {exc}") from None

    web = _web(data.get("web", {}), env)
    return Settings(
        database_url=env.get("SCR_DATABASE_URL") or data.get("database", {}).get("url")
        or "sqlite:///scr.db",
        actor=actor or env.get("SCR_ACTOR") or None,
        now=_clock_override(now or env.get("SCR_NOW"), env, calendar),
        process=process,
        check_snapshots=env.get("SCR_CHECK_VIEWS") == "1",
        board=Board(
            name=_text(board, "name", "Local Safeguarding Children Board"),
            mail_from=_text(board, "mail_from", "scr@localhost"),
            ref_prefix=_text(board, "ref_prefix", "CR"),
            portal_url=web.base_url,
        ),
        mail=MailSettings(
            mail_dir=Path(env.get("SCR_MAIL_DIR") or "mail"),
            smtp_url=_smtp_url(env.get("SCR_SMTP_URL") or None),
            max_attempts=int(_number(mail, "max_attempts", 8)),
            backoff_seconds=_number(mail, "backoff_seconds", 60),
            backoff_cap_seconds=_number(mail, "backoff_cap_seconds", 6 * 3600),
            batch_size=int(_number(mail, "batch_size", 200)),
        ),
        daemon_interval=_number(data.get("daemon", {}), "interval_seconds", 15),
        web=web,
    )


def _start(section: Mapping[str, Any]) -> tuple[str, str | None]:
    """The definition new cases start under (`[process] default`, `version`): it must be
    one this scr has. Without a version, the newest version of that name; without a
    `default`, the Child Safeguarding Practice Review process, which replaced Serious Case
    Reviews in England in 2018-19."""
    from states.registry import REGISTRY

    name = _text(section, "default", DEFAULT_PROCESS)
    version = section.get("version")
    if version is not None and not isinstance(version, str | int):
        raise InvalidInput("config: process.version must be text, e.g. \"1\"")
    version = None if version is None else str(version)
    try:
        REGISTRY.resolve(name, version)
    except InvalidInput as exc:
        raise InvalidInput(f"config: process: {exc}") from None
    return name, version


def _lead_partner(section: Mapping[str, Any]) -> str | None:
    """`[process] lead_partner`: the safeguarding partner who fires the partners' decision."""
    lead = section.get("lead_partner")
    if lead is None:
        return None
    if lead not in PARTNERS:
        raise InvalidInput(f"config: process.lead_partner must be one of {', '.join(PARTNERS)}")
    return str(lead)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read config file {path}: {exc.__class__.__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}") from None
    for section, keys in data.items():
        if section not in _SCHEMA or not isinstance(keys, dict):
            raise InvalidInput(f"config: unknown section [{section}]")
        allowed = _SCHEMA[section]
        unknown = [k for k in keys if allowed and k not in allowed]
        if unknown:
            raise InvalidInput(f"config: unknown setting {section}.{unknown[0]}")
    return data


def _smtp_url(url: str | None) -> str | None:
    """SCR_SMTP_URL, checked when it is read: a URL scr cannot send through is an error at
    start (the message shows it with any password hidden), not a failure of every send."""
    if url is None:
        return None
    from handlers.transport import SmtpTransport

    try:
        SmtpTransport.from_url(url)
    except (ValueError, OSError) as exc:
        raise InvalidInput(f"SCR_SMTP_URL: {exc}") from None
    return url


def _web(section: Mapping[str, Any], env: Mapping[str, str]) -> WebSettings:
    base = _text(section, "base_url", WebSettings.base_url).rstrip("/")
    if not re.match(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[^\s?#]*)?$", base):
        raise InvalidInput("config: web.base_url must be an http:// or https:// address, "
                           "e.g. https://reviews.example.gov.uk")
    return WebSettings(
        base_url=base,
        session_idle_minutes=_number(section, "session_idle_minutes", 30),
        session_hours=_number(section, "session_hours", 8),
        link_minutes=_number(section, "link_minutes", 15),
        oidc=_oidc(section.get("oidc"), env),
    )


_OIDC_KEYS = {"issuer", "client_id", "label", "scopes", "email_claim"}


def _oidc(section: Any, env: Mapping[str, str]) -> Any:
    """`[web.oidc]`, or None. The client secret is never read from the file: it is a
    secret, and the file is not (SCR_OIDC_CLIENT_SECRET, in the service's environment)."""
    if section is None:
        return None
    if not isinstance(section, dict):
        raise InvalidInput("config: web.oidc must be a table ([web.oidc])")
    unknown = sorted(set(section) - _OIDC_KEYS)
    if unknown:
        raise InvalidInput(f"config: unknown setting web.oidc.{unknown[0]} (the client "
                           "secret goes in SCR_OIDC_CLIENT_SECRET)" if unknown[0] ==
                           "client_secret" else f"config: unknown setting web.oidc.{unknown[0]}")
    issuer = _text(section, "issuer", "")
    client = _text(section, "client_id", "")
    if not issuer.startswith("https://") and not issuer.startswith("http://127.0.0.1"):
        raise InvalidInput("config: web.oidc.issuer must be an https:// address")
    if not client:
        raise InvalidInput("config: web.oidc.client_id must be given")
    secret = env.get("SCR_OIDC_CLIENT_SECRET", "")
    if not secret:
        raise InvalidInput("config: [web.oidc] needs SCR_OIDC_CLIENT_SECRET in the environment")
    from lifecycle.web.oidc import OidcSettings

    values = {k: _text(section, k, "") for k in ("label", "scopes", "email_claim")
              if k in section}
    # The issuer exactly as the provider names it (a trailing / included): the ID token's
    # `iss` is compared with it.
    return OidcSettings(issuer=issuer, client_id=client, client_secret=secret,
                        **values)


def _text(section: Mapping[str, Any], key: str, default: str) -> str:
    value = section.get(key, default)
    if not isinstance(value, str):
        raise InvalidInput(f"config: {key} must be text")
    return value


def _number(section: Mapping[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidInput(f"config: {key} must be a positive number")
    return float(value)


def _zone(name: Any) -> str:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"config: unknown time zone {name!r}") from None
    return str(name)


def _clock_time(text: Any) -> time:
    try:
        return time.fromisoformat(str(text))
    except ValueError:
        raise InvalidInput(f"config: day_start {text!r} is not a time like 09:00") from None


def _clock_override(
    text: str | None, env: Mapping[str, str], calendar: WorkingDays
) -> datetime | None:
    if not text:
        return None
    if env.get("SCR_ALLOW_CLOCK_OVERRIDE") != "1":
        raise InvalidInput("--now is refused: set SCR_ALLOW_CLOCK_OVERRIDE=1 to run as of "
                           "another moment (training and tests only)")
    return parse_moment(text, calendar)


def parse_moment(text: str, calendar: WorkingDays) -> datetime:
    """An ISO date or date-time; without an offset it is the board's local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"not an ISO date-time: {text[:40]!r} (e.g. 2027-01-05T10:00)") \
            from None
    if not 1900 <= moment.year <= 2200:
        raise InvalidInput(f"date-time out of range: {text[:40]!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar.zone)
    return moment.astimezone(UTC)
