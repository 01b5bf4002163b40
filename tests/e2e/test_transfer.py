"""Browser journey of the marketplace (issue 5, "done means"): an enterprise posts a demand, sees
ranked achievements with explanations, expresses interest; the owner accepts (contacts shared),
they agree; the seller registers the technology contract with its written contract; the plan
dashboard's indicator 6 (技术合同成交金额) changes by that amount."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.plans.services import plan_import_bundled
from sciencecity.transfer.models import Deal, TechContract
from sciencecity.transfer.services import matching
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login
from tests.transfer.conftest import PDF_BYTES, make_achievement

AMOUNT = 2500  # 10k CNY → 0.25 亿元


def logout(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()


def indicator_6(page) -> tuple[str, str]:
    """(latest value, live registry value) on the dashboard's indicator 6 card."""
    page.goto(f"{page.base_url}/plan/")
    card = page.locator("[data-testid=indicator-card-6]")
    live = card.locator("small[title] strong")
    return (card.locator("[data-testid=latest-6]").inner_text().strip(),
            live.inner_text().strip() if live.count() else "")


def test_demand_to_registered_contract_moves_indicator_6(page, transactional_db, tmp_path):
    matching.reset()
    plan_import_bundled()
    university = make_organisation(kind="university", name="光明示例大学")
    make_user(Role.ACADEMIC_USER, university, username="seller", display_name="王老师", email="wang@example.edu.cn")
    enterprise = make_organisation(name="光明电池科技有限公司")
    make_user(Role.ENTERPRISE_USER, enterprise, username="buyer", display_name="李经理", email="li@example.com",
              phone="13800000000")
    battery = make_achievement(university, title="高能量密度硅碳负极材料",
                               abstract="用于锂离子电池的硅碳复合负极材料，循环寿命长，容量高。",
                               keywords="锂电池 负极 硅碳", trl=6, modes=["licence", "assignment"],
                               contact_name="王老师", contact_email="wang@example.edu.cn", contact_phone="0755-26000000")
    vision = make_achievement(university, title="工业机器视觉缺陷检测", abstract="基于深度学习的表面缺陷检测相机系统。",
                              trl=7, modes=["licence"])
    separator = make_achievement(university, title="电池隔膜涂覆工艺", abstract="锂电池隔膜陶瓷涂覆，提高电池安全性。",
                                 trl=4, modes=["co_development"])

    # Before: no value of this year, the registry computes 0.
    login(page, "buyer", PASSWORD)
    latest_before, live_before = indicator_6(page)
    assert live_before == ""  # no contract yet: the registry has no data, so no value (never a bare 0)

    # The enterprise posts a demand and sees ranked, explained achievements.
    page.goto(f"{page.base_url}/transfer/demands/new/")
    page.fill("input[name=title]", "锂离子电池负极材料升级")
    page.fill("textarea[name=public_summary]", "寻找提高锂离子电池负极容量与循环寿命的材料技术。")
    page.fill("input[name=keywords]", "负极 硅碳")
    with page.expect_navigation():
        page.click("[data-testid=demand-save]")
    matches = page.locator("[data-testid=match-list-achievements] > li")
    assert matches.first.get_attribute("data-testid") == f"match-achievements-{battery.pk}"
    ranked = [matches.nth(i).get_attribute("data-testid") for i in range(matches.count())]
    assert f"match-achievements-{vision.pk}" not in ranked
    if f"match-achievements-{separator.pk}" in ranked:
        assert ranked.index(f"match-achievements-{separator.pk}") > 0
    best = page.locator(f"[data-testid=match-achievements-{battery.pk}]")
    assert best.locator("mark").count() >= 1  # shared terms highlighted
    assert best.locator("ul.reasons li").count() >= 1  # and the reasons listed

    # It expresses interest from the match; contacts stay hidden until the owner accepts.
    with page.expect_navigation():
        best.locator(f"[data-testid=interest-{battery.pk}]").click()
    page.fill("textarea[name=message]", "我们希望获得该专利的实施许可。")
    with page.expect_navigation():
        page.click("[data-testid=interest-send]")
    assert page.locator("[data-testid=deal-state]").get_attribute("data-state") == "interest"
    expect(page.locator("[data-testid=contacts-hidden]")).to_be_visible()
    assert "wang@example.edu.cn" not in page.content()
    assert page.locator("[data-testid=deal-accept]").count() == 0  # the buyer cannot accept its own interest
    deal_url = page.url
    deal = Deal.objects.get()
    assert deal.demand is not None and deal.demand.title == "锂离子电池负极材料升级"
    logout(page)

    # The owner accepts: both sides' contacts are shown; they agree.
    login(page, "seller", PASSWORD)
    page.goto(deal_url)
    with page.expect_navigation():
        page.click("[data-testid=deal-accept]")
    assert page.locator("[data-testid=deal-state]").get_attribute("data-state") == "contact"
    assert page.locator("[data-testid=contact-email-buyer]").inner_text() == "li@example.com"
    assert page.locator("[data-testid=contact-email-seller]").inner_text() == "wang@example.edu.cn"
    page.fill("textarea[name=text]", "许可费2500万元，分三期支付。")
    with page.expect_navigation():
        page.click("[data-testid=deal-note]")
    assert page.locator("[data-testid=deal-state]").get_attribute("data-state") == "negotiation"
    with page.expect_navigation():
        page.click("[data-testid=deal-agree]")
    assert page.locator("[data-testid=deal-state]").get_attribute("data-state") == "agreed"

    # The seller registers the contract with the written contract (a PDF).
    pdf = tmp_path / "技术许可合同.pdf"
    pdf.write_bytes(PDF_BYTES)
    today = timezone.localdate()
    with page.expect_navigation():
        page.click("[data-testid=deal-register]")
    page.select_option("select[name=contract_type]", "licence")
    page.fill("input[name=amount]", str(AMOUNT))
    page.fill("input[name=technical_income]", "2000")
    page.fill("input[name=registration_number]", f"4403{today.year}0001234")
    page.fill("input[name=signed_on]", (today - dt.timedelta(days=2)).isoformat())
    page.fill("input[name=registered_on]", today.isoformat())
    page.set_input_files("input[name=contract_file]", str(pdf))
    with page.expect_navigation():
        page.click("[data-testid=contract-save]")
    assert page.locator("[data-testid=deal-state]").get_attribute("data-state") == "registered"
    assert page.locator("[data-testid=contract-number]").inner_text() == f"4403{today.year}0001234"
    contract = TechContract.objects.get()
    assert (contract.amount, contract.seller, contract.buyer) == (AMOUNT, university, enterprise)

    # The plan dashboard's indicator 6 moved by exactly the amount (0.25 亿元).
    latest_after, live_after = indicator_6(page)
    assert float(live_after) == AMOUNT / 10000
    # the stored yearly value is a draft until the bureau approves it: not yet the official latest value
    assert latest_before == "—" and latest_after == "—"
