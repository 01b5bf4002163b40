"""Plan indicators the marketplace computes (registered with ``plans.sources``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def contract_turnover(year: int, scope: str) -> tuple[float, str]:
    """技术合同成交金额 in 亿元: registered contract amounts (stored in 10k CNY) of the year / 10,000.

    A scope other than the whole area (``"district"``) counts the contracts whose seller (the side
    that exports the technology, as 技术合同认定登记 statistics count them) is in that district.
    """
    from sciencecity.registry.indicator_sources import in_scope, scope_words
    from sciencecity.transfer.models import TechContract

    qs = TechContract.objects.filter(registered_on__gte=dt.date(year, 1, 1), registered_on__lte=dt.date(year, 12, 31))
    total = in_scope(qs, scope, "seller__district").aggregate(s=Sum("amount"))["s"] or 0
    return round(float(total) / 10000, 4), (
        gettext("transfer: technology contracts registered in %(year)s%(scope)s (sum of amounts, 亿元)") % {
            "year": year, "scope": scope_words(scope, gettext(" sold by organisations in %(scope)s"))})


def register_all() -> None:
    from sciencecity.plans import sources

    sources.register("transfer.contract_turnover", _("Registered technology-contract turnover (marketplace)"),
                     contract_turnover, name_pattern=r"技术合同.*(成交|交易)", unit="亿元")
