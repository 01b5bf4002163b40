"""The default decomposition of a freshly imported plan (departments, indicator owners, chapter leads)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction
from sciencecity.plans.models import Plan
from sciencecity.plans.services.common import check_department, require_bureau
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


def importing_district(actor: User | None) -> str:
    """The district of the organisation the importing officer acts for ("" when unknown)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    ids = permissions.organisation_ids(actor)
    districts = sorted({d for d in Organisation.objects.filter(pk__in=ids).values_list("district", flat=True) if d})
    return districts[0] if len(districts) == 1 else ""


@transaction.atomic
def plan_setup_apply(*, actor: User | None, plan: Plan, setup: dict[str, Any]) -> dict[str, int]:
    """Apply a default decomposition (departments, indicator owners, chapter leads) where none is set yet.

    One transaction: missing departments are created through ``organisation_create`` (each audited);
    the owners and leads of a freshly imported plan are set and validated here and recorded as one
    audit event with the counts, like a bulk import (per-row events would bury the plan's later edits).
    """
    require_bureau(actor)
    counts = {"departments": 0, "indicators": 0, "tasks": 0}
    departments: dict[str, Organisation] = {}
    district = setup.get("district") or importing_district(actor)
    for code, name, name_en in setup.get("departments", []):
        org = Organisation.objects.filter(code=code).first() or Organisation.objects.filter(name=name).first()
        if org is None:
            from sciencecity.registry.services import organisation_create_unchecked

            org = organisation_create_unchecked(actor=actor, data={
                "code": code, "name": name, "name_en": name_en, "kind": OrganisationKind.GOVERNMENT_DEPARTMENT,
                "level": "district", "district": district})
            counts["departments"] += 1
        departments[code] = org
    owners = setup.get("indicator_owners", {})
    for indicator in plan.indicators.filter(owner_department__isnull=True):
        code = owners.get(indicator.name)
        if code in departments:
            indicator.owner_department = departments[code]
            check_department(indicator.owner_department)
            indicator.full_clean()
            indicator.save(update_fields=["owner_department", "updated_at"])
            counts["indicators"] += 1
    deadline = dt.date.fromisoformat(setup["deadline"]) if setup.get("deadline") else None
    for chapter_number, (lead, supporting) in setup.get("chapter_leads", {}).items():
        for task in plan.tasks.filter(chapter__number=int(chapter_number), lead_department__isnull=True):
            task.lead_department = departments.get(lead)
            task.deadline = task.deadline or deadline
            check_department(task.lead_department)
            task.full_clean()
            task.save(update_fields=["lead_department", "deadline", "updated_at"])
            task.supporting_departments.set([departments[c] for c in supporting if c in departments])
            counts["tasks"] += 1
    if any(counts.values()):
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=plan, changes={"default_decomposition": [None, counts]},
                     reason="default decomposition of the bundled plan")
    return counts
