"""Browser tests: Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SCIENCECITY_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium and chromium-driver")
        pytest.skip("Chromium is not installed (Debian packages chromium, chromium-driver); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Every page reports Content-Security-Policy violations to the test through a binding that
# survives navigation; Chromium's console message is a second witness (it is logged even when
# the page navigates away before the event is handled).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation({directive: e.effectiveDirective, blocked: e.blockedURI, document: e.documentURI,
                         source: e.sourceFile, line: e.lineNumber, sample: e.sample, disposition: e.disposition});
});
"""


class CspViolations(list):
    """The violations seen by a page; a test that provokes one on purpose clears the list."""

    def expect_none(self) -> None:
        assert not self, "Content-Security-Policy violations:\n" + "\n".join(map(str, self))


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    violations = CspViolations()
    context.expose_binding("__cspViolation", lambda source, details: violations.append(details))
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    page.on("console", lambda message: violations.append({"console": message.text})
            if "Content Security Policy" in message.text else None)
    page.set_default_timeout(15000)
    page.base_url = live_server.url
    page.csp_violations = violations
    yield page
    context.close()
    violations.expect_none()  # every browser test fails on any CSP violation


def login(page, username: str, password: str) -> None:
    """Log in through the login page, and do the real second step when the platform asks for it:
    on the setup page read the secret shown as text and type the code an authenticator app would
    show; on the code page type the code for the stored device (``tests.two_factor_helpers``)."""
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    second_factor(page, username)


def second_factor(page, username: str) -> None:
    """Complete the 2FA page the browser is on, if any (setup or code); otherwise do nothing."""
    from sciencecity.accounts.models import User
    from sciencecity.engines import totp
    from tests.two_factor_helpers import RECOVERY_CODES, next_code

    if "/accounts/two-factor/setup/" in page.url:
        secret = page.input_value("[data-testid=two-factor-secret]")
        page.fill("input[name=code]", totp.totp(secret))
        page.click("[data-testid=two-factor-confirm]")
        codes = page.locator("[data-testid=recovery-codes] code").all_inner_texts()
        RECOVERY_CODES[User.objects.get(username=username).pk] = codes
        with page.expect_navigation():
            page.click("[data-testid=recovery-codes-done]")
    elif "/accounts/two-factor/verify/" in page.url:
        page.fill("input[name=code]", next_code(User.objects.get(username=username)))
        with page.expect_navigation():
            page.click("[data-testid=two-factor-verify]")


def reauthenticate(page, username: str, password: str, *, leads_to_page: bool = True) -> None:
    """Confirm identity on the re-authentication page the browser is on (password, and the code when enrolled).
    ``leads_to_page`` False: the confirmation goes on to a download, not a page; the caller waits for it."""
    from sciencecity.accounts.models import User
    from tests.two_factor_helpers import next_code

    assert "/accounts/reauthenticate/" in page.url, page.url
    page.fill("input[name=password]", password)
    if page.locator("input[name=code]").count():
        page.fill("input[name=code]", next_code(User.objects.get(username=username)))
    if not leads_to_page:
        page.click("[data-testid=reauthenticate-submit]")
        return
    with page.expect_navigation():
        page.click("[data-testid=reauthenticate-submit]")


def nav_to(page, group: str | None, entry: str) -> None:
    """Follow a main-navigation entry by clicking, as a user does: when the entry is filed under a menu
    group (the header's drop-downs), open the group's button first. ``group`` None: a top-level link."""
    nav = page.locator(".site-nav")
    if group:
        button = nav.locator(f"button.nav-group-toggle:text-is('{group}')")
        # a group with one entry the user can see is that entry's plain link
        if button.count() and button.get_attribute("aria-expanded") != "true":
            button.click()
    with page.expect_navigation():
        nav.locator(f"a:text-is('{entry}')").click()
