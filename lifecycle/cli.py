"""`scr`, the command line of SPEC §6.

Errors are one line on stderr beginning `error:` with the exit status of SPEC §6 (2 bad
input, 3 refused, 4 conflict); nothing is written when a command fails, and no traceback
ever reaches a user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from states.errors import InvalidInput, LifecycleError

EXIT_INTERNAL = 1


class _Parser(argparse.ArgumentParser):
    """argparse that reports misuse as one `error:` line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise InvalidInput(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scr", description="Case review lifecycle orchestrator for "
                     "Local Safeguarding Children Boards.")
    parser.add_argument("--as", dest="actor", metavar="NAME",
                        help="the acting user (or SCR_ACTOR)")
    parser.add_argument("--now", metavar="ISO", help="run as of this moment (or SCR_NOW); "
                        "refused unless SCR_ALLOW_CLOCK_OVERRIDE=1")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration (or SCR_CONFIG)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, helptext: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                       help="print one JSON document")
        return p

    command("init", "create or upgrade the database to the latest schema")

    users = command("users", "add and list users")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION",
                                     parser_class=_Parser)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--email", required=True)
    add.add_argument("--role", action="append", metavar="ROLE",
                     help="business_manager, chair, subgroup_chair, subgroup_member, "
                     "agency_lead, lead_reviewer or auditor; repeat for several")
    add.add_argument("--agency", help="the user's agency (required for agency_lead)")
    add.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    lst = users_sub.add_parser("list", help="list users")
    lst.add_argument("--json", action="store_true", default=argparse.SUPPRESS)

    ref = command("refer", "record a referral (creates the case)")
    ref.add_argument("--file", metavar="FILE", help="a JSON object of referral fields "
                     "('-' for standard input); options below override it")
    ref.add_argument("--pseudonym")
    ref.add_argument("--incident-date", dest="incident_date", metavar="YYYY-MM-DD")
    ref.add_argument("--harm", metavar="death|serious_harm|other")
    ref.add_argument("--abuse", metavar="known|suspected|not_suspected")
    ref.add_argument("--agency-concern", dest="agency_concern",
                     action=argparse.BooleanOptionalAction, default=None)
    ref.add_argument("--grounds", metavar="G,G")
    ref.add_argument("--route", metavar="child_death_review|professional")
    ref.add_argument("--referrer-agency", dest="referrer_agency", metavar="AGENCY")
    ref.add_argument("--criminal-proceedings", dest="criminal_proceedings",
                     action=argparse.BooleanOptionalAction, default=None)
    ref.add_argument("--summary", help="free text; prefer --file, which keeps it out of the "
                     "shell's history")

    adv = command("advance", "fire a trigger on a case")
    adv.add_argument("ref")
    adv.add_argument("trigger")
    adv.add_argument("params", nargs="*", metavar="KEY=VALUE",
                     help="parameters; lists are comma-separated (agencies=health,police)")
    adv.add_argument("--reason", help="why (required by some triggers)")
    adv.add_argument("--if-version", dest="if_version", type=int, metavar="N",
                     help="refuse with a conflict unless the case is still at version N")

    for name, helptext in (("show", "show a case"), ("history", "a case's history"),
                           ("triggers", "what can be fired on a case now, and why not")):
        command(name, helptext).add_argument("ref")

    lc = command("list", "list cases")
    lc.add_argument("--state", help="only cases in this state")
    lc.add_argument("--overdue", action="store_true", help="only cases with a deadline passed")

    ob = command("outbox", "the e-mail outbox")
    ob.add_argument("--status", help="pending, sent or failed")
    return parser


def _dispatch(args: argparse.Namespace) -> Callable[..., Any]:
    from lifecycle import commands

    if args.command == "users":
        if args.users_command is None:
            raise InvalidInput("users needs an action: add or list")
        return commands.users_add if args.users_command == "add" else commands.users_list
    table: dict[str, Callable[..., Any]] = {
        "init": commands.init,
        "refer": commands.refer,
        "advance": commands.advance,
        "show": commands.show,
        "history": commands.history,
        "triggers": commands.triggers,
        "list": commands.list_cases,
        "outbox": commands.outbox,
    }
    return table[args.command]


def run(argv: Sequence[str]) -> int:
    """Parse and run one command; returns the exit status. Errors are printed here."""
    from lifecycle.app import App
    from lifecycle.settings import load

    app = None
    try:
        args = build_parser().parse_args(list(argv))
        if args.command is None:
            raise InvalidInput("a command is needed (scr --help lists them)")
        settings = load(config_file=args.config, actor=args.actor, now=args.now)
        app = App(settings)
        output = _dispatch(args)(app, args)
        if args.json:
            print(json.dumps(output.data, indent=2, ensure_ascii=False))
        elif output.text:
            print(output.text)
        return 0
    except LifecycleError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback to a user
        print(f"error: {_describe(exc)}", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if app is not None:
            app.close()


def _describe(exc: Exception) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return ("the database could not be used (" + _one_line(str(exc.orig))[:120]
                + "); nothing was written")
    return f"internal error ({exc.__class__.__name__}); nothing was written"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main() -> NoReturn:
    sys.exit(run(sys.argv[1:]))
