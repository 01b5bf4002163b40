"""Browser journey of a facility time (机时) round: an enterprise proposes through the form, the beamline
scientist assesses feasibility, the facility manager assigns reviewers (conflicts respected), the experts
score, the manager allocates the shifts with the optimal policy, and the schedule shows them.

BL01 has 10 shifts. A (the browser proposal, 6 shifts) is scored 4.5, B and C (5 shifts each, submitted
through the service) 4.0 and 3.5: greedy by rank would give A alone (4.5); the optimum is B + C = 7.5."""

from __future__ import annotations

from sciencecity.facilities.beamtime import services
from sciencecity.facilities.beamtime.models import BeamtimeProposal, BeamtimeReview, ShiftRequest
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.facilities.beamtime_world import make_beamtime_world, submit


def logout(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()


def go(page, path: str) -> None:
    page.goto(f"{page.base_url}{path}")


def click(page, testid: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-testid={testid}]")


def test_round_from_proposal_to_allocated_shifts(page):
    world = make_beamtime_world()

    # 1. An enterprise user proposes through the form.
    login(page, "applicant1", PASSWORD)
    go(page, "/facilities/beamtime/R2026A/")
    click(page, "propose")
    page.fill("input[name=title]", "A 催化剂原位衍射")
    page.fill("textarea[name=abstract]", "利用同步辐射X射线衍射研究催化剂在反应条件下的晶体结构")
    page.fill("input[name=keywords]", "衍射 催化")
    page.fill("textarea[name=samples]", "粉末样品 10 个")
    page.fill("input[name=hazards]", "无")
    page.fill(f"input[name=shifts_{world.line01.pk}]", "6")
    page.check("input[name=safety_declared]")
    click(page, "proposal-submit")
    a = BeamtimeProposal.objects.get(title="A 催化剂原位衍射")
    assert page.get_attribute("[data-testid=proposal-state]", "data-state") == "submitted"
    assert page.inner_text("[data-testid=proposal-state]").strip() == "已报送"
    logout(page)
    b = submit(world, 1, "B 电池材料结构", {world.line01: 5})
    c = submit(world, 2, "C 合金相变", {world.line01: 5})

    # 2. The beamline scientist finds all three feasible.
    login(page, "scientist1", PASSWORD)
    for proposal in (a, b, c):
        go(page, f"/facilities/beamtime/proposals/{proposal.reference}/")
        click(page, "feasibility-save-BL01")
        assert page.inner_text("[data-testid=feasibility-BL01]").startswith("可行")
    logout(page)
    assert set(ShiftRequest.objects.values_list("shifts_granted", flat=True)) == {5, 6}

    # 3. The facility manager closes the round to proposals and assigns the reviewers.
    login(page, "fac_manager", PASSWORD)
    go(page, "/facilities/beamtime/R2026A/")
    click(page, "assign-reviewers")
    assert page.get_attribute("[data-testid=round-state]", "data-state") == "review"
    logout(page)
    conflicted = world.experts[0].person_id  # affiliated with A's organisation
    assert not BeamtimeReview.objects.filter(proposal=a, expert_id=conflicted).exists()

    # 4. Each expert scores the proposals released to them.
    scores = {a.pk: "4.5", b.pk: "4.0", c.pk: "3.5"}
    for expert in world.experts:
        reviews = list(BeamtimeReview.objects.filter(expert_id=expert.person_id).select_related("proposal"))
        if not reviews:
            continue
        login(page, expert.username, PASSWORD)
        go(page, "/facilities/beamtime/")
        assert page.locator("[data-testid=beamtime-my-reviews] li").count() == len(reviews)
        for review in reviews:
            go(page, f"/facilities/beamtime/proposals/{review.proposal.reference}/")
            page.fill("input[name=score]", scores[review.proposal_id])
            page.fill("textarea[name=comment]", "方案清晰，线站匹配")
            click(page, "review-submit")
            assert page.locator("[data-testid=review-submitted]").count() == 1
        logout(page)
    assert BeamtimeReview.objects.filter(state="submitted").count() == 6

    # 5. The manager allocates with the optimal policy: B + C, not A.
    login(page, "fac_manager", PASSWORD)
    go(page, "/facilities/beamtime/R2026A/")
    page.select_option("select[name=policy]", "optimal")
    click(page, "allocate")
    assert page.get_attribute("[data-testid=round-state]", "data-state") == "allocated"
    assert page.inner_text("[data-testid=allocation-total]").strip() == "7.5"
    assert page.inner_text("[data-testid=allocation-compare]").strip() == "7.5 / 4.5"
    assert page.inner_text(f"[data-testid=proposal-state-{a.reference}]").strip() == "未获分配"
    assert page.inner_text(f"[data-testid=proposal-state-{b.reference}]").strip() == "已分配机时"
    click(page, "schedule-link")
    schedule = page.inner_text("[data-testid=schedule-BL01]")
    assert b.reference in schedule and c.reference in schedule and a.reference not in schedule
    assert "2027-03-01 00:00" in schedule and "2027-03-02 16:00" in schedule  # B: 5 shifts of 8 h
    # 6. The shifts hold their slots on the beamline's booking calendar (no ordinary booking can take them).
    go(page, "/facilities/instruments/BL01/?view=week&day=2027-03-01")
    assert page.locator("[data-testid=slot][data-state=beamtime]").count() == 2
    logout(page)
    assert services.ranking(world.round)[0].proposal == a  # best-ranked, yet not allocated: it blocks two others
