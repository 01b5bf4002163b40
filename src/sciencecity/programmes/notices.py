"""Who is told what in the programmes: reviewers of released assignments, applicants of returned
and decided applications (站内通知 and e-mail through ``core.notifications``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext as _

from sciencecity.core.notifications import notification_send


def _expert_users(person_id: int) -> Iterable[Any]:
    return get_user_model().objects.filter(person_id=person_id, is_active=True)


def _applicant_users(application: Any) -> list[Any]:
    """The account that started the application and the organisation's accounts that act for it."""
    users = list(get_user_model().objects.filter(is_active=True, memberships__organisation_id=application.organisation_id)
                 .distinct())
    if application.created_by is not None and application.created_by not in users:
        users.append(application.created_by)
    return users


def review_assigned(assignment: Any) -> None:
    application = assignment.application
    notification_send(users=_expert_users(assignment.expert_id), category="review",
                      url=reverse("programmes:review_form", args=[assignment.pk]),
                      message=_("A review was assigned to you: %(reference)s “%(title)s”.")
                      % {"reference": application.reference, "title": application.title[:80]})


def application_returned(application: Any, reason: str) -> None:
    notification_send(users=_applicant_users(application), category="application",
                      url=reverse("programmes:application_detail", args=[application.pk]),
                      message=_("Your application %(reference)s was returned for revision: %(reason)s")
                      % {"reference": application.reference, "reason": reason[:120]})


def application_decided(application: Any, notice: str) -> None:
    notification_send(users=_applicant_users(application), category="application",
                      url=reverse("programmes:application_detail", args=[application.pk]),
                      message=_("Decision on your application %(reference)s: %(notice)s")
                      % {"reference": application.reference, "notice": notice})
