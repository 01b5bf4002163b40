"""Reserve list promotion (递补): only reserve applications of a decided call, within the requested
amount, the cap and the remaining budget; the project and its default milestones as on notify;
audited; on the public disclosure page; bureau only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.programmes.models import FundedProject
from sciencecity.programmes.services import decisions
from tests.conftest import make_user
from tests.programmes.conftest import make_application, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(bureau, panel_call, manager_person):
    """``panel_call`` (cap 100, budget 150) decided: the first funded with 80, the second (requested
    120) and third (requested 60) on the reserve list. Remaining budget: 70."""
    first, second, third = panel_call.applications.order_by("reference")
    decisions.decision_record(actor=bureau, call=panel_call, application=first, data={"outcome": "fund", "amount": 80})
    for application in (second, third):
        decisions.decision_record(actor=bureau, call=panel_call, application=application, data={"outcome": "reserve"})
    decisions.decisions_notify(actor=bureau, call=panel_call, managers={first.pk: manager_person},
                               start_date=dt.date(2025, 6, 1), end_date=dt.date(2027, 6, 1))
    panel_call.refresh_from_db()
    return {"call": panel_call, "first": first, "second": second, "third": third}


def _promote(actor, application, amount, manager, reason="有预算结余，递补立项"):
    return decisions.reserve_promote(actor=actor, application=application, amount=amount, manager=manager,
                                     reason=reason)


def _written():
    return (FundedProject.objects.count(), AuditEvent.objects.count())


@pytest.mark.time_machine(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False)  # inside the cohort's term
def test_promotion_creates_the_project_as_notify_does(decided, bureau, manager_person):
    third = decided["third"]
    assert decisions.reserve_applications(decided["call"]) == [decided["second"], third]
    assert decisions.remaining_budget(decided["call"]) == Decimal("70.00")
    project = _promote(bureau, third, Decimal("60"), manager_person)
    third.refresh_from_db()
    assert third.state == "funded"
    assert (project.application, project.amount, project.manager, project.state) == (
        third, Decimal("60"), manager_person, "active")
    today = timezone.localdate()
    assert (project.start_date, project.end_date) == (today, dt.date(2027, 6, 1))
    expected = decisions.milestone_plan(decided["call"], Decimal("60"), project.start_date, project.end_date)
    assert [(m.order, m.title, m.due_date, m.tranche) for m in project.milestones.all()] == [
        (n, str(row["title"]), row["due_date"], row["tranche"]) for n, row in enumerate(expected, start=1)]
    assert [m.tranche for m in project.milestones.all()] == [Decimal("30.00"), Decimal("30.00")]
    transition = AuditEvent.objects.get(object_type="programmes.application", object_id=str(third.pk),
                                        action="transition", changes__state=["rejected", "funded"])
    assert transition.actor_id == bureau.pk
    created = AuditEvent.objects.get(object_type="programmes.fundedproject", object_id=str(project.pk), action="create")
    assert created.reason == "有预算结余，递补立项" and created.changes["amount"] == [None, "60"]
    assert decisions.reserve_applications(decided["call"]) == [decided["second"]]
    assert decisions.remaining_budget(decided["call"]) == Decimal("10.00")
    notice = decisions.notification_for(third)
    assert (notice.outcome, notice.amount, notice.project) == ("fund", Decimal("60.00"), project)


@pytest.mark.time_machine(dt.datetime(2028, 1, 10, 10, 0, tzinfo=dt.UTC), tick=False)  # after the cohort ended
def test_promotion_after_the_cohort_ended_runs_two_years(decided, bureau, manager_person):
    project = _promote(bureau, decided["third"], Decimal("60"), manager_person)
    assert (project.start_date, project.end_date) == (dt.date(2028, 1, 10), dt.date(2028, 1, 10) + dt.timedelta(days=730))


def test_promoted_project_is_disclosed(client, decided, bureau, manager_person):
    project = _promote(bureau, decided["third"], Decimal("60"), manager_person)
    page = client.get(reverse("programmes:disclosure")).content.decode()
    assert project.code in page and decided["third"].title in page
    api = client.get("/api/programmes/disclosure").json()
    assert {row["project"]: row["amount"] for row in api}[project.code] == "60.00"


@pytest.mark.parametrize("amount, message", [
    ("121", "TC{n}-0002: the amount 121 exceeds the requested 120.00 (10k CNY)."),
    ("101", "TC{n}-0002: the amount 101 exceeds the call's cap of 100.00 (10k CNY)."),
    ("71", "TC{n}-0002: the amount 71 exceeds the call's remaining budget of 70.00 (10k CNY)."),
    ("0", "TC{n}-0002: a funded application needs a positive amount."),
])
def test_amount_limits(decided, bureau, manager_person, amount, message):
    before = _written()
    with override("en"), pytest.raises(ValidationError) as exc:
        _promote(bureau, decided["second"], Decimal(amount), manager_person)
    assert exc.value.messages == [message.format(n=decided["call"].code[2:])]
    assert _written() == before
    decided["second"].refresh_from_db()
    assert decided["second"].state == "rejected"


def test_budget_used_by_an_earlier_promotion(decided, bureau, manager_person):
    _promote(bureau, decided["third"], Decimal("60"), manager_person)
    with override("en"), pytest.raises(ValidationError) as exc:
        _promote(bureau, decided["second"], Decimal("10.01"), manager_person)
    assert exc.value.messages == [f"{decided['second'].reference}: the amount 10.01 exceeds the call's remaining "
                                  "budget of 10.00 (10k CNY)."]
    assert _promote(bureau, decided["second"], Decimal("10"), manager_person).amount == Decimal("10")
    assert decisions.remaining_budget(decided["call"]) == Decimal("0.00")


def test_refusals(decided, bureau, manager_person):
    second = decided["second"]
    cases = [
        (decided["first"], "r", manager_person, f"{decided['first'].reference} is not on the reserve list."),
        (second, "  ", manager_person, "Give the reason for promoting from the reserve list."),
        (second, "r", None, f"Choose a project manager (项目经理人) for: {second.reference}."),
    ]
    for application, reason, manager, message in cases:
        before = _written()
        with override("en"), pytest.raises(ValidationError) as exc:
            _promote(bureau, application, Decimal("50"), manager, reason)
        assert exc.value.messages == [message] and _written() == before
    _promote(bureau, second, Decimal("50"), manager_person)
    with override("en"), pytest.raises(ValidationError) as exc:  # not twice
        _promote(bureau, second, Decimal("10"), manager_person)
    assert exc.value.messages == [f"{second.reference} is not on the reserve list."]


def test_only_after_the_call_is_decided(bureau, organisation, manager_person):
    call = make_call(max_request=Decimal("100"))
    application = make_application(call, organisation, requested="50")
    decisions.decision_record(actor=bureau, call=call, application=application, data={"outcome": "reserve"})
    before = _written()
    with override("en"), pytest.raises(ValidationError) as exc:
        _promote(bureau, application, Decimal("50"), manager_person)
    assert exc.value.messages == ["The call is “Panel”; this needs the state “Decided and notified”."]
    assert _written() == before and decisions.reserve_applications(call) == []


def test_teams_limit_of_open_competition(bureau, organisation, manager_person):
    from tests.conftest import make_organisation

    call = make_call(mechanism="open_competition", teams_funded=1, reward=Decimal("50"))
    winner = make_application(call, organisation, requested="50")
    runner_up = make_application(call, make_organisation(), requested="50")
    decisions.decision_record(actor=bureau, call=call, application=winner, data={"outcome": "fund"})
    decisions.decision_record(actor=bureau, call=call, application=runner_up, data={"outcome": "reserve"})
    decisions.decisions_notify(actor=bureau, call=call, managers={winner.pk: manager_person},
                               start_date=dt.date(2025, 6, 1), end_date=dt.date(2027, 6, 1))
    with override("en"), pytest.raises(ValidationError) as exc:
        _promote(bureau, runner_up, Decimal("50"), manager_person)
    assert exc.value.messages == ["This call funds at most 1 team(s); 2 are marked fund."]


# --- permission matrix ----------------------------------------------------------------------------
USERS = ["anonymous", "other_enterprise_user", "enterprise_user", "manager_user", "bureau", "sysadmin", "secadmin",
         "auditadmin"]


@pytest.fixture
def manager_user(manager_person):
    return make_user(Role.ACADEMIC_USER, username="manager_user", person=manager_person)


@pytest.fixture
def applicant_of_second(decided):
    """A business user of the second (reserve) application's organisation."""
    return make_user(Role.ENTERPRISE_USER, decided["second"].organisation, username="reserve_applicant")


def _client(request, client, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


@pytest.mark.parametrize("who", [*USERS[1:], "applicant_of_second"])
def test_service_bureau_only(request, decided, manager_person, who):
    user = request.getfixturevalue(who)
    if who == "bureau":
        assert _promote(user, decided["second"], Decimal("50"), manager_person).amount == Decimal("50")
    else:
        before = _written()
        with pytest.raises(PermissionDenied):
            _promote(user, decided["second"], Decimal("50"), manager_person)
        assert _written() == before


@pytest.mark.parametrize("who", [*USERS, "applicant_of_second"])
def test_api_matrix(request, client, decided, manager_person, who):
    client = _client(request, client, who)
    response = client.post(f"/api/programmes/applications/{decided['second'].pk}/promote",
                           {"amount": "50", "manager": manager_person.code, "reason": "递补"},
                           content_type="application/json")
    if who == "bureau":
        assert response.status_code == 200
        body = response.json()
        assert (body["amount"], body["manager"], body["state"]) == ("50.00", manager_person.name, "active")
        assert [m["tranche"] for m in body["milestones"]] == ["25.00", "25.00"]
    else:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert not FundedProject.objects.filter(application=decided["second"]).exists()


def test_api_validation_message(login, decided, bureau, manager_person):
    response = login(bureau).post(f"/api/programmes/applications/{decided['second'].pk}/promote",
                                  {"amount": "71", "manager": manager_person.code, "reason": "递补"},
                                  content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "amount", "message": (
        f"{decided['second'].reference}: the amount 71 exceeds the call's remaining budget of 70.00 (10k CNY).")}]


@pytest.mark.parametrize("who", [*USERS, "applicant_of_second"])
def test_panel_page_matrix(request, client, decided, manager_person, who):
    client = _client(request, client, who)
    url = reverse("programmes:panel", args=[decided["call"].pk])
    second = decided["second"]
    page = client.get(url)
    response = client.post(url, {"op": "promote", "application": second.pk, "amount": "50",
                                 f"manager_{second.pk}": manager_person.code, "reason": "递补"})
    if who == "bureau":
        content = page.content.decode()
        assert f'data-testid="promote-{second.reference}"' in content
        assert f'data-testid="promote-{decided["third"].reference}"' in content
        assert f'data-testid="promote-{decided["first"].reference}"' not in content
        assert response.status_code == 302
        assert FundedProject.objects.get(application=second).amount == Decimal("50")
        after = client.get(url).content.decode()
        assert f'data-testid="promote-{second.reference}"' not in after
    else:
        expected = 302 if who == "anonymous" else 403
        assert (page.status_code, response.status_code) == (expected, expected)
        assert not FundedProject.objects.filter(application=second).exists()


def test_panel_page_shows_the_error(login, decided, bureau, manager_person):
    second = decided["second"]
    response = login(bureau).post(reverse("programmes:panel", args=[decided["call"].pk]), {
        "op": "promote", "application": second.pk, "amount": "71", f"manager_{second.pk}": manager_person.code,
        "reason": "递补"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert f"{second.reference}: the amount 71 exceeds the call&#x27;s remaining budget of 70.00" in (
        response.content.decode())
    assert not FundedProject.objects.filter(application=second).exists()
