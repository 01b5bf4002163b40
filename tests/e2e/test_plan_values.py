"""Browser journey of a reporting round: the department fills in the Excel template, uploads it, sees
the dry run, confirms; the department submits, the bureau approves; the dashboard shows the value only
now; the value is locked and a later upload changing it is refused."""

from __future__ import annotations

from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.plans.models import Indicator, ObservedValue
from sciencecity.plans.services import plan_import_bundled
from sciencecity.registry.models import Organisation
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login
from tests.plans.test_value_import import fill_template

CODE = "4"  # 市级及以上创新载体数量, owned by 光明区科技创新局 in the bundled setup


def logout(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()


def status(page, department_pk: int) -> str:
    return page.locator(f"[data-testid=submission-status-{department_pk}]").get_attribute("data-status")


def download_template(page, department_pk: int) -> bytes:
    with page.expect_download() as info:
        page.click(f"[data-testid=template-{department_pk}]")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as handle:
        return handle.read()


def upload_file(page, department_pk: int, path) -> None:
    page.click(f"[data-testid=upload-{department_pk}]")
    page.set_input_files("[data-testid=import-file]", str(path))
    with page.expect_navigation():
        page.click("[data-testid=import-upload]")


def test_department_uploads_values_bureau_approves_and_the_value_is_locked(page, transactional_db, tmp_path):
    plan = plan_import_bundled().plan
    kcj = Organisation.objects.get(code="GOV-KCJ")
    make_user(Role.DEPARTMENT_OFFICER, kcj, username="kcj_officer", display_name="李填报")
    make_user(Role.BUREAU_OFFICER, kcj, username="kcj_bureau", display_name="王审核")
    indicator = Indicator.objects.get(plan=plan, code=CODE)

    # The bureau opens the 2025 round.
    login(page, "kcj_bureau", PASSWORD)
    page.goto(f"{page.base_url}/plan/rounds/")
    page.fill("input[name=year]", "2025")
    page.fill("input[name=deadline]", "2026-03-31")
    with page.expect_navigation():
        page.click("[data-testid=round-open]")
    round_url = page.url.split("#")[0]
    assert "/plan/rounds/" in round_url
    assert status(page, kcj.pk) == "draft"
    logout(page)

    # The department downloads its template, fills it in and uploads it.
    login(page, "kcj_officer", PASSWORD)
    page.goto(round_url)
    template = download_template(page, kcj.pk)
    filled = tmp_path / "kcj-2025.xlsx"
    filled.write_bytes(fill_template(template, {CODE: 136}, notes={CODE: "区科创局统计"}))
    upload_file(page, kcj.pk, filled)
    assert page.locator("[data-testid=count-created]").inner_text() == "1"
    assert page.locator("[data-testid=count-unchanged]").inner_text() == "4"
    assert page.locator("[data-testid=count-error]").inner_text() == "0"
    assert not ObservedValue.objects.filter(indicator=indicator, year=2025).exists()  # a dry run only
    with page.expect_navigation():
        page.click("[data-testid=import-confirm]")
    assert page.locator(f"[data-testid=round-value-{CODE}]").first.inner_text().count("136") == 1
    stored = ObservedValue.objects.get(indicator=indicator, year=2025)
    assert (stored.value, stored.source, stored.note) == (136.0, "excel", "区科创局统计")

    # A draft is not official: the dashboard's latest value stays the plan's baseline until the bureau approves.
    page.goto(f"{page.base_url}/plan/")
    assert page.locator(f"[data-testid=latest-{CODE}]").inner_text().strip() == "100"

    # The department submits.
    page.goto(round_url)
    with page.expect_navigation():
        page.click(f"[data-testid=submit-{kcj.pk}]")
    assert status(page, kcj.pk) == "submitted"
    assert page.locator(f"[data-testid=upload-{kcj.pk}]").count() == 0
    logout(page)

    # The bureau approves: the values are locked.
    login(page, "kcj_bureau", PASSWORD)
    page.goto(round_url)
    with page.expect_navigation():
        page.click(f"[data-testid=approve-{kcj.pk}]")
    assert status(page, kcj.pk) == "approved"
    assert page.locator(f"[data-testid=locked-{CODE}]").count() == 1
    page.goto(f"{page.base_url}/plan/")
    assert page.locator(f"[data-testid=latest-{CODE}]").inner_text().strip() == "136"
    page.goto(f"{page.base_url}/plan/indicators/{indicator.pk}/")
    row = page.locator("[data-testid=value-2025]")
    assert "136" in row.inner_text() and "已锁定" in row.inner_text()
    logout(page)

    # A further upload changing the locked value is refused, row by row, and nothing is written.
    login(page, "kcj_officer", PASSWORD)
    page.goto(round_url)
    changed = tmp_path / "kcj-2025-changed.xlsx"
    changed.write_bytes(fill_template(download_template(page, kcj.pk), {CODE: 140}))
    upload_file(page, kcj.pk, changed)
    assert page.locator("[data-testid=count-error]").inner_text() == "1"
    assert page.locator("[data-testid=import-confirm]").count() == 0
    error_row = page.locator("[data-testid=import-report] tr.row-error")
    assert error_row.count() == 1 and "value_locked" in error_row.inner_text()
    expect(page.locator("[data-testid=nothing-written]")).to_be_visible()
    stored.refresh_from_db()
    assert (stored.value, stored.status) == (136.0, "approved")
