"""A record that cannot be changed unseen, and people bound to their logins.

- history: the seal of the case's whole record after each trigger (storage.seal), and who
  recorded a decision made by someone else;
- user_audit: chained like history (storage.ledger), made append-only by triggers, with its
  newest hash in audit_heads;
- users: the operating-system login that acts as the user on the command line.

Rows written before this revision keep verifying under chain version 1: they carry no seal.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION scr_user_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'user_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""

# The SQLite triggers (storage.backup.APPEND_ONLY_TRIGGERS puts them back when missing).
SQLITE_TRIGGERS = {
    f"user_audit_no_{verb.lower()}":
        f"CREATE TRIGGER IF NOT EXISTS user_audit_no_{verb.lower()} BEFORE {verb} ON "
        f"user_audit BEGIN SELECT RAISE(ABORT, 'user_audit is append-only: {verb} "
        "refused'); END"
    for verb in ("UPDATE", "DELETE")
}


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("record_hash", _text(64), nullable=True))
        batch.add_column(sa.Column("recorded_by", _text(100), nullable=True))
    with op.batch_alter_table("user_audit") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("record_hash", _text(64), nullable=True))
        batch.add_column(sa.Column("prev_hash", _text(64), nullable=True))
        batch.add_column(sa.Column("hash", _text(64), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("login", _text(64), nullable=True))
    # Unique indexes rather than constraints: SQLite adds them without rebuilding the table.
    op.create_index("uq_user_audit_seq", "user_audit", ["seq"], unique=True)
    op.create_index("uq_users_login", "users", ["login"], unique=True)
    op.create_table(
        "audit_heads",
        sa.Column("chain", _text(20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", _text(64), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    # The users' chain starts empty; its head row is there from the start, so the first
    # two changes cannot both create it.
    op.execute("INSERT INTO audit_heads (chain, seq, head) VALUES ('users', 0, '"
               + "0" * 64 + "')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER user_audit_append_only BEFORE UPDATE OR DELETE ON "
                   "user_audit FOR EACH ROW EXECUTE FUNCTION scr_user_audit_append_only()")
        op.execute("CREATE TRIGGER user_audit_no_truncate BEFORE TRUNCATE ON user_audit "
                   "FOR EACH STATEMENT EXECUTE FUNCTION scr_user_audit_append_only()")
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS user_audit_append_only ON user_audit")
        op.execute("DROP TRIGGER IF EXISTS user_audit_no_truncate ON user_audit")
        op.execute("DROP FUNCTION IF EXISTS scr_user_audit_append_only()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("audit_heads")
    op.drop_index("uq_users_login", "users")
    op.drop_index("uq_user_audit_seq", "user_audit")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("login")
    with op.batch_alter_table("user_audit") as batch:
        for column in ("hash", "prev_hash", "record_hash", "seq"):
            batch.drop_column(column)
    with op.batch_alter_table("history") as batch:
        batch.drop_column("recorded_by")
        batch.drop_column("record_hash")
