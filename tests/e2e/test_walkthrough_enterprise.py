"""The README's enterprise walkthrough, followed in the browser (issue 11, "done means"): an enterprise user
of a demo enterprise opens 技术转移 from the navigation (no URL typed), posts a demand, reads the explained
matching achievements and expresses interest in the best one — on a phone (390 × 844, the navigation behind
the menu button) in zh-Hans, and once on a desktop in English."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.registry.models import Organisation
from sciencecity.transfer.models import Deal
from sciencecity.transfer.services import matching
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, nav_to

ZH = {"market": "技术市场", "transfer": "技术转移", "post": "发布技术需求", "matches": "匹配的科技成果", "interest": "表达意向",
      "send": "发送"}
EN = {"market": "Marketplace", "transfer": "Technology transfer", "post": "Post a demand", "matches": "Matching achievements",
      "interest": "Express interest", "send": "Send"}


@pytest.fixture
def demo_enterprise_user(transactional_db):
    call_command("bootstrap", verbosity=0)
    matching.reset()  # the index is rebuilt from this test's database
    enterprise = Organisation.objects.filter(kind="enterprise", code__startswith="DEMO").order_by("pk").first()
    return make_user(Role.ENTERPRISE_USER, enterprise, username="walk_enterprise")


def post_demand_and_express_interest(page, *, open_menu: bool, labels: dict[str, str]) -> None:
    if open_menu:
        page.click("[data-testid=nav-toggle]")
    nav_to(page, labels["market"], labels["transfer"])
    page.get_by_role("button", name=labels["post"]).click()  # a link styled as a button
    page.fill("input[name=title]", "锂离子电池负极材料升级")
    page.fill("textarea[name=public_summary]", "寻找高首效硅碳负极材料与快充负极技术，提高锂离子电池容量与循环寿命。")
    page.fill("input[name=keywords]", "负极 硅碳 快充")
    with page.expect_navigation():
        page.click("[data-testid=demand-save]")
    expect(page.get_by_role("heading", name=labels["matches"])).to_be_visible()
    best = page.locator("[data-testid=match-list-achievements] > li").first
    assert best.locator("ul.reasons li").count() >= 1  # every match says why it matched
    best.get_by_role("link", name=labels["interest"]).click()
    page.fill("textarea[name=message]", "我们希望获得该技术的实施许可。")
    with page.expect_navigation():
        page.get_by_role("button", name=labels["send"]).click()
    assert page.locator("[data-testid=deal-state]").get_attribute("data-state") == "interest"


def test_enterprise_posts_a_demand_and_expresses_interest_on_a_phone_in_chinese(browser, live_server,
                                                                                demo_enterprise_user):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login(page, demo_enterprise_user.username, PASSWORD)
        post_demand_and_express_interest(page, open_menu=True, labels=ZH)
    finally:
        context.close()
    assert Deal.objects.filter(demand__title="锂离子电池负极材料升级").count() == 1


def test_enterprise_posts_a_demand_and_expresses_interest_in_english(page, demo_enterprise_user):
    login(page, demo_enterprise_user.username, PASSWORD)
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "en")
    post_demand_and_express_interest(page, open_menu=False, labels=EN)
    assert Deal.objects.filter(demand__title="锂离子电池负极材料升级").count() == 1
