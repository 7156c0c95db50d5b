"""The facts of a case beside its own row: the referral (with the summaries amendments
replaced) and the proceedings, the agencies
asked and their returns, the sub-group's meetings, the publication outputs and the action
plan. The writes are what triggers record (lifecycle/core/effects.py calls them, inside the
trigger's transaction); the reads are what a case's document shows.

Writes are prepared statements (storage.prepared): they are on the hot path.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Table, bindparam, func, select, update

from scr.states.enums import ActionStatus
from scr.storage import learning
from scr.storage.db import Tx
from scr.storage.prepared import Prepared, inserting
from scr.storage.tables import (
    ACTIONS,
    AGENCY_REQUESTS,
    AUDITS,
    LEARNING_ITEMS,
    MEETING_ATTENDANCE,
    MEETINGS,
    OUTPUTS,
    PROCEEDINGS,
    REFERRAL_VERSIONS,
    REFERRALS,
    TRAININGS,
)

_A, _M, _MA, _O = AGENCY_REQUESTS, MEETINGS, MEETING_ATTENDANCE, OUTPUTS
_X, _P, _R, _V = ACTIONS, PROCEEDINGS, REFERRALS, REFERRAL_VERSIONS
_CASE_ID: Any = bindparam("case_id")
# The referral's fields an amendment may change (all but the pseudonym).
AMENDABLE = ("incident_date", "harm", "abuse", "agency_concern", "grounds", "route",
             "referrer_agency", "criminal_proceedings", "aware_on", "looked_after", "summary")


def _setting(table: Any, *columns: str, where: Any) -> Prepared:
    """UPDATE `table` SET each of `columns` (bound under its own name) WHERE `where`."""
    return Prepared(update(table).where(where).values(
        {table.c[name]: bindparam(f"set_{name}") for name in columns}))


_ASK = inserting(_A)
_RETURNED = _setting(_A, "returned_at", "view", "summary", "returned_by", where=(
    (_A.c.case_id == _CASE_ID) & (_A.c.round == bindparam("round"))
    & (_A.c.agency == bindparam("agency"))))
_MEETING = inserting(_M, returning=_M.c.id)
_ATTENDED = inserting(_MA)
_PROCEEDINGS = _setting(_P, "criminal", "care", "inquest", "expected_conclusion", "recorded_at",
                        where=_P.c.case_id == _CASE_ID)
_OUTPUT = inserting(_O)
_OUTPUT_AGAIN = _setting(_O, "location", "recorded_at", where=(
    (_O.c.case_id == _CASE_ID) & (_O.c.output == bindparam("output"))))
_ACTION = inserting(_X)
_ACTION_DONE = _setting(_X, "status", "evidence", "completed_at", where=(
    (_X.c.case_id == _CASE_ID) & (_X.c.number == bindparam("number"))))
_ACTION_SIGNED = _setting(_X, "status", "signed_off_at", "signed_off_by", where=(
    (_X.c.case_id == _CASE_ID) & (_X.c.number == bindparam("number"))))
# An amendment changes only what it names: a column given no value keeps its own.
# (A JSON value of None would be bound as the JSON text 'null', which is not NULL.)
_AMEND = Prepared(update(_R).where(_R.c.case_id == _CASE_ID).values(
    {_R.c[name]: func.coalesce(bindparam(f"set_{name}", type_=JSON(none_as_null=True) if
                                         isinstance(_R.c[name].type, JSON) else
                                         _R.c[name].type), _R.c[name])
     for name in AMENDABLE}))
_CRIMINAL = _setting(_P, "criminal", where=_P.c.case_id == _CASE_ID)
_SUMMARY_NOW = Prepared(select(_R.c.summary).where(_R.c.case_id == _CASE_ID))
_NEXT_VERSION = Prepared(select(func.coalesce(func.max(_V.c.version), 0) + 1).where(
    _V.c.case_id == _CASE_ID))
_KEEP_VERSION = inserting(_V)


# --------------------------------------------------------------------------- writes
def ask_agencies(tx: Tx, case_id: int, round: int, agencies: Sequence[str], *,
                 at: datetime, due_at: datetime) -> None:
    """Ask each of `agencies` for its return in information-request round `round`."""
    _ASK.run_many(tx, [
        {"case_id": case_id, "round": round, "agency": agency, "requested_at": at,
         "due_at": due_at, "returned_at": None, "view": None, "summary": None,
         "returned_by": None}
        for agency in agencies])


def record_return(tx: Tx, case_id: int, round: int, agency: str, *, at: datetime,
                  view: str, summary: str, by: str) -> None:
    _RETURNED.run(tx, {"case_id": case_id, "round": round, "agency": agency,
                       "set_returned_at": at, "set_view": view, "set_summary": summary,
                       "set_returned_by": by})


def record_meeting(tx: Tx, case_id: int, held_on: date, attendees: Sequence[str], *,
                   at: datetime, by: str) -> None:
    row = _MEETING.one(tx, {"case_id": case_id, "held_on": held_on, "recorded_at": at,
                            "recorded_by": by})
    assert row is not None
    _ATTENDED.run_many(tx, [{"meeting_id": row[0], "agency": a} for a in attendees])


def set_proceedings(tx: Tx, case_id: int, *, criminal: str, care: str, inquest: str,
                    expected_conclusion: date | None, at: datetime) -> None:
    _PROCEEDINGS.run(tx, {"case_id": case_id, "set_criminal": criminal, "set_care": care,
                          "set_inquest": inquest,
                          "set_expected_conclusion": expected_conclusion,
                          "set_recorded_at": at})


def set_criminal(tx: Tx, case_id: int, criminal: str) -> None:
    _CRIMINAL.run(tx, {"case_id": case_id, "set_criminal": criminal})


def record_output(tx: Tx, case_id: int, output: str, location: str, *, at: datetime,
                  again: bool) -> None:
    """Record a publication output; `again` replaces the location of one recorded before."""
    values = {"case_id": case_id, "output": output}
    if again:
        _OUTPUT_AGAIN.run(tx, {**values, "set_location": location, "set_recorded_at": at})
    else:
        _OUTPUT.run(tx, {**values, "location": location, "recorded_at": at})


def add_action(tx: Tx, case_id: int, number: int, *, agency: str, description: str,
               owner: str, due: date, at: datetime) -> None:
    _ACTION.run(tx, {
        "case_id": case_id, "number": number, "agency": agency, "description": description,
        "owner": owner, "due": due, "status": ActionStatus.OPEN.value, "evidence": None,
        "created_at": at, "completed_at": None, "signed_off_at": None, "signed_off_by": None})


def complete_action(tx: Tx, case_id: int, number: int, *, evidence: str,
                    at: datetime) -> None:
    _ACTION_DONE.run(tx, {"case_id": case_id, "number": number,
                          "set_status": ActionStatus.COMPLETED.value, "set_evidence": evidence,
                          "set_completed_at": at})


def sign_off_action(tx: Tx, case_id: int, number: int, *, at: datetime, by: str) -> None:
    _ACTION_SIGNED.run(tx, {"case_id": case_id, "number": number,
                            "set_status": ActionStatus.SIGNED_OFF.value,
                            "set_signed_off_at": at, "set_signed_off_by": by})


def amend_referral(tx: Tx, case_id: int, values: Mapping[str, Any], *, at: datetime,
                   by: str) -> None:
    """Change the referral's fields given a value in `values` (None: left as it is). A
    summary that a different one replaces is kept (`summary_versions`), unless it was
    empty."""
    new = values.get("summary")
    if new is not None:
        row = _SUMMARY_NOW.one(tx, {"case_id": case_id})
        old = row[0] if row is not None else ""
        if old and old != new:
            version = _NEXT_VERSION.one(tx, {"case_id": case_id})
            assert version is not None
            _KEEP_VERSION.run(tx, {"case_id": case_id, "version": version[0], "summary": old,
                                   "replaced_by": by, "replaced_at": at})
    _AMEND.run(tx, {"case_id": case_id,
                    **{f"set_{name}": values.get(name) for name in AMENDABLE}})


# ---------------------------------------------------------------------------- reads
_REFERRAL_READ = select(_R).where(_R.c.case_id == _CASE_ID)
_PROCEEDINGS_READ = select(_P).where(_P.c.case_id == _CASE_ID)
_ASKS_READ = select(_A).where(_A.c.case_id == _CASE_ID).order_by(_A.c.round, _A.c.id)
_MEETINGS_READ = select(_M.c.id, _M.c.held_on).where(_M.c.case_id == _CASE_ID).order_by(
    _M.c.id)
_ATTENDANCE_READ = select(_MA.c.meeting_id, _MA.c.agency).join(
    _M, _M.c.id == _MA.c.meeting_id).where(_M.c.case_id == _CASE_ID).order_by(_MA.c.agency)
_OUTPUTS_READ = select(_O).where(_O.c.case_id == _CASE_ID).order_by(_O.c.id)
_VERSIONS_READ = select(_V).where(_V.c.case_id == _CASE_ID).order_by(_V.c.version)
_ACTIONS_READ = select(_X).where(_X.c.case_id == _CASE_ID).order_by(_X.c.number)
_ALL_ACTIONS = select(_X).where(_X.c.created_at < bindparam("before", _X.c.created_at.type))
_ROUTES = select(_R.c.case_id, _R.c.route)


def referral(tx: Tx, case_id: int) -> Any:
    """The referral: every column of the referrals table, the free-text summary included
    (show it only to those who may read it)."""
    return tx.execute(_REFERRAL_READ, {"case_id": case_id}).one()


def summary_versions(tx: Tx, case_id: int) -> Sequence[Any]:
    """The referral summaries amendments replaced, oldest (version 1) first: version,
    summary, replaced_by, replaced_at (show them only to those who may read the summary)."""
    return tx.execute(_VERSIONS_READ, {"case_id": case_id}).all()


def proceedings(tx: Tx, case_id: int) -> Any:
    """criminal, care, expected_conclusion, recorded_at."""
    return tx.execute(_PROCEEDINGS_READ, {"case_id": case_id}).one()


def asks(tx: Tx, case_id: int) -> Sequence[Any]:
    """Every agency asked, by round then the order they were asked."""
    return tx.execute(_ASKS_READ, {"case_id": case_id}).all()


def meetings(tx: Tx, case_id: int) -> list[tuple[date, list[str]]]:
    """Every meeting recorded, oldest first: its date and the agencies present (by name)."""
    present: dict[int, list[str]] = {}
    for meeting_id, agency in tx.execute(_ATTENDANCE_READ, {"case_id": case_id}):
        present.setdefault(meeting_id, []).append(agency)
    return [(held_on, present.get(meeting_id, []))
            for meeting_id, held_on in tx.execute(_MEETINGS_READ, {"case_id": case_id})]


def outputs(tx: Tx, case_id: int) -> Sequence[Any]:
    """The outputs recorded, in the order they were first recorded."""
    return tx.execute(_OUTPUTS_READ, {"case_id": case_id}).all()


def actions(tx: Tx, case_id: int) -> Sequence[Any]:
    """The action plan, by action number."""
    return tx.execute(_ACTIONS_READ, {"case_id": case_id}).all()


def actions_added_before(tx: Tx, moment: datetime) -> Sequence[Any]:
    """Every action of every case added before `moment`."""
    return tx.execute(_ALL_ACTIONS, {"before": moment}).all()


def routes(tx: Tx) -> dict[int, str]:
    """Each case's referral route, by case id."""
    return {case_id: route for case_id, route in tx.execute(_ROUTES)}



# ------------------------------------------------------------------- the whole case
@dataclass(frozen=True)
class Whole:
    """Everything stored about a case beside its own row, its timers and its history, read
    once for its page or its document (`whole`); the snapshot guards read is made from it
    too (storage.cases.snapshot_of). Rows have every column of their table, by name."""

    referral: Any | None  # None for a learning record
    proceedings: Any
    learning: Any | None  # the learning record of a `learning` case
    asks: Sequence[Any]  # by round, then the order asked
    meetings: Sequence[tuple[date, datetime, list[str]]]  # held, recorded, agencies present
    outputs: Sequence[Any]
    actions: Sequence[Any]  # by number
    audits: Sequence[Any]  # each with its case's ref, by number
    trainings: Sequence[Any]
    has_earlier_summaries: bool  # read them with summary_versions, for those who may


def _named(table: Table, prefix: str) -> tuple[Any, list[Any]]:
    return (namedtuple(table.name.title().replace("_", ""), list(table.c.keys())),
            [c.label(f"{prefix}{c.key}") for c in table.c])


def _row(kind: Any, values: Sequence[Any]) -> Any:
    """The row of an outer join's table, or None where the case has none (no case_id)."""
    row = kind(*values)
    return row if row.case_id is not None else None


_LI, _AU, _TR = LEARNING_ITEMS, AUDITS, TRAININGS
_PROCEEDINGS_ROW, _P_COLS = _named(_P, "p_")
_REFERRAL_ROW, _R_COLS = _named(_R, "r_")
_LEARNING_ROW, _L_COLS = _named(_LI, "l_")
_PRESENT = ("audits", "trainings", "versions", "asks", "meetings", "outputs", "actions")
# One row a case: its proceedings (every case has them), its referral or its learning record
# (the other's columns come back empty), and whether it has rows in each table read after
# it: a table it has none in is not read.
_WHOLE_HEAD = select(
    *_P_COLS, *_R_COLS, *_L_COLS,
    *(select(table.c.case_id).where(table.c.case_id == _CASE_ID).exists().label(name)
      for name, table in zip(_PRESENT, (_AU, _TR, _V, _A, _M, _O, _X), strict=True)),
).select_from(_P).outerjoin(_R, _R.c.case_id == _P.c.case_id).outerjoin(
    _LI, _LI.c.case_id == _P.c.case_id).where(_P.c.case_id == _CASE_ID)
# Meetings with who attended, in one statement: a meeting's row once per agency present
# (once, with no agency, if none was).
_WHOLE_MEETINGS = select(_M.c.id, _M.c.held_on, _M.c.recorded_at, _MA.c.agency).outerjoin(
    _MA, _MA.c.meeting_id == _M.c.id).where(_M.c.case_id == _CASE_ID).order_by(
    _M.c.id, _MA.c.agency)


def whole(tx: Tx, case_id: int) -> Whole:
    """The case's facts beside its row: one statement, then one for each of the agencies
    asked, meetings, outputs, actions, audits and training that the case has any of."""
    ids = {"case_id": case_id}
    head = tx.execute(_WHOLE_HEAD, ids).one()
    n_p, n_r, n_l = len(_P_COLS), len(_R_COLS), len(_L_COLS)
    proceedings_row = _PROCEEDINGS_ROW(*head[:n_p])
    referral_values = head[n_p:n_p + n_r]
    learning_values = head[n_p + n_r:n_p + n_r + n_l]
    has = dict(zip(_PRESENT, head[n_p + n_r + n_l:], strict=True))

    def rows(statement: Any, name: str) -> Sequence[Any]:
        return tx.execute(statement, ids).all() if has[name] else []

    held: dict[int, tuple[date, datetime, list[str]]] = {}
    for meeting_id, held_on, recorded_at, agency in rows(_WHOLE_MEETINGS, "meetings"):
        present = held.setdefault(meeting_id, (held_on, recorded_at, []))[2]
        if agency is not None:
            present.append(agency)
    return Whole(
        referral=_row(_REFERRAL_ROW, referral_values),
        proceedings=proceedings_row,
        learning=_row(_LEARNING_ROW, learning_values),
        asks=rows(_ASKS_READ, "asks"),
        meetings=list(held.values()),
        outputs=rows(_OUTPUTS_READ, "outputs"),
        actions=rows(_ACTIONS_READ, "actions"),
        audits=learning.audits(tx, case_id) if has["audits"] else [],
        trainings=learning.trainings(tx, case_id) if has["trainings"] else [],
        has_earlier_summaries=bool(has["versions"]),
    )
