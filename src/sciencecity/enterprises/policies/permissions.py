"""Who may do what with policies (used by the pages and the API alike)."""

from __future__ import annotations

from typing import Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions


def enterprise_organisation_ids(user: Any) -> set[int]:
    """The enterprises ``user`` acts for as an enterprise user."""
    if not permissions.is_business_user(user):
        return set()
    return set(user.memberships.filter(role=Role.ENTERPRISE_USER, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def can_view_policies(user: Any) -> bool:
    """Published policies: every business user and officer."""
    return permissions.is_business_user(user) or permissions.is_officer(user)


def can_manage_policies(user: Any) -> bool:
    """Writing policies and their rules, previews, 免申即享 lists: S&T bureau officers."""
    return permissions.is_bureau_officer(user)


def can_view_eligible_list(user: Any) -> bool:
    """The 免申即享 list derives from enterprises' financial data: bureau officers only."""
    return permissions.is_bureau_officer(user)


def can_view_own_policies(user: Any, organisation_id: int | None = None) -> bool:
    orgs = enterprise_organisation_ids(user)
    return bool(orgs) if organisation_id is None else organisation_id in orgs
