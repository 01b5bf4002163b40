"""Fixtures of the enterprise-services tests: an enterprise with three fiscal years of figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_user


def year_figures(**overrides) -> dict:
    """One fiscal year (万元): sales 5,000 = 4,900 + 100; 总收入 5,000 = 5,100 − 100; 高新收入 3,700;
    R&D 260 (internal 200, commissioned in China 50 counted at 40, other 10); staff 100, S&T 15."""
    data = {"main_revenue": Decimal("4900"), "other_revenue": Decimal("100"), "total_income": Decimal("5100"),
            "non_taxable_income": Decimal("100"), "high_tech_revenue": Decimal("3500"),
            "technical_income": Decimal("200"), "rd_personnel": Decimal("150"), "rd_direct": Decimal("40"),
            "rd_depreciation": Decimal("10"), "rd_commissioned_domestic": Decimal("50"), "rd_other": Decimal("10"),
            "net_assets": Decimal("1500"), "total_assets": Decimal("3000"), "total_costs": Decimal("4000"),
            "staff_average": Decimal("100"), "st_staff_average": Decimal("15"), "conversions": 4}
    data.update(overrides)
    return data


@pytest.fixture
def enterprise(db):
    today = timezone.localdate()
    return make_organisation(code="ENT-1", name="光明示例科技有限公司", founded_on=today - dt.timedelta(days=3650))


@pytest.fixture
def member(enterprise):
    return make_user(Role.ENTERPRISE_USER, enterprise, username="ent_member")


@pytest.fixture
def stranger(db):
    return make_user(Role.ENTERPRISE_USER, make_organisation(code="ENT-OTHER"), username="ent_stranger")


@pytest.fixture
def filled(enterprise, member):
    """The enterprise's profile with the three fiscal years before this one and one class I patent."""
    from sciencecity.enterprises import services

    today = timezone.localdate()
    services.profile_save(actor=member, organisation=enterprise,
                          data={"technology_domain": "电子信息", "incidents_declared": True, "standards_drafted": 0})
    for year in range(today.year - 3, today.year):
        services.fiscal_year_save(actor=member, organisation=enterprise, year=year, data=year_figures())
    services.ip_right_create(actor=member, organisation=enterprise,
                             data={"ip_class": "I", "kind": "invention_patent", "granted_on": today - dt.timedelta(days=400)})
    return enterprise
