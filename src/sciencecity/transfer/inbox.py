"""The marketplace's to-do items: interest received in the organisation's achievements."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from sciencecity.core import inbox as core_inbox
from sciencecity.core import permissions
from sciencecity.core.inbox import InboxItem


def items(user: Any) -> list[InboxItem]:
    from sciencecity.transfer.choices import DealState
    from sciencecity.transfer.models import Deal

    orgs = permissions.organisation_ids(user)
    if not orgs or not permissions.is_business_user(user):
        return []
    n = Deal.objects.filter(seller_id__in=orgs, state=DealState.INTEREST).count()
    return [InboxItem("interest", _("Interest received in your achievements"), n,
                      reverse("transfer:deal_list") + "?state=" + DealState.INTEREST)]


def register() -> None:
    core_inbox.register("transfer", items)
