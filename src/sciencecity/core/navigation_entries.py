"""Core's own actions and navigation entries (the audit trail, jobs, the API docs); apps register theirs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sciencecity.core import inbox, navigation, permissions

#: The header's areas (issue 11: the English header wrapped onto four rows for a bureau officer with 14
#: entries). Grouped by what the users go there to do; the entries of an area come from several apps,
#: so core registers the areas and the apps file their entries into them (``MenuItem.group``). Orders
#: place each area among the entries' own orders; an expert's "My reviews" (350) stays a link of its own.
MENU_GROUPS = (
    # the development plan's indicators and the funding programmes (科技计划) that carry it out
    navigation.MenuGroup("plan", pgettext_lazy("menu group", "Plan"), order=100),
    # what is offered and sought: technology transfer, shared instruments and facility time, the vouchers
    # that pay for them and the instruments' openness ratings
    navigation.MenuGroup("marketplace", pgettext_lazy("menu group", "Marketplace"), order=300),
    # an enterprise's own profile, its cultivation tiers, the policies and finance that serve it
    navigation.MenuGroup("enterprises", pgettext_lazy("menu group", "Enterprises"), order=360),
    # the registry of organisations and people
    navigation.MenuGroup("directory", pgettext_lazy("menu group", "Directory"), order=400),
    # accounts, roles, two-person changes and the audit trail (三员 only)
    navigation.MenuGroup("administration", pgettext_lazy("menu group", "Administration"), order=800),
)


def register() -> None:
    for group in MENU_GROUPS:
        navigation.register_menu_group(group)
    permissions.register("core.read_audit", permissions.can_read_audit)
    permissions.register("core.view_job", permissions.can_view_job)
    navigation.register_menu_item(
        navigation.MenuItem(
            key="core.audit",
            label=_("Audit trail"),
            url_name="audit:event_list",
            order=900,
            group="administration",
            visible=lambda user: permissions.has_perm(user, "core.read_audit"),
        )
    )
    navigation.register_menu_item(navigation.MenuItem(key="core.api", label=_("API"), url="/api/docs", order=1000))
    # the to-do inbox comes first on the home page; its items come from the apps' inbox providers
    navigation.register_home_widget(navigation.HomeWidget(
        key="core.inbox", template="core/home_inbox.html", order=10,
        visible=lambda user: bool(getattr(user, "is_authenticated", False)),
        context=lambda request: {"items": inbox.items_for(request.user)}))

