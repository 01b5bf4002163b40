"""An administrator's first login in a real browser: password change, TOTP enrolment, a recovery code."""

from playwright.sync_api import expect

from sciencecity.accounts.models import User
from sciencecity.accounts.services import administrators_bootstrap
from sciencecity.core.models import AuditEvent
from sciencecity.engines import totp
from tests.e2e.conftest import login

NEW_PASSWORD = "Guangming#2025ok"


def _logout(page):
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").first.click()


def _password_only(page, username, password):
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_administrator_first_login_enrols_and_a_recovery_code_works_once(page, transactional_db):
    created = {username: password for username, _role, password in administrators_bootstrap()}
    one_time = created["secadmin"]

    # 1. The one-time password leads to the password change, every page insists.
    _password_only(page, "secadmin", one_time)
    assert "/accounts/password/" in page.url
    page.goto(f"{page.base_url}/registry/organisations/")
    assert "/accounts/password/" in page.url
    page.fill("input[name=old_password]", one_time)
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=new_password_again]", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")

    # 2. Then enrolment, and nothing else: the QR code is drawn, the secret is readable as text.
    assert "/accounts/two-factor/setup/" in page.url
    page.goto(f"{page.base_url}/accounts/roles/")
    assert "/accounts/two-factor/setup/?next=" in page.url
    page.goto(f"{page.base_url}/accounts/two-factor/setup/")
    assert page.locator("[data-testid=two-factor-qr] svg").count() == 1
    secret = page.input_value("[data-testid=two-factor-secret]")
    assert len(secret) == 32

    # A wrong code is refused.
    right = totp.totp(secret)
    page.fill("input[name=code]", "000000" if right != "000000" else "111111")
    with page.expect_navigation():
        page.click("[data-testid=two-factor-confirm]")
    assert "/accounts/two-factor/setup/" in page.url
    assert page.locator("input[name=code][aria-invalid=true], .errorlist, [role=alert]").count() >= 1
    assert not User.objects.get(username="secadmin").totp_enabled

    # The code an authenticator app would show is accepted: ten recovery codes, shown once.
    page.fill("input[name=code]", totp.totp(secret))
    with page.expect_navigation():
        page.click("[data-testid=two-factor-confirm]")
    codes = page.locator("[data-testid=recovery-codes] code").all_inner_texts()
    assert len(codes) == 10
    with page.expect_navigation():
        page.click("[data-testid=recovery-codes-done]")
    assert page.url.rstrip("/") == page.base_url  # the home page
    expect(page.locator("[data-testid=user-menu]")).to_be_visible()
    assert User.objects.get(username="secadmin").totp_enabled

    # 3. Next login: the code page; a recovery code works once.
    _logout(page)
    _password_only(page, "secadmin", NEW_PASSWORD)
    assert "/accounts/two-factor/verify/" in page.url
    page.fill("input[name=code]", codes[0])
    with page.expect_navigation():
        page.click("[data-testid=two-factor-verify]")
    assert page.url.rstrip("/") == page.base_url
    assert "9" in page.locator("[role=alert], .flash").first.inner_text()

    _logout(page)
    _password_only(page, "secadmin", NEW_PASSWORD)
    page.fill("input[name=code]", codes[0])
    with page.expect_navigation():
        page.click("[data-testid=two-factor-verify]")
    assert "/accounts/two-factor/verify/" in page.url  # used: refused
    page.goto(f"{page.base_url}/accounts/roles/")
    assert "/accounts/two-factor/verify/" in page.url

    # 4. The login helper of the browser tests does the same second step with the stored device.
    _logout(page)
    login(page, "secadmin", NEW_PASSWORD)
    page.goto(f"{page.base_url}/accounts/roles/")
    assert "/accounts/roles/" in page.url

    actions = list(AuditEvent.objects.filter(actor_username="secadmin").values_list("action", flat=True))
    for action in ("two_factor_failed", "two_factor_enrol", "recovery_code_use", "two_factor_verify"):
        assert action in actions, action
