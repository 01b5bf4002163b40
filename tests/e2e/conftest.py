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


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base_url = live_server.url
    yield page
    context.close()


def login(page, username: str, password: str) -> None:
    """Log in through the login page, and do the real second step when the platform asks for it:
    on the setup page read the secret shown as text and type the code an authenticator app would
    show; on the code page type the code for the stored device (``tests.two_factor_helpers``)."""
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
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
        page.click("[data-testid=recovery-codes-done]")
        page.wait_for_load_state("networkidle")
    elif "/accounts/two-factor/verify/" in page.url:
        page.fill("input[name=code]", next_code(User.objects.get(username=username)))
        page.click("[data-testid=two-factor-verify]")
        page.wait_for_load_state("networkidle")
