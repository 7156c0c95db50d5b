"""Drop the case_id indexes that a unique constraint beginning with case_id already covers
(history, actions, agency_requests): every lookup by case uses the constraint's index, and
the second index only cost each trigger another page to write.

Written by `make migration` from the models; the index drops need no table copy on SQLite,
so they run outside batch mode and history's append-only triggers stay as they are.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = {"history": "ix_history_case_id", "actions": "ix_actions_case_id",
           "agency_requests": "ix_agency_requests_case_id"}


def upgrade() -> None:
    for table, index in COVERED.items():
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for table, index in COVERED.items():
        op.create_index(index, table, ["case_id"], unique=False)
