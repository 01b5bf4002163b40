"""Plan indicators tech finance computes (registered with ``plans.sources``)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _


def finance_funded(year: int, scope: str) -> tuple[float, str]:
    """科技金融融资额 in 亿元 (4 decimals, half up): amounts of the matchmaking pipeline funded in ``year``
    (stored in 万元)."""
    from sciencecity.enterprises.finance.choices import MatchState
    from sciencecity.enterprises.finance.models import FinanceMatch
    from sciencecity.registry.indicator_sources import in_scope, scope_words

    qs = FinanceMatch.objects.filter(state=MatchState.FUNDED, funded_on__gte=dt.date(year, 1, 1),
                                     funded_on__lte=dt.date(year, 12, 31))
    total = in_scope(qs, scope, "need__organisation__district").aggregate(s=Sum("funded_amount"))["s"] or 0
    yi = (Decimal(total) / 10000).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)  # exact, half up
    return float(yi), (
        f"enterprises: tech-finance matches funded in {year}{scope_words(scope, 'for enterprises')} "
        "(sum of funded amounts, 亿元)")


def register_all() -> None:
    from sciencecity.plans import sources

    sources.register("enterprises.finance_funded", _("Tech-finance funding through matchmaking"), finance_funded,
                     name_pattern=r"科技金融|融资(金额|额)|银企对接", unit="亿元")
