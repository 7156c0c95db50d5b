"""`scr web`: the portal, an ASGI application (Starlette) served by uvicorn.

Every participant signs in from a link in their e-mail (lifecycle/web/identity.py) and acts
from their own inbox, in GOV.UK Design System pages (the `govuk-frontend` assets and the
`govuk-frontend-jinja` macros, without the GOV.UK crown or name: the pages carry the
board's name). Every page is a plain URL that works without JavaScript; every change goes
through the same engine as the command line and the shell, as the person signed in.

This module composes the portal; the pages live by concern, each module with its routes:
signin.py (signing in and out), casework.py (the inbox, cases, their forms, what is
overdue), learning.py (the learning register), board.py (the report, the lifecycle).
Who is signed in is middleware on the routes that want a person (auth.py).

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

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from scr.lifecycle import log
from scr.lifecycle.settings import Settings
from scr.lifecycle.web import board, casework, learning, people_page, referral, signin
from scr.lifecycle.web.portal import STATIC, Portal, secure

FORM_COOKIE = "scr_form"  # the double-submit token of the forms shown before sign-in
TITLES = {403: "Forbidden", 404: "Page not found", 405: "Not allowed",
          500: "Sorry, there is a problem with the service"}


def create_app(settings: Settings) -> Starlette:
    """The portal for these settings (the database must be initialised: scr init)."""
    portal = Portal(settings)
    portal.app.db()  # fail at start, not at the first request, on a missing schema
    app = Starlette(routes=routes(), exception_handlers={
        HTTPException: _error_page(portal), Exception: _error_page(portal)},
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=security_headers(portal))])
    app.state.portal = portal
    return app


def routes() -> list[BaseRoute]:
    """Every page module's routes, and the GOV.UK assets."""
    return [*signin.routes, *referral.routes, *casework.routes, *learning.routes,
            *board.routes, *people_page.routes,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static")]


def security_headers(portal: Portal) -> Callable[..., Awaitable[Response]]:
    """Every response's security headers (portal.secure), the form cookie's double-submit
    token for the forms shown before sign-in, and the access log's line."""

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


def _error_page(portal: Portal) -> Callable[..., Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status = exc.status_code
        else:
            log.get().error("web.error", error=exc.__class__.__name__)
            status = 500
        detail = exc.detail if isinstance(exc, HTTPException) and status == 403 else None
        if not hasattr(request.state, "form_token"):
            request.state.form_token = secrets.token_urlsafe(32)
        return portal.page(request, "error.html", None, status=status,
                           title=TITLES.get(status, "Error"), detail=detail, code=status)

    return handler
