"""Browser journey of issue 11 (items 1 and 3): an enterprise posts a demand whose hard filters remove
every achievement, is told which filter removed how many, relaxes one in a click, sees the match and
expresses interest; the achievement's owner sees the unread notification in the header and the
to-do item on the home page, and both lead to the deal."""

from __future__ import annotations

from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.transfer.models import Deal
from sciencecity.transfer.services import matching
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login, nav_to
from tests.transfer.conftest import make_achievement


def logout(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()


def test_restrictive_demand_is_explained_relaxed_and_the_owner_is_told(page, transactional_db):
    matching.reset()
    university = make_organisation(kind="university", name="光明示例大学")
    make_user(Role.ACADEMIC_USER, university, username="seller", display_name="王老师")
    enterprise = make_organisation(name="光明电池科技有限公司")
    make_user(Role.ENTERPRISE_USER, enterprise, username="buyer", display_name="李经理")
    make_achievement(university, title="硅碳负极材料", abstract="锂离子电池硅碳复合负极材料，循环寿命长。",
                     trl=6, modes=["licence"])
    joint = make_achievement(university, title="负极材料预锂化工艺", abstract="锂离子电池负极材料预锂化，提高首效。",
                             trl=4, modes=["co_development"])

    login(page, "buyer", PASSWORD)
    nav_to(page, "技术市场", "技术转移")
    with page.expect_navigation():
        page.click("[data-testid=demand-create]")
    page.fill("input[name=title]", "锂离子电池负极材料升级")
    page.fill("textarea[name=public_summary]", "寻找锂离子电池负极材料技术。")
    page.check("input[name=modes][value=co_development]")
    page.select_option("select[name=min_trl]", "7")
    with page.expect_navigation():
        page.click("[data-testid=demand-save]")

    # Nothing passes both filters, and the page says which removed how many instead of "尚无推荐".
    explained = page.locator("[data-testid=explained-empty-achievements]")
    expect(explained).to_be_visible()
    removals = explained.locator("[data-testid=removal]").all_inner_texts()
    assert removals[0].startswith("2 项被“最低技术就绪度”排除")
    assert removals[1].startswith("1 项被“转化方式”排除")

    # One click relaxes the TRL minimum: the joint-development achievement appears, explained.
    with page.expect_navigation():
        explained.locator("[data-testid=relax]").first.click()
    assert "最低技术就绪度" in page.locator("[data-testid=relaxed]").inner_text()
    match = page.locator(f"[data-testid=match-achievements-{joint.pk}]")
    expect(match).to_be_visible()
    assert match.locator("ul.reasons li").count() >= 1
    with page.expect_navigation():
        match.locator(f"[data-testid=interest-{joint.pk}]").click()
    page.fill("textarea[name=message]", "希望合作开发预锂化工艺。")
    with page.expect_navigation():
        page.click("[data-testid=interest-send]")
    deal = Deal.objects.get()
    assert deal.achievement_id == joint.pk and deal.demand.title == "锂离子电池负极材料升级"
    logout(page)

    # The owner: an unread notification in the header and the interest on the home page's to-do list.
    login(page, "seller", PASSWORD)
    page.goto(f"{page.base_url}/")
    assert page.locator("[data-testid=unread-count]").inner_text() == "1"
    item = page.locator("[data-testid=inbox-interest]")
    assert "收到的成果合作意向" in item.inner_text() and item.locator(".badge").inner_text() == "1"
    with page.expect_navigation():
        page.click("[data-testid=notifications-link]")
    with page.expect_navigation():
        page.locator("[data-testid=notification] button").first.click()
    assert page.url.endswith(f"/transfer/deals/{deal.pk}/")
    assert page.locator("[data-testid=deal-state]").get_attribute("data-state") == "interest"
    assert page.locator("[data-testid=unread-count]").count() == 0  # opening it marked it read
    page.goto(f"{page.base_url}/")
    with page.expect_navigation():
        page.click("[data-testid=inbox-interest] a")
    assert page.locator(f"a[href='/transfer/deals/{deal.pk}/']").count() >= 1
