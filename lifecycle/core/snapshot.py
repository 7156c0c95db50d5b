"""The case's snapshot after a trigger, derived without reading the case again.

The engine reads a case once per trigger (storage.cases.snapshot), before its effect. The
snapshot after it is the case's row as saved, with what the effect says it changed in the
other tables (Firing.changes, by field of CaseSnapshot). `check` reads the case again and
compares: the tests always do (Engine.check_snapshots, SCR_CHECK_VIEWS=1), so an effect
that forgets to say what it changed fails the suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from scr.states.case import CaseSnapshot
from scr.storage import cases
from scr.storage.cases import CaseRecord
from scr.storage.db import Tx


def after(before: CaseSnapshot, case: CaseRecord, changes: Mapping[str, Any]) -> CaseSnapshot:
    """The snapshot after a trigger. Meetings of an earlier stay in the state drop out, as
    storage.cases.snapshot reads them."""
    own = cases.own_facts(case)
    if "meetings" not in changes:
        own["meetings"] = tuple(m for m in before.meetings
                                if m.recorded_at >= case.state_entered_at)
    return replace(before, **own, **changes)


def check(tx: Tx, case: CaseRecord, derived: CaseSnapshot) -> None:
    """AssertionError naming each field where `derived` differs from the stored case."""
    stored = cases.snapshot(tx, case)
    if stored != derived:
        differ = [f.name for f in fields(CaseSnapshot)
                  if getattr(stored, f.name) != getattr(derived, f.name)]
        raise AssertionError(f"{case.ref}: the snapshot after the trigger differs from the "
                             f"stored case in {', '.join(differ)}")
