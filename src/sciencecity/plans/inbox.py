"""The plan's to-do items: submissions waiting for approval (bureau), the department's open or
returned round submissions, overdue tasks of the department (or all, for the bureau)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from sciencecity.core import inbox as core_inbox
from sciencecity.core import permissions
from sciencecity.core.inbox import InboxItem


def items(user: Any) -> list[InboxItem]:
    from sciencecity.plans.choices import RoundStatus, SubmissionStatus
    from sciencecity.plans.models import ReportingRound, RoundSubmission, Task

    if not permissions.can_view_monitoring(user):
        return []
    out = []
    today = dt.date.today()
    overdue = Task.objects.filter(deadline__lt=today, progress__lt=100)
    if permissions.is_bureau_officer(user):
        n = RoundSubmission.objects.filter(status=SubmissionStatus.SUBMITTED, round__status=RoundStatus.OPEN).count()
        out.append(InboxItem("submissions_to_approve", _("Round submissions waiting for your approval"), n,
                             reverse("plans:round_list")))
        out.append(InboxItem("overdue_tasks", _("Overdue tasks"), overdue.count(),
                             reverse("plans:task_list") + "?overdue=1", urgent=True))
        return out
    orgs = permissions.organisation_ids(user)
    if permissions.is_officer(user) and orgs:
        open_rounds = ReportingRound.objects.filter(status=RoundStatus.OPEN)
        done = RoundSubmission.objects.filter(round__in=open_rounds, department_id__in=orgs,
                                              status__in=[SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED])
        n = open_rounds.count() * len(orgs) - done.count()
        out.append(InboxItem("submissions_to_make", _("Round submissions to fill in and submit"), max(n, 0),
                             reverse("plans:round_list"), urgent=open_rounds.filter(deadline__lt=today).exists()))
        department_overdue = overdue.filter(lead_department_id__in=orgs).count()
        out.append(InboxItem("overdue_tasks", _("Overdue tasks of your department"), department_overdue,
                             reverse("plans:task_list") + "?overdue=1", urgent=True))
    return out


def register() -> None:
    core_inbox.register("plans", items)
