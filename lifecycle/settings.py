"""Configuration, read once at the edge and passed in (README.md, "Configuration").

Precedence: command-line option, then environment variable, then the TOML file given by
`--config` / `SCR_CONFIG`, then the defaults below. An unknown section or key in the file
is an error, so a misspelt setting never silently falls back to a default; so is a value
out of its range (each number has bounds, `_NUMBERS`), and the one error line names the key.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from states.config import ProcessConfig
from states.enums import CORE_AGENCIES, DEFAULT_THEMES, PARTNERS
from states.errors import InvalidInput
from states.params import clean_text
from states.working_days import WorkingDays

DEFAULT_PROCESS = "cspr"
_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
# A case reference is PREFIX-YEAR-NNNN: the prefix is letters and digits, so the reference
# stays one word in a subject line, a file name and a URL.
_REF_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
CONFIG_FILE_MAX = 1_000_000
# The region the working days are counted in when the file names none; only another region
# is looked up in the holidays package when the settings are read (it is slow to import).
DEFAULT_REGION = ("GB", "ENG")
# Every number in the file: (least, most, whole numbers only). Outside these bounds a value
# is a mistake (a retry every 10^30 seconds, a zero batch, a session of `inf` hours), not a
# choice.
_NUMBERS: dict[tuple[str, str], tuple[float, float, bool]] = {
    ("mail", "max_attempts"): (1, 1000, True),
    ("mail", "backoff_seconds"): (1, 86_400, False),
    ("mail", "backoff_cap_seconds"): (1, 30 * 86_400, False),
    ("mail", "batch_size"): (1, 10_000, True),
    ("daemon", "interval_seconds"): (0.1, 3600, False),
    ("web", "session_idle_minutes"): (1, 24 * 60, False),
    ("web", "session_hours"): (0.25, 24 * 31, False),
    ("web", "link_minutes"): (1, 24 * 60, False),
}
_SCHEMA: dict[str, set[str]] = {
    "board": {"name", "mail_from", "ref_prefix", "agencies"},
    "calendar": {"timezone", "country", "subdivision", "day_start"},
    "timers": set(),  # any key of a definition's default_offsets
    "mail": {"max_attempts", "backoff_seconds", "backoff_cap_seconds", "batch_size"},
    "database": {"url"},
    "daemon": {"interval_seconds"},
    "process": {"default", "version", "lead_partner"},
    "learning": {"themes"},
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

    @staticmethod
    def sender_for(name: str, portal_url: str | None) -> str:
        """The sender of a board that names itself but not its sender: the board's name at
        the portal's host (`[web] base_url`, "Anyshire SCP <scr@scr.anyshire.gov.uk>"), or
        at localhost while the portal has no host name of its own (127.0.0.1, localhost):
        the board's name is then still what recipients see."""
        from email.utils import formataddr
        from ipaddress import ip_address
        from urllib.parse import urlsplit

        host = (urlsplit(portal_url).hostname or "") if portal_url else ""
        try:
            ip_address(host)
            host = ""
        except ValueError:
            pass
        if "." not in host or host.endswith((".localhost", ".local")):
            host = "localhost"
        return formataddr((name, f"scr@{host}"))


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
    # Training mode (SCR_ALLOW_CLOCK_OVERRIDE=1: a training board, a demonstration, the
    # tests): the clock may be moved, and --as names who acts. On a live board the command
    # line acts as the operating-system login that runs it (SECURITY.md).
    training: bool = False

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
    env = _checked_environment(os.environ if environ is None else environ)
    path = config_file or env.get("SCR_CONFIG")
    data = _read_toml(Path(path)) if path else {}
    board = data.get("board", {})
    cal = data.get("calendar", {})
    mail = data.get("mail", {})

    country, subdiv = _region(cal)
    calendar = WorkingDays(
        timezone=_zone(cal.get("timezone", "Europe/London")),
        country=country,
        subdiv=subdiv,
        day_start=_clock_time(cal.get("day_start", "09:00")),
    )
    extra = board.get("agencies", [])
    if not isinstance(extra, list) or not all(isinstance(a, str) and _SLUG.fullmatch(a)
                                              for a in extra):
        raise InvalidInput("config: board.agencies must be a list of lower-case slugs")
    section = data.get("process", {})
    process = ProcessConfig(agencies=tuple(dict.fromkeys((*CORE_AGENCIES, *extra))),
                            working_days=calendar, start=_start(section),
                            lead_partner=_lead_partner(section),
                            themes=_themes(data.get("learning", {})))
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
        training=env.get("SCR_ALLOW_CLOCK_OVERRIDE") == "1",
        board=_board(board, portal_url=web.base_url),
        mail=_mail(mail, env),
        daemon_interval=_number(data.get("daemon", {}), "daemon", "interval_seconds", 15),
        web=web,
    )


def _board(section: Mapping[str, Any], *, portal_url: str) -> Board:
    """`[board]`: its name and sender go into every message's headers and its prefix into
    every reference, so each is one line of plain text. A board that sets its name but not
    `mail_from` sends as its name (Board.sender_for), never as a bare scr@localhost."""
    name = _line(section, "board", "name", Board.name, 200)
    if "mail_from" in section or "name" not in section:
        mail_from = _line(section, "board", "mail_from", Board.mail_from, 200)
    else:  # a named board's mail says whose it is, even before mail_from is set
        mail_from = Board.sender_for(name, portal_url)
    _require_address(mail_from)
    prefix = _text(section, "board", "ref_prefix", Board.ref_prefix)
    if not _REF_PREFIX.fullmatch(prefix):
        raise InvalidInput(f"config: board.ref_prefix must be 1 to 10 letters or digits, "
                           f"starting with a letter, e.g. CR (got {prefix[:20]!r})")
    return Board(name=name, mail_from=mail_from, ref_prefix=prefix, portal_url=portal_url)


def _require_address(mail_from: str) -> None:
    """board.mail_from: one address, bare or with a display name ("Anyshire SCP
    <scr@anyshire.gov.uk>")."""
    from email.utils import getaddresses

    found = getaddresses([mail_from])
    address = found[0][1] if len(found) == 1 else ""
    local, at, domain = address.rpartition("@")
    if not (at and local and _DOMAIN.fullmatch(domain)) or ".." in domain or " " in address:
        raise InvalidInput("config: board.mail_from must be one e-mail address, e.g. "
                           f"\"Anyshire SCP <scr@anyshire.gov.uk>\" (got {mail_from[:60]!r})")


def _mail(section: Mapping[str, Any], env: Mapping[str, str]) -> MailSettings:
    base = _number(section, "mail", "backoff_seconds", 60)
    cap = _number(section, "mail", "backoff_cap_seconds", max(base, 6 * 3600))
    if cap < base:
        raise InvalidInput("config: mail.backoff_cap_seconds must be at least "
                           f"mail.backoff_seconds ({base:g})")
    return MailSettings(
        mail_dir=Path(env.get("SCR_MAIL_DIR") or "mail"),
        smtp_url=_smtp_url(env.get("SCR_SMTP_URL") or None),
        max_attempts=int(_number(section, "mail", "max_attempts", 8)),
        backoff_seconds=base,
        backoff_cap_seconds=cap,
        batch_size=int(_number(section, "mail", "batch_size", 200)),
    )


def _region(section: Mapping[str, Any]) -> tuple[str, str | None]:
    """`[calendar] country` and `subdivision`: a region the holidays package knows, so
    that working days are never counted against a calendar that does not exist."""
    country = _text(section, "calendar", "country", DEFAULT_REGION[0])
    subdiv = _text(section, "calendar", "subdivision", DEFAULT_REGION[1]) or None
    if (country, subdiv) == DEFAULT_REGION:
        return country, subdiv
    import holidays

    try:
        known = holidays.country_holidays(country, years=()).subdivisions
    except NotImplementedError:
        raise InvalidInput(f"config: calendar.country {country[:20]!r} is not a country the "
                           "holidays package knows (an ISO 3166 code, e.g. GB)") from None
    try:
        holidays.country_holidays(country, subdiv=subdiv, years=())
    except NotImplementedError:
        listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise InvalidInput(f"config: calendar.subdivision {str(subdiv)[:20]!r} is not a "
                           f"subdivision of {country} (one of {listed or 'none'})") from None
    return country, subdiv


# The environment variables scr reads; each must be text (UTF-8), as a database driver,
# an SMTP server and a log line need it to be.
_ENVIRONMENT = ("SCR_CONFIG", "SCR_DATABASE_URL", "SCR_ACTOR", "SCR_NOW", "SCR_MAIL_DIR",
                "SCR_SMTP_URL", "SCR_ALLOW_CLOCK_OVERRIDE", "SCR_CHECK_VIEWS",
                "SCR_OIDC_CLIENT_SECRET", "SCR_AUDIT_KEY", "SCR_AUDIT_KEY_FILE",
                "SCR_LOG_FILE", "SCR_SHELL_HISTORY")


def _checked_environment(env: Mapping[str, str]) -> Mapping[str, str]:
    for name in _ENVIRONMENT:
        value = env.get(name)
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{name} is not UTF-8 text") from None
    return env


def _start(section: Mapping[str, Any]) -> tuple[str, str | None]:
    """The definition new cases start under (`[process] default`, `version`): it must be
    one this scr has. Without a version, the newest version of that name; without a
    `default`, the Child Safeguarding Practice Review process, which replaced Serious Case
    Reviews in England in 2018-19."""
    from states.registry import REGISTRY

    name = _text(section, "process", "default", DEFAULT_PROCESS)
    version = section.get("version")
    if version is not None and not isinstance(version, str | int):
        raise InvalidInput("config: process.version must be text, e.g. \"1\"")
    version = None if version is None else str(version)
    try:
        definition = REGISTRY.resolve(name, version)
    except InvalidInput as exc:
        raise InvalidInput(f"config: process: {exc}") from None
    if not definition.referred:
        raise InvalidInput(f"config: process.default: {name} is not a process for referrals "
                           "(its records are added with scr learning add)")
    return name, version


def _themes(section: Mapping[str, Any]) -> tuple[str, ...]:
    """`[learning] themes`: the themes a review from elsewhere may be filed under, in place
    of the default list (states.enums.DEFAULT_THEMES)."""
    themes = section.get("themes")
    if themes is None:
        return DEFAULT_THEMES
    if not isinstance(themes, list) or not themes or not all(
            isinstance(t, str) and _SLUG.fullmatch(t) for t in themes):
        raise InvalidInput("config: learning.themes must be a list of lower-case slugs")
    return tuple(dict.fromkeys(themes))


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
        raw = read_file(path, CONFIG_FILE_MAX)
    except FileNotFoundError:
        raise InvalidInput(f"config file not found: {path}") from None
    except InvalidInput as exc:
        raise InvalidInput(f"config file: {exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}") from None
    except ValueError as exc:  # a number too long for Python to read (int_max_str_digits)
        raise InvalidInput(f"config file {path}: {exc}") from None
    for section, keys in data.items():
        if section not in _SCHEMA or not isinstance(keys, dict):
            raise InvalidInput(f"config: unknown section [{section}]")
        allowed = _SCHEMA[section]
        unknown = [k for k in keys if allowed and k not in allowed]
        if unknown:
            raise InvalidInput(f"config: unknown setting {section}.{unknown[0]}")
    return data


def read_file(path: Path, limit: int) -> bytes:
    """The contents of the regular file at `path`, at most `limit` bytes; anything else (a
    directory, a device such as /dev/zero, a pipe that would wait for a writer) or a larger
    file is InvalidInput. FileNotFoundError when there is no such file."""
    try:
        # O_NONBLOCK: opening a pipe with no writer returns at once instead of waiting.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") \
            from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidInput(f"{path} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InvalidInput(f"{path}: too large (at most {limit} bytes)")
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
    base = _text(section, "web", "base_url", WebSettings.base_url).rstrip("/")
    if not re.match(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[^\s?#]*)?$", base):
        raise InvalidInput("config: web.base_url must be an http:// or https:// address, "
                           "e.g. https://reviews.example.gov.uk")
    return WebSettings(
        base_url=base,
        session_idle_minutes=_number(section, "web", "session_idle_minutes", 30),
        session_hours=_number(section, "web", "session_hours", 8),
        link_minutes=_number(section, "web", "link_minutes", 15),
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
    issuer = _text(section, "web.oidc", "issuer", "")
    client = _text(section, "web.oidc", "client_id", "")
    if not issuer.startswith("https://") and not issuer.startswith("http://127.0.0.1"):
        raise InvalidInput("config: web.oidc.issuer must be an https:// address")
    if not client:
        raise InvalidInput("config: web.oidc.client_id must be given")
    secret = env.get("SCR_OIDC_CLIENT_SECRET", "")
    if not secret:
        raise InvalidInput("config: [web.oidc] needs SCR_OIDC_CLIENT_SECRET in the environment")
    from lifecycle.web.oidc import OidcSettings

    values = {k: _text(section, "web.oidc", k, "") for k in ("label", "scopes", "email_claim")
              if k in section}
    # The issuer exactly as the provider names it (a trailing / included): the ID token's
    # `iss` is compared with it.
    return OidcSettings(issuer=issuer, client_id=client, client_secret=secret,
                        **values)


def _text(section: Mapping[str, Any], where: str, key: str, default: str) -> str:
    value = section.get(key, default)
    if not isinstance(value, str):
        raise InvalidInput(f"config: {where}.{key} must be text")
    return value


def _line(section: Mapping[str, Any], where: str, key: str, default: str,
          max_length: int) -> str:
    """A setting that goes into a mail header: one line, not empty, no control characters
    (a line break in it would start a header of its own)."""
    value = clean_text(_text(section, where, key, default), f"config: {where}.{key}",
                       max_length)
    if not value:
        raise InvalidInput(f"config: {where}.{key} must not be empty")
    return value


def _number(section: Mapping[str, Any], where: str, key: str, default: float) -> float:
    """A number within its bounds in `_NUMBERS`; `inf`, `nan` and, for a count, a fraction
    are refused."""
    least, most, whole = _NUMBERS[(where, key)]
    value = section.get(key, default)
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or (whole and not isinstance(value, int)) \
            or not math.isfinite(value) or not least <= value <= most:
        raise InvalidInput(f"config: {where}.{key} must be {kind} from {least:g} to {most:g} "
                           f"(got {str(value)[:20]})")
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
