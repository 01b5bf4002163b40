"""Facility time's navigation entry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="facilities.beamtime", label=_("Facility time (beamtime)"), url_name="facilities:beamtime_rounds",
        order=365, group="marketplace", visible=lambda user: permissions.has_perm(user, "facilities.beamtime_use")
        or permissions.is_officer(user)))
