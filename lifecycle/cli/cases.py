"""The commands on cases: refer, advance, show, history, triggers, list, and `cases
migrate` (moving running cases to a new version of their process).

Each takes the App and the parsed arguments and returns an Output; each write runs in one
transaction, so an error leaves nothing written.
"""

from __future__ import annotations

import argparse
import json
import re
from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scr.lifecycle.cli.app import App, Output
from scr.lifecycle.views import documents
from scr.lifecycle.views.text import case_text, table, when
from scr.states.errors import InvalidInput
from scr.states.params import REASON_CAUTION, Param, PType
from scr.states.process import DEADLINE_LEVELS
from scr.storage import cases
from scr.storage.db import reading

if TYPE_CHECKING:
    from scr.lifecycle.cli.main import Commands
    from scr.lifecycle.core.judge import Judgement

REFERRAL_FILE_MAX = 1_000_000


def refer(app: App, args: Namespace) -> Output:
    fields = _referral_file(args.file) if args.file else {}
    registry = app.registry
    for name in registry.referral_params():
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    if args.process is not None and not registry.newest(args.process).referred:
        raise InvalidInput(f"--process {args.process}: its records are not referrals "
                           f"(scr {args.process} add opens one)")
    return opened(app, fields, args.process, "referred")


def opened(app: App, fields: dict[str, Any], process: str | None, verb: str) -> Output:
    """Open a record (a case by its referral, or a learning record) through the engine, and
    print it: `scr refer` and `scr learning add`."""
    done = app.open_record(fields, actor=app.actor, process=process)
    case, doc = done.case, done.document
    text = f"{verb} {case.ref} ({case.pseudonym}): state {case.state}\n" + \
        case_text(doc, app.settings.process.working_days)
    return Output(doc, text)


def _referral_file(path: str) -> dict[str, Any]:
    """The referral fields in the JSON file at `path` ('-': standard input): a regular file
    of at most REFERRAL_FILE_MAX bytes, so that neither /dev/zero nor a pipe with no writer
    can hold the command up."""
    from scr.lifecycle.settings import read_file

    try:
        raw = read_file(Path(path), REFERRAL_FILE_MAX) if path != "-" else _stdin_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") \
            from None
    if len(raw) > REFERRAL_FILE_MAX:
        raise InvalidInput(f"{path}: too large (at most {REFERRAL_FILE_MAX} bytes)")
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_json_int)
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise InvalidInput(f"{path}: nested too deeply to be a referral") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: must hold one JSON object of referral fields")
    return data


def _json_int(text: str) -> int:
    """A JSON whole number; no referral field holds one longer than 18 digits, and Python
    refuses to read one of more than 4,300."""
    if len(text.lstrip("-")) > 18:
        raise InvalidInput(f"a number of {len(text)} digits: too long for any referral field")
    return int(text)


def _stdin_bytes() -> bytes:
    import sys

    return sys.stdin.buffer.read(REFERRAL_FILE_MAX + 1)


def parse_assignments(items: list[str]) -> dict[str, str]:
    """KEY=VALUE words into a dict; a word without '=' or a repeated key is bad input."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[a-z_]{1,40}", key):
            raise InvalidInput(f"expected KEY=VALUE, got {item[:40]!r}")
        if key in values:
            raise InvalidInput(f"parameter {key!r} given twice")
        values[key] = value
    return values


def advance(app: App, args: Namespace) -> Output:
    return fired(app, args.ref, args.trigger, parse_assignments(args.params), args.reason,
                 expect_version=args.if_version, document=args.json)


def fired(app: App, ref: str, trigger: str, params: dict[str, Any], reason: str | None,
          *, expect_version: int | None = None, document: bool = True) -> Output:
    """Fire `trigger` on `ref` through the engine and say what moved: `scr advance`, and the
    commands that are words for a trigger (`scr learning consider`, `scr qa audit`). The
    words come from what the engine returns; the case's whole document (--json, which
    `document` asks for) is read in the trigger's transaction, after it."""
    result = app.fire(ref, trigger, actor=app.actor, params=params, reason=reason,
                      expect_version=expect_version, document=document)
    done, doc = result.fired, result.document
    case, before = done.case, done.before.state
    moved = f"{before} → {case.state}" if before != case.state else f"still {case.state}"
    text = f"{case.ref}: {trigger} done; {moved} (version {case.version})"
    if done.pending:
        first = min(done.pending, key=lambda t: t.due_at)
        text += f"\nnext: {first.name} due " + when(first.due_at,
                                                    app.settings.process.working_days)
    return Output(doc, text)


def show(app: App, args: Namespace) -> Output:
    doc = app.read(args.ref, reader=lambda tx: app.actor(tx, required=False)).document
    return Output(doc, case_text(doc, app.settings.process.working_days))


def history(app: App, args: Namespace) -> Output:
    """The case's history for people: each step by its label in the case's definition (a
    timer's firing by the timer's), the stage it moved between, the reason cut at a word;
    --json keeps the identifiers."""
    from scr.lifecycle.views.text import shorten
    from scr.states import words
    from scr.states.corrections import CORRECT_TRIGGER
    from scr.states.migration import MIGRATE_TRIGGER
    from scr.states.process import TIMER_TRIGGER
    from scr.states.registry import UnknownDefinition

    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        case = cases.load(tx, args.ref)
        entries = documents.history_document(tx, case)
    try:
        definition = app.registry.get(case.definition, case.definition_version)
    except UnknownDefinition:  # a definition this code does not ship: identifiers as words
        definition = None
    cal = app.settings.process.working_days

    def what(e: dict[str, Any]) -> str:
        params = e["params"] or {}
        if e["trigger"] == MIGRATE_TRIGGER:
            return (f"Moved from version {params.get('from_version')} to version "
                    f"{params.get('to_version')}")
        if e["trigger"] == CORRECT_TRIGGER:
            return (f"Corrected {words.as_words(str(params.get('field')))}: "
                    f"{params.get('from')} → {params.get('to')}")
        if e["trigger"] == TIMER_TRIGGER and params.get("timer"):
            return words.timer_label(definition, str(params["timer"]),
                                     params.get("level"), params.get("key"))
        return words.trigger_label(definition, e["trigger"])

    def stage(e: dict[str, Any]) -> str:
        dest = words.state_label(definition, e["dest"])
        if e["source"] is None:
            return f"new case: {dest}"
        if e["source"] == e["dest"]:
            return f"{dest} (stays)"
        return f"{words.state_label(definition, e['source'])} → {dest}"

    def by(e: dict[str, Any]) -> str:
        if e["actor"] == "system":
            return words.role_label("system")
        return e["actor"] + (f" (recorded by {e['recorded_by']})" if e["recorded_by"] else "")

    text = table(
        ["#", "when", "what, by whom", "stage", "reason"],
        [[e["seq"], when(e["at"], cal), f"{what(e)}, by {by(e)}", stage(e),
          shorten(e["reason"], 80)] for e in entries])
    return Output(entries, text)


def triggers(app: App, args: Namespace) -> Output:
    with reading(app.db()) as tx:
        actor = app.actor(tx, required=False)
        case, process, verdicts = app.engine.verdicts(tx, args.ref, actor=actor,
                                                      now=app.now())
    lines = [f"{args.ref} is in {case.state} ({process.definition.state_label(case.state)})"
             + (f"; as {actor.name}" if actor else "")]
    for v in verdicts:
        mark = "allowed" if v.allowed else "refused"
        dest = f" → {v.dest}" if v.dest else " (records, stays)"
        lines.append(f"  {v.trigger:<28}{mark}{dest}")
        lines.extend(f"      because {r}" for r in v.reasons)
        if v.needs:
            lines.append("      needs " + "; ".join(v.needs))
    if not verdicts:
        lines.append("  no trigger applies: the case is closed")
    return Output([verdict_entry(v) for v in verdicts], "\n".join(lines))


def verdict_entry(v: Judgement) -> dict[str, Any]:
    return {"trigger": v.trigger, "allowed": v.allowed, "reasons": list(v.reasons),
            "needs": list(v.needs), "dest": v.dest, "label": v.label}


def list_cases(app: App, args: Namespace) -> Output:
    state = args.state
    known = app.registry.states(referred=True)
    if state is not None and state not in known:
        raise InvalidInput(f"unknown state {state!r} (one of {', '.join(known)})")
    now = app.now()
    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        rows = documents.case_list(tx, now=now, levels=DEADLINE_LEVELS, state=state,
                                   overdue_only=args.overdue,
                                   # the board's own cases: `scr learning list` lists the
                                   # learning register's records
                                   processes=app.registry.names(referred=True))
    cal = app.settings.process.working_days
    text = table(
        ["ref", "pseudonym", "state", "kind", "overdue", "next timer", "due"],
        [[r["ref"], r["pseudonym"], r["state"], r["kind"], "OVERDUE" if r["overdue"] else "",
          r["next_timer"], when(r["next_due_at"], cal) if r["next_due_at"] else None]
         for r in rows])
    return Output(rows, text if rows else "no cases")


def migrate(app: App, args: Namespace) -> Output:
    """`scr cases migrate`: move running cases to another version of their process, each
    with its history row (lifecycle/core/migrating.py says exactly how their timers are
    planned again); `--dry-run` says what would move and writes nothing. Cases are named
    by reference and pseudonym only."""
    name, old = _process_version(args.source, "--from")
    target, new = _process_version(args.target, "--to")
    if target != name:
        raise InvalidInput(f"--from {name} and --to {target}: a case moves to another "
                           "version of its own process")
    done = app.migrate(name, old, new, list(args.refs), actor=app.actor, dry_run=args.dry_run)
    cal = app.settings.process.working_days
    data: dict[str, Any] = {
        "process": name, "from_version": old, "to_version": new, "dry_run": done.dry_run,
        "moved": [{"ref": m.ref, "pseudonym": m.pseudonym, "from_state": m.source,
                   "to_state": m.dest,
                   "timers": [{"name": t.name, "due_at": t.due_at.isoformat(), "rule": t.rule}
                              for t in sorted(m.timers, key=lambda t: (t.due_at, t.rank))],
                   "left_out": [{"timer": n, "why": why} for n, why in m.left_out]}
                  for m in done.moved],
        "stuck": [{"ref": s.ref, "pseudonym": s.pseudonym, "state": s.state,
                   "reasons": list(s.reasons)} for s in done.stuck],
    }
    verb = "would move" if done.dry_run else "moved"
    lines = [("dry run, nothing written: " if done.dry_run else "")
             + f"{name} version {old} -> version {new}: {len(done.moved)} "
             f"{'case' if len(done.moved) == 1 else 'cases'} {verb}, {len(done.stuck)} "
             "cannot move"]
    for m in data["moved"]:
        lines.append(f"  {m['ref']} ({m['pseudonym']}): {m['from_state']} -> {m['to_state']}")
        lines += [f"      {t['name']} due {when(t['due_at'], cal)}" for t in m["timers"]]
        lines += [f"      {o['timer']} not armed: {o['why']}" for o in m["left_out"]]
    for s in done.stuck:
        lines.append(f"  {s.ref} ({s.pseudonym}): cannot move from {s.state}")
        lines += [f"      because {r}" for r in s.reasons]
    return Output(data, "\n".join(lines))


def correct(app: App, args: Namespace) -> Output:
    """`scr cases correct REF FIELD=VALUE --reason TEXT`: correct a recorded day or value of
    a case, on the record (lifecycle/core/correcting.py); the clocks that count from it are
    planned again."""
    field, sep, value = args.change.partition("=")
    if not sep or not field:
        raise InvalidInput(f"expected FIELD=VALUE, e.g. notified_on=2026-11-24 (got "
                           f"{args.change[:40]!r})")
    done = app.correct(args.ref, field.strip(), value, actor=app.actor, reason=args.reason)
    cal = app.settings.process.working_days
    lines = [f"{done.ref} ({done.pseudonym}): {done.field} corrected from {done.was} to "
             f"{done.now}"]
    lines += [f"    {t.name} due {when(t.due_at.isoformat(), cal)}" for t in done.timers]
    return Output(done.as_dict(), "\n".join(lines))


def _process_version(value: str, option: str) -> tuple[str, str]:
    """NAME:VERSION into its two parts."""
    name, sep, version = value.partition(":")
    if not sep or not name or not version:
        raise InvalidInput(f"{option}: expected NAME:VERSION (e.g. cspr:1), got "
                           f"{value[:40]!r}")
    return name, version


def _option_metavar(p: Param) -> str | None:
    if p.type in (PType.CHOICE,):
        return "|".join(p.choices)
    if p.type is PType.CHOICES:
        return "A,B"
    if p.type is PType.DATE:
        return "YYYY-MM-DD"
    if p.type in (PType.AGENCY,):
        return "AGENCY"
    return None


def add_commands(command: Commands) -> None:
    """The commands on cases."""
    from scr.lifecycle.cli.main import add_json_option

    registry = command.registry
    ref = command("refer", "record a referral (creates the case)")
    ref.add_argument("--file", metavar="FILE", help="a JSON object of referral fields "
                     "('-' for standard input); options below override it")
    ref.add_argument("--process", metavar="NAME", choices=registry.names(),
                     help="the process this case runs under (default: the board's "
                     "[process] default; scr definitions lists them)")
    # The referral fields of every shipped definition: the definition new cases start
    # under judges which it takes.
    for field in registry.referral_params().values():
        option = "--" + field.name.replace("_", "-")
        if field.type is PType.BOOL:
            ref.add_argument(option, dest=field.name, action=argparse.BooleanOptionalAction,
                             default=None, help=field.help or None)
        elif field.private:
            ref.add_argument(option, dest=field.name, help="free text; prefer --file, which "
                             "keeps it out of the shell's history")
        else:
            said = "; ".join(t for t in (field.help, field.caution()) if t)
            ref.add_argument(option, dest=field.name, metavar=_option_metavar(field),
                             help=said or None)
    ref.set_defaults(func=refer)

    adv = command("advance", "fire a trigger on a case")
    adv.add_argument("ref")
    adv.add_argument("trigger")
    adv.add_argument("params", nargs="*", metavar="KEY=VALUE",
                     help="parameters; lists are comma-separated (agencies=health,police)")
    adv.add_argument("--reason", help=f"why (required by some triggers); {REASON_CAUTION}")
    adv.add_argument("--if-version", dest="if_version", type=int, metavar="N",
                     help="refuse with a conflict unless the case is still at version N")
    adv.set_defaults(func=advance)

    for name, helptext, func in (
        ("show", "show a case", show),
        ("history", "a case's history", history),
        ("triggers", "what can be fired on a case now, and why not", triggers),
    ):
        p = command(name, helptext)
        p.add_argument("ref")
        p.set_defaults(func=func)

    group = command("cases", "work on cases on the record: migrate, correct")
    sub = group.add_subparsers(dest="cases_command", metavar="ACTION",
                               parser_class=type(group))
    mig = sub.add_parser("migrate", help="move running cases to another version of their "
                         "process, on the record (business manager)")
    mig.add_argument("--from", dest="source", required=True, metavar="NAME:VERSION",
                     help="the version the cases run under now, e.g. cspr:1")
    mig.add_argument("--to", dest="target", required=True, metavar="NAME:VERSION",
                     help="the version they move to, e.g. cspr:2 (it declares the mapping)")
    mig.add_argument("--dry-run", dest="dry_run", action="store_true",
                     help="say what would move and what cannot, and write nothing")
    mig.add_argument("refs", nargs="*", metavar="REF",
                     help="the cases (none: every case of the --from version not finished)")
    add_json_option(mig)
    mig.set_defaults(func=migrate)
    fix = sub.add_parser("correct", help="correct a recorded day or value of a case, with a "
                         "reason, on the record (business manager)")
    fix.add_argument("ref", metavar="REF")
    fix.add_argument("change", metavar="FIELD=VALUE",
                     help="e.g. notified_on=2026-11-24 or lead_reviewer=NAME (scr show REF "
                     "lists what the case records)")
    fix.add_argument("--reason", required=True, help="why it is corrected (kept in history)")
    add_json_option(fix)
    fix.set_defaults(func=correct)

    lc = command("list", "list cases")
    lc.add_argument("--state", help="only cases in this state")
    lc.add_argument("--overdue", action="store_true", help="only cases with a deadline passed")
    lc.set_defaults(func=list_cases)
