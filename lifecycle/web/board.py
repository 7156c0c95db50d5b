"""What the board looks at across cases: the report for a period (as `scr report`) and the
lifecycle of a process with its picture (as `scr diagram`).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scr.lifecycle.web import auth
from scr.lifecycle.web.portal import Portal
from scr.states.errors import InvalidInput
from scr.storage.db import reading


@auth.signed_in
async def report_page(request: Request) -> Response:
    portal, q = Portal.of(request), request.query_params
    doc = await run_in_threadpool(_report, portal, q.get("from"), q.get("to"))
    return portal.page(request, "report.html", request.user, title="Report", doc=doc)


@auth.signed_in
async def lifecycle_page(request: Request) -> Response:
    portal = Portal.of(request)
    return portal.page(request, "lifecycle.html", request.user, title="The lifecycle",
                       shown=_definition(portal, request),
                       every=list(portal.app.processes.registry))


@auth.signed_in
async def lifecycle_picture(request: Request) -> Response:
    from scr.lifecycle.views import diagram

    portal = Portal.of(request)
    return portal.picture(diagram.svg(_definition(portal, request)))


routes = [
    Route("/report", report_page, methods=["GET"], middleware=auth.SESSION),
    Route("/lifecycle", lifecycle_page, methods=["GET"], middleware=auth.SESSION),
    Route("/lifecycle.svg", lifecycle_picture, methods=["GET"], middleware=auth.SESSION),
]


def _report(portal: Portal, first: str | None, last: str | None) -> dict[str, Any]:
    """The report's figures from `first` to `last` (ISO days; by default the year so far):
    400 for a day that is not one."""
    from scr.lifecycle.views.report import Period, figures, parse_day

    config = portal.settings.process
    today = config.working_days.local_date(portal.now())
    try:
        start = parse_day(first, "from") if first else today.replace(month=1, day=1)
        end = parse_day(last, "to") if last else today
        period = Period.of(start, end, config)
    except InvalidInput:
        raise HTTPException(400) from None
    with reading(portal.app.db()) as tx:
        return figures(tx, portal.app.processes, period, now=portal.now(), config=config)


def _definition(portal: Portal, request: Request) -> Any:
    """The definition asked for (`?process=NAME&version=N`), by default the one new cases
    start under: 404 for one this scr does not know."""
    name = request.query_params.get("process")
    version = request.query_params.get("version")
    if name is None:
        return portal.app.processes.starting().definition
    try:
        return portal.app.processes.registry.resolve(name, version)
    except InvalidInput:
        raise HTTPException(404) from None
