"""`scr learning` (the register of reviews from elsewhere) and `scr qa` (the audits and
training that show a review's learning took hold): docs/learning.md.

These are the board's words for triggers any case has: each write goes through the engine
(`Engine.refer` opens a learning record, `Engine.fire` does the rest), with its history,
roles, seal and e-mail, exactly as `scr refer` and `scr advance` would.
"""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING, Any

from scr.lifecycle.cli import cases as cases_cli
from scr.lifecycle.cli.app import App, Output
from scr.lifecycle.views import documents
from scr.lifecycle.views.text import case_text, table
from scr.states.enums import FINDINGS
from scr.states.errors import InvalidInput
from scr.states.learning.v1 import SOURCES
from scr.states.params import Param, PType
from scr.states.process import (
    COURSE_ENDS,
    COURSE_STARTS,
    NOT_RELEVANT,
    RECORD_AUDIT,
    RECORD_TRAINING,
    RELEVANT,
    TRAINING_PARAMS,
    WITHDRAWN,
    ProcessDefinition,
    TriggerSpec,
)
from scr.states.words import value_label
from scr.storage import cases
from scr.storage import learning as register
from scr.storage.db import reading

if TYPE_CHECKING:
    from scr.lifecycle.cli.main import Commands

PROCESS = "learning"
# What the sub-group may decide on a review (`scr learning consider REF DECISION`): the
# decisions of the register's triggers (ProcessDefinition.decision_of).
CONSIDERED = (RELEVANT, NOT_RELEVANT)


def _today(app: App) -> str:
    return app.settings.process.working_days.local_date(app.now()).isoformat()


def _given(args: Namespace, *names: str) -> dict[str, Any]:
    """The options given, by parameter name (those left out are the trigger's defaults)."""
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _fire(app: App, ref: str, trigger: str, params: dict[str, Any],
          reason: str | None = None) -> Output:
    return cases_cli.fired(app, ref, trigger, params, reason)


def _register(app: App) -> ProcessDefinition:
    """The learning register's definition, as new records start under it."""
    return app.processes.starting(PROCESS).definition


def _deciding(definition: ProcessDefinition, decision: str) -> TriggerSpec:
    """The register's trigger that decides `decision`."""
    return definition.deciding(decision)[0]


def _amendment(definition: ProcessDefinition) -> TriggerSpec:
    found = definition.amendment
    assert found is not None, f"{definition.title} corrects nothing of a record"
    return found


def _flag(param: Param) -> str:
    """A parameter as the command line's option: published_on is --published-on."""
    return "--" + param.name.replace("_", "-")


def _names(params: tuple[Param, ...]) -> tuple[str, ...]:
    return tuple(p.name for p in params)


# ------------------------------------------------------------------------ learning
def add(app: App, args: Namespace) -> Output:
    params = _given(args, *_names(_register(app).create.params))
    return cases_cli.opened(app, params, PROCESS, "registered")


def consider(app: App, args: Namespace) -> Output:
    spec = _deciding(_register(app), args.decision)
    params = {"date": args.date or _today(app)}
    if args.adopted is not None:
        if spec.param("adopted") is None:
            raise InvalidInput("--adopted: only a review found relevant adopts recommendations")
        params["adopted"] = args.adopted
    return _fire(app, args.ref, spec.name, params, args.reason)


def amend(app: App, args: Namespace) -> Output:
    spec = _amendment(_register(app))
    params = _given(args, *_names(spec.params))
    if not params:
        raise InvalidInput("give at least one of " + ", ".join(map(_flag, spec.params)))
    return _fire(app, args.ref, spec.name, params, args.reason)


def withdraw(app: App, args: Namespace) -> Output:
    return _fire(app, args.ref, _deciding(_register(app), WITHDRAWN).name, {}, args.reason)


def list_items(app: App, args: Namespace) -> Output:
    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        rows = [{"ref": r.ref, **documents.opened_with(
                    app.processes.get(r.definition, r.definition_version).definition, r),
                 "state": r.state, "relevant": r.relevant,
                 "considered_on": documents.iso(r.considered_on)}
                for r in register.register(tx, state=args.state, theme=args.theme,
                                           source=args.source)]
    text = table(["ref", "title", "source", "published", "state", "considered"],
                 [[r["ref"], r["title"], value_label(r["source"]), r["published_on"],
                   r["state"], r["considered_on"]] for r in rows])
    return Output(rows, text if rows else "no reviews on the learning register")


def show(app: App, args: Namespace) -> Output:
    with reading(app.db()) as tx:
        actor = app.actor(tx, required=False)
        case = cases.load(tx, args.ref)
        process = app.processes.of(case)
        if process.definition.referred:
            raise InvalidInput(f"{args.ref} is a case, not a review on the learning register "
                               "(scr show shows it)")
        doc = documents.case_document(tx, process, case, reader=actor)
    return Output(doc, case_text(doc, app.settings.process.working_days))


# ------------------------------------------------------------------------------ qa
def audit(app: App, args: Namespace) -> Output:
    params = {"date": args.date or _today(app), **_given(args, "finding", "actions", "note")}
    return _fire(app, args.ref, RECORD_AUDIT, params)


def training(app: App, args: Namespace) -> Output:
    return _fire(app, args.ref, RECORD_TRAINING, _given(args, *_names(TRAINING_PARAMS)))


def untested(app: App, args: Namespace) -> Output:
    """Signed-off actions no audit has tested."""
    with reading(app.db()) as tx:
        app.actor(tx, required=False)
        found = register.untested(tx)
    rows = [{"ref": ref, "pseudonym": name, "action": a.number, "agency": a.agency,
             "owner": a.owner, "signed_off_at": documents.iso(a.signed_off_at)}
            for ref, name, a in found]
    text = table(["ref", "pseudonym", "action", "agency", "owner", "signed off"],
                 [[r["ref"], r["pseudonym"], r["action"], value_label(r["agency"]),
                   r["owner"], (r["signed_off_at"] or "")[:10]] for r in rows])
    return Output(rows, text if rows else "every signed-off action has been audited")


def qa_list(app: App, args: Namespace) -> Output:
    """Every audit and every training recorded, by case."""
    with reading(app.db()) as tx:
        actor = app.actor(tx, required=False)
        audits = [{"ref": a.ref, **documents.audit_entry(a, actor)}
                  for a in register.audits(tx)]
        trainings = [{"ref": t.ref, **documents.training_entry(t)}
                     for t in register.trainings(tx)]
    text = "Audits\n" + (table(
        ["ref", "#", "date", "finding", "actions"],
        [[a["ref"], a["audit"], a["date"], value_label(a["finding"]),
          ", ".join(map(str, a["actions"])) or "all"] for a in audits]) if audits else
        "  none") + "\n\nTraining\n" + (table(
            ["ref", "#", "course", "audience", "ends", "trained"],
            [[t["ref"], t["training"], t["course"], t["audience"], t[COURSE_ENDS.name],
              t["trained"]]
             for t in trainings]) if trainings else "  none")
    return Output({"audits": audits, "training": trainings}, text)


# ------------------------------------------------------------------------ commands
def _theme_help() -> str:
    return "comma-separated; the board's [learning] themes (scr learning themes lists them)"


def _options(parser: Any, params: tuple[Param, ...]) -> None:
    """An option for each of a trigger's parameters (--published-on for published_on),
    required where the parameter is."""
    for p in params:
        if p.type is PType.THEMES:
            parser.add_argument(_flag(p), required=p.required, metavar="A,B",
                                help=_theme_help())
        elif p.type is PType.CHOICE:
            parser.add_argument(_flag(p), required=p.required, choices=p.choices,
                                help=p.help or None)
        else:
            parser.add_argument(_flag(p), required=p.required, help=p.help or None,
                                metavar="YYYY-MM-DD" if p.type is PType.DATE else None)


def themes(app: App, args: Namespace) -> Output:
    listed = list(app.settings.process.themes)
    return Output(listed, "\n".join(f"{t:<34}{value_label(t)}" for t in listed))


def add_commands(command: Commands) -> None:
    """`scr learning add|consider|amend|withdraw|list|show|themes` and `scr qa audit|training|
    untested|list`."""
    from scr.lifecycle.cli.main import add_json_option

    register = command.registry.newest(PROCESS)
    group = command("learning", "the register of reviews from elsewhere (docs/learning.md)")
    sub = group.add_subparsers(dest="learning_command", metavar="ACTION",
                               parser_class=type(group))
    a = sub.add_parser("add", help="register a review published elsewhere")
    _options(a, register.create.params)
    a.set_defaults(func=add)

    c = sub.add_parser("consider", help="record the sub-group's consideration of a review")
    c.add_argument("ref")
    c.add_argument("decision", choices=sorted(
        register.decision_of(t) for t in register.deciding(*CONSIDERED)))
    c.add_argument("--reason", required=True, help="why; kept for good in the record's history "
                   "and sent in e-mail")
    c.add_argument("--adopted", metavar="TEXT", help="the recommendations adopted locally "
                   "(relevant only); kept in the register, never e-mailed")
    c.add_argument("--date", metavar="YYYY-MM-DD",
                   help="the day the sub-group considered it (default: today)")
    c.set_defaults(func=consider)

    am = sub.add_parser("amend", help="correct what was registered of a review")
    am.add_argument("ref")
    am.add_argument("--reason", required=True, help="why; kept for good in the record's "
                    "history and sent in e-mail")
    _options(am, _amendment(register).params)
    am.set_defaults(func=amend)

    w = sub.add_parser("withdraw", help="take a review registered in error off the register, "
                       "before it is considered")
    w.add_argument("ref")
    w.add_argument("--reason", required=True, help="why; kept for good in the record's history "
                   "and sent in e-mail")
    w.set_defaults(func=withdraw)

    lst = sub.add_parser("list", help="the reviews on the register")
    lst.add_argument("--state", choices=command.registry.newest(PROCESS).states)
    lst.add_argument("--theme", metavar="THEME")
    lst.add_argument("--source", choices=SOURCES)
    lst.set_defaults(func=list_items)

    sh = sub.add_parser("show", help="one review on the register, with its actions, audits "
                        "and training")
    sh.add_argument("ref")
    sh.set_defaults(func=show)

    th = sub.add_parser("themes", help="the themes a review may be filed under")
    th.set_defaults(func=themes)
    for p in (a, c, am, w, lst, sh, th):
        add_json_option(p)

    qa = command("qa", "audits and training that show a review's learning took hold")
    qsub = qa.add_subparsers(dest="qa_command", metavar="ACTION", parser_class=type(qa))
    au = qsub.add_parser("audit", help="record an audit of a case's (or a review's) learning")
    au.add_argument("ref")
    au.add_argument("--finding", required=True, choices=FINDINGS)
    au.add_argument("--date", metavar="YYYY-MM-DD", help="the day the audit reported "
                    "(default: today)")
    au.add_argument("--actions", metavar="N,M", help="the actions it tested (default: the "
                    "review's learning as a whole)")
    au.add_argument("--note", metavar="TEXT", help="what it found; kept in the record, never "
                    "e-mailed: never name the child or family")
    au.set_defaults(func=audit)

    tr = qsub.add_parser("training", help="record training commissioned in response")
    tr.add_argument("ref")
    tr.add_argument("--course", required=True)
    tr.add_argument("--audience", required=True, help="who it was for")
    tr.add_argument("--from", dest=COURSE_STARTS.name, required=True, metavar="YYYY-MM-DD")
    tr.add_argument("--to", dest=COURSE_ENDS.name, required=True, metavar="YYYY-MM-DD")
    tr.add_argument("--trained", required=True, metavar="N", help="the number of people "
                    "trained")
    tr.add_argument("--actions", metavar="N,M", help="the actions it answers")
    tr.set_defaults(func=training)

    un = qsub.add_parser("untested", help="signed-off actions no audit has tested")
    un.set_defaults(func=untested)
    ql = qsub.add_parser("list", help="every audit and training recorded")
    ql.set_defaults(func=qa_list)
    for p in (au, tr, un, ql):
        add_json_option(p)
