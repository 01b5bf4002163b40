"""Plan indicators the enterprise services compute (registered with ``plans.sources``): the
high-tech reserve pool's size and the pool members who became certified high-tech enterprises,
shown beside indicator 5 (国家高新技术企业数)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _year_end(year: int) -> dt.datetime:
    return dt.datetime(year + 1, 1, 1, tzinfo=timezone.get_current_timezone())


def reserve_pool_size(year: int, scope: str) -> tuple[float, str]:
    """Enterprises in the 高企后备库 at the end of ``year``."""
    from sciencecity.enterprises.choices import Tier
    from sciencecity.enterprises.models import TierMembership
    from sciencecity.registry.indicator_sources import in_scope, scope_words

    end = _year_end(year)
    qs = TierMembership.objects.filter(tier=Tier.RESERVE, entered_at__lt=end).filter(
        Q(left_at__isnull=True) | Q(left_at__gte=end))
    n = in_scope(qs, scope, "organisation__district").values("organisation").distinct().count()
    return float(n), f"enterprises: members of the high-tech reserve pool{scope_words(scope)} on {year}-12-31"


def reserve_pool_conversions(year: int, scope: str) -> tuple[float, str]:
    """Reserve-pool members that left the pool in ``year`` by becoming certified high-tech enterprises."""
    from sciencecity.enterprises.choices import Tier
    from sciencecity.enterprises.models import TierMembership
    from sciencecity.registry.indicator_sources import in_scope, scope_words

    qs = TierMembership.objects.filter(tier=Tier.RESERVE, certified=True, left_at__gte=_year_end(year - 1),
                                       left_at__lt=_year_end(year))
    n = in_scope(qs, scope, "organisation__district").values("organisation").distinct().count()
    return float(n), f"enterprises: reserve-pool members{scope_words(scope)} certified as high-tech enterprises in {year}"


def register_all() -> None:
    from sciencecity.plans import sources

    # beside indicator 5 (国家高新技术企业数, computed by the registry's source)
    sources.register_related("enterprises.reserve_pool", _("High-tech reserve pool size (enterprise services)"),
                             reserve_pool_size, for_key="registry.hnte")
    sources.register_related("enterprises.pool_conversions",
                             _("Reserve-pool members certified as high-tech enterprises in the year"),
                             reserve_pool_conversions, for_key="registry.hnte")
