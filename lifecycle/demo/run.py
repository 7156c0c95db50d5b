"""The demo's driver: a simulated clock, the daemon's wakes and people firing triggers, each
through the product's own `Engine.fire`, `sweep` and `deliver_outbox`, narrated as it goes.

The clock moves only by passing a later `now` to those functions; nothing sleeps. The demo
owns its clock and its throwaway database, so it needs no SCR_ALLOW_CLOCK_OVERRIDE: that
switch guards a board's live record against backdating, and a demo never touches one.

Advancing the clock is the daemon's turn: it wakes at every due moment on the way, as a
running daemon would (so nothing fires late), fires what is due and delivers the outbox.
Anything that does not go as the script says (a refusal where a step should pass, a step
that passes where it should be refused, a timer that does not fire) stops the run: the
demo doubles as an end-to-end check of the product.
"""

from __future__ import annotations

import shlex
import textwrap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TextIO

from scr.lifecycle.core.engine import Engine
from scr.lifecycle.demo.cast import BY_NAME
from scr.lifecycle.runtime.delivery import deliver_outbox
from scr.lifecycle.runtime.sweep import SweepReport, TimerOutcome, next_due, sweep
from scr.lifecycle.settings import Settings, parse_moment
from scr.lifecycle.views import text as present
from scr.states.case import Actor
from scr.states.errors import LifecycleError, Refused
from scr.storage import cases, outbox, timers, users
from scr.storage.db import Database, Tx, reading, transaction
from scr.storage.timers import FIRED, PENDING, SKIPPED, STALE

WIDTH = 100
# What each timer level means, in the words the narration uses.
DAEMON_WHY = {
    "triage.reminder": "Nobody has acted on the referral yet: the business manager is "
    "reminded.",
    "triage.escalation": "Still not triaged after 5 working days: escalated to the "
    "independent chair.",
    "returns.reminder": "Returns are due in 2 working days: each agency lead whose return "
    "is outstanding is reminded.",
    "returns.overdue": "The returns deadline has passed: the agencies still owing a return "
    "and the business manager are told.",
    "returns_auto_submit.transition": "Five working days after the returns deadline the "
    "daemon submits the case to the sub-group without the missing returns, flagged "
    "incomplete_returns, so that the decision is not held up.",
    "recommendation.escalation": "The working day after the sub-group meeting there is "
    "still no recommendation: the sub-group chair is told.",
    "recommendation.chair": "A week later still no recommendation: the independent chair "
    "is told.",
    "decision.reminder": "The chair's decision is due soon: the chair is reminded.",
    "decision.due": "A month since the referral and no decision: the chair and the "
    "business manager are told.",
    "panel.reminder": "Ten days after a decision not to review: the business manager is "
    "reminded that the national panel and Ofsted must have it, with reasons, within 14 "
    "days.",
    "panel.due": "The 14 days are up: the business manager is told again.",
    "completion.reminder": "Five months into the review: the lead reviewer and the business "
    "manager are reminded that it is due at six.",
    "completion.due": "Six months since commissioning and the review is not complete: "
    "escalated to the independent chair.",
    "completion.overdue": "Still not complete: the chair is told again, monthly.",
    "proceedings_check.check": "Criminal proceedings are pending: every 20 working days "
    "the business manager is asked to confirm their status.",
    "long_hold.escalation": "Twelve months on publication hold: escalated to the chair.",
    "publication.transition": "The scheduled publication date: every guard of publish "
    "holds, so the daemon publishes.",
    "publication.blocked": "The scheduled publication date came, but publish was refused: "
    "the daemon tells the chair why instead of publishing.",
    "action.reminder": "Five working days before the action is due: its owner is reminded.",
    "action.overdue": "The action is overdue: its owner and the sub-group chair are told.",
    "consideration.reminder": "Two months on the learning register without the sub-group's "
    "consideration: the business manager and the sub-group chair are reminded that it is "
    "due by the next quarterly meeting.",
}
# The same for a Child Safeguarding Practice Review (process `cspr`), in its own words; a
# level not here is told as above. Its states are the SCR's, named in CSPR words: the
# narration gives those words beside the state a CSPR moves into.
CSPR = "cspr"
DAEMON_WHY_CSPR = {
    "notification.reminder": "Three working days since the local authority became aware "
    "and the Panel and Ofsted have not been notified: the business manager is reminded "
    "(the notification is due within 5 working days).",
    "notification.due": "Five working days since the local authority became aware and no "
    "notification: the business manager and the safeguarding partners are told.",
    "rapid_review.reminder": "Ten working days since the notification: the rapid review is "
    "due in five more; the business manager and the sub-group chair are reminded.",
    "rapid_review.due": "Fifteen working days since the notification and the safeguarding "
    "partners have not decided: they and the business manager are told.",
    "returns.reminder": "The agencies' information for the rapid review is due in 2 working "
    "days: each agency lead who has not sent it is reminded.",
    "returns.overdue": "The agencies' information for the rapid review is late: the "
    "agencies still owing it and the business manager are told.",
    "panel_response.reminder": "Fifteen working days since the rapid review went to the "
    "Panel and no response is recorded: the business manager and the partners are reminded.",
    "publication_due.reminder": "Five months since the partners decided on a local review: "
    "the business manager, the lead reviewer and the safeguarding partners are reminded that "
    "the report should be published within six.",
    "publication_due.due": "Six months since the decision and the report is not published: "
    "the safeguarding partners, the business manager and the scrutineer are told.",
}


class OffScript(LifecycleError):
    """The product did not do what the demo's script expects (exit 1)."""

    exit_code = 1


@dataclass
class Narrator:
    """Plain-English lines on a stream as the run goes; silent when `out` is None."""

    out: TextIO | None
    pause: Callable[[], None] = lambda: None
    chapters: int = 0

    def line(self, text: str = "", indent: int = 0, *, wrap: bool = True) -> None:
        if self.out is None:
            return
        if not wrap or len(text) + indent <= WIDTH:
            print(" " * indent + text, file=self.out, flush=True)
            return
        wrapped = textwrap.fill(text, WIDTH, initial_indent=" " * indent,
                                subsequent_indent=" " * (indent + 2),
                                break_on_hyphens=False, break_long_words=False)
        print(wrapped, file=self.out, flush=True)

    def chapter(self, title: str) -> None:
        if self.chapters:
            self.pause()
        self.chapters += 1
        self.line()
        self.line(f"── {self.chapters}. {title} " + "─" * max(3, 70 - len(title)))


@dataclass
class Run:
    db: Database
    engine: Engine
    settings: Settings
    now: datetime
    say: Narrator
    firings: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    wakes: int = 0
    _seen_mail: int = 0
    _flags: dict[str, set[str]] = field(default_factory=dict)

    # ------------------------------------------------------------------ the clock
    def moment(self, local: str) -> datetime:
        """A local date-time of the board ("2025-01-13 09:30") as the UTC moment."""
        return parse_moment(local.replace(" ", "T"), self.settings.process.working_days)

    def when(self, moment: datetime | None = None) -> str:
        return present.when(moment or self.now, self.settings.process.working_days)

    def at(self, local: str) -> None:
        """Move the clock to `local`; the daemon wakes at every due moment on the way."""
        target = self.moment(local)
        if target < self.now:
            raise OffScript(f"the script goes back in time to {local}")
        self._wake(self.now)  # the daemon delivers what was just queued, seconds later
        while (due := next_due(self.db)) is not None and due <= target:
            self.now = max(self.now, due)
            if not self._wake(self.now).firings:
                raise OffScript(f"a timer due {self.when(due)} did not fire")
        self.now = target

    def switch(self, start: tuple[str, str | None]) -> None:
        """The board changes its `[process]` setting, so that new cases start under `start`
        (as editing scr.toml and restarting scr would): a new engine on the same database.
        Every case already open keeps the definition, and so the rules and timers, it began
        under."""
        process = replace(self.settings.process, start=start)
        self.settings = replace(self.settings, process=process)
        self.engine = Engine(process, self.settings.board,
                             check_snapshots=self.settings.check_snapshots)

    def _wake(self, now: datetime) -> SweepReport:
        self.wakes += 1
        report = sweep(self.db, self.engine, now)
        if report.errors:
            first = report.errors[0]
            raise OffScript(f"the daemon could not fire a timer of {first['case_ref']}: "
                            f"{first['event']} ({first['error']})")
        for firing in report.firings:
            self._tell_firing(firing)
        delivered = deliver_outbox(self.db, self.settings, now,
                                   processes=self.engine.processes)
        if delivered.retried or delivered.failed:
            raise OffScript(f"{delivered.retried + delivered.failed} messages could not be "
                            f"delivered into {self.settings.mail.mail_dir}")
        return report

    # ------------------------------------------------------------------ people
    def refer(self, who: str, fields: dict[str, Any], why: str) -> str:
        """`who` records a referral; returns the new case's reference."""
        with transaction(self.db) as tx:
            case = self.engine.refer(tx, actor=self._actor(tx, who), params=fields,
                                     now=self.now)
            ref, pseudonym = case.ref, case.pseudonym
            definition = self.engine.processes.of(case).definition
            criteria = definition.assess(cases.snapshot(tx, case).referred).as_dict()
        self.steps += 1
        self._head(who, "scr refer --file referral.json")
        self.say.line(f"{ref} ({pseudonym}): a new case in "
                      f"{self._in_words(definition, definition.initial)}, under "
                      f"{definition.label} ({definition.name} version {definition.version})."
                      f" {why}", 2)
        reasons = criteria["reasons"]
        assert isinstance(reasons, list)
        self.say.line(f"criteria: {reasons[0]} — " + "; ".join(reasons[1:]), 2)
        self._tell_after(ref)
        return ref

    def register(self, who: str, fields: dict[str, str], why: str) -> str:
        """`who` registers a review published elsewhere on the learning register, as `scr
        learning add` would; returns the new record's reference."""
        with transaction(self.db) as tx:
            case = self.engine.refer(tx, actor=self._actor(tx, who), params=fields,
                                     now=self.now, process_name="learning")
            ref, title = case.ref, case.pseudonym
            definition = self.engine.processes.of(case).definition
        self.steps += 1
        options = " ".join(f"--{k.replace('_', '-')} {_quote(v)}" for k, v in fields.items())
        self._head(who, f"scr learning add {options}")
        self.say.line(f"{ref} ({title}): a record of its own in "
                      f"{self._in_words(definition, definition.initial)}. {why}", 2)
        self._tell_after(ref)
        return ref

    def fire(self, who: str, ref: str, trigger: str, why: str, *, reason: str | None = None,
             **params: str) -> None:
        """`who` fires `trigger` on `ref`, as `scr advance` would; it must be allowed."""
        before = self._state(ref)
        self._head(who, self._command(ref, trigger, params, reason))
        try:
            with transaction(self.db) as tx:
                case = self.engine.fire(tx, ref, trigger, actor=self._actor(tx, who),
                                        params=params, reason=reason, now=self.now).case
                after, pseudonym, flags = case.state, case.pseudonym, list(case.flags)
        except Refused as exc:
            raise OffScript(f"{trigger} on {ref} was refused, but the script expects it to "
                            f"pass: {'; '.join(exc.reasons)}") from None
        self.steps += 1
        moved = f"{before} → {self._in_words(self._definition(ref), after)}" \
            if after != before else f"still {after}"
        flagged = self._new_flags(ref, flags)
        self.say.line(f"{ref} ({pseudonym}): {moved}{flagged}. {why}", 2)
        self._tell_after(ref)

    def refuse(self, who: str, ref: str, trigger: str, why: str, *, reason: str | None = None,
               **params: str) -> None:
        """`who` tries `trigger` on `ref`; the script expects a refusal (exit status 3)."""
        self._head(who, self._command(ref, trigger, params, reason))
        try:
            with transaction(self.db) as tx:
                self.engine.fire(tx, ref, trigger, actor=self._actor(tx, who),
                                 params=params, reason=reason, now=self.now)
        except Refused as exc:
            self.refusals.append({"at": self.now.isoformat(), "case_ref": ref,
                                  "trigger": trigger, "actor": who,
                                  "reasons": list(exc.reasons)})
            self.say.line("refused (exit status 3); nothing was written, because:", 2)
            for item in exc.reasons:
                self.say.line(f"- {item}", 4)
            self.say.line(why, 2)
            return
        raise OffScript(f"{trigger} on {ref} by {who} was allowed, but the script expects "
                        "a refusal")

    def expect(self, ref: str, state: str, *, flag: str | None = None) -> None:
        """Check the case is where the script says; anything else stops the run."""
        with reading(self.db) as tx:
            case = cases.load(tx, ref)
            found, flags = case.state, list(case.flags)
        if found != state or (flag is not None and flag not in flags):
            raise OffScript(f"{ref} is in {found} (flags {flags}); the script expects "
                            f"{state}" + (f" flagged {flag}" if flag else ""))

    # ------------------------------------------------------------------ narration
    def _head(self, who: str, command: str) -> None:
        person = BY_NAME[who]
        self.say.line()
        self.say.line(f"{self.when()}  {person.name}, {person.title}")
        self.say.line(f"$ {command}", 2, wrap=False)  # one line, to copy

    def _tell_after(self, ref: str) -> None:
        """The timers the step armed and the e-mail it queued."""
        with reading(self.db) as tx:
            case = cases.load(tx, ref)
            armed = [t for t in timers.of_case(tx, case.id)
                     if t.armed_at == self.now and t.status == PENDING]
            shown = [f"{t.name} {self.when(t.due_at)}"
                     for t in sorted(armed, key=lambda t: t.due_at)]
        if shown:
            self.say.line("timers armed: " + "; ".join(shown), 2)
        self._tell_mail()

    def _tell_firing(self, firing: TimerOutcome) -> None:
        timer, pseudonym = self._timer(firing)
        level = "blocked" if firing.outcome == "blocked" else timer.level
        key = f"{timer.ladder}.{level}"
        self.firings.append({
            "at": self.now.isoformat(), "case_ref": firing.case_ref, "timer": firing.timer,
            "ladder": timer.ladder, "level": level, "outcome": firing.outcome,
            "trigger": firing.trigger, "due_at": firing.due_at.isoformat(),
        })
        if firing.outcome not in ("fired", "blocked"):
            return
        self.say.line()
        did = f" → {firing.trigger}" if firing.trigger not in (None, "timer") else ""
        self.say.line(f"{self.when()}  the daemon: {firing.case_ref} ({pseudonym}) "
                      f"{firing.timer}{' blocked' if level == 'blocked' else ''}{did}", wrap=False)
        self.say.line(f"rule: {timer.rule}", 2)
        for item in firing.reasons:
            self.say.line(f"refused because {item}", 2)
        self.say.line(self._why(firing.case_ref, key), 2)
        if firing.trigger not in (None, "timer"):
            with reading(self.db) as tx:
                case = cases.load(tx, firing.case_ref)
                state, flags = case.state, list(case.flags)
            named = self._in_words(self._definition(firing.case_ref), state)
            self.say.line(f"{firing.case_ref} is now in {named}"
                          f"{self._new_flags(firing.case_ref, flags)}", 2)
        self._tell_mail()

    def _tell_mail(self) -> None:
        """Who the e-mail queued since the last look goes to (the daemon delivers it)."""
        with reading(self.db) as tx:
            rows = [r for r in outbox.listing(tx) if r.id > self._seen_mail]
            if rows:
                self._seen_mail = max(r.id for r in rows)
            people = Counter(r.recipient_name for r in rows if r.template != "calendar_update")
            invitations = sum(1 for r in rows if r.template == "calendar_update")
        if not rows:
            return
        names = ", ".join(people)
        extra = f"; {invitations} calendar update{'s' if invitations != 1 else ''}" \
            if invitations else ""
        self.say.line(f"e-mail to {names or 'nobody'}{extra}", 2)

    # ------------------------------------------------------------------ reading
    def _actor(self, tx: Tx, who: str) -> Actor:
        user = users.named(tx, who)
        return Actor(user.name, frozenset(user.roles), user.agency)

    def _definition(self, ref: str) -> Any:
        """The definition (ProcessDefinition) the case runs under."""
        with reading(self.db) as tx:
            return self.engine.processes.of(cases.load(tx, ref)).definition

    def _why(self, ref: str, key: str) -> str:
        """What a timer level means, in the words of the case's process."""
        words = DAEMON_WHY_CSPR if self._definition(ref).name == CSPR else {}
        return words.get(key) or DAEMON_WHY.get(key, "")

    @staticmethod
    def _in_words(definition: Any, state: str) -> str:
        """A state as the narration names it: a CSPR's in its own words too."""
        if definition.name != CSPR:
            return state
        return f"{state} ({definition.state_label(state)})"

    def _state(self, ref: str) -> str:
        with reading(self.db) as tx:
            return cases.load(tx, ref).state

    def _new_flags(self, ref: str, flags: list[str]) -> str:
        """", flagged X" for flags the narration has not mentioned yet for this case."""
        known = self._flags.setdefault(ref, set())
        new = [f for f in flags if f not in known]
        known.update(new)
        return f", flagged {', '.join(new)}" if new else ""

    def _timer(self, firing: TimerOutcome) -> tuple[Any, str]:
        """The timer row a firing came from, and its case's pseudonym."""
        with reading(self.db) as tx:
            case = cases.load(tx, firing.case_ref)
            found = [t for t in timers.of_case(tx, case.id)
                     if t.name == firing.timer and t.due_at == firing.due_at
                     and t.status in (FIRED, SKIPPED, STALE)]
            assert len(found) == 1, found
            return found[0], case.pseudonym

    def _command(self, ref: str, trigger: str, params: dict[str, str],
                 reason: str | None) -> str:
        """The `scr advance` line a person would type; private free text is not shown."""
        with reading(self.db) as tx:
            case = cases.load(tx, ref)
        spec = self.engine.processes.of(case).definition.trigger(trigger)
        return _command(spec, ref, trigger, params, reason)


def _command(spec: Any, ref: str, trigger: str, params: dict[str, str],
             reason: str | None) -> str:
    words = ["scr", "advance", ref, trigger]
    for key, value in params.items():
        param = spec.param(key) if spec is not None else None
        words.append(f"{key}=…" if param is not None and param.private
                     else f"{key}={_quote(value)}")
    if reason:
        words += ["--reason", _quote(reason)]
    return " ".join(words)


def _quote(text: str) -> str:
    """Shell quoting that reads well: double quotes around an apostrophe when they can."""
    if "'" in text and not any(c in text for c in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)
