"""Core's own navigation entries (the audit trail and the API docs); apps register theirs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def register() -> None:
    navigation.register_menu_item(
        navigation.MenuItem(
            key="core.audit",
            label=_("Audit trail"),
            url_name="audit:event_list",
            order=900,
            visible=lambda user: permissions.has_perm(user, "core.read_audit"),
        )
    )
    navigation.register_menu_item(navigation.MenuItem(key="core.api", label=_("API"), url="/api/docs", order=1000))


def register_permissions() -> None:
    permissions.register("core.read_audit", permissions.can_read_audit)
    permissions.register("core.view_job", permissions.can_view_job)
