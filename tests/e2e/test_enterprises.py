"""Browser journey of issue 13: an enterprise user fills its data (profile, IP, three fiscal years),
runs the high-tech self-assessment and sees the verdict, the numbers and the improvements."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login


def test_enterprise_fills_its_data_and_sees_the_assessment(page, transactional_db):
    today = timezone.localdate()
    enterprise = make_organisation(code="ENT-E2E", name="光明示例电子有限公司",
                                   founded_on=today - dt.timedelta(days=3650))
    make_user(Role.ENTERPRISE_USER, enterprise, username="ent_e2e")
    login(page, "ent_e2e", PASSWORD)

    page.goto(f"{page.base_url}/enterprises/")
    page.get_by_test_id("profile-edit").click()
    page.select_option("#id_technology_domain", "电子信息")
    page.fill("#id_standards_drafted", "0")
    page.check("#id_incidents_declared")
    page.get_by_test_id("profile-save").click()
    page.wait_for_url("**/enterprises/my/")

    page.get_by_test_id("ip-new").click()
    page.select_option("#id_ip_class", "I")
    page.select_option("#id_kind", "invention_patent")
    page.fill("#id_number", "ZL202110000000.1")
    page.fill("#id_granted_on", (today - dt.timedelta(days=500)).isoformat())
    page.get_by_test_id("item-save").click()
    page.wait_for_url("**/enterprises/my/")

    # three fiscal years: sales 5,000万 a year, R&D 245万 a year → 735 ÷ 15,000 = 4.9 % < 5 %
    for year in range(today.year - 3, today.year):
        page.get_by_test_id("year-new").click()
        for name, value in {"year": year, "main_revenue": 4900, "other_revenue": 100, "total_income": 5100,
                            "non_taxable_income": 100, "high_tech_revenue": 3500, "technical_income": 200,
                            "rd_personnel": 245, "net_assets": 1500, "total_assets": 3000, "total_costs": 4000,
                            "staff_average": 100, "st_staff_average": 15, "conversions": 4}.items():
            page.fill(f"#id_{name}", str(value))
        page.get_by_test_id("year-save").click()
        page.wait_for_url("**/enterprises/my/")
        expect(page.get_by_test_id(f"year-{year}")).to_be_visible()
    page.get_by_test_id("nav-assessment").click()
    verdict = page.get_by_test_id("verdict").inner_text()
    assert "暂不符合" in verdict  # H5 fails
    assert page.get_by_test_id("status-H5").get_attribute("class") == "badge badge-bad"
    assert page.get_by_test_id("status-H5").inner_text().strip() == "不通过"
    assert "4.90%" in page.get_by_test_id("condition-H5").inner_text()
    first = page.get_by_test_id("improvements").locator("li").first.inner_text()
    assert "15" in first  # raise R&D by 15万 (5 % × 15,000 − 735) to reach the 5 % band
    expect(page.get_by_test_id("score-range")).to_be_visible()
