"""Browser journey of shared instruments (issue 14, "done means"): an SME books an instrument, checks in and
out, pays part of the fee with its innovation voucher and sees its monthly statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from sciencecity.accounts.choices import Role
from sciencecity.facilities.models import Booking, Voucher
from sciencecity.facilities.services import vouchers
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login
from tests.facilities.conftest import make_instrument


def test_sme_books_checks_in_and_out_pays_with_voucher_and_sees_statement(page, transactional_db):
    lab = make_organisation(kind="laboratory", name="光明实验室", code="LAB-GM")
    make_instrument(lab, always_open=True)  # SME price 300 CNY/h
    sme = make_organisation(kind="enterprise", name="光明小微科技有限公司", code="ENT-SME")
    sme_user = make_user(Role.ENTERPRISE_USER, sme, username="sme")
    bureau = make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department"), username="kcj")
    scheme = vouchers.scheme_create(actor=bureau, data={
        "code": "CXQ", "name": "科技创新券", "budget": Decimal("100000"), "cap_per_enterprise": Decimal("5000"),
        "max_share": Decimal("0.5"), "eligibility": "employees < 300",
        "valid_until": timezone.localdate() + dt.timedelta(days=300)})
    applied = vouchers.voucher_apply(actor=sme_user, scheme=scheme, organisation=sme, requested="1000",
                                     facts={"employees": 40})
    vouchers.voucher_decide(actor=bureau, voucher=applied, approve=True)

    login(page, "sme", PASSWORD)
    page.goto(f"{page.base_url}/facilities/?q=电镜")
    page.click("text=场发射扫描电镜")
    start = timezone.localtime() + dt.timedelta(minutes=5)
    page.fill("input[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=end]", (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=purpose]", "电池材料形貌表征")
    with page.expect_navigation():
        page.click("[data-testid=book]")
    assert "/facilities/bookings/" in page.url
    row = page.locator("[data-testid=booking-row]").first
    assert row.locator("[data-testid=booking-state]").inner_text().strip() == "已确认"

    with page.expect_navigation():
        row.locator("[data-testid=check-in]").click()
    with page.expect_navigation():
        page.locator("[data-testid=booking-row]").first.locator("[data-testid=check-out]").click()
    row = page.locator("[data-testid=booking-row]").first
    # check-out right after check-in: one started quarter hour at the SME price 300/h = 75.00
    assert row.locator("[data-testid=usage-fee]").inner_text() == "75.00"

    with page.expect_navigation():
        row.locator("[data-testid=pay-voucher]").click()  # amount empty: the most allowed, half the fee
    row = page.locator("[data-testid=booking-row]").first
    assert row.locator("[data-testid=usage-voucher]").inner_text() == "37.50"
    assert row.locator("[data-testid=usage-payable]").inner_text() == "37.50"
    assert Voucher.objects.get().balance == Decimal("962.50")

    with page.expect_navigation():
        page.click("[data-testid=statement-link]")
    assert page.locator("[data-testid=total-fee]").inner_text() == "75.00"
    assert page.locator("[data-testid=total-voucher]").inner_text() == "37.50"
    assert page.locator("[data-testid=total-payable]").inner_text() == "37.50"
    assert page.locator("h1").inner_text() == "月度结算单"
    assert Booking.objects.get().state == "completed"
