"""Earlier referral summaries: when an amendment replaces the referral's summary, the text
it replaced is kept in referral_versions (numbered from 1 per case), with who replaced it
and when. Nothing to fill: no summary replaced before this revision was kept.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scr.storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("replaced_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("replaced_at", scr.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("referral_versions")
