"""DB rows → the engine's typed profile (the input of the assessments and of policy matching)."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from sciencecity.engines.rules import hnte
from sciencecity.enterprises.models import (
    EnterpriseProfile,
    FiscalYear,
    Incident,
    IntellectualProperty,
    MonthlyStaff,
)
from sciencecity.enterprises.selectors import certificates_held, profile_records
from sciencecity.registry.models import Certification
from tests.conftest import make_organisation

pytestmark = pytest.mark.django_db


def test_profile_records_builds_the_engine_profile_of_the_assessment_year():
    org = make_organisation(code="E-1", name="示例科技", founded_on=dt.date(2015, 1, 1))
    profile = EnterpriseProfile.objects.create(organisation=org, technology_domain="电子信息", standards_drafted=1,
                                               incidents_declared=True)
    fy = FiscalYear.objects.create(profile=profile, year=2025, main_revenue=Decimal("4900"), other_revenue=Decimal("100"),
                                   total_income=Decimal("5100"), non_taxable_income=Decimal("100"),
                                   rd_personnel=Decimal("150.50"), rd_commissioned_abroad=Decimal("10"))
    for month in range(1, 13):
        MonthlyStaff.objects.create(fiscal_year=fy, month=month, start=98, end=100, st_start=14, st_end=15)
    FiscalYear.objects.create(profile=profile, year=2026, main_revenue=Decimal("9999"))  # not before 2026-06-30
    IntellectualProperty.objects.create(profile=profile, ip_class="I", kind="invention_patent",
                                        granted_on=dt.date(2021, 5, 10))
    Certification.objects.create(organisation=org, kind="hnte", number="GR2023", issued_on=dt.date(2023, 12, 12))
    Certification.objects.create(organisation=org, kind="tech_sme", number="202644030100000123",
                                 issued_on=dt.date(2026, 4, 1), expires_on=dt.date(2026, 12, 31))
    Incident.objects.create(profile=profile, kind="safety", occurred_on=dt.date(2025, 1, 1))  # > 365 days before

    [record] = profile_records(assessed_on=dt.date(2026, 6, 30))

    assert record.id == "E-1" and record.registered_on == dt.date(2015, 1, 1) and record.field == "电子信息"
    assert [y.year for y in record.years] == [2025]
    year = record.years[0]
    assert year.sales == 5000 and year.income == 5000  # 4900 + 100; 5100 − 100
    assert year.rd.personnel == Fraction("150.5") and year.rd.commissioned_abroad == 10
    assert year.staff_averages() == (99, Fraction(29, 2))  # (98 + 100) ÷ 2; (14 + 15) ÷ 2
    assert record.incident_in_last_year is False
    assert record.hnte_certificate.number == "GR2023" and len(record.ip) == 1
    assert certificates_held(profile, dt.date(2026, 6, 30)) == {
        "hnte": (dt.date(2023, 12, 12), dt.date(2026, 12, 11)),  # three years (办法 第九条), the day before
        "tech_sme": (dt.date(2026, 4, 1), dt.date(2026, 12, 31))}
    assert hnte.assess(record).verdict in (hnte.CERTAIN, hnte.POSSIBLE, hnte.NOT_YET)


def test_undeclared_incidents_are_unknown():
    EnterpriseProfile.objects.create(organisation=make_organisation())
    [record] = profile_records(year=2026)
    assert record.incident_in_last_year is None and record.years == ()


def test_certificate_reminders_speak_the_reader_s_language():
    """Issue 11 obs. 7: the 年报 and expiry reminders of a high-tech certificate are in zh-Hans on a zh-Hans page."""
    from django.utils import translation

    from sciencecity.enterprises.selectors import certificate_statuses

    org = make_organisation(code="E-2", name="提醒科技")
    Certification.objects.create(organisation=org, kind="hnte", number="GR2023", issued_on=dt.date(2023, 12, 12))
    with translation.override("zh-hans"):
        [status] = certificate_statuses(org, day=dt.date(2026, 11, 1))
    assert [r.message for r in status.reminders] == [
        "2023 年度报告应于 2024-05-31 前填报", "2024 年度报告应于 2025-05-31 前填报",
        "2025 年度报告应于 2026-05-31 前填报", "已有 3 次未报年报：累计两年未报将被取消资格（办法 第十九条）",
        "证书有效期至 2026-12-11：请准备重新认定申请"]
    with translation.override("en"):
        [status] = certificate_statuses(org, day=dt.date(2026, 11, 1))
    assert status.reminders[-1].message == "certificate valid until 2026-12-11: prepare the re-recognition application"
