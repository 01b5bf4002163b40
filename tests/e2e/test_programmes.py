"""Browser journeys of the funding programmes.

(a) 揭榜挂帅: an enterprise submits a demand; the bureau makes it a topic and opens a call on it; two
teams of two enterprises apply through the form; the bureau closes the call, starts the review and
runs the automatic assignment; the reviewers score; the panel funds the winner; the winner reports
its result, the bureau accepts it and the reward is released.
(b) 赛马式: two teams are funded in parallel and one milestone review round keeps the better one.

Users, organisations and experts come from the factories; every step of the workflow is done in the
browser."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sciencecity.accounts.choices import Role
from sciencecity.programmes.models import (
    Application,
    Call,
    Demand,
    ExpertProfile,
    FundedProject,
    Payment,
    Topic,
)
from tests.conftest import PASSWORD, make_organisation, make_person, make_user
from tests.e2e.conftest import login


def logout(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()


def go(page, path: str) -> None:
    page.goto(f"{page.base_url}{path}")


def click(page, testid: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-testid={testid}]")


def people_and_users():
    """The bureau officer, two applicant enterprises with a user and a lead researcher each, a
    demanding enterprise, and two reviewers (expert role, registry experts with profiles)."""
    bureau_org = make_organisation(name="光明区科技创新局", kind="government_department", code="GOV-KCJ")
    officer_person = make_person(name="周经理", code="P-MANAGER")
    make_user(Role.BUREAU_OFFICER, bureau_org, username="officer", person=officer_person)
    teams = {}
    for key, name, lead in (("a", "光明光电科技有限公司", "陈一鸣"), ("b", "凤凰新材料股份有限公司", "林二川")):
        org = make_organisation(name=name, kind="enterprise")
        make_user(Role.ENTERPRISE_USER, org, username=f"team_{key}")
        teams[key] = {"org": org, "lead": make_person(name=lead)}
    make_user(Role.ENTERPRISE_USER, make_organisation(name="华星显示科技公司"), username="demander")
    for n, name in enumerate(("赵评审", "钱评审"), start=1):
        person = make_person(name=name, categories=["expert"], expertise=["钙钛矿", "光伏", "新材料"])
        ExpertProfile.objects.create(person=person, is_senior=n == 1)
        make_user(Role.EXPERT, username=f"reviewer{n}", person=person)
    return teams


def create_call(page, *, title: str, mechanism: str, topic: Topic | None = None, teams_funded: int = 1) -> Call:
    """The officer fills in the call form (with one rubric criterion) and opens the call."""
    today = timezone.localdate()
    go(page, "/programmes/calls/new/" + (f"?topic={topic.pk}" if topic else ""))
    page.fill("#id_title", title)
    page.select_option("#id_mechanism", mechanism)
    page.fill("#id_opens_on", today.isoformat())
    page.fill("#id_closes_on", (today + dt.timedelta(days=30)).isoformat())
    page.fill("#id_reviews_per_application", "2")
    if mechanism == "horse_race":
        page.fill("#id_teams_funded", str(teams_funded))
        page.fill("#id_keep_per_round", "1")
    page.fill("input[name=criteria-0-name]", "技术方案")
    page.fill("input[name=criteria-0-weight]", "0.6")
    page.fill("input[name=criteria-1-name]", "团队能力")
    page.fill("input[name=criteria-1-weight]", "0.4")
    click(page, "call-save")
    call = Call.objects.get(title=title)
    assert page.url.endswith(f"/programmes/calls/{call.pk}/")
    click(page, "call-to-open")
    assert Call.objects.get(pk=call.pk).state == "open"
    return call


def apply(page, call: Call, team: dict, *, username: str, title: str, amount: str) -> Application:
    """An enterprise user applies through the form, picks the lead from the registry and submits."""
    login(page, username, PASSWORD)
    go(page, "/programmes/")
    page.click(f"[data-testid=open-calls] a:has-text('{call.title}')")
    click(page, "apply")
    page.fill("#id_title", title)
    page.fill("#id_abstract", f"{title}：钙钛矿光伏组件的稳定性与封装工艺研究。")
    page.fill("#id_keywords", "钙钛矿, 光伏, 封装")
    page.fill("#id_requested_amount", amount)
    page.fill("input[name=budget-0-category]", "设备费")
    page.fill("input[name=budget-0-amount]", amount)
    page.fill("[data-testid=pick-applicant-search]", team["lead"].name)
    page.click(f"[data-testid=pick-applicant-results] button:has-text('{team['lead'].name}')")
    click(page, "application-save")
    application = Application.objects.get(title=title)
    click(page, "application-submit")
    assert page.locator("[data-testid=receipt-reference]").inner_text().strip() == application.reference
    application.refresh_from_db()
    assert application.state == "submitted" and application.organisation == team["org"]
    assert application.applicant == team["lead"]
    logout(page)
    return application


def review_and_assign(page, call: Call) -> None:
    """The officer closes the call, starts the review, runs the assignment and releases it."""
    login(page, "officer", PASSWORD)
    go(page, f"/programmes/calls/{call.pk}/")
    click(page, "call-to-closed")
    click(page, "call-to-review")
    click(page, "call-assignment")
    click(page, "assignment-run")
    page.wait_for_selector("[data-testid=job-state][data-state=done]")
    click(page, "assignment-overview-link")
    click(page, "assignment-release")
    logout(page)


def score(page, scores: dict[str, str]) -> None:
    """Each reviewer scores every released application (score by title)."""
    for username in ("reviewer1", "reviewer2"):
        login(page, username, PASSWORD)
        go(page, "/programmes/reviews/")
        links = page.locator("[data-testid^=review-open-]")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert len(hrefs) == 2, username
        for href in hrefs:
            go(page, href)
            title = page.locator("h1").inner_text()
            value = next(v for t, v in scores.items() if t in title)
            inputs = page.locator("input[name^=score_]")
            for i in range(inputs.count()):
                inputs.nth(i).fill(value)
            page.fill("textarea[name=comment]", "技术路线清晰，团队有基础。")
            click(page, "review-submit")
        logout(page)


def panel(page, call: Call, outcomes: dict[Application, tuple[str, str]]) -> None:
    """The officer moves the call to the panel, records the decisions and notifies."""
    login(page, "officer", PASSWORD)
    go(page, f"/programmes/calls/{call.pk}/")
    click(page, "call-to-panel")
    click(page, "call-panel")
    today = timezone.localdate()
    # The panel page renders its date inputs empty (no ISO format on its date widget): type them.
    page.fill("#id_held_on", today.isoformat())
    click(page, "panel-save")
    for application, (outcome, amount) in outcomes.items():
        page.select_option(f"[data-testid=outcome-{application.reference}]", outcome)
        if amount:
            page.fill(f"[data-testid=amount-{application.reference}]", amount)
        click(page, f"decide-{application.reference}")
    for application, (outcome, _amount) in outcomes.items():
        if outcome == "fund":
            page.fill(f"[data-testid=manager-{application.reference}]", "P-MANAGER")
    page.fill("#id_start_date", today.isoformat())
    page.fill("#id_end_date", (today + dt.timedelta(days=730)).isoformat())
    click(page, "notify")
    flashes = page.locator(".flash").all_inner_texts()
    assert Call.objects.get(pk=call.pk).state == "decided", flashes


def test_open_competition_from_demand_to_released_reward(page, transactional_db):
    teams = people_and_users()

    # An enterprise states its problem (需求方出题).
    login(page, "demander", PASSWORD)
    go(page, "/programmes/")
    click(page, "demand-create")
    page.fill("#id_title", "大面积钙钛矿组件湿热稳定性")
    page.fill("#id_description", "组件在85℃/85%湿热条件下衰减过快，需要新的封装方案。")
    page.fill("#id_expected_results", "1000小时湿热老化后效率衰减小于5%")
    page.fill("#id_budget", "800")
    click(page, "demand-save")
    demand = Demand.objects.get()
    logout(page)

    # The bureau curates it into a topic list and opens a 揭榜挂帅 call on the topic.
    login(page, "officer", PASSWORD)
    go(page, "/programmes/topics/")
    page.fill("#id_name", "2026年重点产业瓶颈技术清单")
    page.select_option("#id_kind", "industry_bottleneck")
    click(page, "topic-list-save")
    go(page, "/programmes/demands/")
    page.check(f"[data-testid=select-demand-{demand.pk}]")
    click(page, "topic-from-demands")
    assert page.locator(f"input[name=demands][value='{demand.pk}']").is_checked()
    page.select_option("#id_topic_list", index=1)
    page.fill("#id_title", "钙钛矿组件封装关键技术")
    page.fill("#id_description", "攻克大面积钙钛矿组件封装技术。")
    page.fill("#id_acceptance_criteria", "第三方检测：1000小时湿热老化后效率衰减小于5%")
    page.fill("#id_reward", "800")
    click(page, "topic-save")
    topic = Topic.objects.get()
    assert list(topic.demands.all()) == [demand]
    assert demand.code in page.locator(f"[data-testid=topic-list-{topic.topic_list_id}]").inner_text()
    call = create_call(page, title="揭榜挂帅：钙钛矿组件封装", mechanism="open_competition", topic=topic)
    assert call.topic == topic and call.reward == 800
    logout(page)

    # Two teams bid.
    winner = apply(page, call, teams["a"], username="team_a", title="A队：原子层沉积封装方案", amount="800")
    other = apply(page, call, teams["b"], username="team_b", title="B队：玻璃-玻璃封装方案", amount="600")

    review_and_assign(page, call)
    assert winner.assignments.filter(state="released").count() == 2
    score(page, {"A队": "9", "B队": "6"})
    assert winner.assignments.filter(state="submitted").count() == 2

    panel(page, call, {winner: ("fund", "800"), other: ("reject", "")})
    project = FundedProject.objects.get()
    assert project.application == winner and project.manager.code == "P-MANAGER"
    logout(page)

    # The winner reports its result; the bureau accepts it and the reward is released.
    login(page, "team_a", PASSWORD)
    go(page, f"/programmes/projects/{project.pk}/")
    page.fill("[data-testid=report-1]", "第三方检测报告：1000小时湿热老化后效率衰减3.2%。")
    click(page, "submit-1")
    logout(page)
    login(page, "officer", PASSWORD)
    go(page, f"/programmes/projects/{project.pk}/")
    click(page, "accept-1")
    assert project.milestones.get(order=1).state == "accepted"
    assert "800" in page.locator("[data-testid=paid-1]").inner_text()
    assert "800" in page.locator("[data-testid=payments]").inner_text()
    payment = Payment.objects.get()
    assert payment.project == project and payment.amount == 800


def test_horse_race_one_elimination_round(page, transactional_db):
    teams = people_and_users()
    login(page, "officer", PASSWORD)
    call = create_call(page, title="赛马式：钙钛矿叠层电池", mechanism="horse_race", teams_funded=2)
    logout(page)
    first = apply(page, call, teams["a"], username="team_a", title="A队：全钙钛矿叠层", amount="300")
    second = apply(page, call, teams["b"], username="team_b", title="B队：钙钛矿/晶硅叠层", amount="300")
    review_and_assign(page, call)
    score(page, {"A队": "8", "B队": "7"})
    panel(page, call, {first: ("fund", "300"), second: ("fund", "300")})
    assert FundedProject.objects.filter(application__call=call, state="active").count() == 2

    # The milestone review round keeps the better team.
    click(page, "race-round-link")
    page.select_option(f"[data-testid=race-outcome-{first.reference}]", "keep")
    page.select_option(f"[data-testid=race-outcome-{second.reference}]", "eliminate")
    page.fill("#id_held_on", timezone.localdate().isoformat())
    click(page, "race-decide")
    assert FundedProject.objects.get(application=first).state == "active"
    assert FundedProject.objects.get(application=second).state == "terminated"
    assert second.title in page.content()
