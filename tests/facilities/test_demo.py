"""``sciencecity demo-facilities``: synthetic, dated from the demo reference day, idempotent, never overlapping,
and the openness figures and indicator source computed from it."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.facilities import selectors
from sciencecity.facilities.choices import SLOT_HOLDING_STATES
from sciencecity.facilities.indicator_sources import instrument_utilisation
from sciencecity.facilities.models import Booking, Instrument, UsageRecord, Voucher, VoucherRedemption
from sciencecity.registry.demo import demo_generate as registry_demo

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 30)


def test_demo_facilities(db):
    out = io.StringIO()
    call_command("demo-facilities", stdout=out)
    assert "sciencecity demo" in out.getvalue()  # skipped: run the registry demo first
    registry_demo(scale="small", today=TODAY)
    call_command("demo-facilities", "--as-of", TODAY.isoformat(), stdout=out)
    assert Instrument.objects.filter(is_synthetic=True).count() == 14
    assert Instrument.objects.filter(kind="testing_service").exclude(cma_number="").count() == 2
    assert not Instrument.objects.filter(is_synthetic=False).exists()
    usage = UsageRecord.objects.all()
    assert usage.count() > 100 and not usage.filter(is_synthetic=False).exists()
    days = [timezone.localtime(u.started_at).date() for u in usage]
    assert max(days) < TODAY and min(days) >= TODAY - dt.timedelta(days=90)
    assert Booking.objects.filter(state="confirmed", starts_at__date__gte=TODAY).exists()
    held = list(Booking.objects.filter(state__in=SLOT_HOLDING_STATES).order_by("instrument_id", "starts_at")
                .values_list("instrument_id", "starts_at", "ends_at"))
    assert not [1 for a, b in zip(held, held[1:], strict=False) if a[0] == b[0] and b[1] < a[2]]
    for voucher in Voucher.objects.all():
        spent = sum(r.amount for r in VoucherRedemption.objects.filter(voucher=voucher))
        assert voucher.balance == voucher.granted - spent and voucher.balance >= 0
    assert AuditEvent.objects.filter(action=AuditAction.GENERATE, object_type="facilities.demo").count() == 1
    before = Booking.objects.count()
    call_command("demo-facilities", stdout=out)
    assert Booking.objects.count() == before
    assert out.getvalue().count("\n") == 3  # skipped, created, nothing to create

    data = selectors.openness(since=TODAY - dt.timedelta(days=90), until=TODAY)
    hosts = data["hosts"]
    assert sum(h.used_hours for h in hosts) == pytest.approx(sum(u.minutes for u in usage) / 60)
    assert all(0 < h.utilisation <= 100 for h in hosts)
    value, provenance = instrument_utilisation(TODAY.year, "district")
    assert 0 < value < 100 and "facilities" in provenance
