"""Browser journey (issue 11, "official outputs use approved data only"): the department officer opens the
round from the navigation, downloads the Excel, fills it in, uploads it, checks the dry run, confirms and
submits; until the bureau approves, the value is in no official output; once approved, the dashboard shows
it as the latest value and the report PDF includes it. Another department's draft never reaches the PDF."""

from __future__ import annotations

import datetime as dt
import io

import pypdf

from sciencecity.accounts.choices import Role
from sciencecity.plans import services
from sciencecity.plans.models import Indicator, ObservedValue
from sciencecity.registry.models import Organisation
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, nav_to, reauthenticate
from tests.e2e.test_plan_values import download_template, logout, status, upload_file
from tests.plans.test_value_import import fill_template

CODE = "4"  # 市级及以上创新载体数量, owned by 光明区科技创新局
VALUE = 4321.5
DRAFT = 87.65  # 光明区统计局's draft of the same year (within the plausible range of its % indicator)


def open_round(page, year: int) -> None:
    """From the home page through the navigation to the round, as a new user would."""
    page.goto(f"{page.base_url}/")
    nav_to(page, "规划与项目", "规划监测")
    page.click(".subnav a[href='/plan/rounds/']")
    with page.expect_navigation():
        page.click(f"[data-testid=round-link-{year}]")


def report_pdf_text(page, username: str = "kcj_bureau") -> str:
    """Download the report PDF; it is an export, so the first time the platform asks to confirm identity."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.click(".subnav a[href='/plan/report/']")
    try:
        with page.expect_download(timeout=5000) as info:
            page.click("[data-testid=report-pdf]")
    except PlaywrightTimeoutError:
        with page.expect_download() as info:
            reauthenticate(page, username, PASSWORD, leads_to_page=False)
    with open(info.value.path(), "rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return "".join(p.extract_text() for p in reader.pages)


def test_department_submits_bureau_approves_and_only_the_approved_value_is_official(page, transactional_db, tmp_path):
    plan = services.plan_import_bundled().plan
    kcj = Organisation.objects.get(code="GOV-KCJ")
    tjj = Organisation.objects.get(code="GOV-TJJ")
    make_user(Role.DEPARTMENT_OFFICER, kcj, username="kcj_officer", display_name="李填报")
    bureau = make_user(Role.BUREAU_OFFICER, kcj, username="kcj_bureau", display_name="王审核")
    tjj_officer = make_user(Role.DEPARTMENT_OFFICER, tjj, username="tjj_officer")
    services.round_open(actor=bureau, plan=plan, year=2025, deadline=dt.date(2026, 3, 31))
    indicator = Indicator.objects.get(plan=plan, code=CODE)
    tjj_indicator = plan.indicators.filter(owner_department=tjj).order_by("number").first()
    services.indicator_value_set(actor=tjj_officer, indicator=tjj_indicator, year=2025, value=DRAFT)

    # The department officer: round → Excel → fill → upload → dry run → confirm → submit.
    login(page, "kcj_officer", PASSWORD)
    open_round(page, 2025)
    assert page.locator(f"[data-testid=next-actor-{kcj.pk}]").count() == 1
    template = download_template(page, kcj.pk)
    filled = tmp_path / "kcj-2025.xlsx"
    filled.write_bytes(fill_template(template, {CODE: VALUE}))
    upload_file(page, kcj.pk, filled)
    assert page.locator("[data-testid=count-created]").inner_text() == "1"
    assert page.locator("[data-testid=count-unchanged]").inner_text() == "4"
    with page.expect_navigation():
        page.click("[data-testid=import-confirm]")
    assert ObservedValue.objects.get(indicator=indicator, year=2025).status == "draft"
    # the draft is visible to its department on the indicator page, marked as not approved ...
    page.click(f"[data-testid=round-value-{CODE}] a")
    assert page.locator("[data-testid=not-approved-2025]").count() == 1
    # ... but it is not the dashboard's latest value
    page.click(".subnav a[href='/plan/']")
    assert "4,321.5" not in page.locator(f"[data-testid=latest-{CODE}]").inner_text()
    assert "4321.5" not in page.locator(f"[data-testid=latest-{CODE}]").inner_text()
    open_round(page, 2025)
    with page.expect_navigation():
        page.click(f"[data-testid=submit-{kcj.pk}]")
    assert status(page, kcj.pk) == "submitted"
    logout(page)

    # The bureau: the submitted value is not yet in the report; approve; then it is.
    login(page, "kcj_bureau", PASSWORD)
    open_round(page, 2025)
    assert "4321.5" not in report_pdf_text(page)
    open_round(page, 2025)
    with page.expect_navigation():
        page.click(f"[data-testid=approve-{kcj.pk}]")
    assert status(page, kcj.pk) == "approved"
    page.click(".subnav a[href='/plan/']")
    latest = page.locator(f"[data-testid=latest-{CODE}]").inner_text().replace(",", "")
    assert float(latest.strip()) == VALUE
    text = report_pdf_text(page)
    assert "4,321.5 (2025)" in text or "4321.5 (2025)" in text
    assert "87.65" not in text


def test_readme_walkthrough_bureau_approves_the_demo_round_and_the_dashboard_moves_to_2025(page, transactional_db):
    """README "Trying it out", step 4, on the demo data: 2025 is submitted, the dashboard shows 2024; the
    bureau approves 光明区科技创新局 in the 2025 round and its indicators' latest value becomes 2025."""
    from sciencecity.plans.demo import generate_values

    plan = services.plan_import_bundled().plan
    generate_values(today=dt.date(2026, 12, 7))
    kcj = Organisation.objects.get(code="GOV-KCJ")
    make_user(Role.BUREAU_OFFICER, kcj, username="kcj_bureau")
    value_2025 = ObservedValue.objects.get(indicator__plan=plan, indicator__code="2", year=2025)

    login(page, "kcj_bureau", PASSWORD)
    nav_to(page, "规划与项目", "规划监测")
    card = page.locator("[data-testid=indicator-card-2]")
    assert "(2024)" in card.inner_text()
    assert page.locator("[data-testid=pending-values]").count() == 1
    page.click("[data-testid=pending-values]")
    with page.expect_navigation():
        page.click("[data-testid=round-link-2025]")
    assert status(page, kcj.pk) == "submitted"
    with page.expect_navigation():
        page.click(f"[data-testid=approve-{kcj.pk}]")
    assert status(page, kcj.pk) == "approved"
    page.click(".subnav a[href='/plan/']")
    card = page.locator("[data-testid=indicator-card-2]")
    assert "(2025)" in card.inner_text()
    shown = float(page.locator("[data-testid=latest-2]").inner_text().replace(",", ""))
    assert shown == round(value_2025.value, 2)
