"""Actions of the funding programmes, registered at ``ProgrammesConfig.ready``."""

from __future__ import annotations

from typing import Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions


def can_use_programmes(user: Any) -> bool:
    """Every business user (administrators do not handle business data)."""
    return permissions.is_business_user(user)


def holds_expert_role(user: Any) -> bool:
    """The expert role, whether or not a person record is linked (the menu shows "My reviews")."""
    return permissions.has_role(user, Role.EXPERT)


def register() -> None:
    permissions.register("programmes.use", can_use_programmes)
    permissions.register("programmes.see_review_menu", holds_expert_role)
