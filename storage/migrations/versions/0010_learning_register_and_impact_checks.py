"""The learning register and the checks that learning took hold: learning_items (a review
from elsewhere, the record a `learning` case opens with in place of a referral), audits
(quality assurance audits of a review's actions or learning) and trainings (training
commissioned in response). New tables only: nothing to fill.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import scr.storage.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('finding', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', scr.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'number')
    )
    op.create_table('learning_items',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('publisher', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('relevant', sa.Boolean(), nullable=True),
    sa.Column('adopted', sa.Text(), nullable=True),
    sa.Column('considered_on', sa.Date(), nullable=True),
    sa.Column('considered_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_table('trainings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('trained', sa.Integer(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('recorded_at', scr.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'number')
    )


def downgrade() -> None:
    op.drop_table('trainings')
    op.drop_table('learning_items')
    op.drop_table('audits')
