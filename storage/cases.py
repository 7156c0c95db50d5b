"""A case's own row, and the snapshot of the whole case that guards and timers read.

The case is a plain record (storage.tables.CaseRecord, generated from the model): `new`
makes one and `insert` stores it with its referral; `load` reads it (locking it for a
change); `save` writes every column and raises the version by one on the condition that
nobody raised it first. `refer` and `fire` return the same record type. Statements here
are prepared (storage.prepared): this is the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy import insert as sql_insert

from scr.states.case import (
    ActionFacts,
    AgencyAsk,
    CaseSnapshot,
    LearningFacts,
    MeetingFacts,
    ReferralFacts,
)
from scr.states.errors import Conflict, NotFound
from scr.storage.db import CONFLICT, Tx
from scr.storage.facts import Whole
from scr.storage.prepared import Prepared
from scr.storage.tables import (
    ACTIONS,
    AGENCY_REQUESTS,
    CASES,
    CASES_FIELDS,
    LEARNING_ITEMS,
    MEETING_ATTENDANCE,
    MEETINGS,
    OUTPUTS,
    PROCEEDINGS,
    REFERRALS,
    TIMERS,
    CaseRecord,
)

__all__ = ["CaseRecord", "LockedCase", "every", "exists", "insert", "listing", "load",
           "load_by_id", "load_with_snapshot", "lock", "most_urgent", "new", "next_ref",
           "overdue", "overdue_among", "own_facts", "refs", "save", "set_head", "snapshot",
           "snapshot_of", "snapshots"]

_C = CASES
_KEPT = tuple(n for n in CASES_FIELDS if n not in ("id", "version"))
_COLUMNS = tuple(_C.c[n] for n in CASES_FIELDS)
_BY_REF = select(*_COLUMNS).where(_C.c.ref == bindparam("ref"))
_LOAD = Prepared(_BY_REF)
_LOAD_FOR_UPDATE = Prepared(_BY_REF.with_for_update())
_LOAD_BY_ID = Prepared(select(*_COLUMNS).where(_C.c.id == bindparam("case_id")))
_SAVE = Prepared(
    update(_C)
    .where(_C.c.id == bindparam("case_id"), _C.c.version == bindparam("old_version"))
    .values({_C.c[n]: bindparam(f"new_{n}") for n in (*_KEPT, "version")})
)
_INSERT = Prepared(sql_insert(_C).values({c: bindparam(c.key) for c in _COLUMNS if c.key != "id"})
                   .returning(_C.c.id))
_REFERRAL = Prepared(sql_insert(REFERRALS).values(
    {c: bindparam(c.key) for c in REFERRALS.columns}))
_LEARNING = Prepared(sql_insert(LEARNING_ITEMS).values(
    {c: bindparam(c.key) for c in LEARNING_ITEMS.columns}))
_PROCEEDINGS = Prepared(sql_insert(PROCEEDINGS).values(
    {c: bindparam(c.key) for c in PROCEEDINGS.columns}))
_SET_HEAD = Prepared(update(_C).where(_C.c.id == bindparam("case_id"))
                     .values(history_head=bindparam("head")))
_REFS = Prepared(select(_C.c.ref).where(_C.c.ref.startswith(bindparam("stem"))))
_REF_LOCK = Prepared(text("SELECT pg_advisory_xact_lock(5243001)"))


def new(*, ref: str, pseudonym: str, definition: str, definition_version: str, state: str,
        now: datetime) -> CaseRecord:
    """The record of a case about to be opened (not yet stored: its id is 0)."""
    return CaseRecord(
        id=0, ref=ref, pseudonym=pseudonym, state=state, kind=None, version=1,
        definition=definition, definition_version=definition_version, flags=[], round=1,
        referred_at=now, state_entered_at=now, updated_at=now, returns_due_at=None,
        meeting_date=None, recommendation=None, methodology=None, lead_reviewer=None,
        commissioned_at=None, decided_at=None, report_title=None, completed_at=None,
        notice_sent_at=None, scheduled_publication=None, published_at=None,
        facts={}, closed_at=None, history_head=None,
    )


def insert(tx: Tx, case: CaseRecord, *, referral: Mapping[str, Any] | None = None,
           learning: Mapping[str, Any] | None = None, criminal: str = "none") -> None:
    """Store a new case (at version 1) with what it is opened with (a referral, or a
    learning record: exactly one) and its proceedings; sets its id."""
    assert (referral is None) != (learning is None), "a case opens with one record"
    row = _INSERT.one(tx, {n: getattr(case, n) for n in CASES_FIELDS if n != "id"})
    assert row is not None
    case.id = int(row[0])
    if referral is not None:
        # A definition that does not ask for a field (SCR version 1: awareness, looked
        # after) stores its empty value.
        _REFERRAL.run(tx, {"case_id": case.id, "aware_on": None, "looked_after": False,
                           **referral})
    else:
        _LEARNING.run(tx, {"case_id": case.id, "link": "", "relevant": None,
                           "adopted": None, "considered_on": None, "considered_by": None,
                           **(learning or {})})
    _PROCEEDINGS.run(tx, {"case_id": case.id, "criminal": criminal, "care": "none",
                          "inquest": "none", "expected_conclusion": None,
                          "recorded_at": case.referred_at})


def set_head(tx: Tx, case: CaseRecord) -> None:
    """Write the head of a new case's history (its first row is written after the case)."""
    _SET_HEAD.run(tx, {"case_id": case.id, "head": case.history_head})


def next_ref(tx: Tx, prefix: str, year: int) -> str:
    """The next free reference `PREFIX-YEAR-NNNN`, numbering afresh each year. On
    PostgreSQL an advisory lock held to the end of the transaction serialises the numbering,
    so two concurrent referrals never take the same number."""
    if tx.dialect.name == "postgresql":
        _REF_LOCK.all(tx)
    stem = f"{prefix}-{year}-"
    numbers = [int(r[len(stem):]) for (r,) in _REFS.all(tx, {"stem": stem})
               if r[len(stem):].isdigit()]
    return f"{stem}{max(numbers, default=0) + 1:04d}"


def load(tx: Tx, ref: str, *, for_update: bool = False) -> CaseRecord:
    """The case with reference `ref`; NotFound if there is none. `for_update` locks the row
    on PostgreSQL until the transaction ends (SQLite's BEGIN IMMEDIATE already has)."""
    row = (_LOAD_FOR_UPDATE if for_update else _LOAD).one(tx, {"ref": ref})
    if row is None:
        raise NotFound(f"unknown case {ref!r}")
    return CaseRecord(*row)


_EXISTS = Prepared(select(_C.c.id).where(_C.c.ref == bindparam("ref")))


def exists(tx: Tx, ref: str) -> bool:
    """Whether the board has a case `ref`."""
    return _EXISTS.one(tx, {"ref": ref}) is not None


def load_by_id(tx: Tx, case_id: int) -> CaseRecord:
    row = _LOAD_BY_ID.one(tx, {"case_id": case_id})
    if row is None:
        raise NotFound(f"no case with id {case_id}")
    return CaseRecord(*row)


def save(tx: Tx, case: CaseRecord) -> None:
    """Write the case and raise its version by one; Conflict if its version moved since it
    was read."""
    values: dict[str, Any] = {f"new_{n}": getattr(case, n) for n in _KEPT}
    values.update(case_id=case.id, old_version=case.version, new_version=case.version + 1)
    if _SAVE.run(tx, values) != 1:
        raise Conflict(f"{case.ref} {CONFLICT}")
    case.version += 1


# ------------------------------------------------------------------------- snapshot
_R, _P, _L = REFERRALS, PROCEEDINGS, LEARNING_ITEMS
_A, _M, _MA, _O, _X = AGENCY_REQUESTS, MEETINGS, MEETING_ATTENDANCE, OUTPUTS, ACTIONS
_ID: Any = bindparam("case_id")
# The snapshot's reads, each written once for one case (`_ID`, prepared: the engine's hot
# path) and for many (`IN (...)`: the inbox judges twenty cases at a time). Each row starts
# with its case's id.
def _head(case: Any) -> Any:
    """Every case has its proceedings, and a referral or a learning record: one statement
    reads them all."""
    return select(
        _P.c.case_id, _P.c.criminal, _P.c.care, _P.c.inquest, _P.c.expected_conclusion,
        _R.c.incident_date, _R.c.harm, _R.c.abuse, _R.c.agency_concern, _R.c.grounds,
        _R.c.route, _R.c.referrer_agency, _R.c.criminal_proceedings, _R.c.aware_on,
        _R.c.looked_after,
        _L.c.title, _L.c.source, _L.c.published_on, _L.c.themes, _L.c.relevant,
    ).select_from(_P).outerjoin(_R, _R.c.case_id == _P.c.case_id) \
        .outerjoin(_L, _L.c.case_id == _P.c.case_id).where(case(_P.c.case_id))


_HEAD_WIDTH = 20  # the case's id, the proceedings, the referral, the learning record


def _agencies(case: Any) -> Any:
    return select(_A.c.case_id, _A.c.agency, _A.c.round, _A.c.requested_at, _A.c.due_at,
                  _A.c.returned_at, _A.c.view,
                  ).where(case(_A.c.case_id)).order_by(_A.c.round, _A.c.id)


def _meetings(case: Any, *since: Any) -> Any:
    """One row per meeting and agency present (one with no agency for a meeting nobody
    attended)."""
    return select(_M.c.case_id, _M.c.id, _M.c.held_on, _M.c.recorded_at, _MA.c.agency) \
        .outerjoin(_MA, _MA.c.meeting_id == _M.c.id) \
        .where(case(_M.c.case_id), *since).order_by(_M.c.id)


def _outputs(case: Any) -> Any:
    return select(_O.c.case_id, _O.c.output).where(case(_O.c.case_id))


def _actions(case: Any) -> Any:
    return select(_X.c.case_id, _X.c.number, _X.c.agency, _X.c.owner, _X.c.due, _X.c.status,
                  ).where(case(_X.c.case_id)).order_by(_X.c.number)


def _one(column: Any) -> Any:
    return column == _ID


# Only the meetings of the current stay in the state count (CaseSnapshot.meetings): what
# is read for one case does not grow with its history.
_SINCE: Any = bindparam("entered", _M.c.recorded_at.type)
# For one case, the head also says which of the other four reads would find rows: a case
# early in its life has no meetings of this stay, outputs or actions, and those reads are
# not sent.
_SNAP_PRESENT = (
    select(_A.c.case_id).where(_A.c.case_id == _ID).exists(),
    select(_M.c.case_id).where(_M.c.case_id == _ID, _M.c.recorded_at >= _SINCE).exists(),
    select(_O.c.case_id).where(_O.c.case_id == _ID).exists(),
    select(_X.c.case_id).where(_X.c.case_id == _ID).exists(),
)
_SNAP_REFERRAL = Prepared(_head(_one).add_columns(
    *(present.label(f"has_{i}") for i, present in enumerate(_SNAP_PRESENT))))
# The case's row with the same head, for a trigger: the case and its facts in one
# statement (the flags read against the row's own id and stay). On PostgreSQL only the
# case's row is locked (`FOR UPDATE OF cases`: the joined rows may be absent).
_ROW_PRESENT = (
    select(_A.c.case_id).where(_A.c.case_id == _C.c.id).exists(),
    select(_M.c.case_id).where(_M.c.case_id == _C.c.id,
                               _M.c.recorded_at >= _C.c.state_entered_at).exists(),
    select(_O.c.case_id).where(_O.c.case_id == _C.c.id).exists(),
    select(_X.c.case_id).where(_X.c.case_id == _C.c.id).exists(),
)
_ROW_WITH_HEAD = select(*_COLUMNS).add_columns(
    *_head(lambda column: column == _C.c.id).selected_columns,
    *(present.label(f"has_{i}") for i, present in enumerate(_ROW_PRESENT)),
).select_from(_C).outerjoin(_P, _P.c.case_id == _C.c.id) \
    .outerjoin(_R, _R.c.case_id == _C.c.id).outerjoin(_L, _L.c.case_id == _C.c.id) \
    .where(_C.c.ref == bindparam("ref"))
_LOAD_WITH_SNAPSHOT = Prepared(_ROW_WITH_HEAD.with_for_update(of=_C))
_SNAP_AGENCIES = Prepared(_agencies(_one))
_SNAP_MEETINGS = Prepared(_meetings(_one, _M.c.recorded_at >= _SINCE))
_SNAP_OUTPUTS = Prepared(_outputs(_one))
_SNAP_ACTIONS = Prepared(_actions(_one))


def own_facts(case: CaseRecord) -> dict[str, Any]:
    """What the snapshot takes from the case's own row."""
    return {
        "ref": case.ref, "state": case.state, "referred_at": case.referred_at,
        "state_entered_at": case.state_entered_at, "kind": case.kind,
        "flags": frozenset(case.flags), "round": case.round,
        "returns_due_at": case.returns_due_at, "meeting_date": case.meeting_date,
        "recommendation": case.recommendation, "lead_reviewer": case.lead_reviewer,
        "commissioned_at": case.commissioned_at, "decided_at": case.decided_at,
        "notice_sent_at": case.notice_sent_at,
        "scheduled_publication": case.scheduled_publication,
        "facts": case.facts,
    }


def snapshot(tx: Tx, case: CaseRecord) -> CaseSnapshot:
    """Everything guards and timers may look at, read in at most five statements: the
    head, then each of the others where the head says it finds rows."""
    since = {"case_id": case.id, "entered": case.state_entered_at}
    head = _SNAP_REFERRAL.one(tx, since)
    assert head is not None, f"case {case.ref} has no proceedings"
    has_agencies, has_meetings, has_outputs, has_actions = head[_HEAD_WIDTH:]
    ids = {"case_id": case.id}
    return _snapshot(case, head,
                     _SNAP_AGENCIES.all(tx, ids) if has_agencies else (),
                     _SNAP_MEETINGS.all(tx, since) if has_meetings else (),
                     _SNAP_OUTPUTS.all(tx, ids) if has_outputs else (),
                     _SNAP_ACTIONS.all(tx, ids) if has_actions else ())


def load_with_snapshot(tx: Tx, ref: str) -> tuple[CaseRecord, CaseSnapshot]:
    """The case `ref`, locked for a trigger (as `load(..., for_update=True)`), with its
    snapshot (as `snapshot` reads it): its row and the snapshot's head in one statement.
    NotFound if there is no such case."""
    row = _LOAD_WITH_SNAPSHOT.one(tx, {"ref": ref})
    if row is None:
        raise NotFound(f"unknown case {ref!r}")
    width = len(_COLUMNS)
    case = CaseRecord(*row[:width])
    head = row[width:]
    has_agencies, has_meetings, has_outputs, has_actions = head[_HEAD_WIDTH:]
    ids = {"case_id": case.id}
    since = {"case_id": case.id, "entered": case.state_entered_at}
    return case, _snapshot(case, head if head[0] is not None else None,
                           _SNAP_AGENCIES.all(tx, ids) if has_agencies else (),
                           _SNAP_MEETINGS.all(tx, since) if has_meetings else (),
                           _SNAP_OUTPUTS.all(tx, ids) if has_outputs else (),
                           _SNAP_ACTIONS.all(tx, ids) if has_actions else ())


_NOBODY: list[str | None] = [None]  # a meeting nobody attended: one row, with no agency


def snapshot_of(case: CaseRecord, whole: Whole) -> CaseSnapshot:
    """The snapshot from the case's facts read whole (storage.facts.whole) for its page or
    its document: the same as `snapshot` reads."""
    p, r, li = whole.proceedings, whole.referral, whole.learning
    head = (case.id, p.criminal, p.care, p.inquest, p.expected_conclusion,
            *((r.incident_date, r.harm, r.abuse, r.agency_concern, r.grounds, r.route,
               r.referrer_agency, r.criminal_proceedings, r.aware_on, r.looked_after)
              if r is not None else (None,) * 10),
            *((li.title, li.source, li.published_on, li.themes, li.relevant)
              if li is not None else (None,) * 5))
    meetings = [(case.id, i, held_on, recorded, agency)
                for i, (held_on, recorded, present) in enumerate(whole.meetings)
                if recorded >= case.state_entered_at
                for agency in (present or _NOBODY)]
    return _snapshot(case, head,
                     [(case.id, a.agency, a.round, a.requested_at, a.due_at, a.returned_at,
                       a.view) for a in whole.asks],
                     meetings, [(case.id, o.output) for o in whole.outputs],
                     [(case.id, a.number, a.agency, a.owner, a.due, a.status)
                      for a in whole.actions])


def snapshots(tx: Tx, records: Sequence[CaseRecord]) -> dict[int, CaseSnapshot]:
    """The snapshots of many cases, by case id, in five statements whatever their number
    (the same as `snapshot` would give each)."""
    if not records:
        return {}
    ids = [c.id for c in records]

    def many(column: Any) -> Any:
        return column.in_(ids)

    def by_case(statement: Any) -> dict[int, list[Any]]:
        grouped: dict[int, list[Any]] = {i: [] for i in ids}
        for row in tx.execute(statement):
            grouped[row[0]].append(row)
        return grouped

    heads = {row[0]: row for row in tx.execute(_head(many))}
    agencies, meetings = by_case(_agencies(many)), by_case(_meetings(many))
    outputs, actions = by_case(_outputs(many)), by_case(_actions(many))
    return {c.id: _snapshot(c, heads.get(c.id), agencies[c.id],
                            [m for m in meetings[c.id] if m[3] >= c.state_entered_at],
                            outputs[c.id], actions[c.id])
            for c in records}


def _snapshot(case: CaseRecord, r: Sequence[Any] | None, agencies: Sequence[Any],
              meetings: Sequence[Any], outputs: Sequence[Any],
              actions: Sequence[Any]) -> CaseSnapshot:
    """The snapshot from the rows read for it (each starting with the case's id)."""
    assert r is not None, f"case {case.ref} has no proceedings"
    criminal, care, inquest, expected = r[1:5]
    referral = learning = None
    if r[5] is not None:
        (incident, harm, abuse, concern, grounds, route, referrer, criminal_proceedings,
         aware_on, looked_after) = r[5:15]
        referral = ReferralFacts(incident, harm, abuse, concern, tuple(grounds), route,
                                 referrer, criminal_proceedings, aware_on, bool(looked_after))
    else:
        title, source, published_on, themes, relevant = r[15:_HEAD_WIDTH]
        assert title is not None, f"case {case.ref} has neither referral nor learning record"
        learning = LearningFacts(title, source, published_on, tuple(themes), relevant)
    held: dict[int, tuple[Any, Any, set[str]]] = {}
    for _, meeting_id, held_on, recorded, agency in meetings:
        present = held.setdefault(meeting_id, (held_on, recorded, set()))[2]
        if agency is not None:
            present.add(agency)
    return CaseSnapshot(
        **own_facts(case),
        referral=referral,
        learning=learning,
        agencies=tuple(AgencyAsk(*a[1:]) for a in agencies),
        meetings=tuple(MeetingFacts(held_on, frozenset(present), recorded)
                       for held_on, recorded, present in held.values()),
        criminal=criminal,
        care=care,
        inquest=inquest,
        expected_conclusion=expected,
        outputs=frozenset(o for _, o in outputs),
        actions=tuple(ActionFacts(*a[1:]) for a in actions),
    )


# ------------------------------------------------------------------------ the sweep
@dataclass(frozen=True)
class LockedCase:
    """What the sweep needs of a case it has locked to fire one of its timers."""

    id: int
    ref: str
    pseudonym: str
    state: str
    state_entered_at: datetime
    definition: str
    definition_version: str


_LOCK_COLUMNS = (_C.c.id, _C.c.ref, _C.c.pseudonym, _C.c.state, _C.c.state_entered_at,
                 _C.c.definition, _C.c.definition_version)
_LOCK = Prepared(select(*_LOCK_COLUMNS).where(_C.c.id == _ID))
_LOCK_SKIP = Prepared(select(*_LOCK_COLUMNS).where(_C.c.id == _ID)
                      .with_for_update(skip_locked=True))


def lock(tx: Tx, case_id: int) -> LockedCase | None:
    """The case with id `case_id`, locked for the rest of the transaction; None when
    another transaction holds it (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite's BEGIN
    IMMEDIATE holds the whole database already) or it is gone."""
    stmt = _LOCK if tx.dialect.name == "sqlite" else _LOCK_SKIP
    row = stmt.one(tx, {"case_id": case_id})
    return LockedCase(*row) if row is not None else None


# -------------------------------------------------------------------------- listing
_LISTED = select(_C.c.id, _C.c.ref, _C.c.pseudonym, _C.c.state, _C.c.kind, _C.c.version,
                 _C.c.flags, _C.c.state_entered_at, _C.c.definition,
                 _C.c.definition_version).order_by(_C.c.ref)
_T = TIMERS
# Cases with a deadline-level timer of their current stay in their state due by `now`.
_OVERDUE = select(_T.c.case_id).join(_C, _C.c.id == _T.c.case_id).where(
    (_T.c.status == "pending") | (_T.c.status == "fired"), _T.c.state == _C.c.state,
    _T.c.armed_at >= _C.c.state_entered_at, _T.c.level.in_(bindparam("levels", expanding=True)),
    _T.c.due_at <= bindparam("now", _T.c.due_at.type))


def listing(tx: Tx, *, state: str | None = None) -> Sequence[Any]:
    """Every case (or those in `state`) by reference: id, ref, pseudonym, state, kind,
    version, flags, state_entered_at, definition, definition_version."""
    stmt = _LISTED if state is None else _LISTED.where(_C.c.state == state)
    return tx.execute(stmt).all()


def overdue(tx: Tx, *, now: datetime, levels: Sequence[str]) -> set[int]:
    """The ids of cases with a timer at one of `levels`, of their current stay in their
    state, pending or fired, due by `now`."""
    return set(tx.execute(_OVERDUE, {"levels": list(levels), "now": now}).scalars())


def overdue_among(tx: Tx, case_ids: Sequence[int], *, now: datetime,
                  levels: Sequence[str]) -> set[int]:
    """Those of `case_ids` that `overdue` would name (read by the cases' own timers, so
    the cost follows how many are asked about, not how many are stored)."""
    if not case_ids:
        return set()
    return set(tx.execute(_OVERDUE.where(_T.c.case_id.in_(list(case_ids))),
                          {"levels": list(levels), "now": now}).scalars())


def most_urgent(tx: Tx, states: Sequence[str], *, limit: int,
                skip: Any = None) -> list[tuple[CaseRecord, datetime | None]]:
    """Up to `limit` cases in `states`, each with its earliest pending deadline, the most
    urgent first, then those with none (by reference). Pending timers are read in due order
    from the (status, due_at) index and the reading stops once `limit` cases are found, so
    the cost follows `limit`, not the number of cases stored. `skip(case)` leaves a case out
    (one the reader may not see)."""
    found: dict[int, tuple[CaseRecord, datetime | None]] = {}
    wanted = list(states)
    if not wanted or limit <= 0:
        return []
    rows = tx.execute(
        select(_T.c.case_id, _T.c.due_at).join(_C, _C.c.id == _T.c.case_id)
        .where(_T.c.status == "pending", _C.c.state.in_(wanted), _T.c.state == _C.c.state)
        .order_by(_T.c.due_at, _T.c.id).execution_options(yield_per=200))
    for case_id, due_at in rows:
        if case_id in found:
            continue
        case = load_by_id(tx, case_id)
        if skip is not None and skip(case):
            found[case_id] = (case, None)  # seen and left out: not read again
            continue
        found[case_id] = (case, due_at)
        if sum(1 for c, d in found.values() if d is not None) >= limit:
            break
    rows.close()
    chosen: list[tuple[CaseRecord, datetime | None]] = [
        (c, d) for c, d in found.values() if d is not None]
    if len(chosen) < limit:
        for (case_id,) in tx.execute(select(_C.c.id).where(_C.c.state.in_(wanted))
                                     .order_by(_C.c.ref)):
            if case_id in found:
                continue
            case = load_by_id(tx, case_id)
            if skip is None or not skip(case):
                chosen.append((case, None))
                if len(chosen) >= limit:
                    break
    return chosen


def every(tx: Tx) -> list[CaseRecord]:
    """Every case, by id."""
    return [CaseRecord(*row) for row in tx.execute(select(*_COLUMNS).order_by(_C.c.id))]


def refs(tx: Tx) -> list[tuple[str, str, str]]:
    """(ref, pseudonym, state) of every case, by reference."""
    return [(r.ref, r.pseudonym, r.state) for r in tx.execute(_LISTED)]
