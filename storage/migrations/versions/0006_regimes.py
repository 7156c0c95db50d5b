"""Regimes: the facts SCR version 2 and the CSPR process record.

- referrals: the day the authority became aware of the incident (`aware_on`; None for
  cases referred under SCR version 1) and whether the child was looked after (false for
  every case stored before);
- proceedings: an inquest's status beside criminal and care proceedings ('none' before);
- cases: the serious incident notification's day, the rapid review sent to the national
  panel, the panel's response, and the safeguarding partners' recorded views (empty).

Columns that may not be null are added with a server default that fills the rows already
stored, which is then dropped, so the application always writes the value itself.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILLED = (("cases", "partner_views"), ("proceedings", "inquest"),
           ("referrals", "looked_after"))


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notified_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("rapid_review_sent_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("panel_response",
                                      sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=True))
        batch_op.add_column(sa.Column("panel_response_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("partner_views", sa.JSON(), nullable=False,
                                      server_default="{}"))
    with op.batch_alter_table("proceedings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inquest", sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default="none"))
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aware_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("looked_after", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    for table, column in _FILLED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("looked_after")
        batch_op.drop_column("aware_on")
    with op.batch_alter_table("proceedings", schema=None) as batch_op:
        batch_op.drop_column("inquest")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for column in ("partner_views", "panel_response_on", "panel_response",
                       "rapid_review_sent_on", "notified_on"):
            batch_op.drop_column(column)
