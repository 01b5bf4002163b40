"""Major projects and their milestones."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.plans.choices import HostMatch
from sciencecity.plans.models import (
    MajorProject,
    ProjectMilestone,
    ProjectUpdate,
)
from sciencecity.plans.services.common import require_bureau

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


# --- major projects
PROJECT_FIELDS = ("status", "planned_investment", "actual_investment", "start_date", "end_date", "host", "host_match")


@transaction.atomic
def project_update(*, actor: User | None, project: MajorProject, data: dict[str, Any], note: str = "",
                   date: dt.date | None = None) -> dict[str, list[Any]]:
    require_bureau(actor)
    given, project = project, MajorProject.objects.select_for_update().get(pk=project.pk)
    before = snapshot(project, list(PROJECT_FIELDS))
    for key in PROJECT_FIELDS:
        if key in data:
            setattr(project, key, data[key])
    if "host" in data and "host_match" not in data:
        project.host_match = HostMatch.CONFIRMED
    project.full_clean()
    project.save()
    changes = diff(before, snapshot(project, list(PROJECT_FIELDS)))
    if changes or note:
        ProjectUpdate.objects.create(project=project, date=date or timezone.localdate(), status=project.status,
                                     note=note or _("Updated: %(fields)s") % {"fields": ", ".join(changes)},
                                     investment_to_date=project.actual_investment, author=actor)
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=project, changes=changes, reason=note)
    given.refresh_from_db()
    return changes


@transaction.atomic
def milestone_add(*, actor: User | None, project: MajorProject, title: str, due_date: dt.date) -> ProjectMilestone:
    require_bureau(actor)
    milestone = ProjectMilestone(project=project, title=title.strip(), due_date=due_date)
    milestone.full_clean()
    milestone.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=milestone,
                 changes={"title": [None, milestone.title], "due_date": [None, due_date]})
    return milestone


@transaction.atomic
def milestone_done(*, actor: User | None, milestone: ProjectMilestone, done_date: dt.date) -> ProjectMilestone:
    require_bureau(actor)
    old = milestone.done_date
    milestone.done_date = done_date
    milestone.save(update_fields=["done_date", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=milestone, changes={"done_date": [old, done_date]})
    return milestone
