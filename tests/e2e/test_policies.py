"""Browser journey of the policy library (issue 13, "done means"): an officer edits a policy rule and
the live preview count changes; the 免申即享 list downloads as Excel; an enterprise sees its eligible
policies with the estimated amount."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from django.utils import timezone
from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.enterprises.policies import services
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login
from tests.enterprises.policy_factories import make_enterprise


def logout(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()


def test_officer_edits_rule_preview_changes_list_downloads_enterprise_sees_policy(page, transactional_db):
    officer = make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department", name="科创局"),
                        username="officer")
    big = make_enterprise(name="甲科技", sales="5000", rd="250", hnte_issued=dt.date(2024, 12, 1))
    make_enterprise(name="乙科技", sales="800", rd="10")
    make_enterprise(name="丙科技", district="南山区", sales="3000", rd="90")
    make_user(Role.ENTERPRISE_USER, big, username="boss")
    today = timezone.localdate()
    policy = services.policy_create(
        actor=officer, code="P-001", title="研发投入补助", issuer="光明区科技创新局", benefit="研发费用的10%，最高20万元",
        valid_from=today - dt.timedelta(days=10), amount_formula="min(0.1 * rd_expense, 20)",
        rule="revenue >= 500", status="published")

    login(page, "officer", PASSWORD)
    page.goto(f"{page.base_url}/enterprises/policies/{policy.pk}/edit/")
    preview = page.locator("[data-testid=preview-eligible]")
    assert preview.inner_text() == "3"
    rule = page.locator("textarea[name=rule]")
    rule.fill("revenue >= 1000")
    expect(preview).to_have_text("2")
    rule.fill('revenue >= 1000 and district == "光明区"')
    expect(preview).to_have_text("1")
    rule.fill("revenue >= 1000 and sector > 3")
    page.wait_for_selector("[data-testid=preview-error]")
    assert "sector > 3" in page.locator("[data-testid=preview-error]").inner_text()
    rule.fill('revenue >= 1000 and district == "光明区"')
    expect(preview).to_have_text("1")
    with page.expect_navigation():
        page.click("[data-testid=policy-save]")
    assert page.locator("[data-testid=policy-rule]").inner_text() == 'revenue >= 1000 and district == "光明区"'

    with page.expect_navigation():
        page.click("[data-testid=policy-eligible]")
    assert page.locator("[data-testid=eligible-table] tbody tr").count() == 1
    with page.expect_download() as caught:
        page.click("[data-testid=eligible-download]")
    sheet = openpyxl.load_workbook(io.BytesIO(open(caught.value.path(), "rb").read())).active
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == [(big.code, "甲科技", 20)]
    logout(page)

    login(page, "boss", PASSWORD)
    page.goto(f"{page.base_url}/enterprises/my/policies/")
    row = page.locator("[data-testid=my-eligible] tbody tr")
    assert row.count() == 1
    assert "研发投入补助" in row.inner_text() and "20" in row.inner_text()
