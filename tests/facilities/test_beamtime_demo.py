"""``sciencecity demo-beamtime``: a synthetic round with allocated shifts, once."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.facilities.beamtime import demo
from sciencecity.facilities.beamtime.models import BeamtimeProposal, BeamtimeRound, ShiftRequest
from sciencecity.registry.demo import demo_generate as registry_demo

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 30)


def test_demo_round_is_allocated_within_capacity_and_synthetic():
    assert demo.demo_generate(today=TODAY).skipped  # nothing to build on yet
    registry_demo(scale="small", today=TODAY)
    out = io.StringIO()
    call_command("demo-beamtime", "--as-of", TODAY.isoformat(), stdout=out)
    round_ = BeamtimeRound.objects.get(code=demo.ROUND_CODE)
    assert round_.is_synthetic and round_.state == "allocated"
    assert BeamtimeProposal.objects.filter(round=round_, is_synthetic=True).count() == demo.PROPOSALS
    summary = round_.allocation
    assert summary["mip_gap"] == 0.0 and summary["total_score"] >= summary["rank_total"]
    for line in round_.beamlines.all():
        used = sum(ShiftRequest.objects.filter(beamline=line).values_list("shifts_allocated", flat=True))
        assert used <= line.shifts and used == summary["used"][line.instrument.code]
    assert AuditEvent.objects.filter(action=AuditAction.GENERATE, object_type=demo.AUDIT_OBJECT_TYPE).count() == 1
    before = AuditEvent.objects.count()
    assert demo.demo_generate(today=TODAY).created == 0
    assert AuditEvent.objects.count() == before
