"""Plan indicators that the registry computes (registered with ``plans.sources`` at start-up)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sciencecity.registry.choices import (
    CARRIER_KINDS,
    CertificationKind,
    Level,
    OrganisationKind,
    OrganisationStatus,
)
from sciencecity.registry.models import Certification, Organisation

MUNICIPAL_OR_HIGHER = [Level.NATIONAL, Level.PROVINCIAL, Level.MUNICIPAL]
DISTRICT_OR_HIGHER = [*MUNICIPAL_OR_HIGHER, Level.DISTRICT]


def _year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def _existing_on(day: dt.date):
    """Organisations founded by ``day`` (unknown founding dates count) and not closed."""
    return Q(founded_on__isnull=True) | Q(founded_on__lte=day)


def carriers_municipal_or_higher(year: int, scope: str) -> tuple[float, str]:
    qs = Organisation.objects.filter(_existing_on(_year_end(year)), kind__in=list(CARRIER_KINDS),
                                     level__in=MUNICIPAL_OR_HIGHER, status=OrganisationStatus.OPERATING)
    return float(qs.count()), (
        f"registry: operating organisations of kinds {', '.join(sorted(CARRIER_KINDS))} at municipal level or "
        f"higher, founded by {year}-12-31"
    )


def high_tech_enterprises(year: int, scope: str) -> tuple[float, str]:
    day = _year_end(year)
    n = (Certification.objects.valid_on(day).filter(kind=CertificationKind.HIGH_TECH_ENTERPRISE)
         .values("organisation").distinct().count())
    return float(n), f"registry: enterprises with a 高新技术企业 certificate valid on {day.isoformat()}"


def new_research_institutions(year: int, scope: str) -> tuple[float, str]:
    kinds = [OrganisationKind.RESEARCH_INSTITUTE, OrganisationKind.NEW_RD_INSTITUTION, OrganisationKind.LABORATORY]
    n = Organisation.objects.filter(kind__in=kinds, founded_on__gte=dt.date(2021, 1, 1),
                                    founded_on__lte=_year_end(year)).exclude(status=OrganisationStatus.CLOSED).count()
    return float(n), f"registry: research institutes, new-type R&D institutions and laboratories founded 2021-01-01..{year}-12-31"


def incubators_district_or_higher(year: int, scope: str) -> tuple[float, str]:
    kinds = [OrganisationKind.MAKER_SPACE, OrganisationKind.INCUBATOR]
    n = Organisation.objects.filter(_existing_on(_year_end(year)), kind__in=kinds, level__in=DISTRICT_OR_HIGHER,
                                    status=OrganisationStatus.OPERATING).count()
    return float(n), f"registry: operating maker spaces and incubators at district level or higher, founded by {year}-12-31"


def register_all() -> None:
    from sciencecity.plans import sources

    sources.register("registry.carriers", _("Municipal-or-higher innovation carriers (registry)"),
                     carriers_municipal_or_higher, name_pattern=r"(市级|省级|国家级)?.*创新载体")
    sources.register("registry.hnte", _("Enterprises with a valid high-tech certificate (registry)"),
                     high_tech_enterprises, name_pattern=r"高新技术企业")
    sources.register("registry.new_institutions", _("Research institutions founded since 2021 (registry)"),
                     new_research_institutions, name_pattern=r"新引进.*(科研|研发)机构|新(建|增).*(科研|研发)机构")
    sources.register("registry.incubators", _("District-or-higher maker spaces and incubators (registry)"),
                     incubators_district_or_higher, name_pattern=r"众创空间|孵化器")
