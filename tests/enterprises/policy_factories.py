"""Enterprises with profiles for the policy and finance tests (figures chosen to hand-compute)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from sciencecity.enterprises.models import EnterpriseProfile, FiscalYear
from sciencecity.registry.models import Certification
from tests.conftest import make_organisation


def last_year() -> int:
    return timezone.localdate().year - 1


def certified_recently() -> dt.date:
    """The issue day of a 高新 certificate that is valid today and for two years more, whatever the clock says
    (a pinned day expires: the tests would only pass in the three years after it)."""
    return timezone.localdate() - dt.timedelta(days=365)


def make_enterprise(*, name: str, district: str = "光明区", sales: str | None = "1000", rd: str | None = None,
                    hnte_issued: dt.date | None = None, staff: str | None = None, st_staff: str | None = None,
                    previous_sales: list[str] = (), domain: str = "电子信息"):
    """An enterprise with one profile: last year's sales (main revenue; other revenue 0), R&D
    (personnel), staff, an optional 高新 certificate, and earlier years' sales (oldest first)."""
    org = make_organisation(name=name, district=district, founded_on=dt.date(2015, 3, 1))
    profile = EnterpriseProfile.objects.create(organisation=org, technology_domain=domain, incidents_declared=True)
    year = last_year()
    for offset, value in enumerate(reversed(previous_sales), start=1):
        FiscalYear.objects.create(profile=profile, year=year - offset, main_revenue=Decimal(value),
                                  other_revenue=Decimal(0))
    FiscalYear.objects.create(profile=profile, year=year,
                              main_revenue=None if sales is None else Decimal(sales),
                              other_revenue=None if sales is None else Decimal(0),
                              rd_personnel=None if rd is None else Decimal(rd),
                              staff_average=None if staff is None else Decimal(staff),
                              st_staff_average=None if st_staff is None else Decimal(st_staff))
    if hnte_issued:
        Certification.objects.create(organisation=org, kind="hnte", number=f"GR{org.pk}", issued_on=hnte_issued)
    return org
