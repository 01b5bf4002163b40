"""Reads of the enterprise services: DB rows → the rules engine's typed profiles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from sciencecity.engines.rules import hnte, techsme
from sciencecity.engines.rules import profile as engine
from sciencecity.engines.rules.i18n import translating
from sciencecity.enterprises.models import (
    EnterpriseProfile,
    FiscalYear,
    MonthlyStaff,
)
from sciencecity.registry.choices import CertificationKind
from sciencecity.registry.models import Certification

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
        Prefetch("organisation__certifications", queryset=Certification.objects.order_by("-issued_on", "-id")),
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
    """The latest 高新技术企业 certificate (registry) issued on or before ``on`` (any, when ``on`` is None)."""
    for cert in profile.organisation.certifications.all():  # newest first (prefetch order)
        if cert.kind == CertificationKind.HIGH_TECH_ENTERPRISE and (on is None or cert.issued_on <= on):
            return cert
    return None


def certificate_validity(cert: Certification) -> tuple[dt.date, dt.date]:
    """(valid from, valid until): the registry's expiry, else three years for a high-tech certificate
    (办法 第九条), else open-ended (31 December 9999)."""
    if cert.expires_on is not None:
        return cert.issued_on, cert.expires_on
    if cert.kind == CertificationKind.HIGH_TECH_ENTERPRISE:
        return cert.issued_on, hnte.certificate_valid_until(cert.issued_on)
    return cert.issued_on, dt.date.max


#: The rule language's certificate fields by the registry's certification kinds.
CERTIFICATE_FIELDS = {CertificationKind.HIGH_TECH_ENTERPRISE: "hnte", CertificationKind.TECH_SME: "tech_sme",
                      CertificationKind.SPECIALISED_SME: "specialised"}


def certificates_held(profile: EnterpriseProfile, on: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """Rule-language certificate field → (valid from, valid until) of the latest certificate of each
    kind issued by ``on`` (registry certifications; e.g. ``{"hnte": (2023-12-12, 2026-12-11)}``)."""
    held: dict[str, tuple[dt.date, dt.date]] = {}
    for cert in profile.organisation.certifications.all():  # newest first
        name = CERTIFICATE_FIELDS.get(cert.kind)
        if name and name not in held and cert.issued_on <= on:
            held[name] = certificate_validity(cert)
    return held


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


@dataclass(frozen=True)
class LoadedProfile:
    """One enterprise as the set-based loader reads it: ids, valuation, certificates held, typed profile."""

    profile_id: int
    organisation_id: int
    district: str
    valuation: Decimal | None
    certificates: dict[str, tuple[dt.date, dt.date]]
    record: engine.EnterpriseProfile


def _year_from_values(row: dict, months: list[dict]) -> engine.FiscalYear:
    values: dict = {"year": row["year"]}
    for name in YEAR_AMOUNTS:
        if row[name] is not None:
            values[name] = Fraction(row[name])
    rd = {category: row[column] for category, column in RD_FIELDS.items()}
    if any(value is not None for value in rd.values()):
        values["rd"] = engine.RDExpense(**{k: Fraction(v) for k, v in rd.items() if v is not None})
    if len(months) == 12:
        values["staff_monthly"] = tuple(engine.MonthlyStaff(Fraction(m["start"]), Fraction(m["end"]),
                                                            Fraction(m["st_start"]), Fraction(m["st_end"]))
                                        for m in sorted(months, key=lambda m: m["month"]))
    if row["conversions"] is not None:
        values["conversions"] = row["conversions"]
    return engine.FiscalYear(**values)


def load_profiles(*, assessed_on: dt.date, organisation_ids: Iterable[int] | None = None) -> list[LoadedProfile]:
    """Every enterprise profile (or those of ``organisation_ids``) in a fixed number of set-based
    queries (no per-row ORM objects), as of ``assessed_on``; ordered by organisation name."""
    from sciencecity.enterprises.models import Incident, IntellectualProperty

    profiles = EnterpriseProfile.objects.all()
    if organisation_ids is not None:
        profiles = profiles.filter(organisation_id__in=list(organisation_ids))
    rows = list(profiles.order_by("organisation__name", "id").values(
        "id", "organisation_id", "organisation__code", "organisation__name", "organisation__founded_on",
        "organisation__district", "technology_domain", "standards_drafted", "self_rating", "incidents_declared",
        "valuation"))
    ids = [r["id"] for r in rows]
    org_ids = [r["organisation_id"] for r in rows]
    years: dict[int, list[dict]] = {}
    year_rows = list(FiscalYear.objects.filter(profile_id__in=ids, year__lt=assessed_on.year).values())
    months: dict[int, list[dict]] = {}
    for m in MonthlyStaff.objects.filter(fiscal_year_id__in=[y["id"] for y in year_rows]).values():
        months.setdefault(m["fiscal_year_id"], []).append(m)
    for y in year_rows:
        years.setdefault(y["profile_id"], []).append(y)
    ip: dict[int, list[engine.IntellectualProperty]] = {}
    for r in IntellectualProperty.objects.filter(profile_id__in=ids).values("profile_id", "ip_class", "kind",
                                                                            "acquired", "granted_on"):
        if r["granted_on"] is None or r["granted_on"] <= assessed_on:
            ip.setdefault(r["profile_id"], []).append(engine.IntellectualProperty(
                ip_class=r["ip_class"], kind=r["kind"], acquired=r["acquired"], granted_on=r["granted_on"]))
    since = assessed_on - dt.timedelta(days=INCIDENT_WINDOW_DAYS)
    incident_ids = set(Incident.objects.filter(profile_id__in=ids, occurred_on__gte=since,
                                               occurred_on__lte=assessed_on).values_list("profile_id", flat=True))
    certs: dict[int, list[Certification]] = {}
    for cert in Certification.objects.filter(organisation_id__in=org_ids, issued_on__lte=assessed_on).order_by(
            "-issued_on", "-id"):
        certs.setdefault(cert.organisation_id, []).append(cert)
    loaded = []
    for r in rows:
        held: dict[str, tuple[dt.date, dt.date]] = {}
        hnte_cert = None
        for cert in certs.get(r["organisation_id"], []):
            name = CERTIFICATE_FIELDS.get(cert.kind)
            if name and name not in held:
                held[name] = certificate_validity(cert)
                if cert.kind == CertificationKind.HIGH_TECH_ENTERPRISE:
                    hnte_cert = cert
        founded = r["organisation__founded_on"]
        record = engine.EnterpriseProfile(
            id=r["organisation__code"], name=r["organisation__name"], assessed_on=assessed_on,
            registered_on=founded if founded and founded <= assessed_on else None,
            years=tuple(sorted((_year_from_values(y, months.get(y["id"], [])) for y in years.get(r["id"], [])),
                               key=lambda y: y.year)),
            ip=tuple(ip.get(r["id"], ())), standards_drafted=r["standards_drafted"],
            incident_in_last_year=(r["id"] in incident_ids) if r["incidents_declared"] else None,
            field=r["technology_domain"] or None,
            hnte_certificate=engine.Certificate(number=hnte_cert.number, issued_on=hnte_cert.issued_on)
            if hnte_cert else None,
            self_rating={k: v for k, v in (r["self_rating"] or {}).items() if k in engine.SELF_RATING_ITEMS})
        loaded.append(LoadedProfile(profile_id=r["id"], organisation_id=r["organisation_id"],
                                    district=r["organisation__district"], valuation=r["valuation"],
                                    certificates=held, record=record))
    return loaded


def profile_records(*, year: int | None = None, assessed_on: dt.date | None = None,
                    organisation_ids: Iterable[int] | None = None) -> list[engine.EnterpriseProfile]:
    """Every enterprise profile (or those of ``organisation_ids``) as the engine's typed ``EnterpriseProfile``.

    ``year`` is the assessment year (its fiscal years are the ones before it); ``assessed_on``
    defaults to ``assessment_day(year)``. Ordered by organisation name. ``load_profiles`` gives the
    same with the certificates held (for the rule language's certificate fields) and the ids."""
    day = assessed_on or assessment_day(year)
    return [loaded.record for loaded in load_profiles(assessed_on=day, organisation_ids=organisation_ids)]


# --- the assessment pages ------------------------------------------------------------------------

@dataclass
class CertificateStatus:
    """A registry certificate with its validity on the day and, for a high-tech one, the 年报 reminders."""

    certification: Certification
    valid_from: dt.date
    valid_until: dt.date
    valid: bool
    reminders: list[hnte.Reminder]
    reported_years: list[int]


def certificate_statuses(organisation, *, day: dt.date) -> list[CertificateStatus]:
    from sciencecity.enterprises.models import AnnualReport

    certs = list(organisation.certifications.all().order_by("-issued_on", "-id"))
    reported: dict[int, set[int]] = {}
    for cert_id, year in AnnualReport.objects.filter(certification__in=certs).values_list("certification_id", "year"):
        reported.setdefault(cert_id, set()).add(year)
    return [certificate_status(cert, day=day, reported=frozenset(reported.get(cert.pk, ()))) for cert in certs]


def certificate_status(cert: Certification, *, day: dt.date, reported: frozenset[int]) -> CertificateStatus:
    valid_from, valid_until = certificate_validity(cert)
    reminders = []
    if cert.kind == CertificationKind.HIGH_TECH_ENTERPRISE:
        with translating(gettext):  # the reader's language, not the engine's English templates
            reminders = hnte.certificate_reminders(cert.issued_on, day, reported_years=reported)
    return CertificateStatus(cert, valid_from, valid_until, valid_from <= day <= valid_until, reminders,
                             sorted(reported))


@dataclass
class Assessment:
    profile: EnterpriseProfile
    record: engine.EnterpriseProfile
    hnte: hnte.HnteAssessment
    tech_sme: techsme.TechSmeResult
    day: dt.date


def declarations(profile: EnterpriseProfile) -> techsme.TechSmeDeclarations:
    return techsme.TechSmeDeclarations(resident_mainland=profile.resident_mainland,
                                       forbidden_industry=profile.forbidden_industry)


def assessment_of(profile: EnterpriseProfile, *, day: dt.date | None = None) -> Assessment:
    """Both assessments of ``profile`` as of ``day`` (today), messages in the active language."""
    day = day or timezone.localdate()
    record = to_engine_profile(profile, assessed_on=day)
    with translating(gettext):
        result = hnte.assess(record)
        tech = techsme.evaluate(record, declarations=declarations(profile))
    return Assessment(profile=profile, record=record, hnte=result, tech_sme=tech, day=day)


def profile_of(organisation) -> EnterpriseProfile | None:
    return profiles_with_data().filter(organisation=organisation).first()


# --- the bureau pages ----------------------------------------------------------------------------

def current_members(tier: str) -> QuerySet:
    from sciencecity.enterprises.models import TierMembership

    return (TierMembership.objects.filter(tier=tier, left_at__isnull=True).select_related("organisation", "entered_by")
            .order_by("organisation__name", "id"))


def tier_history(*, tier: str | None = None, organisation=None, limit: int = 200) -> list:
    """Entries and exits, newest first: (time, organisation, tier label, "entered"/"left", who, why)."""
    from sciencecity.enterprises.models import TierMembership

    stays = TierMembership.objects.select_related("organisation", "entered_by", "left_by")
    if tier:
        stays = stays.filter(tier=tier)
    if organisation is not None:
        stays = stays.filter(organisation=organisation)
    events = []
    for stay in stays.order_by("-updated_at")[:limit * 2]:
        events.append((stay.entered_at, stay, "entered", stay.entered_by, stay.entered_reason))
        if stay.left_at:
            events.append((stay.left_at, stay, "left", stay.left_by, stay.left_reason))
    events.sort(key=lambda e: (e[0], e[2] == "left"), reverse=True)
    return events[:limit]


def pool_figures(*, day: dt.date | None = None, months: int = 12) -> dict:
    """Reserve pool: its size at the end of each of the last ``months`` months, and the conversions
    (stays that ended because the enterprise became certified) in each month."""
    from sciencecity.enterprises.choices import Tier
    from sciencecity.enterprises.models import TierMembership

    day = day or timezone.localdate()
    stays = list(TierMembership.objects.filter(tier=Tier.RESERVE).values_list("entered_at", "left_at", "certified"))
    points = []
    year, month = day.year, day.month
    ends = []
    for _i in range(months):
        ends.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    tz = timezone.get_current_timezone()
    for year, month in reversed(ends):
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
        size = sum(1 for entered, left, _c in stays if entered < end and (left is None or left >= end))
        converted = sum(1 for _e, left, certified in stays if certified and left is not None and start <= left < end)
        points.append({"month": f"{year}-{month:02d}", "size": size, "converted": converted})
    return {"points": points, "size": sum(1 for _e, left, _c in stays if left is None),
            "converted": sum(1 for _e, left, certified in stays if certified and left is not None)}


def hnte_certificate_list(*, day: dt.date | None = None) -> list[CertificateStatus]:
    """Every high-tech certificate still relevant on ``day`` (valid, or expired within a year: re-recognition),
    with its reminders, the ones needing action first."""
    from sciencecity.enterprises.models import AnnualReport

    day = day or timezone.localdate()
    certs = list(Certification.objects.filter(kind=CertificationKind.HIGH_TECH_ENTERPRISE, issued_on__lte=day,
                                              issued_on__gte=day.replace(year=day.year - 4, day=min(day.day, 28)))
                 .select_related("organisation").order_by("organisation__name", "-issued_on"))
    reported: dict[int, set[int]] = {}
    for cert_id, year in AnnualReport.objects.filter(certification__in=certs).values_list("certification_id", "year"):
        reported.setdefault(cert_id, set()).add(year)
    latest: dict[int, Certification] = {}
    for cert in certs:
        latest.setdefault(cert.organisation_id, cert)
    rows = []
    for cert in latest.values():
        status = certificate_status(cert, day=day, reported=frozenset(reported.get(cert.pk, ())))
        if status.valid or (day - status.valid_until).days <= 366:
            rows.append(status)
    rows.sort(key=lambda s: (not s.reminders, s.valid_until))
    return rows
