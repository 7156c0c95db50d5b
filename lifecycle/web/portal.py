"""What every page of the portal shares: the Portal (the settings, the application, the
templates), the page it renders, the security headers every response carries, and the
CSRF check of a posted form.

A page module (signin, casework, learning, board) holds its routes and their endpoints;
an endpoint finds the Portal with `Portal.of(request)`, and the person signed in, where the
page wants one, as `request.user` (lifecycle/web/auth.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response

from scr.lifecycle.application import Application
from scr.lifecycle.settings import Settings
from scr.lifecycle.web import forms, identity
from scr.lifecycle.web.identity import Visitor
from scr.states.enums import Role

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")
# The header's navigation for a person signed in: (address, words).
NAVIGATION = (("/", "My inbox"), ("/cases", "Cases"), ("/learning", "Learning register"),
              ("/overdue", "Overdue"), ("/report", "Report"), ("/lifecycle", "The lifecycle"))
# And for a business manager: the board's people (lifecycle/web/people_page.py).
MANAGING = (("/people", "People"),)


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([
            PackageLoader("scr.lifecycle.web", "templates"),
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

    @staticmethod
    def of(request: HTTPConnection) -> Portal:
        """The portal serving this request (create_app keeps it in the app's state)."""
        portal: Portal = request.app.state.portal
        return portal

    @property
    def settings(self) -> Settings:
        """The application's settings: one clock for the pages and what they fire."""
        return self.app.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.app.settings = value

    def now(self) -> datetime:
        return self.app.now()

    # ------------------------------------------------------------------ rendering
    def page(self, request: Request, template: str, who: Visitor | None, *,
             status: int = 200, **context: Any) -> Response:
        csrf = who.csrf_token if who else request.state.form_token
        path = request.url.path
        shown = [*NAVIGATION, *(MANAGING if who is not None
                                and Role.BUSINESS_MANAGER in who.user.roles else ())]
        nav = [] if who is None else [
            {"href": href, "text": text, "active": path == href or
             (href != "/" and path.startswith(href))} for href, text in shown]
        html = self.env.get_template(template).render(
            board_name=self.settings.board.name, user=who.user if who else None,
            csrf_token=csrf, navigation=nav, **context)
        # Set here too: an error page made outside the middleware (a 500) carries them.
        return secure(HTMLResponse(html, status_code=status), self.settings)

    def picture(self, svg: str) -> Response:
        """An SVG picture (a timeline, the lifecycle), with the security headers."""
        return secure(Response(svg, media_type="image/svg+xml"), self.settings)

    def provider(self) -> Any:
        from scr.lifecycle.web import oidc

        if self._provider is None:
            self._provider = oidc.discover(self.settings.web.oidc)
        return self._provider

    def sign_in_mail(self, url: str, minutes: float, board_name: str) -> tuple[str, str, str]:
        context = {"url": url, "minutes": int(minutes), "board_name": board_name}
        text = self.env.get_template("mail/sign_in.txt").render(context)
        html = self.env.get_template("mail/sign_in.html").render(context)
        return f"Sign in to {board_name} case reviews", text, html


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


async def checked_form(request: Request, expected: str) -> FormData:
    """The posted form, after its CSRF token: 403 when it is missing or wrong. `expected`
    is the session's token for a person signed in, else the double-submit cookie's."""
    form = await request.form()
    if not identity.same(str(form.get("csrf_token") or ""), expected):
        raise HTTPException(403, "The form had expired or did not come from this site.")
    return form
