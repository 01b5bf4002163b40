"""The README's bureau-officer walkthrough, followed in the browser (issue 11, "done means"): on the demo data
2025 is submitted and the dashboard shows 2024; the bureau officer opens the 2025 round from the navigation
(no URL typed), approves and locks 光明区科技创新局's values, sees the dashboard's latest value move to the
approved 2025 value, and downloads the mid-term report PDF (re-authenticating, as for every export), which
includes it (read with pypdf) — on a phone (390 × 844, the navigation behind the menu button) in zh-Hans, and
once on a desktop in English."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from django.core.management import call_command

from sciencecity.accounts.choices import Role
from sciencecity.plans.models import ObservedValue
from sciencecity.registry.models import Organisation
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, nav_to, reauthenticate

CODE = "2"  # one of 光明区科技创新局's indicators in the bundled plan
ZH = {"plan_group": "规划与项目", "plan": "规划监测", "rounds": "填报轮次", "round": "2025 年数值", "approve": "审核通过并锁定",
      "approved": "已审核", "dashboard": "监测看板", "report": "中期评估报告", "pdf": "下载 PDF"}
EN = {"plan_group": "Plan", "plan": "Plan monitoring", "rounds": "Reporting rounds", "round": "Values of 2025", "approve": "Approve and lock",
      "approved": "Approved", "dashboard": "Dashboard", "report": "Mid-term evaluation report", "pdf": "Download PDF"}


@pytest.fixture
def demo_bureau(transactional_db):
    call_command("bootstrap", verbosity=0)
    kcj = Organisation.objects.get(code="GOV-KCJ")
    return make_user(Role.BUREAU_OFFICER, kcj, username="walk_bureau"), kcj


def approve_and_read_the_report(page, kcj: Organisation, *, open_menu: bool, labels: dict[str, str]) -> str:
    """Approve the round from the navigation; return the PDF's text after checking the dashboard."""
    if open_menu:
        page.click("[data-testid=nav-toggle]")
    nav_to(page, labels["plan_group"], labels["plan"])
    assert "(2024)" in page.locator(f"[data-testid=indicator-card-{CODE}]").inner_text()  # 2025 not yet approved
    page.click(f".subnav a:text-is('{labels['rounds']}')")
    page.get_by_role("link", name=labels["round"]).click()
    with page.expect_navigation():
        page.locator(f"#department-{kcj.pk}").get_by_role("button", name=labels["approve"]).click()
    badge = page.locator(f"[data-testid=submission-status-{kcj.pk}]")
    assert badge.get_attribute("data-status") == "approved" and labels["approved"] in badge.inner_text()
    page.click(f".subnav a:text-is('{labels['dashboard']}')")
    assert "(2025)" in page.locator(f"[data-testid=indicator-card-{CODE}]").inner_text()
    latest = page.locator(f"[data-testid=latest-{CODE}]").inner_text().strip()
    value = ObservedValue.objects.get(indicator__code=CODE, indicator__owner_department=kcj, year=2025)
    assert float(latest.replace(",", "")) == round(value.value, 2)
    page.click(f".subnav a:text-is('{labels['report']}')")
    page.get_by_role("button", name=labels["pdf"]).click()
    page.wait_for_url("**/accounts/reauthenticate/**")  # an export: confirm identity first
    with page.expect_download() as info:
        reauthenticate(page, "walk_bureau", PASSWORD, leads_to_page=False)
    with open(info.value.path(), "rb") as handle:
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(handle.read())).pages)
    reported = {float(v.replace(",", "")) for v in re.findall(r"([\d,]+(?:\.\d+)?) \(2025\)", text)}
    assert round(value.value, 2) in reported  # the approved 2025 value is in the report
    return text


def test_bureau_approves_and_the_report_pdf_includes_it_on_a_phone_in_chinese(browser, live_server, demo_bureau):
    user, kcj = demo_bureau
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login(page, user.username, PASSWORD)
        approve_and_read_the_report(page, kcj, open_menu=True, labels=ZH)
    finally:
        context.close()


def test_bureau_approves_and_the_report_pdf_includes_it_in_english(page, demo_bureau):
    user, kcj = demo_bureau
    login(page, user.username, PASSWORD)
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "en")
    approve_and_read_the_report(page, kcj, open_menu=False, labels=EN)
