"""Plan indicators the funding programmes compute (registered with ``plans.sources``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def funded_amount(year: int, scope: str) -> tuple[float, str]:
    """Funding paid in a year (10k CNY → 亿元 for plan tables is left to the indicator's unit).

    A scope other than the whole area (``"district"``) counts the payments to projects whose
    applicant organisation is in that district.
    """
    from sciencecity.programmes.models import Payment
    from sciencecity.registry.indicator_sources import in_scope, scope_words

    qs = Payment.objects.filter(paid_on__gte=dt.date(year, 1, 1), paid_on__lte=dt.date(year, 12, 31))
    total = in_scope(qs, scope, "project__application__organisation__district").aggregate(s=Sum("amount"))["s"] or 0
    return float(total), gettext("programmes: tranches and rewards released in %(year)s%(scope)s (10k CNY)") % {
        "year": year, "scope": scope_words(scope, gettext(" to projects of organisations in %(scope)s"))}


def register_all() -> None:
    from sciencecity.plans import sources

    sources.register("programmes.funding_paid", _("Programme funding released (programmes)"), funded_amount,
                     name_pattern=r"财政科技.*(投入|资助)|科技计划.*资助金额", unit="万元")
