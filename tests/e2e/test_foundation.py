"""Main journey of the foundation: log in, switch language, create an organisation, audit it."""

import re

from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.accounts.services import user_create
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login, nav_to


def test_officer_creates_organisation_and_audit_admin_finds_the_event(page, transactional_db):
    bureau = make_organisation(name="光明区科技创新局", kind="government_department", code="GOV-KCJ")
    make_user(Role.BUREAU_OFFICER, bureau, username="officer", display_name="王科员")
    make_user(Role.AUDIT_ADMIN, username="auditor")

    login(page, "officer", PASSWORD)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    nav_to(page, "名录", "机构")  # the Directory menu opens and leads to the organisations
    assert "/registry/organisations/" in page.url

    # Switch to English and back.
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    nav_to(page, "Directory", "Organisations")
    assert "/registry/organisations/" in page.url and page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # Create an organisation through the form.
    page.goto(f"{page.base_url}/registry/organisations/")
    page.click("[data-testid=organisation-create]")
    page.fill("input[name=name]", "深圳市光明区浏览器测试科技有限公司")
    page.fill("input[name=name_en]", "Browser Test Tech")
    page.select_option("select[name=kind]", "enterprise")
    page.fill("input[name=credit_code]", "91440300708461136T")
    with page.expect_navigation():
        page.click("[data-testid=organisation-save]")
    assert page.locator("[data-testid=organisation-name]").inner_text().startswith("深圳市光明区浏览器测试科技有限公司")

    # Search finds it in Chinese and in English.
    page.goto(f"{page.base_url}/registry/organisations/?q=浏览器测试")
    expect(page.get_by_role("link", name="深圳市光明区浏览器测试科技有限公司")).to_be_visible()
    page.goto(f"{page.base_url}/registry/organisations/?q=browser+test")
    expect(page.get_by_role("link", name="深圳市光明区浏览器测试科技有限公司")).to_be_visible()
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()

    # The audit administrator finds the creation event.
    login(page, "auditor", PASSWORD)
    page.goto(f"{page.base_url}/audit/?object_type=registry.organisation")
    row = page.locator("tr", has_text="深圳市光明区浏览器测试科技有限公司")
    assert row.count() >= 1
    assert "officer" in row.first.inner_text()
    with page.expect_navigation():
        row.first.get_by_role("link").first.click()
    assert "91440300708461136T" in page.content()


def test_new_account_must_change_its_one_time_password(page, transactional_db):
    user, one_time = user_create(actor=None, username="newbie", display_name="新用户")
    login(page, "newbie", one_time)
    assert "/accounts/password/" in page.url
    page.goto(f"{page.base_url}/registry/organisations/")
    assert "/accounts/password/" in page.url  # every page insists
    page.fill("input[name=old_password]", one_time)
    page.fill("input[name=new_password]", "Guangming#2025ok")
    page.fill("input[name=new_password_again]", "Guangming#2025ok")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert not re.search(r"/accounts/password/", page.url)
    user.refresh_from_db()
    assert user.must_change_password is False
