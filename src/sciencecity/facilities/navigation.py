"""The facilities menu entries: the instrument catalogue for everyone, vouchers and openness for those who use them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="facilities.index", label=_("Shared instruments"), url_name="facilities:index", order=350))
    navigation.register_menu_item(navigation.MenuItem(
        key="facilities.vouchers", label=_("Innovation vouchers"), url_name="facilities:vouchers", order=355,
        visible=lambda user: permissions.has_perm(user, "facilities.use")))
    navigation.register_menu_item(navigation.MenuItem(
        key="facilities.openness", label=_("Instrument openness"), url_name="facilities:openness", order=360,
        visible=lambda user: permissions.has_perm(user, "facilities.view_openness")))
