"""`scr web`: the portal, an ASGI application (Starlette) served by uvicorn.

Every participant signs in from a link in their e-mail (lifecycle/web/identity.py) and acts
from their own inbox, in GOV.UK Design System pages (the `govuk-frontend` assets and the
`govuk-frontend-jinja` macros, without the GOV.UK crown or name: the pages carry the
board's name). Every page is a plain URL that works without JavaScript; every change goes
through the same engine as the command line and the shell, as the person signed in.

Security: a CSRF token on every form (a POST without it is 403); a strict
Content-Security-Policy with no inline script or style; `X-Frame-Options: DENY`;
`Referrer-Policy: no-referrer`; HSTS when `[web] base_url` is https; session cookies
`HttpOnly`, `SameSite=Lax` and, behind TLS, `Secure`. The access log names the route, not
the path, so a sign-in token or a case reference typed in a query never reaches a log.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from lifecycle import log
from lifecycle.application import Application
from lifecycle.settings import Settings
from lifecycle.web import access, forms, identity
from lifecycle.web.identity import Visitor
from states.case import Actor
from states.errors import Conflict, InvalidInput, NotFound, Refused
from states.process import DEADLINE_LEVELS
from storage import cases
from storage.db import reading, transaction

STATIC = Path(__file__).parent / "static"
OIDC_COOKIE = "scr_oidc"  # binds the browser to its OpenID Connect sign-in attempt
FORM_COOKIE = "scr_form"  # the double-submit token of the forms shown before sign-in
LEARNING = "learning"  # the learning register's process (states/learning)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([
            PackageLoader("lifecycle.web", "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        auto_reload=False, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["words"] = forms.words
    env.filters["option_item"] = _option_item
    env.filters["select_item"] = _select_item
    env.filters["summary_row"] = lambda pair: {"key": {"text": forms.words(str(pair[0]))},
                                               "value": {"text": str(pair[1])}}
    return env


def _local(moment: Any, days: Any) -> str:
    """A moment (ISO text or datetime) in the board's time zone, for people."""
    if not moment:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return days.local(value).strftime("%a %d %b %Y %H:%M")


def _option_item(pair: list[str], chosen: Any) -> dict[str, Any]:
    value, text = pair
    picked = value in chosen if isinstance(chosen, list) else value == chosen
    return {"value": value, "text": text, "checked": picked}


def _select_item(pair: list[str], chosen: Any) -> dict[str, Any]:
    value, text = pair
    return {"value": value, "text": text, "selected": value == chosen}


class Portal:
    """The portal's state: the settings, the application (lifecycle.application: the
    database, the definitions and the engine, as a command has), the templates."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = Application(settings)
        self.env = environment()
        # OpenID Connect: the provider, discovered on first use, and the key that signs the
        # short-lived cookie binding a browser to its sign-in attempt. It is per process:
        # `scr web` runs one worker (a restart only asks people to start again).
        self._provider: Any = None
        self.oidc_key = secrets.token_bytes(32)
        days = settings.process.working_days
        self.env.filters["local"] = lambda moment: _local(moment, days)
        # The stages the cases list filters by: those of the processes for referrals (the
        # learning register lists its own records).
        self.env.globals["states"] = self.app.processes.registry.states(referred=True)

    def now(self) -> datetime:
        return self.settings.clock()

    # ------------------------------------------------------------------ rendering
    def page(self, request: Request, template: str, who: Visitor | None, *,
             status: int = 200, **context: Any) -> Response:
        csrf = who.csrf_token if who else request.state.form_token
        path = request.url.path
        nav = [] if who is None else [
            {"href": href, "text": text, "active": path == href or
             (href != "/" and path.startswith(href))}
            for href, text in (("/", "My inbox"), ("/cases", "Cases"),
                               ("/learning", "Learning register"), ("/overdue", "Overdue"),
                               ("/report", "Report"), ("/lifecycle", "The lifecycle"))]
        html = self.env.get_template(template).render(
            board_name=self.settings.board.name, user=who.user if who else None,
            csrf_token=csrf, navigation=nav, **context)
        # Set here too: an error page made outside the middleware (a 500) carries them.
        return secure(HTMLResponse(html, status_code=status), self.settings)

    def provider(self) -> Any:
        from lifecycle.web import oidc

        if self._provider is None:
            self._provider = oidc.discover(self.settings.web.oidc)
        return self._provider

    def sign_in_mail(self, url: str, minutes: float, board_name: str) -> tuple[str, str, str]:
        context = {"url": url, "minutes": int(minutes), "board_name": board_name}
        text = self.env.get_template("mail/sign_in.txt").render(context)
        html = self.env.get_template("mail/sign_in.html").render(context)
        return f"Sign in to {board_name} case reviews", text, html


# -------------------------------------------------------------------- middleware
def secure(response: Response, settings: Settings, *, static: bool = False) -> Response:
    """The security headers every response carries (pages, redirects, errors, files)."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    if not static:
        headers["Cache-Control"] = "no-store"
    if settings.web.secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def security_headers(portal: Portal) -> Callable[..., Awaitable[Response]]:
    async def middleware(request: Request, call_next: Callable[..., Awaitable[Response]]
                         ) -> Response:
        started = time.perf_counter()
        token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
        request.state.form_token = token
        response = await call_next(request)
        secure(response, portal.settings, static=request.url.path.startswith("/static/"))
        if FORM_COOKIE not in request.cookies:
            response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="lax",
                                secure=portal.settings.web.secure, path="/")
        route = getattr(request.scope.get("route"), "path", None) or "(static or unknown)"
        log.get().info("web.request", method=request.method, route=route,
                       status=response.status_code,
                       ms=round((time.perf_counter() - started) * 1000, 1))
        return response

    return middleware


# ------------------------------------------------------------------------ helpers
async def _visitor(portal: Portal, request: Request) -> Visitor | None:
    cookie = request.cookies.get(identity.SESSION_COOKIE)
    return await run_in_threadpool(identity.visitor, portal.app.db(), portal.settings,
                                   cookie, portal.now())


async def _signed_in(portal: Portal, request: Request) -> Visitor:
    who = await _visitor(portal, request)
    if who is None:
        raise HTTPException(303, headers={"Location": "/sign-in"})
    return who


async def _checked_form(request: Request, expected: str) -> Any:
    """The posted form, after its CSRF token: 403 when it is missing or wrong."""
    form = await request.form()
    if not identity.same(str(form.get("csrf_token") or ""), expected):
        raise HTTPException(403, "The form had expired or did not come from this site.")
    return form


def _with_session(response: Response, portal: Portal, started: identity.Started) -> Response:
    """The response, carrying the new session's cookie (HttpOnly, SameSite=Lax, Secure
    behind TLS, for the session's lifetime)."""
    response.set_cookie(identity.SESSION_COOKIE, started.cookie, httponly=True,
                        samesite="lax", secure=portal.settings.web.secure, path="/",
                        max_age=int(portal.settings.web.session_hours * 3600))
    return response


def _actor(who: Visitor) -> Actor:
    return Actor(who.user.name, frozenset(who.user.roles), who.user.agency)


# -------------------------------------------------------------------------- pages
def routes(portal: Portal) -> list[Any]:
    db = portal.app.db

    async def sign_in_form(request: Request) -> Response:
        return portal.page(request, "sign_in.html", None, title="Sign in",
                           oidc=portal.settings.web.oidc)

    oidc_callback = f"{portal.settings.web.base_url}/sign-in/oidc/callback"

    async def oidc_start(request: Request) -> Response:
        from lifecycle.web import oidc

        settings = portal.settings.web.oidc
        if settings is None:
            raise HTTPException(404)
        try:
            provider = await run_in_threadpool(portal.provider)
        except oidc.OidcError as exc:
            return portal.page(request, "sign_in_link.html", None, status=502, title="Sign in",
                               view=identity.LinkView(False, problem=str(exc)))
        started = oidc.start(provider, settings, redirect_uri=oidc_callback,
                             key=portal.oidc_key, now=portal.now())
        response = RedirectResponse(started.url, status_code=303)
        response.set_cookie(OIDC_COOKIE, started.cookie, httponly=True, samesite="lax",
                            secure=portal.settings.web.secure, path="/sign-in/oidc",
                            max_age=oidc.COOKIE_SECONDS)
        return response

    async def oidc_finish(request: Request) -> Response:
        from lifecycle.web import oidc

        settings = portal.settings.web.oidc
        if settings is None:
            raise HTTPException(404)
        now = portal.now()
        try:
            email = await run_in_threadpool(
                lambda: oidc.finish(portal.provider(), settings,
                                    query=dict(request.query_params),
                                    cookie=request.cookies.get(OIDC_COOKIE),
                                    redirect_uri=oidc_callback, key=portal.oidc_key,
                                    now=now))
        except oidc.OidcError as exc:
            why = str(exc)
            await run_in_threadpool(partial(identity.failed, db(), method="oidc", why=why,
                                            now=now))
            refused = portal.page(request, "sign_in_link.html", None, status=400,
                                  title="Sign in", view=identity.LinkView(False, problem=why))
            refused.delete_cookie(OIDC_COOKIE, path="/sign-in/oidc")  # each attempt once
            return refused
        started = await run_in_threadpool(
            lambda: identity.sign_in_as(db(), portal.settings, email, method="oidc", now=now))
        if started is None:
            view = identity.LinkView(False, problem="The board has no user with the address "
                                     "your organisation's account gave. Ask the business "
                                     "manager to check the address they hold for you.")
            refused = portal.page(request, "sign_in_link.html", None, status=403,
                                  title="Sign in", view=view)
            refused.delete_cookie(OIDC_COOKIE, path="/sign-in/oidc")
            return refused
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(OIDC_COOKIE, path="/sign-in/oidc")
        return _with_session(response, portal, started)

    async def sign_in_post(request: Request) -> Response:
        form = await _checked_form(request, request.state.form_token)
        email = str(form.get("email") or "").strip()
        if not email or "@" not in email or len(email) > 254:
            return portal.page(request, "sign_in.html", None, status=400, title="Sign in",
                               email=email, error="Enter your e-mail address, like "
                               "name@example.org")
        client = request.client.host if request.client else "unknown"
        try:
            await run_in_threadpool(identity.request_link, db(), portal.settings,
                                    email=email, client=client, now=portal.now(),
                                    render=portal.sign_in_mail)
        except identity.TooMany:
            return portal.page(request, "sign_in_sent.html", None, status=429,
                               title="Too many requests", too_many=True)
        return portal.page(request, "sign_in_sent.html", None, title="Check your e-mail",
                           minutes=int(portal.settings.web.link_minutes))

    async def link_page(request: Request) -> Response:
        secret = request.path_params["token"]
        view = await run_in_threadpool(identity.look_at_link, db(), secret, portal.now())
        return portal.page(request, "sign_in_link.html", None, title="Sign in",
                           view=view, status=200 if view.ok else 410)

    async def link_post(request: Request) -> Response:
        await _checked_form(request, request.state.form_token)
        secret = request.path_params["token"]
        client = request.client.host if request.client else "unknown"
        started = await run_in_threadpool(identity.complete_sign_in, db(), portal.settings,
                                          secret, now=portal.now(), client=client)
        if started is None:
            view = identity.LinkView(False, problem="This sign-in link cannot be used: it "
                                     "has been used already, or it has expired.")
            return portal.page(request, "sign_in_link.html", None, title="Sign in",
                               view=view, status=410)
        response = RedirectResponse("/", status_code=303)
        return _with_session(response, portal, started)

    async def sign_out(request: Request) -> Response:
        who = await _signed_in(portal, request)
        await _checked_form(request, who.csrf_token)
        await run_in_threadpool(identity.sign_out, db(), who, portal.now())
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(identity.SESSION_COOKIE, path="/")
        return response

    async def inbox(request: Request) -> Response:
        who = await _signed_in(portal, request)
        items = await run_in_threadpool(_inbox, portal, who)
        return portal.page(request, "inbox.html", who, title="My inbox", items=items)

    async def case_list(request: Request) -> Response:
        who = await _signed_in(portal, request)
        state = request.query_params.get("state") or None
        overdue = request.query_params.get("overdue") == "1"
        rows = await run_in_threadpool(_cases, portal, who, state, overdue)
        return portal.page(request, "cases.html", who, title="Cases", rows=rows,
                           state=state, overdue=overdue)

    async def case_page(request: Request) -> Response:
        who = await _signed_in(portal, request)
        ref = request.path_params["ref"]
        found = await run_in_threadpool(_case, portal, who, ref)
        return portal.page(request, "case.html", who, title=f"{ref} {found['doc']['pseudonym']}",
                           fired=request.query_params.get("done"), **found)

    async def trigger_page(request: Request) -> Response:
        who = await _signed_in(portal, request)
        ref, trigger = request.path_params["ref"], request.path_params["trigger"]
        if request.method == "POST":
            form = await _checked_form(request, who.csrf_token)
            outcome = await run_in_threadpool(_fire, portal, who, ref, trigger, form)
            if outcome.get("done"):
                return RedirectResponse(f"/cases/{ref}?done={trigger}", status_code=303)
            return portal.page(request, "trigger.html", who, **outcome)
        shown = await run_in_threadpool(_trigger_form, portal, who, ref, trigger)
        return portal.page(request, "trigger.html", who, **shown)

    async def learning_page(request: Request) -> Response:
        who = await _signed_in(portal, request)
        q = request.query_params
        shown = await run_in_threadpool(_learning, portal, who, q.get("state") or None,
                                        q.get("theme") or None, q.get("source") or None)
        return portal.page(request, "learning.html", who, title="Learning register", **shown)

    async def register_page(request: Request) -> Response:
        who = await _signed_in(portal, request)
        if request.method == "POST":
            form = await _checked_form(request, who.csrf_token)
            outcome = await run_in_threadpool(_register, portal, who, form)
            if outcome.get("done"):
                return RedirectResponse(f"/cases/{outcome['done']}?done={outcome['trigger']}",
                                        status_code=303)
            return portal.page(request, "learning_new.html", who, **outcome)
        shown = _register_form(portal, who)
        return portal.page(request, "learning_new.html", who, **shown)

    async def timeline_picture(request: Request) -> Response:
        who = await _signed_in(portal, request)
        picture = await run_in_threadpool(_timeline, portal, who, request.path_params["ref"])
        return secure(Response(picture, media_type="image/svg+xml"), portal.settings)

    async def overdue_page(request: Request) -> Response:
        who = await _signed_in(portal, request)
        entries = await run_in_threadpool(_overdue, portal, who)
        return portal.page(request, "overdue.html", who, title="Overdue", entries=entries)

    async def report_page(request: Request) -> Response:
        who = await _signed_in(portal, request)
        doc = await run_in_threadpool(_report, portal, request.query_params.get("from"),
                                      request.query_params.get("to"))
        return portal.page(request, "report.html", who, title="Report", doc=doc)

    async def lifecycle_page(request: Request) -> Response:
        who = await _signed_in(portal, request)
        shown = _definition(portal, request)
        return portal.page(request, "lifecycle.html", who, title="The lifecycle",
                           shown=shown, every=list(portal.app.processes.registry))

    async def lifecycle_picture(request: Request) -> Response:
        await _signed_in(portal, request)
        from lifecycle.views import diagram

        picture = diagram.svg(_definition(portal, request))
        return secure(Response(picture, media_type="image/svg+xml"), portal.settings)

    return [
        Route("/sign-in", sign_in_form, methods=["GET"]),
        Route("/sign-in", sign_in_post, methods=["POST"]),
        Route("/sign-in/oidc", oidc_start, methods=["GET"]),
        Route("/sign-in/oidc/callback", oidc_finish, methods=["GET"]),
        Route("/sign-in/{token}", link_page, methods=["GET"]),
        Route("/sign-in/{token}", link_post, methods=["POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/", inbox, methods=["GET"]),
        Route("/cases", case_list, methods=["GET"]),
        Route("/cases/{ref}", case_page, methods=["GET"]),
        Route("/cases/{ref}/timeline.svg", timeline_picture, methods=["GET"]),
        Route("/cases/{ref}/{trigger}", trigger_page, methods=["GET", "POST"]),
        Route("/learning", learning_page, methods=["GET"]),
        Route("/learning/new", register_page, methods=["GET", "POST"]),
        Route("/overdue", overdue_page, methods=["GET"]),
        Route("/report", report_page, methods=["GET"]),
        Route("/lifecycle", lifecycle_page, methods=["GET"]),
        Route("/lifecycle.svg", lifecycle_picture, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


# --------------------------------------------------------------- what pages show
def _visible(tx: Any, who: Visitor, ref: str) -> cases.CaseRecord:
    try:
        case = cases.load(tx, ref)
    except NotFound:
        raise HTTPException(404) from None
    if not access.may_see(tx, who, case):
        raise HTTPException(404)
    return case


def _cases(portal: Portal, who: Visitor, state: str | None,
           overdue: bool) -> list[dict[str, Any]]:
    from lifecycle.views import documents

    with reading(portal.app.db()) as tx:
        rows = documents.case_list(tx, now=portal.now(), levels=DEADLINE_LEVELS, state=state,
                                   overdue_only=overdue,
                                   processes=portal.app.processes.registry.names(referred=True))
        rows = access.visible(tx, who, rows)
    for row in rows:
        process = portal.app.processes.get(row["process"], row["process_version"])
        row["state_label"] = process.definition.state_label(row["state"])
    return rows


def _learning(portal: Portal, who: Visitor, state: str | None = None,
              theme: str | None = None, source: str | None = None) -> dict[str, Any]:
    """The learning register's records this person may see, by reference (in `state`,
    filed under `theme`, from `source`, where given: a value the register does not know is
    no filter), and whether they may register a review."""
    from lifecycle.core.judge import role_refusal
    from lifecycle.views.documents import iso
    from states.learning.v1 import SOURCES
    from storage import learning

    process = portal.app.processes.starting(LEARNING)
    lists = {"states": process.definition.states, "themes": process.config.themes,
             "sources": SOURCES}
    chosen = {"state": state if state in lists["states"] else None,
              "theme": theme if theme in lists["themes"] else None,
              "source": source if source in lists["sources"] else None}
    rows, untested = [], []
    with reading(portal.app.db()) as tx:
        def may_see(ref: str) -> bool:
            return access.may_see(tx, who, cases.load(tx, ref))

        for item in learning.register(tx, **chosen):
            if not may_see(item.ref):
                continue
            definition = portal.app.processes.get(item.definition,
                                                  item.definition_version).definition
            rows.append({"ref": item.ref, "title": item.title, "source": item.source,
                         "published_on": iso(item.published_on),
                         "state_label": definition.state_label(item.state),
                         "considered_on": iso(item.considered_on)})
        # Signed-off actions no audit has tested, of the cases and records this person
        # may see: where the board has not yet looked whether the learning took hold.
        seen: dict[str, bool] = {}
        for ref, name, a in learning.untested(tx):
            if seen.setdefault(ref, may_see(ref)):
                untested.append({"ref": ref, "pseudonym": name, "action": a.number,
                                 "agency": a.agency,
                                 "signed_off_on": (iso(a.signed_off_at) or "")[:10]})
    spec = process.definition.create
    return {"rows": rows, "untested": untested, "lists": lists, "chosen": chosen,
            "may_register": role_refusal(spec, _actor(who), None, {}) is None}


def _case(portal: Portal, who: Visitor, ref: str) -> dict[str, Any]:
    from lifecycle.views import documents

    with reading(portal.app.db()) as tx:
        case = _visible(tx, who, ref)
        process = portal.app.processes.of(case)
        doc = access.trimmed(who, documents.case_document(tx, process, case,
                                                          reader=_actor(who)))
        history = documents.history_document(tx, case)
    with reading(portal.app.db()) as tx:
        _, _, verdicts = portal.app.engine.verdicts(tx, ref, actor=_actor(who),
                                                    now=portal.now())
    actions = [v for v in verdicts if v.role.ok]
    recommended = next((h for h in reversed(history) if h["trigger"] == "recommend"), None)
    return {"doc": doc, "history": history, "actions": actions,
            "definition": process.definition, "recommended": recommended}


def _timeline(portal: Portal, who: Visitor, ref: str) -> str:
    from lifecycle.views.timeline import events, timeline_svg

    now, days = portal.now(), portal.settings.process.working_days
    with reading(portal.app.db()) as tx:
        case = _visible(tx, who, ref)
        found = events(tx, portal.app.processes.of(case), case, now=now, cal=days)
    doc = {"ref": case.ref, "pseudonym": case.pseudonym, "state": case.state,
           "now": now.isoformat(), "events": [e.as_dict() for e in found]}
    return timeline_svg(doc, days)


def _overdue(portal: Portal, who: Visitor) -> list[dict[str, Any]]:
    from lifecycle.views.overdue import overdue

    with reading(portal.app.db()) as tx:
        entries = overdue(tx, portal.app.processes, now=portal.now(), within=0,
                          cal=portal.settings.process.working_days)
        entries = access.visible(tx, who, entries)
    return entries


def _report(portal: Portal, first: str | None, last: str | None) -> dict[str, Any]:
    from lifecycle.views.report import Period, figures, parse_day

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
    name = request.query_params.get("process")
    version = request.query_params.get("version")
    if name is None:
        return portal.app.processes.starting().definition
    try:
        return portal.app.processes.registry.resolve(name, version)
    except InvalidInput:
        raise HTTPException(404) from None


def _trigger_of(tx: Any, portal: Portal, who: Visitor, ref: str, trigger: str) -> Any:
    """The case (if this person may see it), its process, the trigger (one a person fires:
    else 404) and the case's snapshot."""
    case = _visible(tx, who, ref)
    process = portal.app.processes.of(case)
    spec = process.definition.trigger(trigger)
    if spec is None or spec is process.definition.create or spec.system_only:
        raise HTTPException(404)
    return case, process, spec, cases.snapshot(tx, case)


def _trigger_form(portal: Portal, who: Visitor, ref: str, trigger: str,
                  **shown: Any) -> dict[str, Any]:
    from lifecycle.core.judge import judge

    with reading(portal.app.db()) as tx:
        case, process, spec, snapshot = _trigger_of(tx, portal, who, ref, trigger)
        verdict = judge(process, snapshot, spec, actor=_actor(who), values={}, reason=None,
                        now=portal.now(), with_input=False, judge_scope=False)
    form = forms.build(spec, process.config.agencies, process.config.themes,
                       values=shown.get("values"), errors=shown.get("errors"),
                       reason=shown.get("reason", ""))
    return {"title": f"{spec.label}: {ref}", "ref": ref, "pseudonym": case.pseudonym,
            "spec": spec, "form": form, "verdict": verdict, "version": case.version,
            "state_label": process.definition.state_label(case.state),
            "summary_errors": shown.get("summary_errors", []),
            "changed": shown.get("changed", False)}


def _fire(portal: Portal, who: Visitor, ref: str, trigger: str, posted: Any) -> dict[str, Any]:
    from lifecycle.views.why import judge_params

    with reading(portal.app.db()) as tx:
        _, process, spec, snapshot = _trigger_of(tx, portal, who, ref, trigger)
    raw = forms.submitted(spec, posted)
    reason = str(posted.get("reason") or "").strip() or None
    try:
        expect = int(str(posted.get("if_version") or ""))
    except ValueError:
        expect = None
    _, checks = judge_params(spec, raw, process.config, portal.now(), snapshot)
    errors = _field_errors(checks)
    again = {"values": forms.shown_values(spec, raw), "reason": reason or ""}
    if errors:
        shown = _trigger_form(portal, who, ref, trigger, errors=errors, **again,
                              summary_errors=_summary(errors))
        return {**shown, "status": 400}
    try:
        with transaction(portal.app.db()) as tx:
            portal.app.engine.fire(tx, ref, trigger, actor=_actor(who), params=raw,
                                   reason=reason, now=portal.now(), expect_version=expect)
    except Conflict:
        shown = _trigger_form(portal, who, ref, trigger, changed=True, **again)
        return {**shown, "status": 409}
    except Refused as exc:
        reasons = list(exc.reasons) or [str(exc)]
        problems = {"reason": "Give a reason"} if "reason" in exc.fields else {}
        shown = _trigger_form(portal, who, ref, trigger, errors=problems, **again,
                              summary_errors=[{"text": r, "href": "#reason"
                                               if r in exc.fields.values()
                                               else "#main-content"} for r in reasons])
        return {**shown, "status": 422}
    except InvalidInput as exc:
        shown = _trigger_form(portal, who, ref, trigger, **again,
                              summary_errors=[{"text": str(exc), "href": "#main-content"}])
        return {**shown, "status": 400}
    return {"done": True}


def _summary(errors: dict[str, str]) -> list[dict[str, str]]:
    """The error summary's entries, each linking to its field."""
    return [{"text": f"{forms.words(k)}: {v}", "href": f"#{k}"} for k, v in errors.items()]


def _register_form(portal: Portal, who: Visitor, **shown: Any) -> dict[str, Any]:
    """The form registering a review from elsewhere (the learning process's creating
    trigger), and why this person may not, if they may not."""
    from lifecycle.core.judge import role_refusal

    process = portal.app.processes.starting(LEARNING)
    spec = process.definition.create
    refusal = role_refusal(spec, _actor(who), None, {})
    form = forms.build(spec, process.config.agencies, process.config.themes,
                       values=shown.get("values"), errors=shown.get("errors"))
    return {"title": "Register a review", "spec": spec, "form": form,
            "reasons": [refusal] if refusal else [],
            "summary_errors": shown.get("summary_errors", [])}


def _field_errors(checks: list[dict[str, Any]]) -> dict[str, str]:
    """Each parameter's problem (views.why.judge_params's checks), by field."""
    return {c["param"]: _said(c["param"], c["reason"]) for c in checks if c.get("reason")}


def _said(name: str, message: str) -> str:
    """A parameter's problem as its field shows it: the field's own label says which, so
    the message does not name the parameter again ("themes: unknown value ..." is shown
    by Themes as "Unknown value ...")."""
    said = message.removeprefix(f"{name}: ")
    return said[:1].upper() + said[1:]


def _register(portal: Portal, who: Visitor, posted: Any) -> dict[str, Any]:
    """Register the review posted, through the engine as the person signed in: the new
    record's reference, or the form again with what is wrong."""
    from lifecycle.views.why import judge_params

    process = portal.app.processes.starting(LEARNING)
    spec = process.definition.create
    raw = forms.submitted(spec, posted)
    again = {"values": forms.shown_values(spec, raw)}
    _, checks = judge_params(spec, raw, process.config, portal.now(), None)
    errors = _field_errors(checks)
    if errors:
        shown = _register_form(portal, who, errors=errors, summary_errors=_summary(errors),
                               **again)
        return {**shown, "status": 400}
    try:
        with transaction(portal.app.db()) as tx:
            case = portal.app.engine.refer(tx, actor=_actor(who), params=raw,
                                           now=portal.now(), process_name=LEARNING)
    except Refused as exc:
        shown = _register_form(portal, who, **again, summary_errors=[
            {"text": r, "href": "#main-content"} for r in list(exc.reasons) or [str(exc)]])
        return {**shown, "status": 422}
    except InvalidInput as exc:
        shown = _register_form(portal, who, **again,
                               summary_errors=[{"text": str(exc), "href": "#main-content"}])
        return {**shown, "status": 400}
    return {"done": case.ref, "trigger": spec.name}


INBOX_SIZE = 20  # the most urgent cases an inbox shows (the rest: /cases, /overdue)


def _inbox(portal: Portal, who: Visitor) -> list[dict[str, Any]]:
    """What this person may do now, on the cases they may see, most urgent first: for the
    INBOX_SIZE most urgent cases in a state where one of their roles may act, each trigger
    they may fire there now (the judge's verdict, before any input), and the case's next
    deadline."""
    from lifecycle.core.judge import judge_all

    actor = _actor(who)
    processes = portal.app.processes
    states = sorted({state for process in processes.every()
                     for state in process.definition.states
                     if state not in process.definition.finals
                     and _acts_in(process, state, who.roles)})
    from lifecycle.core import notify
    from lifecycle.core.arming import label
    from storage import timers

    now = portal.now()
    items: list[dict[str, Any]] = []
    with reading(portal.app.db()) as tx:
        people = notify.directory(tx)

        def hidden(case: cases.CaseRecord) -> bool:
            return not access.may_see(tx, who, case)

        for case, due in cases.most_urgent(tx, states, limit=INBOX_SIZE, skip=hidden):
            process = processes.of(case)
            snapshot = cases.snapshot(tx, case)
            mine = [v for v in judge_all(process, snapshot, actor=actor, now=now)
                    if v.role.ok and not v.guard_reasons]
            # The deadlines whose reminders and escalations go to this person.
            named = []
            for timer in sorted(timers.pending(tx, case.id), key=lambda t: t.due_at):
                spec = process.definition.timer(timer.ladder)
                level = spec.level(timer.level) if spec else None
                if level is None or timer.state != case.state:
                    continue
                told = notify.resolve(people, level.notify, snapshot, {},
                                      action_number=int(timer.key) if timer.key else None)
                if any(r.email == who.user.email for r in told):
                    named.append({"label": label(process.definition, timer),
                                  "due": timer.due_at.isoformat(),
                                  "overdue": timer.due_at <= now})
            if mine or named:
                items.append({"ref": case.ref, "pseudonym": case.pseudonym,
                              "state_label": process.definition.state_label(case.state),
                              "due": due.isoformat() if due else None,
                              "overdue": due is not None and due <= now, "triggers": mine,
                              "deadlines": named[:3]})
    return items


def _acts_in(process: Any, state: str, roles: frozenset[str]) -> bool:
    for name in process.machine.triggers_from(state):
        spec = process.definition.trigger(name)
        if spec is not None and not spec.system_only and \
                any(r.role in roles for r in spec.roles):
            return True
    return False


def create_app(settings: Settings) -> Starlette:
    """The portal for these settings (the database must be initialised: scr init)."""
    portal = Portal(settings)
    portal.app.db()  # fail at start, not at the first request, on a missing schema
    app = Starlette(routes=routes(portal), exception_handlers={
        HTTPException: _error_page(portal), Exception: _error_page(portal)},
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=security_headers(portal))])
    app.state.portal = portal
    return app


def _error_page(portal: Portal) -> Callable[..., Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            if exc.status_code == 303 and exc.headers:
                return RedirectResponse(exc.headers["Location"], status_code=303)
            status = exc.status_code
        else:
            log.get().error("web.error", error=exc.__class__.__name__)
            status = 500
        titles = {403: "Forbidden", 404: "Page not found", 405: "Not allowed",
                  500: "Sorry, there is a problem with the service"}
        detail = exc.detail if isinstance(exc, HTTPException) and status == 403 else None
        if not hasattr(request.state, "form_token"):
            request.state.form_token = secrets.token_urlsafe(32)
        return portal.page(request, "error.html", None, status=status,
                           title=titles.get(status, "Error"), detail=detail, code=status)

    return handler
