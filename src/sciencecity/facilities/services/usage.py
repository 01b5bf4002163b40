"""Usage and fees: a usage record per completed booking, at the hourly price of its user class."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from sciencecity.core.audit import audit_record, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.facilities.choices import UserClass
from sciencecity.facilities.models import Booking, Instrument, InstrumentPrice, UsageRecord

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: Usage is billed in steps of this many minutes, rounded up (a started quarter hour counts).
BILLING_STEP_MINUTES = 15
CENT = Decimal("0.01")
USAGE_FIELDS = ["booking_id", "instrument_id", "organisation_id", "user_class", "started_at", "ended_at", "minutes",
                "hourly_rate", "fee"]


def billed_minutes(seconds: float) -> int:
    """Minutes used, rounded up to the billing step: 61 minutes → 75."""
    steps = math.ceil(round(seconds) / 60 / BILLING_STEP_MINUTES)
    return max(1, steps) * BILLING_STEP_MINUTES


def hourly_rate(instrument: Instrument, user_class: str) -> Decimal:
    """The price of the class; an SME without its own price pays the enterprise price; no price at all is free."""
    prices = {p.user_class: p.hourly_rate for p in InstrumentPrice.objects.filter(instrument=instrument)}
    if user_class in prices:
        return prices[user_class]
    if user_class == UserClass.SME and UserClass.ENTERPRISE in prices:
        return prices[UserClass.ENTERPRISE]
    return Decimal("0.00")


def fee_for(rate: Decimal, minutes: int) -> Decimal:
    return (rate * minutes / 60).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def usage_record_create(*, actor: User | None, booking: Booking) -> UsageRecord:
    minutes = billed_minutes((booking.checked_out_at - booking.checked_in_at).total_seconds())
    rate = hourly_rate(booking.instrument, booking.user_class)
    usage = UsageRecord(booking=booking, instrument=booking.instrument, organisation=booking.organisation,
                        user_class=booking.user_class, started_at=booking.checked_in_at,
                        ended_at=booking.checked_out_at, minutes=minutes, hourly_rate=rate, fee=fee_for(rate, minutes),
                        is_synthetic=booking.is_synthetic)
    usage.full_clean(exclude=["booking", "instrument", "organisation"])
    usage.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=usage, acting_organisation=booking.organisation,
                 changes={k: [None, v] for k, v in snapshot(usage, USAGE_FIELDS).items()})
    return usage
