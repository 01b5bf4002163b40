"""Deterministic synthetic enterprise data (``sciencecity demo-enterprises``), labelled synthetic.

For every operating demo enterprise of the registry (``sciencecity demo`` first; ``DEMO-ORG-…``):
a profile (high-tech domain from a fixed list, incidents declared), the three fiscal years before
the demo reference day (``core.demo.demo_as_of``) with a size class, R&D intensity and growth drawn
from ``(seed, code)``, and a few IP rights. Then the tiers are computed as of the reference day,
and every demo enterprise whose high-tech certificate was issued in the last year gets a closed
reserve-pool stay that ended with its certification (the pool → certified conversions).

Re-running creates nothing new (enterprises that already have a profile are skipped); one audit
event (``generate``, object type ``enterprises.demo``) records the counts.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.enterprises import cultivation
from sciencecity.enterprises.choices import TechnologyDomain, Tier
from sciencecity.enterprises.models import EnterpriseProfile, FiscalYear, IntellectualProperty, TierMembership
from sciencecity.registry.choices import CertificationKind
from sciencecity.registry.demo import DEFAULT_SEED, ORGANISATION_CODE_PREFIX
from sciencecity.registry.models import Certification, Organisation

AUDIT_OBJECT_TYPE = "enterprises.demo"
DOMAINS = [value for value, _label in TechnologyDomain.choices]
#: Size classes: (weight, sales range in 万元, staff range).
SIZES = ((45, (300, 3000), (12, 60)), (35, (3000, 20000), (50, 300)), (15, (20000, 100000), (200, 1500)),
         (5, (100000, 600000), (800, 5000)))


@dataclass
class DemoResult:
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    skipped: str = ""

    @property
    def created(self) -> int:
        return sum(self.counts.values())


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def profile_rows(seed: int, org: Organisation, today: dt.date):
    """(profile, fiscal years, IP rights) of one demo enterprise: a pure function of (seed, code, today)."""
    rng = random.Random(f"enterprises:{seed}:{org.code}")
    profile = EnterpriseProfile(organisation=org, technology_domain=rng.choice(DOMAINS), incidents_declared=True,
                                standards_drafted=rng.choice((0, 0, 0, 1, 2)), is_synthetic=True,
                                resident_mainland=True, forbidden_industry=False)
    weights = [s[0] for s in SIZES]
    _w, (sales_low, sales_high), (staff_low, staff_high) = rng.choices(SIZES, weights=weights)[0]
    sales = rng.uniform(sales_low, sales_high)
    growth = rng.gauss(0.15, 0.2)
    rd_share = max(0.005, rng.gauss(0.045, 0.02))
    staff = rng.randint(staff_low, staff_high)
    st_share = max(0.02, rng.gauss(0.16, 0.07))
    if org.founded_on and (today - org.founded_on).days > 8 * 365 and rng.random() < 0.05:
        profile.valuation = _money(rng.uniform(700000, 2000000))
    elif rng.random() < 0.3:
        profile.valuation = _money(sales * rng.uniform(2, 8))
    years = []
    first = today.year - 3
    for offset in range(3):
        year = first + offset
        if org.founded_on and year < org.founded_on.year:
            continue
        scale = (1 + growth) ** (offset - 2)
        year_sales = sales * scale
        main = year_sales * rng.uniform(0.9, 0.99)
        rd = year_sales * rd_share * rng.uniform(0.9, 1.1)
        income = year_sales * rng.uniform(1.0, 1.05)
        year_staff = max(3, round(staff * scale ** 0.5))
        years.append(FiscalYear(
            year=year, main_revenue=_money(main), other_revenue=_money(year_sales - main),
            total_income=_money(income), non_taxable_income=_money(income * rng.uniform(0, 0.03)),
            high_tech_revenue=_money(income * rng.uniform(0.4, 0.85)), technical_income=_money(income * rng.uniform(0, 0.05)),
            rd_personnel=_money(rd * 0.6), rd_direct=_money(rd * 0.2), rd_depreciation=_money(rd * 0.05),
            rd_design=_money(rd * 0.03), rd_commissioned_domestic=_money(rd * 0.08),
            rd_commissioned_abroad=_money(rd * rng.choice((0, 0, 0, 0.05))), rd_other=_money(rd * 0.04),
            net_assets=_money(year_sales * rng.uniform(0.2, 0.6)), total_assets=_money(year_sales * rng.uniform(0.8, 1.6)),
            total_costs=_money(year_sales * rng.uniform(0.7, 0.95)), staff_average=Decimal(year_staff),
            st_staff_average=Decimal(max(1, min(year_staff, round(year_staff * st_share)))),
            conversions=rng.choice((0, 1, 2, 3, 4, 5, 6))))
    ip = []
    for n in range(rng.choice((0, 1, 2, 3, 5, 8))):
        ip_class = "I" if rng.random() < 0.3 else "II"
        ip.append(IntellectualProperty(
            ip_class=ip_class, kind="invention_patent" if ip_class == "I" else rng.choice(("utility_model", "software")),
            acquired="own" if rng.random() < 0.85 else "transferred", number=f"DEMO-{org.code[-6:]}-{n + 1}",
            granted_on=today - dt.timedelta(days=rng.randint(30, 2500))))
    return profile, years, ip


def demo_generate(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> DemoResult:
    today = demo_as_of(today)
    result = DemoResult(seed=seed)
    orgs = list(Organisation.objects.filter(kind="enterprise", status="operating", is_synthetic=True,
                                            code__startswith=ORGANISATION_CODE_PREFIX,
                                            enterprise_profile__isnull=True).order_by("code"))
    if not Organisation.objects.filter(code__startswith=ORGANISATION_CODE_PREFIX).exists():
        result.skipped = "no registry demo data: run `sciencecity demo` first"
        return result
    with transaction.atomic():
        profiles, years, rights = [], [], []
        for org in orgs:
            profile, fiscal_years, ip = profile_rows(seed, org, today)
            profiles.append(profile)
            years.append(fiscal_years)
            rights.append(ip)
        EnterpriseProfile.objects.bulk_create(profiles, batch_size=2000)
        for profile, fiscal_years, ip in zip(profiles, years, rights, strict=True):
            for row in fiscal_years:
                row.profile = profile
            for row in ip:
                row.profile = profile
        FiscalYear.objects.bulk_create([r for rows in years for r in rows], batch_size=2000)
        IntellectualProperty.objects.bulk_create([r for rows in rights for r in rows], batch_size=2000)
        result.counts = {"profiles": len(profiles), "fiscal_years": sum(map(len, years)),
                         "ip_rights": sum(map(len, rights))}
        if profiles:
            stays = cultivation.memberships_recompute(organisations=[p.organisation for p in profiles],
                                                      reason=_demo_reason(), day=today)
            result.counts["tier_entries"] = stays["entered"]
            result.counts["pool_conversions"] = _conversions(seed, [p.organisation_id for p in profiles], today)
            audit_record(action=AuditAction.GENERATE, object_type=AUDIT_OBJECT_TYPE, object_id=str(seed),
                         object_repr=f"enterprise demo seed {seed}", changes={"seed": seed, "created": result.counts},
                         reason=f"synthetic enterprise demo data, seed {seed}")
    return result


def _demo_reason(why: str = "") -> str:
    """The stored reason of a demo tier stay, in the site's language (it is data, shown as written)."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = gettext("synthetic demo data")
        return f"{reason}: {gettext(why)}" if why else reason


def _conversions(seed: int, org_ids: list[int], today: dt.date) -> int:
    """A closed reserve-pool stay for each demo enterprise certified in the year before ``today``."""
    tz = timezone.get_current_timezone()
    certs = Certification.objects.filter(organisation_id__in=org_ids, kind=CertificationKind.HIGH_TECH_ENTERPRISE,
                                         issued_on__gt=today - dt.timedelta(days=365), issued_on__lte=today)
    stays = []
    for cert in certs.order_by("organisation_id"):
        rng = random.Random(f"enterprises:pool:{seed}:{cert.organisation_id}")
        entered = cert.issued_on - dt.timedelta(days=rng.randint(120, 540))
        stays.append(TierMembership(
            organisation_id=cert.organisation_id, tier=Tier.RESERVE,
            entered_at=dt.datetime.combine(entered, dt.time(9), tzinfo=tz), entered_reason=_demo_reason(),
            left_at=dt.datetime.combine(cert.issued_on, dt.time(9), tzinfo=tz), certified=True,
            left_reason=_demo_reason(gettext_noop("certified as a high-tech enterprise"))))
    TierMembership.objects.bulk_create(stays)
    return len(stays)
