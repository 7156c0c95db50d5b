"""Tamper-evident history: a hash chain per case, and history made append-only in the
database itself (UPDATE and DELETE refused by triggers, on PostgreSQL and SQLite).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scr.storage.chain import GENESIS, row_hash

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION scr_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("history_head", sa.String(64), nullable=True))
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history "
                   "FOR EACH ROW EXECUTE FUNCTION scr_history_append_only()")
        op.execute("CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history "
                   "FOR EACH STATEMENT EXECUTE FUNCTION scr_history_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER history_no_{verb.lower()} BEFORE {verb} ON history "
                       f"BEGIN SELECT RAISE(ABORT, 'history is append-only: {verb} refused'); "
                       "END")


def _backfill() -> None:
    """Chain the rows already there, oldest first, case by case."""
    bind = op.get_bind()
    cases = bind.execute(sa.text("SELECT id, ref FROM cases ORDER BY id")).all()
    for case_id, ref in cases:
        prev = GENESIS
        rows = bind.execute(sa.text(
            "SELECT id, seq, trigger, source, dest, actor, reason, params, at, due_at "
            "FROM history WHERE case_id = :c ORDER BY seq"), {"c": case_id}).all()
        for row in rows:
            params = row.params if isinstance(row.params, dict) else _json(row.params)
            digest = row_hash(case_ref=ref, seq=row.seq, trigger=row.trigger, source=row.source,
                              dest=row.dest, actor=row.actor, reason=row.reason, params=params,
                              at=_moment(row.at), due_at=_moment(row.due_at), prev_hash=prev)
            bind.execute(sa.text("UPDATE history SET prev_hash = :p, hash = :h WHERE id = :i"),
                         {"p": prev, "h": digest, "i": row.id})
            prev = digest
        bind.execute(sa.text("UPDATE cases SET history_head = :h WHERE id = :i"),
                     {"h": prev if rows else None, "i": case_id})


def _json(value: object) -> dict:
    import json

    return json.loads(value) if isinstance(value, str) else dict(value or {})  # type: ignore[call-overload]


def _moment(value: object):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS history_append_only ON history")
        op.execute("DROP TRIGGER IF EXISTS history_no_truncate ON history")
        op.execute("DROP FUNCTION IF EXISTS scr_history_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS history_no_update")
        op.execute("DROP TRIGGER IF EXISTS history_no_delete")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("history_head")
    with op.batch_alter_table("history") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
