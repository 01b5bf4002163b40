"""``sciencecity demo-programmes``: experts, publications, a demand → topic and three calls."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.programmes import demo
from sciencecity.programmes.choices import (
    ApplicationState,
    AssignmentState,
    CallState,
    JobState,
    MilestoneState,
)
from sciencecity.programmes.models import (
    Application,
    Assignment,
    AssignmentJob,
    Call,
    Demand,
    ExpertProfile,
    FundedProject,
    Payment,
    Publication,
    Topic,
)
from sciencecity.programmes.services.decisions import disclosure_rows
from sciencecity.registry.demo import demo_generate as registry_demo

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)
SMALL_COUNTS = {
    "programmes.expertprofile": 54, "programmes.publication": 129, "programmes.demand": 3, "programmes.topiclist": 1,
    "programmes.topic": 1, "programmes.call": 3, "programmes.criterion": 12, "programmes.application": 16,
    "programmes.applicationmember": 16, "programmes.panelmeeting": 1, "programmes.decision": 6,
    "programmes.fundedproject": 3, "programmes.projectmilestone": 6, "programmes.payment": 1,
    "programmes.assignmentjob": 1, "programmes.assignment": 24,
}


@pytest.fixture
def registry(db):
    registry_demo(scale="small", today=TODAY)


def events():
    return AuditEvent.objects.filter(action=AuditAction.GENERATE, object_type=demo.AUDIT_OBJECT_TYPE)


def test_small_counts_and_one_generate_event(registry):
    result = demo.demo_generate(today=TODAY)
    assert result.counts == SMALL_COUNTS
    assert events().count() == 1
    assert events().get().changes["created"] == SMALL_COUNTS


def test_rerun_creates_nothing_and_writes_no_event(registry):
    demo.demo_generate(today=TODAY)
    before = (AuditEvent.objects.count(), Publication.objects.count(), Application.objects.count(),
              Assignment.objects.count())
    assert demo.demo_generate(today=TODAY).created == 0
    assert (AuditEvent.objects.count(), Publication.objects.count(), Application.objects.count(),
            Assignment.objects.count()) == before


def test_rows_are_synthetic_or_demo_coded(registry):
    demo.demo_generate(today=TODAY)
    assert not Publication.objects.filter(is_synthetic=False).exists()
    assert all(c.startswith("DEMO-") for c in Call.objects.values_list("code", flat=True))
    assert all(c.startswith("DEMO-") for c in Demand.objects.values_list("code", flat=True))
    assert all(r.startswith("DEMO-") for r in Application.objects.values_list("reference", flat=True))
    assert all(c.startswith("DEMO-") for c in FundedProject.objects.values_list("code", flat=True))
    assert all(p.person.is_synthetic for p in ExpertProfile.objects.select_related("person"))


def test_experts_and_publications(registry):
    demo.demo_generate(today=TODAY)
    assert 0 < ExpertProfile.objects.filter(is_senior=True).count() < ExpertProfile.objects.count()
    for publication in Publication.objects.prefetch_related("authors")[:20]:
        assert 2 <= publication.authors.count() <= 3 and publication.abstract


def test_calls_in_their_states(registry):
    demo.demo_generate(today=TODAY)
    open_call = Call.objects.get(code=demo.OPEN_CALL)
    assert open_call.state == CallState.OPEN and open_call.is_open_on(TODAY)
    assert open_call.topic == Topic.objects.get(title=demo.TOPIC_TITLE)
    assert set(open_call.topic.demands.values_list("code", flat=True)) == set(demo.DEMAND_CODES)

    race = Call.objects.get(code=demo.RACE_CALL)
    assert race.state == CallState.REVIEW
    assert AssignmentJob.objects.get(call=race).state == JobState.DONE
    assignments = Assignment.objects.filter(application__call=race)
    assert assignments.count() == 8 * race.reviews_per_application
    assert set(assignments.values_list("state", flat=True)) == {AssignmentState.RELEASED}
    for application in race.applications.all():
        assert application.state == ApplicationState.UNDER_REVIEW
        experts = set(application.assignments.values_list("expert_id", flat=True))
        assert application.applicant_id not in experts
        assert ExpertProfile.objects.filter(person_id__in=experts, is_senior=True).exists()

    decided = Call.objects.get(code=demo.DECIDED_CALL)
    assert decided.state == CallState.DECIDED
    assert decided.applications.filter(state=ApplicationState.FUNDED).count() == 3
    assert list(disclosure_rows(decided)) == list(FundedProject.objects.filter(application__call=decided)
                                                  .order_by("code"))
    payment = Payment.objects.get()
    assert payment.milestone.state == MilestoneState.ACCEPTED and payment.amount == payment.milestone.tranche


def test_command_runs_twice(registry):
    out = io.StringIO()
    call_command("demo-programmes", stdout=out)
    call_command("demo-programmes", stdout=out)
    assert events().count() == 1
