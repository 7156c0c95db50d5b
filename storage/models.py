"""The tables (SQLModel on SQLAlchemy 2). Moments are UTCDateTime; plain days are Date.

Free text about a child (the referral's summary and the summaries it replaced, an agency's
summary of involvement, an action's evidence) lives only in its own column here: it is
never copied into history, logs or e-mail.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from scr.storage.types import UTCDateTime, document


def moment(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def case_fk(*, index: bool = True) -> Any:
    """The case a row belongs to. `index=False` where a unique constraint beginning with
    case_id already serves every lookup by case: a second index would only cost writes."""
    return Field(
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                         index=index)
    )


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_login", "login", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    email: str = Field(max_length=254)
    agency: str | None = Field(default=None, max_length=60)
    active: bool = True
    created_at: datetime = moment()
    # The operating-system login that acts as this user on the command line (SECURITY.md).
    login: str | None = Field(default=None, max_length=64)


class UserRole(SQLModel, table=True):
    __tablename__ = "user_roles"
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(max_length=40, primary_key=True)


class UserAudit(SQLModel, table=True):
    """Changes to users and their roles: an audit trail of its own."""

    __tablename__ = "user_audit"
    __table_args__ = (Index("uq_user_audit_seq", "seq", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = moment()
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    user_name: str = Field(max_length=100)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Tamper evidence (storage.ledger), for lines written since migration 0009: the line's
    # place in the chain, the seal of every user and role after it, and the hashes.
    seq: int | None = None
    record_hash: str | None = Field(default=None, max_length=64)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """The newest hash of a chain kept outside the cases (the users' audit trail): a
    removed tail shows, as a case's history_head shows one of its history."""

    __tablename__ = "audit_heads"
    chain: str = Field(max_length=20, primary_key=True)
    seq: int
    head: str = Field(max_length=64)


_version = Column("version", Integer, nullable=False)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _version}

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    pseudonym: str = Field(max_length=80)
    state: str = Field(max_length=40, index=True)
    kind: str | None = Field(default=None, max_length=20)
    version: int = Field(default=None, sa_column=_version)
    # The process definition the case started under, and its version (states.registry):
    # it runs under that definition for the whole of its life.
    definition: str = Field(default="scr", max_length=40)
    definition_version: str = Field(max_length=20)
    flags: list[str] = json_list()
    round: int = 1
    referred_at: datetime = moment()
    state_entered_at: datetime = moment()
    updated_at: datetime = moment()
    returns_due_at: datetime | None = moment(nullable=True)
    meeting_date: date | None = None
    recommendation: str | None = Field(default=None, max_length=20)
    methodology: str | None = Field(default=None, max_length=40)
    lead_reviewer: str | None = Field(default=None, max_length=100)
    commissioned_at: datetime | None = moment(nullable=True)
    decided_at: datetime | None = moment(nullable=True)
    report_title: str | None = Field(default=None, max_length=300)
    completed_at: datetime | None = moment(nullable=True)
    notice_sent_at: datetime | None = moment(nullable=True)
    scheduled_publication: date | None = None
    published_at: datetime | None = moment(nullable=True)
    # The facts its definition declares (states/facts.py), in one document checked against
    # the definition on every write: JSONB on PostgreSQL. Migration 0011 moved the
    # regimes' own columns into it (the panel told, the notification, the partners' views,
    # the rapid review and the Panel's response).
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        document(), nullable=False))
    closed_at: datetime | None = moment(nullable=True)
    # The hash of the newest history row: a removed tail of the chain shows (storage.chain).
    history_head: str | None = Field(default=None, max_length=64)


class Referral(SQLModel, table=True):
    __tablename__ = "referrals"
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    incident_date: date
    harm: str = Field(max_length=20)
    abuse: str = Field(max_length=20)
    agency_concern: bool = False
    grounds: list[str] = json_list()
    route: str = Field(max_length=30)
    referrer_agency: str | None = Field(default=None, max_length=60)
    criminal_proceedings: bool = False
    # The day the local authority became aware of the incident (SCR version 2, CSPR): the
    # statutory clocks run from it. None for cases referred under SCR version 1.
    aware_on: date | None = None
    # The child was looked after by the local authority.
    looked_after: bool = False
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))


class ReferralVersion(SQLModel, table=True):
    """A referral summary that an amendment replaced, numbered from 1 (the first summary
    given) per case: kept, never changed, shown only to those who may read the summary."""

    __tablename__ = "referral_versions"
    __table_args__ = (UniqueConstraint("case_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk(index=False)
    version: int
    summary: str = Field(sa_column=Column(Text, nullable=False))
    replaced_by: str = Field(max_length=100)
    replaced_at: datetime = moment()


class AgencyRequest(SQLModel, table=True):
    __tablename__ = "agency_requests"
    __table_args__ = (UniqueConstraint("case_id", "round", "agency"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk(index=False)
    round: int
    agency: str = Field(max_length=60)
    requested_at: datetime = moment()
    due_at: datetime = moment()
    returned_at: datetime | None = moment(nullable=True)
    view: str | None = Field(default=None, max_length=20)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    returned_by: str | None = Field(default=None, max_length=100)


class Meeting(SQLModel, table=True):
    __tablename__ = "meetings"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk()
    held_on: date
    recorded_at: datetime = moment()
    recorded_by: str = Field(max_length=100)


class MeetingAttendance(SQLModel, table=True):
    __tablename__ = "meeting_attendance"
    meeting_id: int = Field(
        sa_column=Column(Integer, ForeignKey("meetings.id", ondelete="CASCADE"),
                         primary_key=True)
    )
    agency: str = Field(max_length=60, primary_key=True)


class Output(SQLModel, table=True):
    __tablename__ = "outputs"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk()
    output: str = Field(max_length=30)
    location: str = Field(default="", max_length=500)
    recorded_at: datetime = moment()


class ProceedingsStatus(SQLModel, table=True):
    __tablename__ = "proceedings"
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    criminal: str = Field(default="none", max_length=20)
    care: str = Field(default="none", max_length=20)
    inquest: str = Field(default="none", max_length=20)
    expected_conclusion: date | None = None
    recorded_at: datetime = moment()


class Action(SQLModel, table=True):
    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("case_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk(index=False)
    number: int
    agency: str = Field(max_length=60)
    description: str = Field(max_length=1000)
    owner: str = Field(max_length=100)
    due: date
    status: str = Field(default="open", max_length=20)
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = moment()
    completed_at: datetime | None = moment(nullable=True)
    signed_off_at: datetime | None = moment(nullable=True)
    signed_off_by: str | None = Field(default=None, max_length=100)


class LearningItem(SQLModel, table=True):
    """A review from elsewhere in the board's learning register (states/learning): the
    record a `learning` case is opened with, in place of a referral. Everything here is
    about a published review, not a child; the recommendations adopted locally are the
    sub-group's own words, kept here, never copied into history or e-mail."""

    __tablename__ = "learning_items"
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    title: str = Field(max_length=300)
    source: str = Field(max_length=30)
    publisher: str = Field(max_length=200)
    published_on: date
    themes: list[str] = json_list()
    link: str = Field(default="", max_length=500)
    # The sub-group's consideration: None until considered.
    relevant: bool | None = None
    adopted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    considered_on: date | None = None
    considered_by: str | None = Field(default=None, max_length=100)


class ImpactAudit(SQLModel, table=True):
    """A quality assurance audit of whether a review's learning took hold: of some of its
    actions, or (no actions named) of the review's learning as a whole. Numbered from 1 per
    case; the note is the auditors' own words, kept only here."""

    __tablename__ = "audits"
    __table_args__ = (UniqueConstraint("case_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk(index=False)
    number: int
    held_on: date
    finding: str = Field(max_length=20)
    actions: list[int] = json_list()
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    recorded_at: datetime = moment()
    recorded_by: str = Field(max_length=100)


class Training(SQLModel, table=True):
    """Training commissioned in response to a review's learning (or to some of its
    actions), numbered from 1 per case."""

    __tablename__ = "trainings"
    __table_args__ = (UniqueConstraint("case_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk(index=False)
    number: int
    course: str = Field(max_length=200)
    audience: str = Field(max_length=200)
    starts_on: date
    ends_on: date
    trained: int
    actions: list[int] = json_list()
    recorded_at: datetime = moment()
    recorded_by: str = Field(max_length=100)


class History(SQLModel, table=True):
    """Append-only: one row per trigger fired, in order (`seq` counts per case from 1).

    The database refuses UPDATE and DELETE on it (triggers made by migration 0002)."""

    __tablename__ = "history"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk(index=False)
    seq: int
    trigger: str = Field(max_length=40)
    source: str | None = Field(default=None, max_length=40)
    dest: str = Field(max_length=40)
    actor: str = Field(max_length=100)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = moment()
    # For timer firings: the moment it was due, so lateness after an outage is on record.
    due_at: datetime | None = moment(nullable=True)
    # Tamper evidence (storage.chain): this row's hash and its predecessor's, and (chain
    # version 2) the seal of the case's whole record after the trigger (storage.seal).
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)
    record_hash: str | None = Field(default=None, max_length=64)
    # A decision recorded on someone's behalf: who recorded it (`actor` made it).
    recorded_by: str | None = Field(default=None, max_length=100)


class Timer(SQLModel, table=True):
    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = case_fk()
    ladder: str = Field(max_length=40)
    level: str = Field(max_length=20)
    rank: int = 1
    key: str = Field(default="", max_length=20)
    name: str = Field(max_length=80)
    state: str = Field(max_length=40)
    fires: str | None = Field(default=None, max_length=40)
    due_at: datetime = moment()
    rule: str = Field(max_length=300)
    # pending → fired | skipped (a higher level fired) | disarmed | stale
    status: str = Field(default="pending", max_length=20)
    armed_at: datetime = moment()
    fired_at: datetime | None = moment(nullable=True)
    sequence: int = 0  # bumped when re-armed, for calendar updates


class Outbox(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=True,
                         index=True),
    )
    case_ref: str | None = Field(default=None, max_length=40)
    recipient: str = Field(max_length=254)
    recipient_name: str = Field(default="", max_length=100)
    recipient_role: str = Field(default="", max_length=40)
    template: str = Field(max_length=60)
    subject: str = Field(max_length=300)
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False))
    ics: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    message_id: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    status: str = Field(default="pending", max_length=20)  # pending | sent | failed
    attempts: int = 0
    created_at: datetime = moment()
    next_attempt_at: datetime = moment()
    claimed_until: datetime | None = moment(nullable=True)
    sent_at: datetime | None = moment(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)
    history_seq: int | None = None
    # What to say, queued with the transition; the bodies (and .ics) are rendered from it
    # when the message is first claimed for delivery, then kept, so a retry is identical.
    notice: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    calendar: dict[str, Any] | None = Field(default=None,
                                            sa_column=Column(JSON, nullable=True))


class SignInLink(SQLModel, table=True):
    """A single-use sign-in link sent by e-mail (the portal). Only the token's SHA-256 is
    stored: the database never holds a link that would sign anyone in."""

    __tablename__ = "sign_in_links"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                         index=True))
    created_at: datetime = moment()
    expires_at: datetime = moment()
    used_at: datetime | None = moment(nullable=True)


class SignInAttempt(SQLModel, table=True):
    """Each request for a sign-in link, known address or not, for the rate limits: the
    address and the client are kept only as keyed hashes."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_address", "address_hash", "at"),
                      Index("ix_sign_in_attempts_client", "client_hash", "at"))
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = moment()
    address_hash: str = Field(max_length=64)
    client_hash: str = Field(max_length=64)


class WebSession(SQLModel, table=True):
    """A signed-in portal session, held on the server: the cookie carries a random token,
    the table its SHA-256, the form token (CSRF) and the session's limits."""

    __tablename__ = "web_sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                         index=True))
    csrf_token: str = Field(max_length=64)
    method: str = Field(default="email", max_length=20)  # email | oidc
    created_at: datetime = moment()
    last_seen_at: datetime = moment()
    expires_at: datetime = moment()  # the absolute lifetime's end
    ended_at: datetime | None = moment(nullable=True)
