"""Cases record the name of the process definition they started under, beside its version.

Every case stored before this revision started under the Serious Case Review process
(`scr`, version 1): the column is filled with that name, then loses its default, so a new
case always names its definition.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("definition", sqlmodel.sql.sqltypes.AutoString(length=40),
                                      nullable=False, server_default="scr"))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("definition", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("definition")
