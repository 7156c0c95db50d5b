"""Signing in and out: by a link e-mailed to the person (lifecycle/web/identity.py), or
through the board's OpenID Connect provider (lifecycle/web/oidc.py, `[web.oidc]`).

The sign-in pages are shown before anyone is signed in: their forms carry the
double-submit token of the form cookie (app.py), and they read no session. Signing out is
for a person signed in, with their session's token.
"""

from __future__ import annotations

from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scr.lifecycle.web import auth, identity
from scr.lifecycle.web.portal import Portal, checked_form

OIDC_COOKIE = "scr_oidc"  # binds the browser to its OpenID Connect sign-in attempt
OIDC_PATH = "/sign-in/oidc"  # the cookie's path: the start and the provider's answer


async def sign_in_form(request: Request) -> Response:
    portal = Portal.of(request)
    return portal.page(request, "sign_in.html", None, title="Sign in",
                       oidc=portal.settings.web.oidc)


async def sign_in_post(request: Request) -> Response:
    portal = Portal.of(request)
    form = await checked_form(request, request.state.form_token)
    email = str(form.get("email") or "").strip()
    if not email or "@" not in email or len(email) > 254:
        return portal.page(request, "sign_in.html", None, status=400, title="Sign in",
                           email=email, error="Enter your e-mail address, like "
                           "name@example.org")
    try:
        await run_in_threadpool(identity.request_link, portal.app.db(), portal.settings,
                                email=email, client=_client(request), now=portal.now(),
                                render=portal.sign_in_mail)
    except identity.TooMany:
        return portal.page(request, "sign_in_sent.html", None, status=429,
                           title="Too many requests", too_many=True)
    return portal.page(request, "sign_in_sent.html", None, title="Check your e-mail",
                       minutes=int(portal.settings.web.link_minutes))


async def link_page(request: Request) -> Response:
    """The link's page: whom it signs in, and the one click that does (a GET signs nobody
    in, so a mail scanner fetching the link uses nothing)."""
    portal = Portal.of(request)
    view = await run_in_threadpool(identity.look_at_link, portal.app.db(),
                                   request.path_params["token"], portal.now())
    return portal.page(request, "sign_in_link.html", None, title="Sign in",
                       view=view, status=200 if view.ok else 410)


async def link_post(request: Request) -> Response:
    portal = Portal.of(request)
    await checked_form(request, request.state.form_token)
    started = await run_in_threadpool(identity.complete_sign_in, portal.app.db(),
                                      portal.settings, request.path_params["token"],
                                      now=portal.now(), client=_client(request))
    if started is None:
        view = identity.LinkView(False, problem="This sign-in link cannot be used: it "
                                 "has been used already, or it has expired.")
        return portal.page(request, "sign_in_link.html", None, title="Sign in",
                           view=view, status=410)
    return _with_session(RedirectResponse("/", status_code=303), portal, started)


async def oidc_start(request: Request) -> Response:
    from scr.lifecycle.web import oidc

    portal = Portal.of(request)
    settings = portal.settings.web.oidc
    if settings is None:
        raise HTTPException(404)
    try:
        provider = await run_in_threadpool(portal.provider)
    except oidc.OidcError as exc:
        return portal.page(request, "sign_in_link.html", None, status=502, title="Sign in",
                           view=identity.LinkView(False, problem=str(exc)))
    started = oidc.start(provider, settings, redirect_uri=_oidc_callback(portal),
                         key=portal.oidc_key, now=portal.now())
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(OIDC_COOKIE, started.cookie, httponly=True, samesite="lax",
                        secure=portal.settings.web.secure, path=OIDC_PATH,
                        max_age=oidc.COOKIE_SECONDS)
    return response


async def oidc_finish(request: Request) -> Response:
    from scr.lifecycle.web import oidc

    portal = Portal.of(request)
    settings = portal.settings.web.oidc
    if settings is None:
        raise HTTPException(404)
    now, db = portal.now(), portal.app.db()
    try:
        email = await run_in_threadpool(
            lambda: oidc.finish(portal.provider(), settings, query=dict(request.query_params),
                                cookie=request.cookies.get(OIDC_COOKIE),
                                redirect_uri=_oidc_callback(portal), key=portal.oidc_key,
                                now=now))
    except oidc.OidcError as exc:
        why = str(exc)
        await run_in_threadpool(partial(identity.failed, db, method="oidc", why=why, now=now))
        return _refused(request, portal, 400, identity.LinkView(False, problem=why))
    started = await run_in_threadpool(
        lambda: identity.sign_in_as(db, portal.settings, email, method="oidc", now=now))
    if started is None:
        return _refused(request, portal, 403, identity.LinkView(
            False, problem="The board has no user with the address your organisation's "
            "account gave. Ask the business manager to check the address they hold for you."))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(OIDC_COOKIE, path=OIDC_PATH)
    return _with_session(response, portal, started)


@auth.signed_in
async def sign_out(request: Request) -> Response:
    portal, who = Portal.of(request), request.user
    await checked_form(request, who.csrf_token)
    await run_in_threadpool(identity.sign_out, portal.app.db(), who, portal.now())
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(identity.SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/sign-in", sign_in_form, methods=["GET"]),
    Route("/sign-in", sign_in_post, methods=["POST"]),
    Route(OIDC_PATH, oidc_start, methods=["GET"]),
    Route(f"{OIDC_PATH}/callback", oidc_finish, methods=["GET"]),
    Route("/sign-in/{token}", link_page, methods=["GET"]),
    Route("/sign-in/{token}", link_post, methods=["POST"]),
    Route("/sign-out", sign_out, methods=["POST"], middleware=auth.SESSION),
]


# ------------------------------------------------------------------------ helpers
def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _oidc_callback(portal: Portal) -> str:
    return f"{portal.settings.web.base_url}{OIDC_PATH}/callback"


def _refused(request: Request, portal: Portal, status: int, view: identity.LinkView
             ) -> Response:
    """The provider's answer refused: why, and the attempt's cookie gone (each is used
    once)."""
    refused = portal.page(request, "sign_in_link.html", None, status=status, title="Sign in",
                          view=view)
    refused.delete_cookie(OIDC_COOKIE, path=OIDC_PATH)
    return refused


def _with_session(response: Response, portal: Portal, started: identity.Started) -> Response:
    """The response, carrying the new session's cookie (HttpOnly, SameSite=Lax, Secure
    behind TLS, for the session's lifetime)."""
    response.set_cookie(identity.SESSION_COOKIE, started.cookie, httponly=True,
                        samesite="lax", secure=portal.settings.web.secure, path="/",
                        max_age=int(portal.settings.web.session_hours * 3600))
    return response
