"""The portal's navigation entry (home)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(key="portal.home", label=_("Home"), url_name="portal:home",
                                                      order=0))
