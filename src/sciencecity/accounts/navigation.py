"""The accounts app's navigation entries."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def register() -> None:
    for key, label, url_name, order, action in (
        ("accounts.users", _("Users"), "accounts:user_list", 800, "accounts.manage_users"),
        ("accounts.roles", _("Roles"), "accounts:role_list", 810, "accounts.manage_roles"),
        ("accounts.admin_changes", _("Administrator accounts"), "accounts:admin_change_list", 820,
         "accounts.manage_admin_accounts"),
    ):
        navigation.register_menu_item(
            navigation.MenuItem(key=key, label=label, url_name=url_name, order=order, group="administration",
                                visible=lambda user, action=action: permissions.has_perm(user, action))
        )
