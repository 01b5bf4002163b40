"""Reads of the facilities app: catalogue search, a user's bookings, statements, openness figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sciencecity.core import permissions as core_permissions
from sciencecity.facilities.models import Booking, Instrument, UsageRecord, Voucher


def instrument_search(*, q: str = "", kind: str = "", host_id: int | None = None) -> QuerySet[Instrument]:
    """Instruments matching every word of ``q`` in code, names, model, capabilities, keywords, host."""
    qs = Instrument.objects.select_related("host").prefetch_related("prices")
    for word in q.split()[:8]:
        qs = qs.filter(Q(code__icontains=word) | Q(name__icontains=word) | Q(name_en__icontains=word)
                       | Q(model__icontains=word) | Q(capabilities__icontains=word) | Q(keywords__icontains=word)
                       | Q(host__name__icontains=word) | Q(location__icontains=word))
    if kind:
        qs = qs.filter(kind=kind)
    if host_id:
        qs = qs.filter(host_id=host_id)
    return qs


def bookings_of(user: Any) -> QuerySet[Booking]:
    orgs = core_permissions.organisation_ids(user)
    return (Booking.objects.filter(Q(user=user) | Q(organisation_id__in=orgs))
            .select_related("instrument", "organisation", "usage").order_by("-starts_at"))


def vouchers_of(user: Any) -> QuerySet[Voucher]:
    qs = Voucher.objects.select_related("scheme", "organisation")
    if core_permissions.is_bureau_officer(user):
        return qs
    return qs.filter(organisation_id__in=core_permissions.organisation_ids(user))


def parse_month(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    year_n, month_n = int(year), int(month)
    if not (2000 <= year_n <= 2100 and 1 <= month_n <= 12) or len(year) != 4:
        raise ValueError(text)
    return year_n, month_n


@dataclass
class Statement:
    organisation: Any
    year: int
    month: int
    rows: list[UsageRecord]
    total_minutes: int
    total_fee: Decimal
    total_voucher: Decimal
    total_payable: Decimal


def month_range(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime(year, month, 1))
    end = timezone.make_aware(dt.datetime(year + month // 12, month % 12 + 1, 1))
    return start, end


def statement(organisation: Any, year: int, month: int) -> Statement:
    """月度结算单. The organisation's usage checked in during the month (local time), with fees and voucher parts."""
    start, end = month_range(year, month)
    rows = list(UsageRecord.objects.filter(organisation=organisation, started_at__gte=start, started_at__lt=end)
                .select_related("instrument", "instrument__host", "booking", "booking__user").order_by("started_at"))
    fee = sum((r.fee for r in rows), Decimal("0.00"))
    voucher = sum((r.voucher_paid for r in rows), Decimal("0.00"))
    return Statement(organisation, year, month, rows, sum(r.minutes for r in rows), fee, voucher, fee - voucher)
