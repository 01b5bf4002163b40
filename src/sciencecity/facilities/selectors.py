"""Reads of the facilities app: catalogue search, a user's bookings, statements, openness figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sciencecity.core import permissions as core_permissions
from sciencecity.facilities.choices import BookingState
from sciencecity.facilities.models import Booking, Instrument, UsageRecord, Voucher


def instrument_search(*, q: str = "", kind: str = "", host_id: int | None = None,
                      accredited: str = "") -> list[Instrument]:
    """The catalogue, filtered; with ``q``, ranked by the shared matching engine (``facilities.search``: the
    marketplace's tokenizer, synonyms and BM25) over names, model, capabilities, keywords, accredited scope,
    location and host, each instrument carrying ``match`` (shared terms, highlighted name)."""
    qs = Instrument.objects.select_related("host").prefetch_related("prices")
    if kind:
        qs = qs.filter(kind=kind)
    if host_id:
        qs = qs.filter(host_id=host_id)
    if accredited == "cma":
        qs = qs.exclude(cma_number="")
    elif accredited == "cnas":
        qs = qs.exclude(cnas_number="")
    if not q.strip():
        return list(qs)
    from sciencecity.facilities.search import ranked

    hits = ranked(q, kind=kind)
    found = qs.filter(pk__in=list(hits)).in_bulk()
    result = []
    for pk, hit in hits.items():
        if pk in found:
            found[pk].match = hit
            result.append(found[pk])
    return result


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


def scheme_burn(scheme: Any) -> dict[str, Decimal]:
    """预算执行. Granted, redeemed (spent) and settled amounts of a scheme, and the share of its budget spent."""
    from django.db.models import Sum

    from sciencecity.facilities.models import VoucherRedemption

    redeemed = VoucherRedemption.objects.filter(voucher__scheme=scheme)
    spent = redeemed.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    settled = redeemed.filter(settled_at__isnull=False).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    share = (spent / scheme.budget * 100).quantize(Decimal("0.1")) if scheme.budget else Decimal(0)
    return {"spent": spent, "settled": settled, "spent_percent": share}


def unsettled_redemptions():
    from sciencecity.facilities.models import VoucherRedemption

    return (VoucherRedemption.objects.filter(settled_at__isnull=True)
            .select_related("voucher", "voucher__organisation", "usage__instrument__host"))


def open_hours(instrument: Instrument, since: dt.date, until: dt.date) -> float:
    """Hours the instrument is open between two local dates (``until`` excluded)."""
    if instrument.always_open:
        return 24.0 * (until - since).days
    opens, closes = instrument.opens_at, instrument.closes_at
    daily = (dt.datetime.combine(since, closes) - dt.datetime.combine(since, opens)).total_seconds() / 3600
    days = sum(1 for n in range((until - since).days)
               if str((since + dt.timedelta(days=n)).isoweekday()) in instrument.open_weekdays)
    return max(daily, 0.0) * days


@dataclass
class OpennessRow:
    """开放共享评价. One instrument's or host's figures over a period."""

    key: str
    name: str
    host: str
    open_hours: float
    used_hours: float
    external_hours: float
    sme_hours: float
    revenue: Decimal

    @property
    def utilisation(self) -> float:
        return round(100 * self.used_hours / self.open_hours, 1) if self.open_hours else 0.0

    @property
    def external_share(self) -> float:
        return round(100 * self.external_hours / self.used_hours, 1) if self.used_hours else 0.0


def openness(*, since: dt.date, until: dt.date, district: str | None = None) -> dict[str, list[OpennessRow]]:
    """Utilisation, external-user share and hours, SME hours and revenue per instrument and per host
    organisation, from the usage records checked in between ``since`` and ``until`` (local dates, end excluded)
    and the allocated facility time shifts begun in that period (up to now; they carry no fee here)."""
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(until, dt.time.min))
    qs = Instrument.objects.select_related("host").order_by("host__name", "code")
    if district:
        qs = qs.filter(host__district=district)
    instruments = list(qs)
    rows = {i.pk: OpennessRow(i.code, i.name, i.host.name, open_hours(i, since, until), 0.0, 0.0, 0.0,
                              Decimal("0.00")) for i in instruments}
    hosts = {i.pk: i.host_id for i in instruments}
    used = [(u.instrument_id, u.organisation_id, u.minutes / 60, u.user_class, u.fee) for u in UsageRecord.objects.filter(
        started_at__gte=start, started_at__lt=end, instrument_id__in=rows).only(
            "instrument_id", "organisation_id", "minutes", "fee", "user_class")]
    # Allocated facility time (机时) is use of a beamline too: the shifts begun in the period, up to now.
    now = timezone.now()
    used += [(b.instrument_id, b.organisation_id, (min(b.ends_at, now) - b.starts_at).total_seconds() / 3600,
              b.user_class, Decimal("0.00")) for b in Booking.objects.filter(
        state=BookingState.BEAMTIME, starts_at__gte=start, starts_at__lt=min(end, now), instrument_id__in=rows).only(
            "instrument_id", "organisation_id", "starts_at", "ends_at", "user_class")]
    for instrument_id, organisation_id, hours, user_class, fee in used:
        row = rows[instrument_id]
        row.used_hours += hours
        if organisation_id != hosts[instrument_id]:
            row.external_hours += hours
        if user_class == "sme":
            row.sme_hours += hours
        row.revenue += fee
    by_host: dict[str, OpennessRow] = {}
    for i in instruments:
        r = rows[i.pk]
        h = by_host.setdefault(i.host.code, OpennessRow(i.host.code, i.host.name, i.host.name, 0.0, 0.0, 0.0, 0.0,
                                                        Decimal("0.00")))
        h.open_hours += r.open_hours
        h.used_hours += r.used_hours
        h.external_hours += r.external_hours
        h.sme_hours += r.sme_hours
        h.revenue += r.revenue
    return {"instruments": [rows[i.pk] for i in instruments], "hosts": list(by_host.values())}
