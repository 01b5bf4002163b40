"""The README's department-officer walkthrough, followed in the browser (issue 11, "done means"): on the demo
data the bureau has returned 光明区统计局's 2025 submission; its department officer opens the round from the
navigation (no URL typed), reads the comment, downloads the Excel template, changes a value in the real file
(openpyxl), uploads it, reads the dry run, confirms and submits to the bureau — on a phone (390 × 844, the
navigation behind the menu button) in zh-Hans, and once on a desktop in English."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.management import call_command

from sciencecity.accounts.choices import Role
from sciencecity.plans import services
from sciencecity.plans.models import ObservedValue, RoundSubmission
from sciencecity.registry.models import Organisation
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, nav_to
from tests.plans.test_value_import import fill_template

CODE = "1"  # one of 光明区统计局's indicators in the bundled plan (README: indicators 1 and 8)
COMMENT = "请核对指标 1 的 2025 年数值。"
ZH = {"plan_group": "规划与项目", "plan": "规划监测", "rounds": "填报轮次", "round": "2025 年数值", "returned": "退回意见",
      "template": "下载 Excel 模板", "upload": "上传数值", "check": "上传并检查", "updated": "更新",
      "confirm": "确认导入并保存数值", "submit": "报送科技创新局", "submitted": "已报送"}
EN = {"plan_group": "Plan", "plan": "Plan monitoring", "rounds": "Reporting rounds", "round": "Values of 2025",
      "returned": "Returned with the comment", "template": "Download the Excel template", "upload": "Upload values",
      "check": "Upload and check", "updated": "Updated", "confirm": "Confirm and save the values",
      "submit": "Submit to the bureau", "submitted": "Submitted"}


@dataclass
class Walk:
    officer: object
    department: Organisation
    value: ObservedValue


@pytest.fixture
def returned_department(transactional_db):
    """The demo round of 2025 with 光明区统计局's submission returned by the bureau (README step 4)."""
    call_command("bootstrap", verbosity=0)
    tjj = Organisation.objects.get(code="GOV-TJJ")
    bureau = make_user(Role.BUREAU_OFFICER, Organisation.objects.get(code="GOV-KCJ"), username="walk_bureau")
    submission = RoundSubmission.objects.get(round__year=2025, department=tjj)
    services.submission_return(actor=bureau, submission=submission, comment=COMMENT)
    officer = make_user(Role.DEPARTMENT_OFFICER, tjj, username="walk_tjj")
    value = ObservedValue.objects.get(indicator__code=CODE, indicator__owner_department=tjj, year=2025)
    return Walk(officer, tjj, value)


def submit_changed_value(page, walk: Walk, tmp_path, *, open_menu: bool, labels: dict[str, str]) -> float:
    if open_menu:
        page.click("[data-testid=nav-toggle]")
    nav_to(page, labels["plan_group"], labels["plan"])
    page.click(f".subnav a:text-is('{labels['rounds']}')")
    page.get_by_role("link", name=labels["round"]).click()
    mine = page.locator(f"#department-{walk.department.pk}")
    assert labels["returned"] in mine.locator(f"[data-testid=return-comment-{walk.department.pk}]").inner_text()
    with page.expect_download() as info:
        mine.get_by_role("button", name=labels["template"]).click()
    new_value = round(walk.value.value * 0.98, 2)
    filled = tmp_path / "tjj-2025.xlsx"
    with open(info.value.path(), "rb") as handle:
        filled.write_bytes(fill_template(handle.read(), {CODE: new_value}))
    mine.get_by_role("button", name=labels["upload"]).click()
    page.set_input_files("[data-testid=import-file]", str(filled))
    page.get_by_role("button", name=labels["check"]).click()
    updated = page.locator("article:has(> [data-testid=count-updated])")
    assert updated.inner_text().split() == ["1", labels["updated"]]  # the dry run: only the changed row
    page.get_by_role("button", name=labels["confirm"]).click()
    mine = page.locator(f"#department-{walk.department.pk}")
    with page.expect_navigation():
        mine.get_by_role("button", name=labels["submit"]).click()
    badge = page.locator(f"[data-testid=submission-status-{walk.department.pk}]")
    assert badge.get_attribute("data-status") == "submitted" and labels["submitted"] in badge.inner_text()
    return new_value


def test_department_officer_submits_the_excel_on_a_phone_in_chinese(browser, live_server, returned_department,
                                                                    tmp_path):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login(page, returned_department.officer.username, PASSWORD)
        new_value = submit_changed_value(page, returned_department, tmp_path, open_menu=True, labels=ZH)
    finally:
        context.close()
    returned_department.value.refresh_from_db()
    assert (returned_department.value.value, returned_department.value.status) == (new_value, "submitted")


def test_department_officer_submits_the_excel_in_english(page, returned_department, tmp_path):
    login(page, returned_department.officer.username, PASSWORD)
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "en")
    new_value = submit_changed_value(page, returned_department, tmp_path, open_menu=False, labels=EN)
    returned_department.value.refresh_from_db()
    assert (returned_department.value.value, returned_department.value.status) == (new_value, "submitted")
