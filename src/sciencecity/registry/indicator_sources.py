"""Counts over the registry that plan indicators use.

The registry imports no other app: ``plans`` registers these as indicator sources
(:mod:`sciencecity.plans.registry_sources`), and service apps reuse :func:`in_scope` / :func:`scope_words`.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

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


def in_scope(qs, scope: str, field: str = "district"):
    """Restrict to one district (or other area) when the scope names one.

    ``"district"`` (the default scope of plan values) and ``""`` mean the whole area the platform
    serves, i.e. every organisation in the registry; any other scope is matched against ``field``.
    """
    if scope and scope != "district":
        return qs.filter(**{field: scope})
    return qs


def scope_words(scope: str, subject: str = "") -> str:
    """`` in 光明区`` (or `` sold by organisations in 光明区``) for a named scope, nothing for the whole area."""
    if not scope or scope == "district":
        return ""
    return f" {subject} in {scope}" if subject else f" in {scope}"


_scope_words = scope_words


def _existing_on(day: dt.date):
    """Organisations founded by ``day`` (unknown founding dates count) and not closed."""
    return Q(founded_on__isnull=True) | Q(founded_on__lte=day)


def carriers_municipal_or_higher(year: int, scope: str) -> tuple[float, str]:
    qs = Organisation.objects.filter(_existing_on(_year_end(year)), kind__in=list(CARRIER_KINDS),
                                     level__in=MUNICIPAL_OR_HIGHER, status=OrganisationStatus.OPERATING)
    qs = in_scope(qs, scope)
    return float(qs.count()), (
        f"registry: operating organisations of kinds {', '.join(sorted(CARRIER_KINDS))} at municipal level or "
        f"higher{_scope_words(scope)}, founded by {year}-12-31"
    )


def high_tech_enterprises(year: int, scope: str) -> tuple[float, str]:
    day = _year_end(year)
    qs = Certification.objects.valid_on(day).filter(kind=CertificationKind.HIGH_TECH_ENTERPRISE)
    n = in_scope(qs, scope, "organisation__district").values("organisation").distinct().count()
    return float(n), (
        f"registry: enterprises{_scope_words(scope)} with a 高新技术企业 certificate valid on {day.isoformat()}"
    )


def new_research_institutions(year: int, scope: str, *, plan_start: int | None = None) -> tuple[float, str]:
    """Institutions founded from the plan's first year (the year itself when no plan period is known)."""
    kinds = [OrganisationKind.RESEARCH_INSTITUTE, OrganisationKind.NEW_RD_INSTITUTION, OrganisationKind.LABORATORY]
    since = dt.date(plan_start or year, 1, 1)
    qs = Organisation.objects.filter(kind__in=kinds, founded_on__gte=since,
                                     founded_on__lte=_year_end(year)).exclude(status=OrganisationStatus.CLOSED)
    n = in_scope(qs, scope).count()
    return float(n), (
        f"registry: research institutes, new-type R&D institutions and laboratories{_scope_words(scope)} founded "
        f"{since.isoformat()}..{year}-12-31"
    )


def incubators_district_or_higher(year: int, scope: str) -> tuple[float, str]:
    kinds = [OrganisationKind.MAKER_SPACE, OrganisationKind.INCUBATOR]
    qs = Organisation.objects.filter(_existing_on(_year_end(year)), kind__in=kinds, level__in=DISTRICT_OR_HIGHER,
                                     status=OrganisationStatus.OPERATING)
    n = in_scope(qs, scope).count()
    return float(n), (
        f"registry: operating maker spaces and incubators{_scope_words(scope)} at district level or higher, "
        f"founded by {year}-12-31"
    )
