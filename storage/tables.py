"""The schema as SQLAlchemy Core tables, for the code that must not pay for the ORM.

`storage.models` (SQLModel) declares the schema the ORM and Alembic's migrations work
with. Importing SQLModel, pydantic and the ORM costs a fresh `scr` process about 0.15 s,
so the engine's prepared statements (storage.direct) and the reading commands (`scr show`)
use these plain tables instead. They are the same tables: tests/storage/test_tables.py
compares every column (name, type, length, nullability, key) with storage.models, so the
two cannot drift apart. Constraints and indexes live in the models and the migrations
only; nothing creates tables from this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from storage.types import UTCDateTime

metadata = MetaData()

CASES = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("ref", String(40), nullable=False),
    Column("pseudonym", String(80), nullable=False),
    Column("state", String(40), nullable=False),
    Column("kind", String(20), nullable=True),
    Column("version", Integer, nullable=False),
    Column("definition_version", String(20), nullable=False),
    Column("flags", JSON, nullable=False),
    Column("round", Integer, nullable=False),
    Column("referred_at", UTCDateTime(), nullable=False),
    Column("state_entered_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("returns_due_at", UTCDateTime(), nullable=True),
    Column("meeting_date", Date, nullable=True),
    Column("recommendation", String(20), nullable=True),
    Column("methodology", String(40), nullable=True),
    Column("lead_reviewer", String(100), nullable=True),
    Column("commissioned_at", UTCDateTime(), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("report_title", String(300), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("notice_sent_at", UTCDateTime(), nullable=True),
    Column("scheduled_publication", Date, nullable=True),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("panel_notified_on", Date, nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("history_head", String(64), nullable=True),
)
USER_AUDIT = Table(
    "user_audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("user_name", String(100), nullable=False),
    Column("details", JSON, nullable=False),
)
USERS = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("email", String(254), nullable=False),
    Column("agency", String(60), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
ACTIONS = Table(
    "actions", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("agency", String(60), nullable=False),
    Column("description", String(1000), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("due", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("evidence", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("signed_off_at", UTCDateTime(), nullable=True),
    Column("signed_off_by", String(100), nullable=True),
)
AGENCY_REQUESTS = Table(
    "agency_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("agency", String(60), nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("returned_at", UTCDateTime(), nullable=True),
    Column("view", String(20), nullable=True),
    Column("summary", Text, nullable=True),
    Column("returned_by", String(100), nullable=True),
)
HISTORY = Table(
    "history", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("trigger", String(40), nullable=False),
    Column("source", String(40), nullable=True),
    Column("dest", String(40), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text, nullable=True),
    Column("params", JSON, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
MEETINGS = Table(
    "meetings", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("recorded_by", String(100), nullable=False),
)
OUTBOX = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=True),
    Column("case_ref", String(40), nullable=True),
    Column("recipient", String(254), nullable=False),
    Column("recipient_name", String(100), nullable=False),
    Column("recipient_role", String(40), nullable=False),
    Column("template", String(60), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("ics", Text, nullable=True),
    Column("message_id", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("history_seq", Integer, nullable=True),
    Column("notice", JSON, nullable=True),
    Column("calendar", JSON, nullable=True),
)
OUTPUTS = Table(
    "outputs", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("output", String(30), nullable=False),
    Column("location", String(500), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
PROCEEDINGS = Table(
    "proceedings", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("criminal", String(20), nullable=False),
    Column("care", String(20), nullable=False),
    Column("expected_conclusion", Date, nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
REFERRALS = Table(
    "referrals", metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("incident_date", Date, nullable=False),
    Column("harm", String(20), nullable=False),
    Column("abuse", String(20), nullable=False),
    Column("agency_concern", Boolean, nullable=False),
    Column("grounds", JSON, nullable=False),
    Column("route", String(30), nullable=False),
    Column("referrer_agency", String(60), nullable=True),
    Column("criminal_proceedings", Boolean, nullable=False),
    Column("summary", Text, nullable=False),
)
TIMERS = Table(
    "timers", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("ladder", String(40), nullable=False),
    Column("level", String(20), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("key", String(20), nullable=False),
    Column("name", String(80), nullable=False),
    Column("state", String(40), nullable=False),
    Column("fires", String(40), nullable=True),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("rule", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("armed_at", UTCDateTime(), nullable=False),
    Column("fired_at", UTCDateTime(), nullable=True),
    Column("sequence", Integer, nullable=False),
)
USER_ROLES = Table(
    "user_roles", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(40), primary_key=True),
)
MEETING_ATTENDANCE = Table(
    "meeting_attendance", metadata,
    Column("meeting_id", Integer, ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("agency", String(60), primary_key=True),
)
