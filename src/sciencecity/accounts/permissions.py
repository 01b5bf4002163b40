"""Actions on accounts and administration (三员分立), registered at ``AccountsConfig.ready``."""

from __future__ import annotations

from sciencecity.core import permissions


def register() -> None:
    permissions.register_many(
        "accounts", manage_users=permissions.can_manage_users, manage_roles=permissions.can_manage_roles,
        manage_admin_accounts=permissions.is_administrator,
        change_account_alone=permissions.can_change_account_alone,
        request_admin_change=permissions.can_request_admin_change,
        approve_admin_change=permissions.can_approve_admin_change,
        unlock_logins=permissions.can_unlock_logins,
    )
