"""``sciencecity demo-enterprises``: synthetic, deterministic, idempotent, feeding the reserve pool."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.enterprises.models import EnterpriseProfile, FiscalYear, TierMembership
from sciencecity.registry.demo import demo_generate as registry_demo

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)


def _snapshot():
    return sorted(FiscalYear.objects.values_list("profile__organisation__code", "year", "main_revenue", "rd_personnel"))


def test_demo_is_synthetic_deterministic_and_idempotent():
    registry_demo(scale="small", today=TODAY)
    out = io.StringIO()
    call_command("demo-enterprises", "--as-of", TODAY.isoformat(), stdout=out)
    assert "Created" in out.getvalue() or "已" in out.getvalue()
    profiles = EnterpriseProfile.objects.count()
    assert profiles > 50 and not EnterpriseProfile.objects.filter(is_synthetic=False).exists()
    assert set(FiscalYear.objects.values_list("year", flat=True)) <= {2023, 2024, 2025}
    assert TierMembership.objects.filter(tier="reserve", left_at__isnull=True).exists()
    # issue 11 obs. 7: the stored reasons are in the site's language, not English sentences on zh-Hans pages
    assert {reason[:6] for reason in TierMembership.objects.values_list("entered_reason", flat=True)} == {"合成演示数据"}
    assert set(TierMembership.objects.filter(certified=True).values_list("left_reason", flat=True)) == {
        "合成演示数据: 已认定为高新技术企业"}
    first = _snapshot()
    call_command("demo-enterprises", "--as-of", TODAY.isoformat(), stdout=io.StringIO())
    assert EnterpriseProfile.objects.count() == profiles and _snapshot() == first
    assert AuditEvent.objects.filter(action=AuditAction.GENERATE, object_type="enterprises.demo").count() == 1
    # the same seed on a fresh database gives the same figures
    FiscalYear.objects.all().delete()
    TierMembership.objects.all().delete()
    EnterpriseProfile.objects.all().delete()
    call_command("demo-enterprises", "--as-of", TODAY.isoformat(), stdout=io.StringIO())
    assert _snapshot() == first


def test_without_registry_demo_it_skips():
    out = io.StringIO()
    call_command("demo-enterprises", stdout=out)
    assert not EnterpriseProfile.objects.exists()
