"""三员分立 in the browser: the security administrator requests a password reset of the audit
administrator, the system administrator approves it and reads the one-time password once, and the
audit administrator logs in with it and must change it."""

from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, nav_to


def _logout(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()


def test_two_people_reset_an_administrator_password(page, transactional_db):
    make_user(Role.SYSTEM_ADMIN, username="sysadmin")
    make_user(Role.SECURITY_ADMIN, username="secadmin")
    auditadmin = make_user(Role.AUDIT_ADMIN, username="auditadmin")

    # The system administrator alone is not offered a reset of another administrator.
    login(page, "sysadmin", PASSWORD)
    page.goto(f"{page.base_url}/accounts/users/{auditadmin.pk}/")
    expect(page.locator("[data-testid=user-two-person]")).to_be_visible()
    assert page.locator("[data-testid=user-reset-password]").count() == 0
    _logout(page)

    # The security administrator requests it.
    login(page, "secadmin", PASSWORD)
    nav_to(page, "系统管理", "管理员账户")
    page.select_option("select[name=target]", str(auditadmin.pk))
    page.select_option("select[name=kind]", "reset_password")
    page.fill("input[name=reason]", "手机丢失")
    with page.expect_navigation():
        page.click("[data-testid=admin-change-request]")
    row = page.locator("[data-testid=admin-change-table] tbody tr").first
    assert "auditadmin" in row.inner_text() and "待审批" in row.inner_text()
    assert row.locator("button", has_text="批准并执行").count() == 0  # not the requester
    _logout(page)

    # The system administrator approves and reads the one-time password.
    login(page, "sysadmin", PASSWORD)
    page.goto(f"{page.base_url}/accounts/administrators/")
    with page.expect_navigation():
        page.locator("[data-testid^=admin-change-approve-]").first.click()
    password = page.locator("[data-testid=one-time-password]").input_value()
    assert len(password) == 16
    with page.expect_navigation():
        page.click("[data-testid=admin-change-list-link]")
    assert "已批准并执行" in page.locator("[data-testid=admin-change-table] tbody tr").first.inner_text()
    _logout(page)

    # The old password no longer works; the new one does and must be changed.
    login(page, "auditadmin", PASSWORD)
    expect(page.locator("[data-testid=login-error]")).to_be_visible()
    login(page, "auditadmin", password)
    assert page.url.endswith("/accounts/password/")
