"""The registry's to-do item: certificates of the user's organisations that expire within 90 days
(高新技术企业 certificates and the like), so that renewal is prepared in time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from sciencecity.core import inbox as core_inbox
from sciencecity.core import permissions
from sciencecity.core.inbox import InboxItem

EXPIRY_WARNING_DAYS = 90


def items(user: Any) -> list[InboxItem]:
    from sciencecity.registry.models import Certification

    orgs = permissions.organisation_ids(user)
    if not orgs:
        return []
    today = dt.date.today()
    expiring = Certification.objects.filter(organisation_id__in=orgs, expires_on__gte=today,
                                            expires_on__lte=today + dt.timedelta(days=EXPIRY_WARNING_DAYS))
    first = expiring.order_by("expires_on").first()
    if first is None:
        return []
    return [InboxItem("expiring_certificates", _("Certificates expiring within 90 days"), expiring.count(),
                      reverse("registry:organisation_detail", args=[first.organisation_id]), urgent=True)]


def register() -> None:
    core_inbox.register("registry", items)
