"""The incubation pipeline: stage moves with carriers and dates, who may move whom, graduation rate
per cohort, the page (counts, chart, carriers) and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.transfer.choices import IncubationStage as Stage
from sciencecity.transfer.models import Startup, StartupStage
from sciencecity.transfer.services import incubation as services
from tests.conftest import make_organisation, make_user
from tests.transfer.conftest import make_achievement

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def carriers(db):
    return {
        Stage.CONCEPT: make_organisation(kind="concept_verification_centre", name="光明概念验证中心"),
        Stage.MAKER_SPACE: make_organisation(kind="maker_space", name="光明众创空间"),
        Stage.INCUBATOR: make_organisation(kind="incubator", name="光明孵化器"),
        Stage.ACCELERATOR: make_organisation(kind="accelerator", name="光明加速器"),
        Stage.PARK: make_organisation(kind="science_park", name="光明科技园"),
    }


def move(actor, startup_org, stage, day, carriers=None, **kwargs):
    carrier = carriers.get(stage) if carriers else None
    return services.startup_move(actor=actor, organisation=startup_org, stage=stage, carrier=carrier,
                                 entered_on=day, **kwargs)


def test_moving_a_startup_opens_a_stage_and_closes_the_previous_one(bureau, carriers, university):
    spinoff = make_organisation(name="硅碳新材料科技有限公司")
    achievement = make_achievement(university)
    startup = move(bureau, spinoff, Stage.CONCEPT, dt.date(2024, 3, 1), carriers, achievement=achievement)
    assert (startup.stage, startup.carrier, startup.achievement) == (Stage.CONCEPT, carriers[Stage.CONCEPT],
                                                                     achievement)
    move(bureau, spinoff, Stage.INCUBATOR, dt.date(2024, 9, 1), carriers)
    move(bureau, spinoff, Stage.GRADUATED, dt.date(2025, 9, 1))
    rows = list(StartupStage.objects.filter(startup=startup).values_list("stage", "carrier_id", "entered_on", "left_on"))
    assert rows == [
        (Stage.CONCEPT, carriers[Stage.CONCEPT].pk, dt.date(2024, 3, 1), dt.date(2024, 9, 1)),
        (Stage.INCUBATOR, carriers[Stage.INCUBATOR].pk, dt.date(2024, 9, 1), dt.date(2025, 9, 1)),
        (Stage.GRADUATED, None, dt.date(2025, 9, 1), dt.date(2025, 9, 1)),
    ]
    startup.refresh_from_db()
    assert (startup.stage, startup.carrier, startup.achievement) == (Stage.GRADUATED, None, achievement)
    events = AuditEvent.objects.filter(object_type="transfer.startup", object_id=str(startup.pk)).order_by("pk")
    assert [e.action for e in events] == ["create", "transition", "transition"]
    assert events.last().changes["stage"] == [Stage.INCUBATOR, Stage.GRADUATED]


@pytest.mark.parametrize(("setup", "stage", "carrier_kind", "day", "field"), [
    ([], Stage.INCUBATOR, Stage.MAKER_SPACE, dt.date(2024, 1, 1), "carrier"),  # a maker space is no incubator
    ([], Stage.INCUBATOR, None, dt.date(2024, 1, 1), "carrier"),  # a pipeline stage needs its carrier
    ([], Stage.GRADUATED, None, dt.date(2024, 1, 1), "stage"),  # one enters at a pipeline stage
    ([(Stage.INCUBATOR, dt.date(2024, 5, 1))], Stage.ACCELERATOR, Stage.ACCELERATOR, dt.date(2024, 4, 1),
     "entered_on"),  # before the current stage began
    ([(Stage.INCUBATOR, dt.date(2024, 5, 1))], Stage.INCUBATOR, Stage.INCUBATOR, dt.date(2024, 6, 1), "stage"),
    ([(Stage.INCUBATOR, dt.date(2024, 5, 1)), (Stage.CLOSED, dt.date(2024, 6, 1))], Stage.PARK, Stage.PARK,
     dt.date(2024, 7, 1), "stage"),  # closed start-ups have left the pipeline
    ([], Stage.CONCEPT, Stage.CONCEPT, dt.date(2999, 1, 1), "entered_on"),
])
def test_invalid_moves_write_nothing(bureau, carriers, setup, stage, carrier_kind, day, field):
    spinoff = make_organisation()
    for earlier, when in setup:
        move(bureau, spinoff, earlier, when, carriers)
    before = (Startup.objects.count(), StartupStage.objects.count(), AuditEvent.objects.count(),
              list(StartupStage.objects.values_list("left_on", flat=True)))
    with pytest.raises(ValidationError) as info:
        services.startup_move(actor=bureau, organisation=spinoff, stage=stage, entered_on=day,
                              carrier=carriers.get(carrier_kind) if carrier_kind else None)
    assert field in info.value.message_dict
    assert (Startup.objects.count(), StartupStage.objects.count(), AuditEvent.objects.count(),
            list(StartupStage.objects.values_list("left_on", flat=True))) == before


def test_a_startup_is_an_enterprise(bureau, carriers, university):
    with pytest.raises(ValidationError):
        move(bureau, university, Stage.CONCEPT, dt.date(2024, 1, 1), carriers)
    assert not Startup.objects.exists()


def test_operators_move_startups_into_and_out_of_their_own_carrier(carriers, bureau):
    operator = make_user(Role.INCUBATOR_OPERATOR, carriers[Stage.INCUBATOR])
    spinoff = make_organisation()
    with pytest.raises(PermissionDenied):  # not their carrier
        move(operator, spinoff, Stage.MAKER_SPACE, dt.date(2024, 1, 1), carriers)
    move(operator, spinoff, Stage.INCUBATOR, dt.date(2024, 1, 1), carriers)
    move(operator, spinoff, Stage.ACCELERATOR, dt.date(2024, 6, 1), carriers)  # out of their incubator
    with pytest.raises(PermissionDenied):  # now it is the accelerator's start-up
        move(operator, spinoff, Stage.PARK, dt.date(2024, 9, 1), carriers)
    for outsider in (make_user(Role.ENTERPRISE_USER, spinoff), make_user(Role.INCUBATOR_OPERATOR, make_organisation())):
        with pytest.raises(PermissionDenied):
            move(outsider, spinoff, Stage.PARK, dt.date(2024, 9, 1), carriers)
    assert Startup.objects.get().stage == Stage.ACCELERATOR


def test_graduation_rate_per_cohort(bureau, carriers):
    def path(*steps):
        org = make_organisation()
        for stage, day in steps:
            move(bureau, org, stage, day, carriers)

    path((Stage.INCUBATOR, dt.date(2023, 2, 1)), (Stage.GRADUATED, dt.date(2024, 2, 1)))
    path((Stage.MAKER_SPACE, dt.date(2023, 5, 1)), (Stage.INCUBATOR, dt.date(2024, 1, 1)))
    path((Stage.CONCEPT, dt.date(2023, 8, 1)), (Stage.CLOSED, dt.date(2023, 12, 1)))
    path((Stage.ACCELERATOR, dt.date(2024, 3, 1)), (Stage.GRADUATED, dt.date(2025, 3, 1)))
    path((Stage.INCUBATOR, dt.date(2024, 4, 1)))
    cohorts = services.cohorts()
    assert [(c.year, c.entered, c.graduated, c.rate) for c in cohorts] == [(2023, 3, 1, 33.3), (2024, 2, 1, 50.0)]
    assert services.graduation_rate(cohorts) == 40.0
    counts = {stage: n for stage, _label, n in services.stage_counts()}
    assert counts == {Stage.CONCEPT: 0, Stage.MAKER_SPACE: 0, Stage.INCUBATOR: 2, Stage.ACCELERATOR: 0,
                      Stage.PARK: 0, Stage.GRADUATED: 2, Stage.CLOSED: 1}


def test_the_page_shows_counts_chart_carriers_and_lets_managers_move(bureau, carriers, client, enterprise_user):
    spinoff = make_organisation(code="SPIN-1", name="光明量子科技有限公司")
    client.force_login(bureau)
    url = reverse("transfer:incubation")
    response = client.post(url, {"organisation": "SPIN-1", "stage": Stage.INCUBATOR,
                                 "carrier": carriers[Stage.INCUBATOR].pk, "entered_on": "2024-03-01"})
    assert response.status_code == 302
    assert Startup.objects.get().organisation == spinoff
    response = client.post(url, {"organisation": "SPIN-1", "stage": Stage.PARK,
                                 "carrier": carriers[Stage.INCUBATOR].pk, "entered_on": "2024-06-01"})
    assert response.status_code == 400 and "hosted by" in response.content.decode()
    assert StartupStage.objects.count() == 1

    client.force_login(enterprise_user)
    html = client.get(url).content.decode()
    assert 'data-testid="stage-count-incubator"' in html and 'id="stage-chart"' in html
    assert "chartjs-4.6.1/chart.umd.min.js" in html
    assert f'data-testid="carrier-{carriers[Stage.INCUBATOR].pk}"' in html and "光明量子科技有限公司" in html
    assert 'data-testid="startup-move-form"' not in html
    assert client.post(url, {"organisation": "SPIN-1", "stage": Stage.PARK}).status_code == 403


def test_an_operator_only_sees_its_own_carrier_in_the_form(carriers, client):
    operator = make_user(Role.INCUBATOR_OPERATOR, carriers[Stage.INCUBATOR])
    client.force_login(operator)
    form = client.get(reverse("transfer:incubation")).context["form"]
    assert list(form.fields["carrier"].queryset) == [carriers[Stage.INCUBATOR]]


def test_incubation_api(bureau, carriers, client):
    org = make_organisation(name="API初创")
    move(bureau, org, Stage.MAKER_SPACE, dt.date(2024, 1, 1), carriers)
    move(bureau, org, Stage.GRADUATED, dt.date(2024, 12, 1))
    client.force_login(bureau)
    body = client.get("/api/transfer/incubation").json()
    assert {s["stage"]: s["count"] for s in body["stages"]}[Stage.GRADUATED] == 1
    assert body["cohorts"] == [{"year": 2024, "entered": 1, "graduated": 1, "rate": 100.0}]
    assert body["graduation_rate"] == 100.0
    assert [s["stage"] for s in body["startups"][0]["stages"]] == [Stage.MAKER_SPACE, Stage.GRADUATED]
    client.logout()
    assert client.get("/api/transfer/incubation").status_code == 401
