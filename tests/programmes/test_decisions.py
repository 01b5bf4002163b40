"""Panel decisions: caps and budget, decide and notify, public disclosure, permissions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext

from sciencecity.core.models import AuditEvent
from sciencecity.programmes.models import Decision, FundedProject, ProjectMilestone
from sciencecity.programmes.services import decisions
from tests.conftest import make_person
from tests.programmes.conftest import fund, make_application, make_call

pytestmark = pytest.mark.django_db


def _apps(call):
    return list(call.applications.order_by("reference"))


def test_amount_over_requested_names_the_application(bureau, panel_call):
    first = _apps(panel_call)[0]
    with pytest.raises(ValidationError) as exc:
        decisions.decision_record(actor=bureau, call=panel_call, application=first,
                                  data={"outcome": "fund", "amount": "90"})
    assert first.reference in str(exc.value) and "80" in str(exc.value)
    assert not Decision.objects.exists()


def test_amount_over_call_cap_is_refused(bureau, panel_call):
    second = _apps(panel_call)[1]  # requested 120, cap 100
    with pytest.raises(ValidationError) as exc:
        decisions.decision_record(actor=bureau, call=panel_call, application=second,
                                  data={"outcome": "fund", "amount": "110"})
    assert second.reference in str(exc.value) and "110" in str(exc.value) and "100" in str(exc.value)
    assert not Decision.objects.exists()


def test_total_over_budget_is_refused_and_rolled_back(bureau, panel_call):
    first, second, third = _apps(panel_call)
    decisions.decision_record(actor=bureau, call=panel_call, application=first, data={"outcome": "fund", "amount": "80"})
    decisions.decision_record(actor=bureau, call=panel_call, application=second, data={"outcome": "fund", "amount": "60"})
    with pytest.raises(ValidationError) as exc:
        decisions.decision_record(actor=bureau, call=panel_call, application=third,
                                  data={"outcome": "fund", "amount": "20"})
    assert "160" in str(exc.value) and "150" in str(exc.value)
    assert not Decision.objects.filter(application=third).exists()
    # within the budget it is fine, and a decision can be changed
    decision = decisions.decision_record(actor=bureau, call=panel_call, application=third,
                                         data={"outcome": "fund", "amount": "10", "votes_for": 5, "votes_against": 1,
                                               "votes_abstain": 1, "rationale": "强"})
    assert (decision.amount, decision.votes_for, decision.votes_against, decision.votes_abstain) == (
        Decimal("10"), 5, 1, 1)
    decisions.decision_record(actor=bureau, call=panel_call, application=third, data={"outcome": "reserve"})
    decision.refresh_from_db()
    assert decision.outcome == "reserve" and decision.amount is None
    assert Decision.objects.count() == 3


def test_fund_needs_positive_amount_and_panel_state(bureau, panel_call):
    first = _apps(panel_call)[0]
    with pytest.raises(ValidationError):
        decisions.decision_record(actor=bureau, call=panel_call, application=first, data={"outcome": "fund"})
    with pytest.raises(ValidationError):
        decisions.decision_record(actor=bureau, call=panel_call, application=first, data={"outcome": "keep"})
    panel_call.state = "review"
    panel_call.save()
    with pytest.raises(ValidationError):
        decisions.decision_record(actor=bureau, call=panel_call, application=first, data={"outcome": "reject"})


def test_only_officers_decide(enterprise_user, panel_call):
    with pytest.raises(PermissionDenied):
        decisions.decision_record(actor=enterprise_user, call=panel_call, application=_apps(panel_call)[0],
                                  data={"outcome": "reject"})


def test_notify_creates_projects_and_sets_states(bureau, panel_call, manager_person):
    first, second, third = _apps(panel_call)
    decisions.decision_record(actor=bureau, call=panel_call, application=first, data={"outcome": "fund", "amount": "80"})
    decisions.decision_record(actor=bureau, call=panel_call, application=second, data={"outcome": "reject"})
    with pytest.raises(ValidationError) as exc:  # the third is undecided
        decisions.decisions_notify(actor=bureau, call=panel_call, managers={first.pk: manager_person},
                                   start_date=dt.date(2025, 6, 1), end_date=dt.date(2027, 6, 1))
    assert third.reference in str(exc.value)
    decisions.decision_record(actor=bureau, call=panel_call, application=third, data={"outcome": "reserve"})
    with pytest.raises(ValidationError) as exc:  # no manager
        decisions.decisions_notify(actor=bureau, call=panel_call, managers={}, start_date=dt.date(2025, 6, 1),
                                   end_date=dt.date(2027, 6, 1))
    assert first.reference in str(exc.value)
    assert not FundedProject.objects.exists()
    projects = decisions.decisions_notify(actor=bureau, call=panel_call, managers={first.pk: manager_person},
                                          start_date=dt.date(2025, 6, 1), end_date=dt.date(2027, 6, 1))
    panel_call.refresh_from_db()
    assert panel_call.state == "decided"
    assert [(a.reference, a.state) for a in _apps(panel_call)] == [
        (first.reference, "funded"), (second.reference, "rejected"), (third.reference, "rejected")]
    (project,) = projects
    assert (project.application, project.amount, project.manager, project.is_frontier) == (
        first, Decimal("80"), manager_person, False)
    assert project.code == "XM2025-0001"
    tranches = list(ProjectMilestone.objects.filter(project=project).values_list("tranche", flat=True))
    assert tranches == [Decimal("40.00"), Decimal("40.00")]
    # every applicant is notified, with the decision
    for a in (first, second, third):
        a.refresh_from_db()
    notice = decisions.notification_for(first)
    assert (notice.outcome, notice.amount, notice.project) == ("fund", Decimal("80"), project)
    assert "80" in notice.message
    assert decisions.notification_for(third).message == gettext("Not funded; placed on the reserve list.")
    assert decisions.notification_for(second).outcome == "reject"
    assert AuditEvent.objects.filter(object_type="programmes.fundedproject", object_id=str(project.pk)).exists()


def test_notification_page_fragment(bureau, panel_call, manager_person, enterprise_user, login):
    fund(bureau, panel_call, {_apps(panel_call)[0].reference: "80"}, manager_person)
    from django.template.loader import render_to_string

    html = render_to_string("programmes/project_notice.html",
                            {"notice": decisions.notification_for(_apps(panel_call)[0])})

    assert 'data-testid="notification"' in html and "80" in html


def test_frontier_topic_makes_frontier_projects(bureau, organisation, manager_person):
    from sciencecity.programmes.models import Topic, TopicList

    topic_list = TopicList.objects.create(name="前沿", kind="frontier", year=2025)
    topic = Topic.objects.create(topic_list=topic_list, title="量子", description="d")
    call = make_call(topic=topic)
    application = make_application(call, organisation)
    (project,) = fund(bureau, call, {application.reference: "50"}, manager_person)
    assert project.is_frontier is True


def test_limited_teams_for_open_competition(bureau, organisation, manager_person):
    call = make_call(mechanism="open_competition", reward=Decimal("100"), teams_funded=1)
    a = make_application(call, organisation)
    b = make_application(call, organisation)
    with pytest.raises(ValidationError) as exc:
        fund(bureau, call, {a.reference: "100", b.reference: "100"},
             manager_person)
    assert gettext("This call funds at most %(n)s team(s); %(m)s are marked fund.") % {"n": 1, "m": 2} in str(exc.value)
    call.refresh_from_db()
    assert call.state == "panel" and not FundedProject.objects.exists()


# --- disclosure ---------------------------------------------------------------------------------
def test_disclosure_shows_funded_amounts_and_nothing_secret(client, bureau, panel_call, manager_person):
    first, second, third = _apps(panel_call)
    reviewer = make_person(name="评审专家保密")
    decisions.decision_record(actor=bureau, call=panel_call, application=first,
                              data={"outcome": "fund", "amount": "75.50", "votes_for": 7, "rationale": "秘密理由"})
    decisions.panel_save(actor=bureau, call=panel_call, held_on=dt.date(2025, 5, 1), members=[reviewer],
                         minutes="会议纪要内部")
    decisions.decision_record(actor=bureau, call=panel_call, application=second, data={"outcome": "reject"})
    decisions.decision_record(actor=bureau, call=panel_call, application=third, data={"outcome": "reject"})
    # nothing before the decision is notified
    assert panel_call.code not in client.get(reverse("programmes:disclosure")).content.decode()
    decisions.decisions_notify(actor=bureau, call=panel_call, managers={first.pk: manager_person},
                               start_date=dt.date(2025, 6, 1), end_date=dt.date(2027, 6, 1))
    response = client.get(reverse("programmes:disclosure"))
    assert response.status_code == 200
    html = response.content.decode()
    assert first.title in html and "75.50" in html and first.organisation.name in html
    assert second.title not in html and third.title not in html
    for secret in ("评审专家保密", "秘密理由", "会议纪要内部", manager_person.name):
        assert secret not in html
    api = client.get("/api/programmes/disclosure").json()
    assert [(r["title"], r["amount"], r["mechanism"]) for r in api] == [(first.title, "75.50", "competitive")]
    assert set(api[0]) == {"call", "call_title", "mechanism", "project", "organisation", "title", "amount", "date",
                           "state"}


# --- panel page and API permissions ------------------------------------------------------------------
@pytest.mark.parametrize("who, status", [("anonymous", 302), ("other_enterprise_user", 403),
                                         ("enterprise_user", 403), ("bureau", 200), ("sysadmin", 403),
                                         ("auditadmin", 403)])
def test_panel_permissions(request, client, panel_call, who, status):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("programmes:panel", args=[panel_call.pk]))
    assert response.status_code == status
    api = client.get(f"/api/programmes/calls/{panel_call.pk}/decisions")
    assert api.status_code == {302: 401, 403: 403, 200: 200}[status]


def test_panel_page_records_and_notifies(bureau, panel_call, manager_person, login):
    client = login(bureau)
    first, second, third = _apps(panel_call)
    url = reverse("programmes:panel", args=[panel_call.pk])
    page = client.get(url).content.decode()
    assert f'data-testid="rank-{first.reference}"' in page
    response = client.post(url, {"op": "decide", "application": second.pk, "outcome": "fund", "amount": "110"},
                           follow=True)
    assert second.reference in response.content.decode()  # the error names the application
    assert not Decision.objects.exists()
    client.post(url, {"op": "decide", "application": first.pk, "outcome": "fund", "amount": "80", "votes_for": "5"})
    for a in (second, third):
        client.post(url, {"op": "decide", "application": a.pk, "outcome": "reject"})
    client.post(url, {"op": "notify", "start_date": "2025-06-01", "end_date": "2027-06-01",
                      f"manager_{first.pk}": manager_person.code})
    panel_call.refresh_from_db()
    assert panel_call.state == "decided"
    assert FundedProject.objects.get().manager == manager_person


def test_decisions_api(bureau, panel_call, manager_person, client):
    client.force_login(bureau)
    first, second, third = _apps(panel_call)
    url = f"/api/programmes/calls/{panel_call.pk}/decisions"
    bad = client.post(url, [{"application": first.pk, "outcome": "fund", "amount": "80"},
                            {"application": second.pk, "outcome": "fund", "amount": "101"}],
                      content_type="application/json")
    assert bad.status_code == 400 and second.reference in str(bad.json()["error"]["details"])
    assert not Decision.objects.exists()  # all or none
    ok = client.post(url, [{"application": first.pk, "outcome": "fund", "amount": "80", "votes_for": 4},
                           {"application": second.pk, "outcome": "reject"},
                           {"application": third.pk, "outcome": "reserve"}], content_type="application/json")
    assert ok.status_code == 200
    rows = {r["reference"]: r for r in ok.json()}
    assert rows[first.reference]["outcome"] == "fund" and rows[first.reference]["votes_for"] == 4
    notified = client.post(f"/api/programmes/calls/{panel_call.pk}/notify",
                           {"start_date": "2025-06-01", "end_date": "2027-06-01",
                            "managers": {str(first.pk): manager_person.code}}, content_type="application/json")
    assert notified.status_code == 200
    assert [p["amount"] for p in notified.json()] == ["80.00"]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_panel_refuses_an_amount_that_is_not_a_number(bureau, panel_call, login):
    """A bad amount is a form error on the amount field, not a negative number a later check refuses."""
    from django import forms

    client = login(bureau)
    first = _apps(panel_call)[0]
    url = reverse("programmes:panel", args=[panel_call.pk])
    response = client.post(url, {"op": "decide", "application": first.pk, "outcome": "fund", "amount": "八十"})
    assert response.status_code == 200
    invalid = str(forms.DecimalField.default_error_messages["invalid"])
    assert any(invalid in m for m in _messages(response)), _messages(response)
    assert not any("-1" in m for m in _messages(response))
    assert not Decision.objects.exists()


@pytest.mark.parametrize("votes", ["-3", "five", "1e9999"])
def test_panel_refuses_bad_vote_counts_instead_of_recording_zero(bureau, panel_call, login, votes):
    client = login(bureau)
    first = _apps(panel_call)[0]
    url = reverse("programmes:panel", args=[panel_call.pk])
    response = client.post(url, {"op": "decide", "application": first.pk, "outcome": "fund", "amount": "80",
                                 "votes_for": votes})
    assert response.status_code == 200
    assert _messages(response), "the refusal is shown"
    assert not Decision.objects.exists()


def test_panel_records_empty_vote_counts_as_zero(bureau, panel_call, login):
    client = login(bureau)
    first = _apps(panel_call)[0]
    url = reverse("programmes:panel", args=[panel_call.pk])
    client.post(url, {"op": "decide", "application": first.pk, "outcome": "fund", "amount": "80", "votes_for": "5"})
    decision = Decision.objects.get()
    assert (decision.votes_for, decision.votes_against, decision.votes_abstain) == (5, 0, 0)
    assert decision.amount == Decimal("80")
