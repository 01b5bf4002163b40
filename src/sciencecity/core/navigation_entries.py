"""Core's own actions and navigation entries (the audit trail, jobs, the API docs); apps register theirs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import inbox, navigation, permissions


def register() -> None:
    permissions.register("core.read_audit", permissions.can_read_audit)
    permissions.register("core.view_job", permissions.can_view_job)
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
    # the to-do inbox comes first on the home page; its items come from the apps' inbox providers
    navigation.register_home_widget(navigation.HomeWidget(
        key="core.inbox", template="core/home_inbox.html", order=10,
        visible=lambda user: bool(getattr(user, "is_authenticated", False)),
        context=lambda request: {"items": inbox.items_for(request.user)}))

