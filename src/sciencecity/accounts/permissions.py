"""Actions on accounts and administration (三员分立), registered at ``AccountsConfig.ready``."""

from __future__ import annotations

from sciencecity.core import permissions


def register() -> None:
    permissions.register("accounts.manage_users", permissions.can_manage_users)
    permissions.register("accounts.manage_roles", permissions.can_manage_roles)
    permissions.register("accounts.manage_admin_accounts", permissions.is_administrator)
    permissions.register("accounts.change_account_alone", permissions.can_change_account_alone)
    permissions.register("accounts.request_admin_change", permissions.can_request_admin_change)
    permissions.register("accounts.approve_admin_change", permissions.can_approve_admin_change)
    permissions.register("accounts.unlock_logins", permissions.can_unlock_logins)
