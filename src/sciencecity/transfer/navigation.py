"""The marketplace's navigation entry and its home-page block (the incubation pipeline)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def _incubation(request) -> dict:
    from sciencecity.transfer.services import incubation

    return {"incubation": {"stages": incubation.stage_counts(), "graduation_rate": incubation.graduation_rate()}}


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="transfer.index", label=_("Technology transfer"), url_name="transfer:index", order=300, group="marketplace",
        visible=lambda user: permissions.has_perm(user, "transfer.use")))
    # the home page showed the pipeline to those who read the registry; the rule is kept
    navigation.register_home_widget(navigation.HomeWidget(
        key="transfer.incubation", template="transfer/home_incubation.html", order=200,
        visible=lambda user: permissions.has_perm(user, "registry.view"), context=_incubation,
        shows=("transfer.startup", "transfer.startupstage")))
