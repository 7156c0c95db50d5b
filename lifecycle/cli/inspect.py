"""Inspecting cases and the process: `why`, `timeline`, `overdue`, `report`, `diagram`,
`definitions`, and the `shell` that offers every command interactively.

Each command reads; none writes a case. The work is in lifecycle/views; this module
parses, opens one read transaction and shapes the Output.
"""

from __future__ import annotations

import argparse
import json
from argparse import Namespace
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from scr.lifecycle.cli.app import App, Output
from scr.lifecycle.cli.cases import parse_assignments
from scr.lifecycle.views.text import table, when
from scr.states.errors import InvalidInput, Refused
from scr.states.process import ProcessDefinition
from scr.storage import cases
from scr.storage.db import reading


def why(app: App, args: Namespace) -> Output:
    from scr.lifecycle.views.why import explain_text

    doc = app.explain(args.ref, args.trigger,
                      actor=lambda tx: app.actor(tx, required=False),
                      params=parse_assignments(args.params), reason=args.reason)
    now = datetime.fromisoformat(doc["at"])
    if args.check and not doc["allowed"]:
        raise Refused(f"{args.trigger} is not allowed on {args.ref} now: "
                      + "; ".join(doc["reasons"]), tuple(doc["reasons"]))
    return Output(doc, explain_text(doc, when(now, app.settings.process.working_days)))


def timeline(app: App, args: Namespace) -> Output:
    from scr.lifecycle.views.timeline import events, timeline_svg, timeline_text

    now = app.now()
    cal = app.settings.process.working_days
    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        case = cases.load(tx, args.ref)
        process = app.processes.of(case)
        found = events(tx, process, case, now=now, cal=cal)
        doc = {"ref": case.ref, "pseudonym": case.pseudonym, "state": case.state,
               "state_label": process.definition.state_label(case.state),
               "now": now.isoformat(), "events": [e.as_dict() for e in found]}
    if args.out is None:
        return Output(doc, timeline_text(doc, cal))
    picture = timeline_svg(doc, cal)
    if args.out == "-":
        return Output(doc, picture.rstrip("\n"))
    written = _write(args.out, picture)
    return Output({**doc, "svg": written},
                  timeline_text(doc, cal) + f"\n\nwrote the picture to {written}")


def overdue(app: App, args: Namespace) -> Output:
    from scr.lifecycle.views.overdue import WITHIN_MAX, overdue_text
    from scr.lifecycle.views.overdue import overdue as find

    if not 0 <= args.within <= WITHIN_MAX:
        raise InvalidInput(f"--within: a number of working days from 0 to {WITHIN_MAX}")
    cal = app.settings.process.working_days
    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        entries = find(tx, app.processes, now=app.now(), within=args.within, cal=cal)
    return Output(entries, overdue_text(entries, cal, args.within))


def report(app: App, args: Namespace) -> Output:
    from scr.lifecycle.views.report import Period, csv_text, figures, markdown, parse_day

    config = app.settings.process
    period = Period.of(parse_day(args.first, "--from"), parse_day(args.last, "--to"), config)
    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        doc = figures(tx, app.processes, period, now=app.now(), config=config)
    if args.format == "csv":
        text = csv_text(doc).rstrip("\n")
    elif args.format == "json":
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    else:
        text = markdown(doc, app.settings.board.name).rstrip("\n")
    return Output(doc, text)


def diagram(app: App, args: Namespace) -> Output:
    from scr.lifecycle.views import diagram as draw

    definition = _definition(app, args)
    data = {
        "definition": definition.name, "version": definition.version,
        "states": list(definition.states),
        "transitions": [{"trigger": e.spec.name, "source": e.source, "dest": e.dest,
                         "guards": list(e.spec.guards)} for e in draw.edges(definition)],
        "internal": {s: [t.name for t in draw.internal(definition, s)]
                     for s in definition.states},
    }
    if args.format == "svg":
        text = draw.svg(definition)
    elif args.out and args.out.endswith(".md"):
        text = draw.markdown(definition)
    else:
        text = draw.mermaid(definition)
    if args.out is None or args.out == "-":
        return Output(data, text.rstrip("\n"))
    written = _write(args.out, text)
    return Output({**data, "written": written}, f"wrote the {args.format} diagram to {written}")


def _definition(app: App, args: Namespace) -> ProcessDefinition:
    """The definition named by --process and --version, else the one new cases start
    under."""
    if args.process is None:
        if args.version is not None:
            raise InvalidInput("--version goes with --process")
        return app.processes.starting().definition
    return app.processes.registry.resolve(args.process, args.version)


def definitions(app: App, args: Namespace) -> Output:
    """The process definitions this scr knows, and which one new cases start under."""
    starting = app.processes.starting().definition
    registry = app.processes.registry
    entries = [{**d.describe(starts_new=d is starting), "draft": registry.is_draft(d)}
               for d in registry]
    text = table(["name", "version", "label", "new cases"],
                 [[e["name"], e["version"], e["label"],
                   "start here" if e["starts_new_cases"] else
                   f"scr {e['name']} add" if e["opens"] != "referral" else
                   "draft: where [process] version names it" if e["draft"] else ""]
                  for e in entries])
    return Output(entries, text)


def shell(app: App, args: Namespace) -> Output:
    if getattr(args, "json", False):
        raise InvalidInput("--json applies to each command inside the shell "
                           "(for example: show REF --json)")
    from scr.lifecycle.cli.shell import run

    status = run(app)
    if status:  # ended by a signal (SIGTERM, SIGHUP): leave with its status
        raise SystemExit(status)
    return Output(None, "")


def _write(path: str, text: str) -> str:
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc.__class__.__name__}") \
            from None
    return str(target)


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The board's views and the shell."""
    p = command("why", "whether a trigger may be fired on a case now: the role, every "
                "guard and the SCR criteria, judged on the input given")
    p.add_argument("ref")
    p.add_argument("trigger")
    p.add_argument("params", nargs="*", metavar="KEY=VALUE",
                   help="the parameters you would give; lists are comma-separated")
    p.add_argument("--reason", help="the reason you would give")
    p.add_argument("--check", action="store_true",
                   help="exit with status 3 (refused) unless the trigger is allowed")
    p.set_defaults(func=why)

    p = command("timeline", "a case's history, pending timers and deadlines on one time axis")
    p.add_argument("ref")
    p.add_argument("--out", metavar="FILE.svg",
                   help="also draw it as an SVG picture in FILE ('-': the SVG on stdout)")
    p.set_defaults(func=timeline)

    p = command("overdue", "every deadline passed (or due within N working days), most "
                "urgent first, with who must act")
    p.add_argument("--within", type=int, default=0, metavar="N",
                   help="also deadlines due within N working days (default 0: passed only)")
    p.set_defaults(func=overdue)

    p = command("report", "the figures for the board's annual report, for a period")
    p.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD",
                   help="the first day of the period (the board's local date)")
    p.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD",
                   help="the last day of the period, included")
    p.add_argument("--format", choices=("md", "csv", "json"), default="md",
                   help="Markdown (default), CSV (one figure a row) or JSON")
    p.set_defaults(func=report)

    p = command("diagram", "the lifecycle drawn from the process definition")
    p.add_argument("--format", choices=("mermaid", "svg"), default="mermaid",
                   help="Mermaid stateDiagram-v2 text (default) or an SVG picture")
    p.add_argument("--out", metavar="FILE",
                   help="write it to FILE; a Mermaid .md file gets the page docs/lifecycle-*.md "
                   "is made of")
    p.add_argument("--process", metavar="NAME",
                   help="draw this process definition (scr definitions lists them; default: "
                   "the one new cases start under)")
    p.add_argument("--version", metavar="V", help="its version (default: the newest)")
    p.set_defaults(func=diagram)

    p = command("definitions", "the process definitions this scr knows, and which one new "
                "cases start under")
    p.set_defaults(func=definitions)

    p = command("shell", "the interactive admin shell: every command, with completion, "
                "help on each trigger, and history kept between sessions")
    p.set_defaults(func=shell, in_shell=False)
