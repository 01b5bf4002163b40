"""Template filters of the enterprise pages: a link is shown only to those it opens for."""

from __future__ import annotations

from typing import Any

from django import template

from sciencecity.core import permissions as core_permissions
from sciencecity.enterprises.policies.permissions import enterprise_organisation_ids

register = template.Library()


@register.filter
def acts_for_an_enterprise(user: Any) -> bool:
    """*My financing* and *My policies* are pages of an enterprise's own users (as their views require)."""
    return bool(enterprise_organisation_ids(user))


@register.filter
def oversees_finance(user: Any) -> bool:
    """The matchmaking pipeline is the bureau's page (as ``finance.views.finance_pipeline`` requires)."""
    return core_permissions.is_bureau_officer(user)
