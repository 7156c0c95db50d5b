"""The People page: the business manager's list of the board's people, where a leaver is
deactivated (their sessions ended, what open cases still ask of them shown to reassign) and
a returner reactivated, by the rules the command line's `scr users` keeps
(lifecycle/board_people.py). Anyone else is told there is no such page.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scr.lifecycle import board_people
from scr.lifecycle.web import auth, forms
from scr.lifecycle.web.identity import Visitor
from scr.lifecycle.web.portal import Portal, checked_form
from scr.states.enums import Role
from scr.states.errors import InvalidInput, NotFound, Refused
from scr.states.words import capital, role_label, value_words
from scr.storage import users
from scr.storage.db import reading, transaction


@auth.signed_in
async def people_page(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    _business_manager(who)
    shown = await run_in_threadpool(_people, portal, who)
    return portal.page(request, "people.html", who, title="People", **shown)


@auth.signed_in
async def deactivate_page(request: Request) -> Response:
    """POST /people/deactivate: the person named in the form, with the reason given."""
    return await _changing(request, DEACTIVATE)


@auth.signed_in
async def reactivate_page(request: Request) -> Response:
    """POST /people/reactivate: the person named in the form."""
    return await _changing(request, REACTIVATE)


async def _changing(request: Request, action: str) -> Response:
    portal, who = Portal.of(request), request.user
    _business_manager(who)
    form = await checked_form(request, who.csrf_token)
    shown = await run_in_threadpool(_change, portal, who, action, form)
    return portal.page(request, "people.html", who, title="People", **shown)


DEACTIVATE, REACTIVATE = "deactivate", "reactivate"
routes = [
    Route("/people", people_page, methods=["GET"], middleware=auth.SESSION),
    Route(f"/people/{DEACTIVATE}", deactivate_page, methods=["POST"], middleware=auth.SESSION),
    Route(f"/people/{REACTIVATE}", reactivate_page, methods=["POST"], middleware=auth.SESSION),
]


def may_manage(who: Visitor | None) -> bool:
    return who is not None and Role.BUSINESS_MANAGER in who.user.roles


def _business_manager(who: Visitor) -> None:
    if not may_manage(who):
        raise HTTPException(404)


def _people(portal: Portal, who: Visitor, **shown: Any) -> dict[str, Any]:
    with reading(portal.app.db()) as tx:
        everyone = users.every(tx)
    rows = [{"name": u.name, "email": u.email, "agency": value_words(u.agency) if u.agency
             else "", "roles": capital(", ".join(role_label(r) for r in u.roles)),
             "login": u.login or "", "active": u.active, "me": u.id == who.user.id}
            for u in everyone]
    return {"rows": rows, "summary_errors": shown.get("summary_errors", []),
            "done": shown.get("done"), "work": shown.get("work", [])}


def _change(portal: Portal, who: Visitor, action: str, posted: FormData) -> dict[str, Any]:
    name = str(posted.get("name") or "")
    try:
        with transaction(portal.app.db()) as tx:
            by = board_people.manager_name(who.actor)
            if action == DEACTIVATE:
                changed, ended, work = board_people.deactivate(
                    tx, portal.app.processes, name, by=by, reason=str(posted.get("reason")
                                                                       or ""),
                    now=portal.now())
                done = (f"{changed.name} is deactivated: they can no longer act or sign in"
                        + (f" ({ended} portal session{'s' if ended != 1 else ''} ended)"
                           if ended else ""))
                lines = board_people.describe(work, changed.name)
            else:
                changed = board_people.reactivate(tx, name, by=by, now=portal.now())
                done, lines = f"{changed.name} may act and sign in again", []
    except (InvalidInput, Refused, NotFound) as exc:
        return {**_people(portal, who, summary_errors=forms.at_the_top([str(exc)])),
                "status": 400 if isinstance(exc, InvalidInput) else 422}
    return _people(portal, who, done=done, work=lines)
