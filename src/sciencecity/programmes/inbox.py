"""The programmes' to-do items: reviews assigned to an expert, applications waiting for the bureau,
applications returned to the applicant."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from sciencecity.core import inbox as core_inbox
from sciencecity.core import permissions
from sciencecity.core.inbox import InboxItem


def items(user: Any) -> list[InboxItem]:
    from sciencecity.programmes.choices import ApplicationState, AssignmentState
    from sciencecity.programmes.models import Application, Assignment
    from sciencecity.programmes.permissions import can_manage_programmes

    out = []
    if permissions.has_role(user, "expert") and user.person_id:
        n = Assignment.objects.filter(expert_id=user.person_id, state=AssignmentState.RELEASED).count()
        out.append(InboxItem("reviews", _("Reviews assigned to you"), n, reverse("programmes:my_reviews")))
    if can_manage_programmes(user):
        n = Application.objects.filter(state=ApplicationState.SUBMITTED).count()
        out.append(InboxItem("applications_submitted", _("Applications submitted, waiting for a check"), n,
                             reverse("programmes:application_list") + "?state=submitted"))
    orgs = permissions.organisation_ids(user)
    if orgs:
        n = Application.objects.filter(organisation_id__in=orgs, state=ApplicationState.RETURNED).count()
        out.append(InboxItem("applications_returned", _("Applications returned to you for revision"), n,
                             reverse("programmes:application_list") + "?state=returned", urgent=True))
    return out


def register() -> None:
    core_inbox.register("programmes", items)
