"""A real browser against the portal: Debian's headless Chromium driven by Playwright's
sync API (no `playwright install`: the browser is the system's /usr/bin/chromium), and
axe-core (vendored in tests/web/axe/) to check pages against WCAG 2.2 A and AA.

Without the browser or Playwright the browser tests skip, except under CI=true, where
they fail: CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

    from tests.web.conftest import Site

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "axe" / "axe.min.js"
WCAG = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")  # WCAG 2.2 A and AA
MISSING = "no browser: apt-get install chromium and pip install playwright"
TIMEOUT_MS = 5_000  # a page of this portal answers in milliseconds: fail fast, not in 30 s


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    problems = []
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} not found")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("playwright is not installed")
    return f"{MISSING} ({'; '.join(problems)})" if problems else None


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def skip_module_unless_available() -> None:
    """At a test module's top, before it imports Playwright: skip the module when the
    browser or Playwright is missing. Not under CI=true: there the module is collected and
    each of its tests fails (fail_if_missing, in the browser fixture), without a collection
    error stopping the rest of the suite."""
    why = missing()
    if why and not under_ci():
        pytest.skip(why, allow_module_level=True)


def fail_if_missing() -> None:
    why = missing()
    if why:
        pytest.fail(f"CI=true and {why}" if under_ci() else why, pytrace=False)


def launch(p: Playwright) -> Browser:
    """Debian's Chromium, headless. --no-sandbox: the tests run as root in a container,
    where Chromium's sandbox cannot start; the pages are the test's own portal."""
    return p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)


# ---------------------------------------------------------------- console watching
@dataclass
class Console:
    """What the browser complained about on a page: script errors, and console errors
    (a resource the Content-Security-Policy refused, a stylesheet or script that did not
    load)."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.errors.append(f"script error: {exc}"))
        page.on("console", lambda msg: self.errors.append(f"console {msg.type}: {msg.text}"
                                                          f" ({msg.location.get('url')})")
                if msg.type == "error" else None)
        return page

    def assert_clean(self) -> None:
        assert not self.errors, "the browser reported:\n  " + "\n  ".join(self.errors)


# ------------------------------------------------------------------------ signing in
def sign_in(page: Page, site: Site, email: str,
            check: Callable[[str], None] | None = None) -> None:
    """Sign in as `email` as a person would: type the address, press the button, open the
    link from the maildir, press "Sign in"; ends on the inbox. `check(name)` is called on
    each page on the way ("sign-in", "check your e-mail", "sign-in link")."""
    from playwright.sync_api import expect

    look = check or (lambda _name: None)
    page.goto(f"{site.url}/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    look("sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    look("check your e-mail")
    page.goto(site.sign_in_link(email))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign in as")
    look("sign-in link")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{site.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My inbox")


# ---------------------------------------------------------------------------- axe
def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 A and AA violations on the page as it is now.

    The page must be in a context made with bypass_csp=True: the portal's
    Content-Security-Policy (script-src 'self') rightly refuses the inline <script> that
    add_script_tag injects. Only the axe runs use such a context; the tests of what people
    do run under the real policy."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(WCAG))
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """Each violation: its rule id, impact, help, the first node's target (and how many
    nodes), and what axe says to fix on that node."""
    lines = []
    for v in violations:
        nodes = v.get("nodes") or [{}]
        first = nodes[0]
        lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')}\n"
                     f"    first node: {first.get('target')} of {len(v.get('nodes') or [])}"
                     f"\n    html: {(first.get('html') or '')[:200]}"
                     f"\n    fix: {(first.get('failureSummary') or '').replace(chr(10), ' ')}"
                     f"\n    see: {v.get('helpUrl')}")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str) -> None:
    violations = axe(page)
    if violations:
        report = describe(violations)
        print(f"\naxe: {len(violations)} WCAG 2.2 A/AA violation(s) on {name} "
              f"({page.url}):\n{report}")
        pytest.fail(f"axe-core finds WCAG 2.2 A/AA violations on {name} ({page.url}):\n"
                    f"{report}", pytrace=False)
