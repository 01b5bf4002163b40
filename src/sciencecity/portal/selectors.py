"""Reads for the home page."""

from __future__ import annotations

from django.db.models import Count

from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation, Person


def registry_overview() -> dict:
    by_kind = dict(Organisation.objects.values_list("kind").annotate(n=Count("id")).order_by())
    labels = dict(OrganisationKind.choices)
    return {
        "organisations": sum(by_kind.values()),
        "people": Person.objects.count(),
        "synthetic": Organisation.objects.filter(is_synthetic=True).exists(),
        "by_kind": sorted(((str(labels.get(k, k)), n) for k, n in by_kind.items()), key=lambda kv: -kv[1]),
    }


def incubation_overview() -> dict:
    """Start-ups per incubation stage and the graduation rate (概念验证 → … → 科技园区)."""
    from sciencecity.transfer.services import incubation

    return {"stages": incubation.stage_counts(), "graduation_rate": incubation.graduation_rate()}
