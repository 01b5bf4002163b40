"""Navigation shown in the base layout: only links to modules that exist and that the user may use."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sciencecity.core import permissions


def navigation(request):
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = [(_("Home"), reverse("portal:home"))]
    if permissions.can_view_monitoring(user):
        items.append((_("Plan monitoring"), reverse("plans:dashboard")))
    elif permissions.can_view_plan(user):
        items.append((_("The plan"), reverse("plans:structure")))
    if permissions.is_business_user(user):
        items.append((_("Funding programmes"), reverse("programmes:index")))
        items.append((_("Technology transfer"), reverse("transfer:index")))
    if permissions.has_role(user, "expert"):
        items.append((_("My reviews"), reverse("programmes:my_reviews")))
    if permissions.can_view_registry(user):
        items.append((_("Organisations"), reverse("registry:organisation_list")))
        items.append((_("People"), reverse("registry:person_list")))
    if permissions.can_manage_users(user):
        items.append((_("Users"), reverse("accounts:user_list")))
    if permissions.can_manage_roles(user):
        items.append((_("Roles"), reverse("accounts:role_list")))
    if permissions.is_administrator(user):
        items.append((_("Administrator accounts"), reverse("accounts:admin_change_list")))
    if permissions.can_read_audit(user):
        items.append((_("Audit trail"), reverse("audit:event_list")))
    items.append((_("API"), "/api/docs"))
    path = request.path
    nav = [
        {"label": label, "url": url, "active": url != "/" and path.startswith(url) or (url == "/" and path == "/")}
        for label, url in items
    ]
    from sciencecity.core.notifications import unread_count

    return {"nav_items": nav, "unread_notifications": unread_count(user) if user is not None else 0}
