"""Plan indicators the facilities app computes (registered with ``plans.sources``)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _


def instrument_utilisation(year: int, scope: str) -> tuple[float, str]:
    """大型仪器开放共享使用率 (%): hours used of the shared instruments over their open hours in the year.

    A scope other than the whole area counts the instruments whose host organisation is in that district."""
    from sciencecity.facilities import selectors
    from sciencecity.registry.indicator_sources import scope_words

    data = selectors.openness(since=dt.date(year, 1, 1), until=dt.date(year + 1, 1, 1),
                              district=None if scope in ("", "district") else scope)
    hosts = data["hosts"]
    open_hours = sum(h.open_hours for h in hosts)
    used = sum(h.used_hours for h in hosts)
    value = round(100 * used / open_hours, 2) if open_hours else 0.0
    return value, (f"facilities: hours used / open hours of the shared instruments in {year}"
                   f"{scope_words(scope, 'hosted by organisations')} (%)")


def register_all() -> None:
    from sciencecity.plans import sources

    sources.register("facilities.instrument_utilisation", _("Utilisation of shared instruments"),
                     instrument_utilisation, name_pattern=r"仪器.*开放共享.*使用率", unit="%")
