"""The enterprise services' navigation entries (the enterprise's pages; the bureau's cultivation pages)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="enterprises.mine", label=_("My enterprise"), url_name="enterprises:profile", order=350, group="enterprises",
        visible=lambda user: permissions.has_perm(user, "enterprises.use")))
    navigation.register_menu_item(navigation.MenuItem(
        key="enterprises.cultivation", label=_("Enterprise cultivation"), url_name="enterprises:pool", order=360, group="enterprises",
        visible=lambda user: permissions.has_perm(user, "enterprises.manage_cultivation")))
