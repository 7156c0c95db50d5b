"""Who is this: the person signed in, for the pages that want one.

- `Sessions`, an AuthenticationBackend for Starlette's AuthenticationMiddleware, reads the
  session cookie exactly as identity.visitor does (its idle timeout, absolute lifetime and
  inactive users; a live session's idle clock restarted): `request.user` is then the
  Visitor and `request.auth.scopes` are "authenticated" and the person's roles; without a
  live session, Starlette's UnauthenticatedUser with no scope.
- `SESSION` is that middleware for a route: a page module gives it to each route that wants
  a person (`Route(..., middleware=auth.SESSION)`). It is not put around the whole
  application, so the sign-in pages, the GOV.UK assets and a 404 or a 405 read no session:
  none of them restarts a session's idle clock or ends an expired one.
- `signed_in` is the guard on each of those endpoints: a visitor with no live session is
  sent to sign in (303 to /sign-in).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
    has_required_scope,
)
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from scr.lifecycle.web import identity
from scr.lifecycle.web.portal import Portal

AUTHENTICATED = "authenticated"
SIGN_IN = "/sign-in"

Endpoint = Callable[[Request], Awaitable[Response]]


class Sessions(AuthenticationBackend):
    """The person of the request's session (identity.SESSION_COOKIE), if it is live."""

    async def authenticate(self, conn: HTTPConnection
                           ) -> tuple[AuthCredentials, BaseUser] | None:
        portal = Portal.of(conn)
        who = await run_in_threadpool(identity.visitor, portal.app.db(), portal.settings,
                                      conn.cookies.get(identity.SESSION_COOKIE), portal.now())
        if who is None:
            return None
        return AuthCredentials([AUTHENTICATED, *sorted(who.roles)]), who


SESSION = [Middleware(AuthenticationMiddleware, backend=Sessions())]


def signed_in(endpoint: Endpoint) -> Endpoint:
    """The endpoint, for a person signed in only: anyone else is sent to sign in.

    Starlette's `requires("authenticated", redirect=...)` does not fit: it answers with the
    absolute address of the named route plus `?next=` and the whole address asked for (a
    case's reference, a trigger), which would then stand in the sign-in page's address and
    the browser's history, though the portal's sign-in (an e-mailed link, or the board's
    provider) always ends at the inbox; without `redirect` it raises a bare HTTPException
    (403) with no Location. The portal answers as it always has: 303 to /sign-in."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not has_required_scope(request, [AUTHENTICATED]):
            return RedirectResponse(SIGN_IN, status_code=303)
        return await endpoint(request)

    return guarded
