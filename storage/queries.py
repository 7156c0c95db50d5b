"""Queries the engine and the command line use. Each says its order and what it raises."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, text
from sqlmodel import Session, col, select

from states.errors import NotFound
from storage.models import (
    Action,
    AgencyRequest,
    Case,
    History,
    Outbox,
    ProceedingsStatus,
    Referral,
    Timer,
    User,
    UserRole,
)

_CASE = select(Case).where(col(Case.ref) == bindparam("ref"))
_CASE_FOR_UPDATE = _CASE.with_for_update()


def case_by_ref(session: Session, ref: str, *, for_update: bool = False) -> Case:
    """The case with reference `ref` (exact match); NotFound if there is none.

    With `for_update`, PostgreSQL locks the row until the transaction ends, so concurrent
    triggers on one case queue up instead of racing (SQLite's BEGIN IMMEDIATE already
    serialises writers).
    """
    stmt = _CASE_FOR_UPDATE if for_update else _CASE
    case = session.execute(stmt, {"ref": ref}).scalars().first()
    if case is None:
        raise NotFound(f"unknown case {ref!r}")
    return case


def cases(session: Session, *, state: str | None = None) -> Sequence[Case]:
    """All cases, or those in `state`, ordered by reference."""
    stmt = select(Case).order_by(col(Case.ref))
    if state is not None:
        stmt = stmt.where(Case.state == state)
    return session.exec(stmt).all()


def next_ref(session: Session, prefix: str, year: int) -> str:
    """The next free reference `PREFIX-YEAR-NNNN`, numbering afresh each year.

    On PostgreSQL a transaction-scoped advisory lock serialises allocation so two
    concurrent referrals never pick the same number.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(5243001)"))
    stem = f"{prefix}-{year}-"
    refs = session.exec(select(Case.ref).where(col(Case.ref).startswith(stem))).all()
    numbers = [int(r[len(stem):]) for r in refs if r[len(stem):].isdigit()]
    return f"{stem}{max(numbers, default=0) + 1:04d}"


def referral(session: Session, case_id: int) -> Referral:
    found = session.get(Referral, case_id)
    if found is None:
        raise NotFound(f"case {case_id} has no referral")
    return found


def proceedings(session: Session, case_id: int) -> ProceedingsStatus:
    found = session.get(ProceedingsStatus, case_id)
    if found is None:
        raise NotFound(f"case {case_id} has no proceedings record")
    return found


def agency_requests(session: Session, case_id: int) -> Sequence[AgencyRequest]:
    """Every agency asked, by round then the order they were asked."""
    stmt = select(AgencyRequest).where(AgencyRequest.case_id == case_id)
    return session.exec(stmt.order_by(col(AgencyRequest.round), col(AgencyRequest.id))).all()


def actions(session: Session, case_id: int) -> Sequence[Action]:
    """The action plan, by action number."""
    stmt = select(Action).where(Action.case_id == case_id).order_by(col(Action.number))
    return session.exec(stmt).all()


def history(session: Session, case_id: int) -> Sequence[History]:
    """The case's history, oldest first (by seq)."""
    stmt = select(History).where(History.case_id == case_id).order_by(col(History.seq))
    return session.exec(stmt).all()


def timers(session: Session, case_id: int, *, status: str | None = None) -> Sequence[Timer]:
    """The case's timers by due moment, then ladder rank."""
    stmt = select(Timer).where(Timer.case_id == case_id)
    if status is not None:
        stmt = stmt.where(Timer.status == status)
    return session.exec(stmt.order_by(col(Timer.due_at), col(Timer.rank))).all()


def latest_sequence(session: Session, case_id: int, name: str) -> int | None:
    """The calendar sequence of the most recent timer `name` of the case, or None."""
    value = session.exec(
        select(func.max(Timer.sequence)).where(Timer.case_id == case_id, Timer.name == name)
    ).one()
    return None if value is None else int(value)


def outbox(session: Session, *, status: str | None = None) -> Sequence[Outbox]:
    """Outbox messages, oldest first."""
    stmt = select(Outbox).order_by(col(Outbox.id))
    if status is not None:
        stmt = stmt.where(Outbox.status == status)
    return session.exec(stmt).all()


def user_by_name(session: Session, name: str) -> User:
    """The user called `name` (exact match); NotFound if there is none."""
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"unknown user {name!r}")
    return user


def users(session: Session) -> Sequence[User]:
    """Every user, by name."""
    return session.exec(select(User).order_by(col(User.name))).all()


def roles_of(session: Session, user_id: int) -> list[str]:
    """The user's roles, sorted."""
    stmt = select(UserRole.role).where(UserRole.user_id == user_id).order_by(col(UserRole.role))
    return list(session.exec(stmt).all())


def users_with_role(session: Session, role: str) -> Sequence[User]:
    """Active users holding `role`, by name."""
    stmt = (
        select(User)
        .join(UserRole, col(UserRole.user_id) == User.id)
        .where(UserRole.role == role, col(User.active).is_(True))
        .order_by(col(User.name))
    )
    return session.exec(stmt).all()
