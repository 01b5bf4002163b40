"""The README's expert walkthrough, followed literally in the browser (issue 11, "done means"): a demo expert
opens 我的评审 from the navigation (no URL typed), reads the full proposal, scores a criterion with a half
point (7.5) and submits — on a phone (390 × 844, the navigation behind the menu button) in zh-Hans, and once
on a desktop in English."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.programmes.models import Assignment, Review
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, nav_to


@pytest.fixture
def demo_expert(transactional_db):
    call_command("bootstrap", verbosity=0)
    assignment = Assignment.objects.filter(state="released").order_by("pk").first()
    return make_user(Role.EXPERT, username="walk_expert", person=assignment.expert)


def review_first_assignment(page, *, open_menu: bool, reviews_label: str, submit_label: str) -> None:
    if open_menu:
        page.click("[data-testid=nav-toggle]")
    nav_to(page, None, reviews_label)
    with page.expect_navigation():
        page.locator("[data-testid^=review-open-]").first.click()
    # expect() waits for the page that the click opens; is_visible() would read whatever page is shown at the
    # instant of the call, which on a loaded machine can still be the list (CI run of stop 19)
    expect(page.locator("[data-testid=full-proposal]")).to_be_visible()
    scores = page.locator("input[name^=score_]")
    for n in range(scores.count()):
        scores.nth(n).fill("7.5" if n == 0 else "8")
    page.fill("textarea[name=comment]", "方案可行，创新性较强。")
    with page.expect_navigation():
        page.get_by_role("button", name=submit_label).click()


def test_expert_reviews_with_a_half_point_on_a_phone_in_chinese(browser, live_server, demo_expert):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login(page, demo_expert.username, PASSWORD)
        review_first_assignment(page, open_menu=True, reviews_label="我的评审", submit_label="提交评审意见")
        assert "评审意见已提交。" in page.content()
    finally:
        context.close()
    review = Review.objects.get(assignment__expert=demo_expert.person)
    assert 7.5 in review.scores.values()


def test_expert_reviews_with_a_half_point_in_english(page, demo_expert):
    login(page, demo_expert.username, PASSWORD)
    with page.expect_navigation():
        page.select_option("[data-testid=language-select]", "en")
    review_first_assignment(page, open_menu=False, reviews_label="My reviews", submit_label="Submit review")
    assert "Review submitted." in page.content()
    assert 7.5 in Review.objects.get(assignment__expert=demo_expert.person).scores.values()
