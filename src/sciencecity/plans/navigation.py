"""The plan's navigation entries: the dashboard for business users, the structure for everyone else."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def _monitoring(user) -> bool:
    return permissions.has_perm(user, "plans.view_monitoring")


def _structure_only(user) -> bool:
    return not _monitoring(user) and permissions.has_perm(user, "plans.view")


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="plans.dashboard", label=_("Plan monitoring"), url_name="plans:dashboard", order=100, group="plan",
        visible=_monitoring))
    navigation.register_menu_item(navigation.MenuItem(
        key="plans.structure", label=_("The plan"), url_name="plans:structure", order=101, group="plan",
        visible=_structure_only))
