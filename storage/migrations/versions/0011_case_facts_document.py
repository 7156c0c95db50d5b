"""A case's own facts in one document: `cases.facts` (JSON; JSONB on PostgreSQL) holds
what each regime records beyond what every review records, as its definition declares it
(states/facts.py). The regimes' own columns move into it and are dropped:
panel_notified_on (SCR), notified_on (SCR version 2, CSPR), partner_views,
rapid_review_sent_on, panel_response and panel_response_on (CSPR).

A value moves in its stored form (a day as ISO text, the partners' views as they were);
a column that held nothing (None, or no views) leaves no key. The seals of history rows
written before keep verifying: storage/seal.py reads version 1 seals from the document.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

from scr.storage.types import document

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVED = ("panel_notified_on", "notified_on", "partner_views", "rapid_review_sent_on",
         "panel_response", "panel_response_on")
_DAYS = ("panel_notified_on", "notified_on", "rapid_review_sent_on", "panel_response_on")


def _stored(name: str, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if name == "partner_views" and isinstance(value, str):  # raw JSON text on SQLite
        return json.loads(value)
    return value


def _cases() -> sa.TableClause:
    """The cases table as it is in the middle of the move: both the columns and the document."""
    return sa.table("cases", sa.column("id", sa.Integer()),
                    *(sa.column(n, sa.Date()) for n in _DAYS),
                    sa.column("panel_response", sa.String()),
                    sa.column("partner_views", sa.JSON()),
                    sa.column("facts", document()))


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts", document(), nullable=False,
                                      server_default="{}"))
    cases = _cases()
    bind = op.get_bind()
    rows = bind.execute(sa.select(cases.c.id, *(cases.c[n] for n in MOVED))).all()
    for case_id, *values in rows:
        facts = {name: _stored(name, value) for name, value in zip(MOVED, values, strict=True)
                 if value not in (None, {}, "{}")}
        if facts:
            bind.execute(sa.update(cases).where(cases.c.id == case_id).values(facts=facts))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("facts", server_default=None)
        for name in MOVED:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in _DAYS:
            batch_op.add_column(sa.Column(name, sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("panel_response",
                                      sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=True))
        batch_op.add_column(sa.Column("partner_views", sa.JSON(), nullable=False,
                                      server_default="{}"))
    cases = _cases()
    bind = op.get_bind()
    for case_id, facts in bind.execute(sa.select(cases.c.id, cases.c.facts)).all():
        facts = json.loads(facts) if isinstance(facts, str) else facts
        if not facts:
            continue
        values = {n: date.fromisoformat(facts[n]) for n in _DAYS if facts.get(n)}
        values["panel_response"] = facts.get("panel_response")
        values["partner_views"] = facts.get("partner_views") or {}
        bind.execute(sa.update(cases).where(cases.c.id == case_id).values(**values))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("partner_views", server_default=None)
        batch_op.drop_column("facts")
