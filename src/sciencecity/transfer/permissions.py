"""Actions of the technology-transfer marketplace, registered at ``TransferConfig.ready``."""

from __future__ import annotations

from typing import Any

from sciencecity.core import permissions


def can_use_marketplace(user: Any) -> bool:
    """Logged-in business users (administrators do not handle business data)."""
    return permissions.is_business_user(user)


def register() -> None:
    permissions.register("transfer.use", can_use_marketplace)
