"""Registry reads shared by the list pages, the exports and the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, QuerySet

from sciencecity.registry.choices import Level, OrganisationKind, OrganisationStatus, PersonCategory
from sciencecity.registry.models import Organisation, Person

ORGANISATION_FILTERS = ("q", "kind", "level", "status", "sector", "district", "synthetic")
PERSON_FILTERS = ("q", "category", "sector", "organisation", "synthetic")
TRUE_VALUES = ("1", "true", "yes", "on")
FALSE_VALUES = ("0", "false", "no", "off")


def _param(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name) if params else None
    return str(value).strip() if value is not None else ""


def _synthetic(qs: QuerySet, params: Mapping[str, Any]) -> QuerySet:
    value = _param(params, "synthetic").lower()
    if value in TRUE_VALUES:
        return qs.filter(is_synthetic=True)
    if value in FALSE_VALUES:
        return qs.filter(is_synthetic=False)
    return qs


def filter_values(params: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The non-empty filters of ``params`` (for the audit record and for links that keep the filter)."""
    return {name: _param(params, name) for name in names if _param(params, name)}


def organisation_queryset(params: Mapping[str, Any]) -> QuerySet[Organisation]:
    """Organisations filtered by ``q`` (text search), ``kind``, ``level``, ``status``, ``sector`` (code)
    ``district`` and ``synthetic``. Unknown choice values are ignored rather than matching nothing."""
    qs = Organisation.objects.all()
    query = _param(params, "q")
    if query:
        qs = qs.search(query)
    for name, choices in (("kind", OrganisationKind), ("level", Level), ("status", OrganisationStatus)):
        value = _param(params, name)
        if value in choices.values:
            qs = qs.filter(**{name: value})
    sector = _param(params, "sector")
    if sector:
        qs = qs.filter(sectors__code=sector)
    district = _param(params, "district")
    if district:
        qs = qs.filter(district=district)
    return _synthetic(qs, params)


def person_queryset(params: Mapping[str, Any]) -> QuerySet[Person]:
    """People filtered by ``q`` (text search), ``category``, ``sector`` (code) and ``organisation`` (id)
    and ``synthetic``."""
    qs = Person.objects.all()
    query = _param(params, "q")
    if query:
        qs = qs.search(query)
    category = _param(params, "category")
    if category in PersonCategory.values:
        qs = qs.filter(categories__icontains=f'"{category}"')
    sector = _param(params, "sector")
    if sector:
        qs = qs.filter(sectors__code=sector)
    organisation = _param(params, "organisation")
    if organisation.isdigit():
        qs = qs.filter(affiliations__organisation_id=int(organisation)).distinct()
    return _synthetic(qs, params)


def registry_overview() -> dict:
    """Totals for the home page: organisations, people, whether any row is synthetic, and organisations by kind."""
    by_kind = dict(Organisation.objects.values_list("kind").annotate(n=Count("id")).order_by())
    labels = dict(OrganisationKind.choices)
    return {
        "organisations": sum(by_kind.values()),
        "people": Person.objects.count(),
        "synthetic": Organisation.objects.filter(is_synthetic=True).exists(),
        "by_kind": sorted(((str(labels.get(k, k)), n) for k, n in by_kind.items()), key=lambda kv: -kv[1]),
    }
