"""Configuration, read once at the edge and passed in (README.md, "Configuration").

Every setting is declared once, in `TABLE`: its key in the TOML file, the environment
variable that overrides it, what its value may be, its default and one line of help.
`load` reads the table (lifecycle.config.table: the command-line option, then the
environment, then the file given by `--config` / `SCR_CONFIG`, then the default) and builds
the settings below from it; the dataclasses' defaults are the table's, and
docs/configuration.md is generated from it (`python -m scr.lifecycle.config.reference`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any

from scr.lifecycle.config.kinds import (
    TEXT,
    ClockTime,
    Flag,
    Folder,
    Line,
    MailAddress,
    Number,
    Offsets,
    OneOf,
    Pattern,
    Slugs,
    SmtpUrl,
    Table,
    Version,
    YesNo,
    Zone,
)
from scr.lifecycle.config.table import Setting, read, read_file
from scr.states.config import ProcessConfig
from scr.states.enums import CORE_AGENCIES, DEFAULT_THEMES, PARTNERS
from scr.states.errors import InvalidInput
from scr.states.working_days import WorkingDays

_MAIL_FROM = MailAddress(200)
_ISSUER = Pattern(r"https://|http://127\.0\.0\.1", "an https:// address", shown=False)
_MINUTES_A_DAY = Number(1, 24 * 60)

TABLE: tuple[Setting, ...] = (
    # [database]
    Setting("database.url", TEXT, "sqlite:///scr.db", "the database: sqlite:///scr.db (the "
            "default) or postgresql+psycopg://user:pass@host/db", env="SCR_DATABASE_URL",
            secret=True),
    # Given only by the environment (or the command line's option).
    Setting(None, TEXT, None, "a TOML configuration file for everything else",
            env="SCR_CONFIG"),
    Setting(None, TEXT, None, "on a live board, whose decision a business manager records; "
            "in training mode, the acting user", env="SCR_ACTOR"),
    Setting(None, TEXT, None, "run as of this moment; refused unless "
            "SCR_ALLOW_CLOCK_OVERRIDE=1", env="SCR_NOW"),
    Setting(None, Flag(), False, "1: training mode (a training board, a demonstration, the "
            "tests): --now and --as name anyone", env="SCR_ALLOW_CLOCK_OVERRIDE"),
    Setting(None, Folder(), Path("mail"), "the maildir e-mail goes to when no SMTP server is "
            "set (default ./mail)", env="SCR_MAIL_DIR"),
    Setting(None, SmtpUrl(), None, "smtp://host:25, smtp+starttls://user:pass@host:587 or "
            "smtps://user:pass@host:465", env="SCR_SMTP_URL", secret=True),
    Setting(None, Flag(), False, "1: after each trigger, read the case again and check the "
            "snapshot the engine derived (slower)", env="SCR_CHECK_VIEWS"),
    # Read where they are used (the log, scr audit, the shell); declared here for the help
    # and checked here as text.
    Setting(None, TEXT, None, "one-shot commands append JSON log events here",
            env="SCR_LOG_FILE"),
    Setting(None, TEXT, None, "the key of scr audit verify's digest (a secret the database "
            "does not hold)", env="SCR_AUDIT_KEY", secret=True),
    Setting(None, TEXT, None, "a file holding that key (scr audit key FILE writes one)",
            env="SCR_AUDIT_KEY_FILE"),
    Setting(None, TEXT, None, "where scr shell keeps its history (empty: nowhere; default "
            "$XDG_DATA_HOME/scr/shell_history)", env="SCR_SHELL_HISTORY"),
    # [board]
    Setting("board.name", Line(200), "Safeguarding Children Partnership",
            "the board's name, in every e-mail and page"),
    Setting("board.mail_from", _MAIL_FROM, "scr@localhost", "the sender of every e-mail; a "
            "board that sets only its name sends as that name at the portal's host"),
    Setting("board.ref_prefix", Pattern(r"[A-Za-z][A-Za-z0-9]{0,9}\Z", "1 to 10 letters or "
            "digits, starting with a letter, e.g. CR"), "CR",
            "the start of every case reference (CR-2026-0001)"),
    Setting("board.agencies", Slugs(empty=True), (), "agencies in addition to the core ones "
            f"({', '.join(CORE_AGENCIES)})"),
    # [calendar]
    Setting("calendar.timezone", Zone(), "Europe/London",
            "the time zone deadlines and working days are counted in"),
    Setting("calendar.country", TEXT, "GB", "the country whose bank holidays are not working "
            "days (an ISO 3166 code the holidays package knows)"),
    Setting("calendar.subdivision", TEXT, "ENG", "its region: ENG for England and Wales, SCT "
            "for Scotland, empty for none"),
    Setting("calendar.day_start", ClockTime(), time(9, 0),
            "the time a deadline on a date (a meeting, a publication date) falls due"),
    # [timers]
    Setting("timers", Offsets(), {}, "distances in place of the process definitions' own, by "
            "key, in every definition that has the key (docs/regimes.md)"),
    # [mail]
    Setting("mail.max_attempts", Number(1, 1000, whole=True), 8,
            "how many times a message is tried before it is marked failed"),
    Setting("mail.backoff_seconds", Number(1, 86_400), 60.0,
            "the wait before the first retry, doubled at each retry after it"),
    Setting("mail.backoff_cap_seconds", Number(1, 30 * 86_400), 6 * 3600.0,
            "the longest wait between retries (at least backoff_seconds)"),
    Setting("mail.batch_size", Number(1, 10_000, whole=True), 200,
            "how many messages one delivery pass sends at the most"),
    # [daemon]
    Setting("daemon.interval_seconds", Number(0.1, 3600), 15.0,
            "how often the daemon wakes at the least"),
    # [web]
    Setting("web.base_url", Pattern(r"https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[^\s?#]*)?\Z",
                                    "an http:// or https:// address, e.g. "
                                    "https://reviews.example.gov.uk", strip="/", shown=False),
            "http://127.0.0.1:8080", "the portal's address, for the links in e-mail; "
            "https: Secure cookies and HSTS"),
    Setting("web.session_idle_minutes", _MINUTES_A_DAY, 30.0,
            "a session unused this long ends"),
    Setting("web.session_hours", Number(0.25, 24 * 31), 8.0, "a session ends this long after "
            "sign-in, used or not"),
    Setting("web.link_minutes", _MINUTES_A_DAY, 15.0, "how long a sign-in link works"),
    # [web.oidc]: sign-in through the board's identity provider (OpenID Connect).
    Setting("web.oidc", Table(), None, "sign-in with the organisation's account (OpenID "
            "Connect), beside the e-mail link; unset: none"),
    Setting("web.oidc.issuer", _ISSUER, None, "the provider's issuer, exactly as it names "
            "itself, e.g. https://login.microsoftonline.com/TENANT-ID/v2.0 (required)"),
    Setting("web.oidc.client_id", TEXT, None, "the portal's client id at the provider "
            "(required)"),
    Setting("web.oidc.client_secret", TEXT, None, "the portal's OpenID Connect client secret",
            env="SCR_OIDC_CLIENT_SECRET", file=False, secret=True),
    Setting("web.oidc.label", TEXT, None, "the sign-in button's words (unset: the portal's)"),
    Setting("web.oidc.scopes", TEXT, None, "the scopes asked for (unset: the portal's)"),
    Setting("web.oidc.email_claim", TEXT, None, "the claim holding the user's e-mail address "
            "(unset: the portal's)"),
    # [process]
    Setting("process.default", TEXT, "cspr", "the process new cases start under (scr "
            "definitions); scr for Serious Case Reviews"),
    Setting("process.version", Version(), None, "its version (unset: its newest)"),
    Setting("process.lead_partner", OneOf(PARTNERS), None, "the safeguarding partner who fires "
            "the partners' decision, the others' agreement recorded (unset: any, once all "
            "three agree)"),
    Setting("process.education_partner", YesNo(), False, "education is a safeguarding "
            "partner (the Children's Wellbeing and Schools Act 2026, once commenced): a CSPR "
            "version 2 decision then needs its view too"),
    Setting("process.nspcc_repository", YesNo(), False, "remind the business manager to "
            "deposit each published CSPR (version 2) with the NSPCC national case review "
            "repository"),
    # [learning]
    Setting("learning.themes", Slugs(empty=False), DEFAULT_THEMES, "the themes a review from "
            "elsewhere may be filed under (scr learning themes)"),
)
DEFAULT: dict[str, Any] = {s.name: s.default for s in TABLE}


@dataclass(frozen=True)
class Board:
    name: str = DEFAULT["board.name"]
    mail_from: str = DEFAULT["board.mail_from"]
    ref_prefix: str = DEFAULT["board.ref_prefix"]
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
    mail_dir: Path = DEFAULT["SCR_MAIL_DIR"]
    smtp_url: str | None = field(default=None, repr=False)  # it may hold a password
    max_attempts: int = DEFAULT["mail.max_attempts"]
    backoff_seconds: float = DEFAULT["mail.backoff_seconds"]
    backoff_cap_seconds: float = DEFAULT["mail.backoff_cap_seconds"]
    batch_size: int = DEFAULT["mail.batch_size"]


@dataclass(frozen=True)
class WebSettings:
    """The portal (`scr web`): the address people reach it at (for the links in e-mail),
    and the limits of its sign-in links and sessions."""

    base_url: str = DEFAULT["web.base_url"]
    session_idle_minutes: float = DEFAULT["web.session_idle_minutes"]
    session_hours: float = DEFAULT["web.session_hours"]
    link_minutes: float = DEFAULT["web.link_minutes"]
    # `[web.oidc]`: a lifecycle.web.oidc.OidcSettings, or None when not configured.
    oidc: Any = None

    @property
    def secure(self) -> bool:
        """Served behind TLS: cookies are `Secure`, and HSTS is sent."""
        return self.base_url.startswith("https://")


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default=DEFAULT["database.url"], repr=False)  # a password?
    actor: str | None = None
    now: datetime | None = None  # the clock override of --now / SCR_NOW
    process: ProcessConfig = field(default_factory=ProcessConfig)
    board: Board = field(default_factory=Board)
    mail: MailSettings = field(default_factory=MailSettings)
    daemon_interval: float = DEFAULT["daemon.interval_seconds"]
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
    options = {"SCR_CONFIG": config_file, "SCR_ACTOR": actor, "SCR_NOW": now}
    v, given = read(TABLE, os.environ if environ is None else environ, options)
    calendar = WorkingDays(v["calendar.timezone"],
                           *_region(v["calendar.country"], v["calendar.subdivision"] or None),
                           day_start=v["calendar.day_start"])
    process = ProcessConfig(agencies=tuple(dict.fromkeys((*CORE_AGENCIES, *v["board.agencies"]))),
                            working_days=calendar,
                            start=_start(v["process.default"], v["process.version"]),
                            lead_partner=v["process.lead_partner"], themes=v["learning.themes"],
                            education_partner=v["process.education_partner"],
                            nspcc_repository=v["process.nspcc_repository"])
    try:
        process = process.with_offsets(v["timers"])
    except ValueError as exc:
        raise InvalidInput(f"config: timers: {exc}") from None
    web = WebSettings(base_url=v["web.base_url"],
                      session_idle_minutes=v["web.session_idle_minutes"],
                      session_hours=v["web.session_hours"], link_minutes=v["web.link_minutes"],
                      oidc=_oidc(v, given))
    return Settings(
        database_url=v["database.url"] or DEFAULT["database.url"],
        actor=v["SCR_ACTOR"],
        now=_clock_override(v["SCR_NOW"], v["SCR_ALLOW_CLOCK_OVERRIDE"], calendar),
        process=process,
        check_snapshots=v["SCR_CHECK_VIEWS"],
        training=v["SCR_ALLOW_CLOCK_OVERRIDE"],
        board=_board(v, given, portal_url=web.base_url),
        mail=_mail(v, given),
        daemon_interval=v["daemon.interval_seconds"],
        web=web,
    )


def _board(v: Mapping[str, Any], given: set[str], *, portal_url: str) -> Board:
    """`[board]`: a board that sets its name but not `mail_from` sends as its name
    (Board.sender_for), never as a bare scr@localhost."""
    mail_from = v["board.mail_from"]
    if "board.name" in given and "board.mail_from" not in given:
        mail_from = _MAIL_FROM.check(Board.sender_for(v["board.name"], portal_url),
                                     "board.mail_from")
    return Board(name=v["board.name"], mail_from=mail_from, ref_prefix=v["board.ref_prefix"],
                 portal_url=portal_url)


def _mail(v: Mapping[str, Any], given: set[str]) -> MailSettings:
    base = v["mail.backoff_seconds"]
    cap = v["mail.backoff_cap_seconds"]
    if "mail.backoff_cap_seconds" not in given:
        cap = max(base, cap)
    elif cap < base:
        raise InvalidInput("config: mail.backoff_cap_seconds must be at least "
                           f"mail.backoff_seconds ({base:g})")
    return MailSettings(mail_dir=v["SCR_MAIL_DIR"], smtp_url=v["SCR_SMTP_URL"],
                        max_attempts=v["mail.max_attempts"], backoff_seconds=base,
                        backoff_cap_seconds=cap, batch_size=v["mail.batch_size"])


def _region(country: str, subdiv: str | None) -> tuple[str, str | None]:
    """`[calendar] country` and `subdivision`: a region the holidays package knows, so
    that working days are never counted against a calendar that does not exist. Only
    another region than the default is looked up: the package is slow to import."""
    if (country, subdiv) == (DEFAULT["calendar.country"], DEFAULT["calendar.subdivision"]):
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


def _start(name: str, version: str | None) -> tuple[str, str | None]:
    """The definition new cases start under (`[process] default`, `version`): it must be
    one this scr has. Without a version, the newest version of that name; without a
    `default`, the Child Safeguarding Practice Review process, which replaced Serious Case
    Reviews in England in 2018-19."""
    from scr.states.registry import REGISTRY

    try:
        definition = REGISTRY.resolve(name, version)
    except InvalidInput as exc:
        raise InvalidInput(f"config: process: {exc}") from None
    if not definition.referred:
        raise InvalidInput(f"config: process.default: {name} is not a process for referrals "
                           "(its records are added with scr learning add)")
    return name, version


def _oidc(v: Mapping[str, Any], given: set[str]) -> Any:
    """`[web.oidc]`, or None. The client secret is never read from the file: it is a
    secret, and the file is not (SCR_OIDC_CLIENT_SECRET, in the service's environment)."""
    if "web.oidc" not in given:
        return None
    # The issuer exactly as the provider names it (a trailing / included): the ID token's
    # `iss` is compared with it.
    issuer = _ISSUER.read(v["web.oidc.issuer"] or "", "web.oidc.issuer")
    if not v["web.oidc.client_id"]:
        raise InvalidInput("config: web.oidc.client_id must be given")
    if not v["web.oidc.client_secret"]:
        raise InvalidInput("config: [web.oidc] needs SCR_OIDC_CLIENT_SECRET in the environment")
    from scr.lifecycle.web.oidc import OidcSettings

    optional = {key: v[f"web.oidc.{key}"] for key in ("label", "scopes", "email_claim")
                if f"web.oidc.{key}" in given}
    return OidcSettings(issuer=issuer, client_id=v["web.oidc.client_id"],
                        client_secret=v["web.oidc.client_secret"], **optional)


def _clock_override(text: str | None, allowed: bool, calendar: WorkingDays) -> datetime | None:
    if not text:
        return None
    if not allowed:
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


__all__ = ["DEFAULT", "TABLE", "Board", "MailSettings", "Settings", "WebSettings", "load",
           "parse_moment", "read_file"]
