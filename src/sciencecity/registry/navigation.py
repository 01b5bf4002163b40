"""The registry's navigation entries and home-page blocks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def _may_view(user) -> bool:
    return permissions.has_perm(user, "registry.view")


OVERVIEW_SHOWS = ("registry.organisation", "registry.person")
"""What the registry overview counts (``selectors.registry_overview``)."""


def _overview(request) -> dict:
    """One registry overview per request, shared by the two home blocks."""
    from sciencecity.registry import selectors

    cached = getattr(request, "_registry_overview", None)
    if cached is None:
        cached = request._registry_overview = selectors.registry_overview()
    return {"registry": cached}


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="registry.organisations", label=_("Organisations"), url_name="registry:organisation_list", order=400, group="directory",
        visible=_may_view))
    navigation.register_menu_item(navigation.MenuItem(
        key="registry.people", label=_("People"), url_name="registry:person_list", order=410, group="directory",
        visible=_may_view))
    navigation.register_home_widget(navigation.HomeWidget(
        key="registry.totals", template="registry/home_totals.html", order=100, visible=_may_view,
        context=_overview, shows=OVERVIEW_SHOWS))
    navigation.register_home_widget(navigation.HomeWidget(
        key="registry.by_kind", template="registry/home_by_kind.html", order=300, visible=_may_view,
        context=_overview, shows=OVERVIEW_SHOWS,
        scripts=("vendor/chartjs-4.6.1/chart.umd.min.js", "core/charts.js")))
