"""The commands of SPEC §6, shared by the one-shot command line and the shell.

Each takes the App and the parsed arguments and returns an Output; each write runs in one
transaction, so an error leaves nothing written.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lifecycle.cli.app import App, Output
from lifecycle.core.arming import PENDING
from lifecycle.views import documents as present
from states.case import Actor
from states.definition import REFERRAL_PARAMS
from states.enums import STATE_LABELS, USER_ROLES, Role, State
from states.errors import InvalidInput, Refused
from states.params import clean_text
from storage import caserow
from storage.db import reading, redact, transaction

# storage.queries and storage.models load the ORM (SQLModel, pydantic): imported by the
# commands that write or list, not at the top, so that `scr show` starts quickly.

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
OVERDUE_LEVELS = ("escalation", "overdue", "due", "chair", "transition")
REFERRAL_FILE_MAX = 1_000_000


def init(app: App, args: Namespace) -> Output:
    from storage import migrate  # Alembic is slow to import; only init needs it

    db = app.db(creating=True)
    migrate.upgrade(db)
    revision = migrate.current(db)
    url = redact(app.settings.database_url)
    return Output({"database": url, "revision": revision},
                  f"database {url} is at schema revision {revision} (the latest)")


# ---------------------------------------------------------------------------- users
def users_add(app: App, args: Namespace) -> Output:
    from storage import queries
    from storage.models import User, UserAudit, UserRole

    name = clean_text(args.name, "name", 100)
    if not name or "," in name:
        raise InvalidInput("name: must be non-empty text without commas")
    email = args.email.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(f"email: not an e-mail address: {email[:60]!r}")
    roles = list(dict.fromkeys(args.role or []))
    if not roles:
        raise InvalidInput("give at least one --role")
    for role in roles:
        if role not in USER_ROLES:
            raise InvalidInput(f"unknown role {role!r} (one of {', '.join(USER_ROLES)})")
    agency = args.agency
    if agency is not None and agency not in app.settings.process.agencies:
        raise InvalidInput(f"unknown agency {agency!r}")
    if Role.AGENCY_LEAD in roles and agency is None:
        raise InvalidInput("an agency_lead needs --agency")
    with transaction(app.db()) as session:
        by = _user_admin(app, session)
        if any(u.name == name for u in queries.users(session)):
            raise InvalidInput(f"user {name!r} already exists")
        now = app.now()
        user = User(name=name, email=email, agency=agency, created_at=now)
        session.add(user)
        session.flush()
        assert user.id is not None
        for role in roles:
            session.add(UserRole(user_id=user.id, role=role))
        session.add(UserAudit(at=now, actor=by, action="add", user_name=name,
                              details={"email": email, "roles": roles, "agency": agency}))
        entry = present.user_entry(user, roles)
    return Output(entry, f"added {name} <{email}> as {', '.join(roles)}"
                  + (f" ({agency})" if agency else ""))


def _user_admin(app: App, session: Any) -> str:
    """Who is changing users: a business manager named by --as, or the operating-system
    account when no --as is given (installing the first users happens before any exist)."""
    actor = app.actor(session, required=False)
    if actor is None:
        return f"os:{getpass.getuser()}"
    if Role.BUSINESS_MANAGER not in actor.roles:
        raise Refused(f"{actor.name} may not change users: it needs business_manager")
    return actor.name


def users_list(app: App, args: Namespace) -> Output:
    from storage import queries

    with transaction(app.db()) as session:
        entries = [present.user_entry(u, queries.roles_of(session, u.id or 0))
                   for u in queries.users(session)]
    text = present.table(["name", "email", "roles", "agency", "active"],
                         [[e["name"], e["email"], ", ".join(e["roles"]), e["agency"],
                           "yes" if e["active"] else "no"] for e in entries])
    return Output(entries, text)


# ---------------------------------------------------------------------------- cases
def refer(app: App, args: Namespace) -> Output:
    fields = _referral_file(args.file) if args.file else {}
    for p in REFERRAL_PARAMS:
        value = getattr(args, p.name, None)
        if value is not None:
            fields[p.name] = value
    with transaction(app.db()) as session:
        actor = _actor(app, session)
        case = app.engine.refer(session, actor=actor, params=fields, now=app.now())
        doc = present.case_document(session, case, show_summary=False)
    text = f"referred {case.ref} ({case.pseudonym}): state referral\n" + \
        present.case_text(doc, app.settings.process.calendar)
    return Output(doc, text)


def _referral_file(path: str) -> dict[str, Any]:
    try:
        raw = Path(path).read_bytes() if path != "-" else _stdin_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") \
            from None
    if len(raw) > REFERRAL_FILE_MAX:
        raise InvalidInput(f"{path}: too large (at most {REFERRAL_FILE_MAX} bytes)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: must hold one JSON object of referral fields")
    return data


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
    params = parse_assignments(args.params)
    with transaction(app.db()) as session:
        actor = _actor(app, session)
        before = caserow.load(session, args.ref).state
        case = app.engine.fire(session, args.ref, args.trigger, actor=actor, params=params,
                               reason=args.reason, now=app.now(),
                               expect_version=args.if_version)
        doc = present.case_document(session, case, show_summary=False)
    moved = f"{before} → {case.state}" if before != case.state else f"still {case.state}"
    text = f"{case.ref}: {args.trigger} done; {moved} (version {case.version})"
    pending = [t for t in doc["timers"] if t["status"] == PENDING]
    if pending:
        first = min(pending, key=lambda t: t["due_at"])
        text += f"\nnext: {first['name']} due " + present.when(
            first["due_at"], app.settings.process.calendar)
    return Output(doc, text)


def show(app: App, args: Namespace) -> Output:
    with reading(app.db()) as connection:
        actor = app.actor(connection, required=False)
        case = caserow.load(connection, args.ref)
        doc = present.case_document(connection, case, show_summary=_may_read_summary(actor))
    return Output(doc, present.case_text(doc, app.settings.process.calendar))


def _may_read_summary(actor: Actor | None) -> bool:
    return actor is not None and bool(actor.roles & present.READ_SUMMARY)


def history(app: App, args: Namespace) -> Output:
    with reading(app.db()) as connection:
        app.actor(connection, required=False)
        entries = present.history_document(connection, caserow.load(connection, args.ref))
    cal = app.settings.process.calendar
    text = present.table(
        ["seq", "at", "trigger", "from", "to", "actor", "reason"],
        [[e["seq"], present.when(e["at"], cal), e["trigger"], e["source"], e["dest"],
          e["actor"], (e["reason"] or "").replace("\n", " ")[:60]] for e in entries])
    return Output(entries, text)


def triggers(app: App, args: Namespace) -> Output:
    from storage import queries

    with transaction(app.db()) as session:
        actor = app.actor(session, required=False)
        case = queries.case_by_ref(session, args.ref)
        verdicts = app.engine.verdicts(session, args.ref, actor=actor, now=app.now())
        state = case.state
    lines = [f"{args.ref} is in {state} ({STATE_LABELS[State(state)]})"
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
    return Output([v.as_dict() for v in verdicts], "\n".join(lines))


def list_cases(app: App, args: Namespace) -> Output:
    state = args.state
    if state is not None and state not in set(State):
        raise InvalidInput(f"unknown state {state!r} (one of {', '.join(State)})")
    now = app.now()
    with reading(app.db()) as connection:
        app.actor(connection, required=False)
        rows = present.case_list(connection, now=now, levels=OVERDUE_LEVELS, state=state,
                                 overdue_only=args.overdue)
    cal = app.settings.process.calendar
    text = present.table(
        ["ref", "pseudonym", "state", "kind", "overdue", "next timer", "due"],
        [[r["ref"], r["pseudonym"], r["state"], r["kind"], "OVERDUE" if r["overdue"] else "",
          r["next_timer"], present.when(r["next_due_at"], cal) if r["next_due_at"] else None]
         for r in rows])
    return Output(rows, text if rows else "no cases")


def outbox(app: App, args: Namespace) -> Output:
    from storage import queries

    if args.action is not None:
        return outbox_retry(app, args)
    status = args.status
    if status is not None and status not in ("pending", "sent", "failed"):
        raise InvalidInput(f"unknown status {status!r} (pending, sent or failed)")
    with transaction(app.db()) as session:
        app.actor(session, required=False)
        entries = [present.outbox_entry(o) for o in queries.outbox(session, status=status)]
    text = present.table(
        ["id", "case", "to", "status", "tries", "subject"],
        [[e["id"], e["case_ref"], e["to"], e["status"], e["attempts"], e["subject"]]
         for e in entries])
    return Output(entries, text if entries else "the outbox is empty")


def outbox_retry(app: App, args: Namespace) -> Output:
    """Re-queue a failed message (after mending an address or the mail settings)."""
    from lifecycle.runtime.delivery import retry

    if args.action != "retry" or args.id is None:
        raise InvalidInput("usage: scr outbox retry ID")
    with transaction(app.db()) as session:
        by = app.actor(session, required=False)
        if by is not None and Role.BUSINESS_MANAGER not in by.roles:
            raise Refused(f"{by.name} may not retry mail: it needs business_manager")
    row = retry(app.db(), args.id, app.now())
    entry = present.outbox_entry(row)
    return Output(entry, f"outbox message {row.id} to {row.recipient} is queued again")


def _actor(app: App, session: Any) -> Actor:
    actor = app.actor(session)
    assert actor is not None
    return actor


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The core commands of SPEC §6."""
    from lifecycle.cli.main import add_json_option

    command("init", "create or upgrade the database to the latest schema").set_defaults(
        func=init)

    users = command("users", "add and list users")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION",
                                     parser_class=type(users))
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--email", required=True)
    add.add_argument("--role", action="append", metavar="ROLE",
                     help="business_manager, chair, subgroup_chair, subgroup_member, "
                     "agency_lead, lead_reviewer or auditor; repeat for several")
    add.add_argument("--agency", help="the user's agency (required for agency_lead)")
    add_json_option(add)
    add.set_defaults(func=users_add)
    lst = users_sub.add_parser("list", help="list users")
    add_json_option(lst)
    lst.set_defaults(func=users_list)

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
    ref.set_defaults(func=refer)

    adv = command("advance", "fire a trigger on a case")
    adv.add_argument("ref")
    adv.add_argument("trigger")
    adv.add_argument("params", nargs="*", metavar="KEY=VALUE",
                     help="parameters; lists are comma-separated (agencies=health,police)")
    adv.add_argument("--reason", help="why (required by some triggers)")
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

    lc = command("list", "list cases")
    lc.add_argument("--state", help="only cases in this state")
    lc.add_argument("--overdue", action="store_true", help="only cases with a deadline passed")
    lc.set_defaults(func=list_cases)

    ob = command("outbox", "the e-mail outbox; 'outbox retry ID' re-queues a failed message")
    ob.add_argument("action", nargs="?", metavar="retry", help="re-queue a failed message")
    ob.add_argument("id", nargs="?", type=int, metavar="ID")
    ob.add_argument("--status", help="pending, sent or failed")
    ob.set_defaults(func=outbox)
