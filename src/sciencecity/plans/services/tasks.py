"""Task decomposition and progress reports."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.plans.models import (
    Task,
    TaskProgressReport,
)
from sciencecity.plans.permissions import can_report_on_task
from sciencecity.plans.services.common import check_department, require_bureau
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


# --- task decomposition and progress
TASK_FIELDS = ("lead_department", "deadline", "deliverables", "weight")


@transaction.atomic
def task_update(*, actor: User | None, task: Task, data: dict[str, Any], reason: str = "") -> dict[str, list[Any]]:
    """Decompose a task: lead and supporting departments, deadline, deliverables, weight (bureau only)."""
    require_bureau(actor)
    given, task = task, Task.objects.select_for_update().get(pk=task.pk)
    before = snapshot(task, [*TASK_FIELDS, "supporting_departments"])
    for key in TASK_FIELDS:
        if key in data:
            setattr(task, key, data[key])
    check_department(task.lead_department)
    if "supporting_departments" in data:
        for org in data["supporting_departments"]:
            check_department(org)
    task.full_clean()
    task.save()
    if "supporting_departments" in data:
        task.supporting_departments.set(data["supporting_departments"])
    changes = diff(before, snapshot(task, [*TASK_FIELDS, "supporting_departments"]))
    if changes:
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=task, changes=changes, reason=reason)
    given.refresh_from_db()
    return changes


@transaction.atomic
def task_progress_report(*, actor: User | None, task: Task, period: str, as_of: dt.date, percent: int, narrative: str,
                         evidence=None, department: Organisation | None = None) -> TaskProgressReport:
    """A department files progress on one of its tasks; the task's progress becomes the latest report's."""
    permissions.require(can_report_on_task(actor, task))
    if department is None:
        ids = permissions.organisation_ids(actor)
        department = Organisation.objects.filter(pk__in=ids, kind=OrganisationKind.GOVERNMENT_DEPARTMENT).first()
    report = TaskProgressReport(task=task, period=period.strip(), as_of=as_of, percent=percent,
                                narrative=narrative.strip(), department=department, reported_by=actor)
    if evidence is not None:
        report.evidence = evidence
    if not 0 <= percent <= 100:
        raise ValidationError({"percent": _("Progress is a percentage from 0 to 100.")})
    report.full_clean()
    report.save()
    latest = task.reports.order_by("-as_of", "-id").first()
    old = task.progress
    Task.objects.filter(pk=task.pk).update(progress=latest.percent, progress_as_of=latest.as_of)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=report, acting_organisation=department,
                 changes={"task": [None, task.code], "period": [None, report.period], "percent": [old, percent],
                          "narrative": [None, report.narrative], "evidence": [None, report.evidence.name or None]})
    return report
