"""Funded projects: milestone tranches, change requests, final acceptance, the funding indicator and
the permission matrix for projects and milestone actions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.programmes.models import Payment
from sciencecity.programmes.services import projects
from tests.conftest import make_user
from tests.programmes.conftest import fund, make_application, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(bureau, organisation, manager_person):
    """A milestone-funded project of ``organisation``: 100 in tranches 30 / 40 / 30."""
    call = make_call(mechanism="milestone")
    application = make_application(call, organisation)
    (funded,) = fund(bureau, call, {application.reference: "100"}, manager_person)
    return funded


def _first(project):
    return project.milestones.get(order=1)


def test_milestone_plan_of_milestone_mechanism(project):
    assert [(m.order, m.tranche, m.state) for m in project.milestones.all()] == [
        (1, Decimal("30.00"), "pending"), (2, Decimal("40.00"), "pending"), (3, Decimal("30.00"), "pending")]


def test_accept_pays_exactly_the_tranche(project, bureau, enterprise_user):
    milestone = _first(project)
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="样机完成")
    payment = projects.milestone_accept(actor=bureau, milestone=milestone, note="通过", on=dt.date(2025, 9, 1))
    assert (payment.amount, payment.paid_on, payment.milestone, payment.project) == (
        Decimal("30.00"), dt.date(2025, 9, 1), milestone, project)
    assert Payment.objects.count() == 1
    milestone.refresh_from_db()
    assert (milestone.state, milestone.decided_on) == ("accepted", dt.date(2025, 9, 1))
    assert AuditEvent.objects.filter(object_type="programmes.payment", object_id=str(payment.pk)).exists()
    with pytest.raises(ValidationError):  # not twice
        projects.milestone_accept(actor=bureau, milestone=milestone)
    assert Payment.objects.count() == 1


def test_reject_pays_nothing_and_allows_a_new_report(project, bureau, enterprise_user):
    milestone = _first(project)
    with pytest.raises(ValidationError):  # nothing submitted yet
        projects.milestone_accept(actor=bureau, milestone=milestone)
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="初稿")
    with pytest.raises(ValidationError):
        projects.milestone_reject(actor=bureau, milestone=milestone, note="  ")
    projects.milestone_reject(actor=bureau, milestone=milestone, note="指标未达到")
    milestone.refresh_from_db()
    assert milestone.state == "rejected" and not Payment.objects.exists()
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="修改稿")
    milestone.refresh_from_db()
    assert milestone.state == "submitted" and milestone.report == "修改稿"


def test_the_manager_accepts_too(project, enterprise_user, manager_person):
    manager_user = make_user(Role.ACADEMIC_USER, person=manager_person)
    milestone = _first(project)
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="r")
    projects.milestone_accept(actor=manager_user, milestone=milestone)
    assert Payment.objects.get().amount == Decimal("30.00")


def test_funding_indicator_counts_released_tranches(project, bureau, enterprise_user):
    from sciencecity.plans import sources

    funded_amount = sources.get("programmes.funding_paid").compute
    assert funded_amount(2025, "")[0] == 0.0
    milestone = _first(project)
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="r")
    projects.milestone_accept(actor=bureau, milestone=milestone, on=dt.date(2025, 9, 1))
    assert funded_amount(2025, "")[0] == 30.0
    assert funded_amount(2026, "")[0] == 0.0


def test_change_requests_and_midterm(project, bureau, enterprise_user, other_enterprise_user):
    with pytest.raises(PermissionDenied):
        projects.change_request_submit(actor=other_enterprise_user, project=project, description="x")
    change = projects.change_request_submit(actor=enterprise_user, project=project, description="延期三个月")
    with pytest.raises(PermissionDenied):
        projects.change_request_decide(actor=enterprise_user, change=change, approve=True)
    projects.change_request_decide(actor=bureau, change=change, approve=True, note="同意")
    change.refresh_from_db()
    assert change.state == "approved"
    with pytest.raises(ValidationError):
        projects.change_request_decide(actor=bureau, change=change, approve=False)
    projects.midterm_record(actor=bureau, project=project, result="进展良好")
    project.refresh_from_db()
    assert project.mid_term_result == "进展良好"


def test_final_acceptance_needs_all_milestones(project, bureau, enterprise_user):
    with pytest.raises(ValidationError):
        projects.project_final_accept(actor=bureau, project=project)
    for milestone in project.milestones.all():
        projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="r")
        projects.milestone_accept(actor=bureau, milestone=milestone)
    projects.project_final_accept(actor=bureau, project=project, on=dt.date(2027, 6, 1))
    project.refresh_from_db()
    assert (project.state, project.accepted_on) == ("completed", dt.date(2027, 6, 1))
    assert sum(p.amount for p in project.payments.all()) == Decimal("100.00")


def test_failed_frontier_project_requires_lessons(project, bureau):
    project.is_frontier = True
    project.save()
    with pytest.raises(ValidationError):
        projects.project_final_accept(actor=bureau, project=project)
    with pytest.raises(ValidationError) as exc:
        projects.project_final_accept(actor=bureau, project=project, outcome="failed_with_lessons", lessons=" ")
    assert "lessons" in exc.value.message_dict
    project.refresh_from_db()
    assert project.state == "active" and project.outcome == ""
    projects.project_final_accept(actor=bureau, project=project, outcome="failed_with_lessons",
                                  lessons="路线选择错误；下一次先做概念验证。")
    project.refresh_from_db()
    assert (project.state, project.outcome) == ("completed", "failed_with_lessons")
    assert "概念验证" in project.lessons


# --- permission matrix ----------------------------------------------------------------------------
USERS = ["anonymous", "other_enterprise_user", "enterprise_user", "bureau", "sysadmin", "secadmin", "auditadmin"]


def _client(request, client, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


@pytest.mark.parametrize("who, sees", [("anonymous", None), ("other_enterprise_user", False),
                                       ("enterprise_user", True), ("bureau", True), ("sysadmin", None),
                                       ("secadmin", None), ("auditadmin", None)])
def test_project_list_and_detail(request, client, project, who, sees):
    client = _client(request, client, who)
    listing = client.get(reverse("programmes:project_list"))
    detail = client.get(reverse("programmes:project_detail", args=[project.pk]))
    api = client.get("/api/programmes/projects")
    if who == "anonymous":
        assert (listing.status_code, detail.status_code, api.status_code) == (302, 302, 401)
    elif sees is None:
        assert (listing.status_code, detail.status_code, api.status_code) == (403, 403, 403)
    else:
        assert listing.status_code == 200 and api.status_code == 200
        assert (project.code in listing.content.decode()) is sees
        assert [p["code"] for p in api.json()] == ([project.code] if sees else [])
        assert detail.status_code == (200 if sees else 403)


@pytest.mark.parametrize("who", USERS)
def test_milestone_actions_matrix(request, client, project, bureau, enterprise_user, who):
    """Only the applicant organisation submits; only the bureau (or the manager) accepts."""
    client = _client(request, client, who)
    milestone = _first(project)
    url = reverse("programmes:milestone_action", args=[project.pk, milestone.pk, "submit"])
    response = client.post(url, {"text": "报告"})
    milestone.refresh_from_db()
    assert milestone.state == ("submitted" if who == "enterprise_user" else "pending")
    if who == "anonymous":
        assert response.status_code == 302 and "login" in response.url
    elif who != "enterprise_user":
        assert response.status_code == 403
    if milestone.state != "submitted":
        projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="报告")
    api = client.post(f"/api/programmes/projects/{project.pk}/milestones/{milestone.pk}/accept", {"text": "ok"},
                      content_type="application/json")
    milestone.refresh_from_db()
    if who == "bureau":
        assert api.status_code == 200 and api.json()["paid"] == "30.00"
        assert milestone.state == "accepted" and Payment.objects.count() == 1
    else:
        assert api.status_code == (401 if who == "anonymous" else 403)
        assert milestone.state == "submitted" and not Payment.objects.exists()


def test_project_page_flow(login, project, bureau, enterprise_user):
    milestone = _first(project)
    client = login(enterprise_user)
    page = client.get(reverse("programmes:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="submit-1"' in page and 'data-testid="accept-1"' not in page
    client.post(reverse("programmes:milestone_action", args=[project.pk, milestone.pk, "submit"]), {"text": "样机"})
    client.post(reverse("programmes:project_detail", args=[project.pk]), {"op": "change_submit",
                                                                           "description": "更换成员"})
    client = login(bureau)
    page = client.get(reverse("programmes:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="accept-1"' in page
    client.post(reverse("programmes:milestone_action", args=[project.pk, milestone.pk, "accept"]))
    assert Payment.objects.get().amount == Decimal("30.00")
    page = client.get(reverse("programmes:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="paid-1"' in page and "更换成员" in page
