"""Correcting what a case records, on the record: a recorded day or value the business
manager corrects, with a reason (`scr cases correct`, lifecycle/core/correcting.py). The
original stays in the case's history, in the row that records the correction, and the clocks
that count from it are planned again.

What may be corrected is declared by the definition, not listed here: its own facts that
hold one value (a day, a choice, a flag, a line of text: not views kept by key, and never
free text about the child, which history must not hold), and the case's lead reviewer, who
must be one of the board's users holding the role. A fact not yet recorded is recorded by
its own trigger, not corrected.

The history row of a correction names the reserved trigger CORRECT_TRIGGER, which no
definition may declare (states/validate.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scr.states.facts import Fact, FactType

if TYPE_CHECKING:
    from scr.states.process import ProcessDefinition

CORRECT_TRIGGER = "correct"
CORRECT_LABEL = "Corrected"
# The case's own field that may be corrected beside the definition's facts: the reviewer
# named when the review was commissioned.
LEAD_REVIEWER = "lead_reviewer"


def correctable(definition: ProcessDefinition) -> dict[str, Fact | None]:
    """What a case of `definition` may have corrected, by name: each of its facts that holds
    one value and is not free text, and the lead reviewer (None: a field of the case)."""
    found: dict[str, Fact | None] = {
        f.name: f for f in definition.facts
        if f.type is not FactType.VIEWS and not f.free_text}
    if definition.referred:
        found[LEAD_REVIEWER] = None
    return found
