"""Reads of the enterprise services: DB rows → the rules engine's typed profiles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from sciencecity.engines.rules import profile as engine
from sciencecity.enterprises.choices import CertificationKind
from sciencecity.enterprises.models import (
    Certification,
    EnterpriseProfile,
    FiscalYear,
    MonthlyStaff,
)

YEAR_AMOUNTS = ("main_revenue", "other_revenue", "total_income", "non_taxable_income", "high_tech_revenue",
                "technical_income", "net_assets", "total_assets", "total_costs", "staff_average", "st_staff_average")
#: The model's R&D column of each engine category (``rd_<category>``).
RD_FIELDS = {category: f"rd_{category}" for category in engine.RD_CATEGORIES}
#: 办法 第十一条(八): incidents within the 365 days before the application.
INCIDENT_WINDOW_DAYS = 365


def _fraction(value: Decimal | int | None) -> Fraction | None:
    return None if value is None else Fraction(value)


def assessment_day(year: int | None = None) -> dt.date:
    """The day an assessment is made as of: today, or 31 December of a past ``year`` (30 June of a future one)."""
    today = timezone.localdate()
    if year is None or year == today.year:
        return today
    return dt.date(year, 12, 31) if year < today.year else dt.date(year, 6, 30)


def profiles_with_data() -> QuerySet[EnterpriseProfile]:
    """Profiles with everything ``to_engine_profile`` reads, in a fixed number of queries."""
    return EnterpriseProfile.objects.select_related("organisation").prefetch_related(
        Prefetch("fiscal_years", queryset=FiscalYear.objects.prefetch_related(
            Prefetch("months", queryset=MonthlyStaff.objects.order_by("month")))),
        "ip_rights",
        Prefetch("certifications", queryset=Certification.objects.order_by("-issued_on")),
        "incidents",
    )


def _fiscal_year(row: FiscalYear) -> engine.FiscalYear:
    values: dict = {"year": row.year}
    for name in YEAR_AMOUNTS:
        value = getattr(row, name)
        if value is not None:
            values[name] = Fraction(value)
    rd = {category: getattr(row, column) for category, column in RD_FIELDS.items()}
    if any(value is not None for value in rd.values()):
        values["rd"] = engine.RDExpense(**{k: Fraction(v) for k, v in rd.items() if v is not None})
    months = list(row.months.all())
    if len(months) == 12:
        values["staff_monthly"] = tuple(engine.MonthlyStaff(Fraction(m.start), Fraction(m.end), Fraction(m.st_start),
                                                            Fraction(m.st_end)) for m in months)
    if row.conversions is not None:
        values["conversions"] = row.conversions
    return engine.FiscalYear(**values)


def hnte_certificate(profile: EnterpriseProfile, on: dt.date | None = None) -> Certification | None:
    """The latest 高新技术企业 certificate issued on or before ``on`` (any, when ``on`` is None)."""
    for cert in profile.certifications.all():  # newest first (prefetch order)
        if cert.kind == CertificationKind.HNTE and (on is None or cert.issued_on <= on):
            return cert
    return None


def to_engine_profile(profile: EnterpriseProfile, *, assessed_on: dt.date) -> engine.EnterpriseProfile:
    """One DB profile as the engine's typed profile, as of ``assessed_on`` (fiscal years before its year)."""
    org = profile.organisation
    years = tuple(sorted((_fiscal_year(y) for y in profile.fiscal_years.all() if y.year < assessed_on.year),
                         key=lambda y: y.year))
    ip = tuple(engine.IntellectualProperty(ip_class=r.ip_class, kind=r.kind, acquired=r.acquired,
                                           granted_on=r.granted_on)
               for r in profile.ip_rights.all() if r.granted_on is None or r.granted_on <= assessed_on)
    incident = None
    if profile.incidents_declared:
        since = assessed_on - dt.timedelta(days=INCIDENT_WINDOW_DAYS)
        incident = any(since <= i.occurred_on <= assessed_on for i in profile.incidents.all())
    cert = hnte_certificate(profile, assessed_on)
    registered_on = org.founded_on if org.founded_on and org.founded_on <= assessed_on else None
    rating = {k: v for k, v in (profile.self_rating or {}).items() if k in engine.SELF_RATING_ITEMS}
    return engine.EnterpriseProfile(
        id=org.code, name=org.name, assessed_on=assessed_on, registered_on=registered_on, years=years, ip=ip,
        standards_drafted=profile.standards_drafted, incident_in_last_year=incident,
        field=profile.technology_domain or None,
        hnte_certificate=engine.Certificate(number=cert.number, issued_on=cert.issued_on) if cert else None,
        self_rating=rating)


def profile_records(*, year: int | None = None, assessed_on: dt.date | None = None,
                    profiles: Iterable[EnterpriseProfile] | None = None) -> list[engine.EnterpriseProfile]:
    """Every enterprise profile (or ``profiles``) as the engine's typed ``EnterpriseProfile``.

    ``year`` is the assessment year (its fiscal years are the ones before it); ``assessed_on``
    defaults to ``assessment_day(year)``. Ordered as the profiles (by organisation name)."""
    day = assessed_on or assessment_day(year)
    rows = profiles if profiles is not None else profiles_with_data()
    return [to_engine_profile(p, assessed_on=day) for p in rows]
