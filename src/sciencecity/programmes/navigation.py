"""The funding programmes' navigation entries."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="programmes.index", label=_("Funding programmes"), url_name="programmes:index", order=200, group="plan",
        visible=lambda user: permissions.has_perm(user, "programmes.use")))
    navigation.register_menu_item(navigation.MenuItem(
        key="programmes.my_reviews", label=_("My reviews"), url_name="programmes:my_reviews", order=350,
        visible=lambda user: permissions.has_perm(user, "programmes.see_review_menu")))
