"""Milestone plan editing of funded projects: validations (each with its message, nothing written),
kept milestones, the audit trail, the page and the API, and who may edit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import override

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.programmes.models import ProjectMilestone
from sciencecity.programmes.services import projects
from tests.conftest import make_user
from tests.programmes.conftest import fund, make_application, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(bureau, organisation, manager_person):
    """A milestone project of ``organisation``, 2025-06-01 – 2027-06-01: 100 in 30 / 40 / 30."""
    call = make_call(mechanism="milestone")
    return fund(bureau, call, {make_application(call, organisation).reference: "100"}, manager_person)[0]


@pytest.fixture
def manager_user(manager_person):
    return make_user(Role.ACADEMIC_USER, username="manager_user", person=manager_person)


def _rows(*rows):
    return [{"title": t, "deliverables": d, "due_date": due, "tranche": Decimal(x)} for t, d, due, x in rows]


def _state(project):
    return [(m.order, m.title, m.due_date, m.tranche, m.state) for m in project.milestones.order_by("order")]


def _plan_events(project):
    return AuditEvent.objects.filter(object_type="programmes.fundedproject", object_id=str(project.pk),
                                     changes__has_key="milestones", action="update")


def test_replaces_pending_and_keeps_the_others(project, bureau, enterprise_user):
    first, second, _third = project.milestones.order_by("order")
    projects.milestone_submit(actor=enterprise_user, milestone=first, report="样机")
    projects.milestone_accept(actor=bureau, milestone=first, on=dt.date(2025, 9, 1))
    projects.milestone_submit(actor=enterprise_user, milestone=second, report="中试")
    plan = _rows(("小试", "工艺包", dt.date(2026, 3, 1), "10"), ("中试验证", "", dt.date(2026, 9, 1), "10"),
                 ("结题", "报告", dt.date(2027, 6, 1), "10"))
    projects.milestone_plan_set(actor=bureau, project=project, milestones=plan, reason="技术路线调整")
    rows = _state(project)
    assert [(o, s) for o, _t, _d, _x, s in rows] == [(1, "accepted"), (2, "submitted"), (3, "pending"),
                                                    (4, "pending"), (5, "pending")]
    assert [(t, x) for _o, t, _d, x, _s in rows[2:]] == [("小试", Decimal("10.00")), ("中试验证", Decimal("10.00")),
                                                        ("结题", Decimal("10.00"))]
    assert ProjectMilestone.objects.get(project=project, order=3).deliverables == "工艺包"
    (event,) = _plan_events(project)
    assert event.reason == "技术路线调整" and event.actor_id == bureau.pk
    old, new = event.changes["milestones"]
    assert [row[0] for row in old] == [1, 2, 3] and old[2][4] == "30.00" and old[2][5] == "pending"
    assert [(row[0], row[1], row[3], row[4]) for row in new[2:]] == [
        (3, "小试", "2026-03-01", "10.00"), (4, "中试验证", "2026-09-01", "10.00"), (5, "结题", "2027-06-01", "10.00")]


def test_free_order_numbers_are_reused(project, bureau, enterprise_user):
    _first, second, _third = project.milestones.order_by("order")
    projects.milestone_submit(actor=enterprise_user, milestone=second, report="r")
    projects.milestone_plan_set(actor=bureau, project=project, reason="r", milestones=_rows(
        ("甲", "", dt.date(2025, 8, 1), "30"), ("乙", "", dt.date(2026, 12, 1), "20"), ("丙", "", dt.date(2027, 1, 1), "0")))
    assert [(o, t, s) for o, t, _d, _x, s in _state(project)] == [
        (1, "甲", "pending"), (2, second.title, "submitted"), (3, "乙", "pending"), (4, "丙", "pending")]


def test_strings_from_forms_are_accepted(project, manager_user):
    projects.milestone_plan_set(actor=manager_user, project=project, reason="经理人调整", milestones=[
        {"title": " 唯一里程碑 ", "deliverables": "", "due_date": "2027-06-01", "tranche": "100"}])
    assert _state(project) == [(1, "唯一里程碑", dt.date(2027, 6, 1), Decimal("100.00"), "pending")]
    assert _plan_events(project).get().actor_id == manager_user.pk


@pytest.mark.parametrize("milestones, reason, message", [
    (_rows(("甲", "", dt.date(2026, 1, 1), "10")), "  ", "Give the reason for changing the milestone plan."),
    (_rows(("  ", "", dt.date(2026, 1, 1), "10")), "r", "Row 1: give the milestone a title."),
    ([{"title": "甲", "due_date": "2026-13-01", "tranche": "1"}], "r", "Row 1: give a due date (YYYY-MM-DD)."),
    (_rows(("甲", "", dt.date(2026, 1, 1), "10"), ("乙", "", dt.date(2025, 5, 31), "10")), "r",
     "Row 2: the due date 2025-05-31 is outside the project period 2025-06-01 – 2027-06-01."),
    (_rows(("甲", "", dt.date(2027, 6, 2), "10")), "r",
     "Row 1: the due date 2027-06-02 is outside the project period 2025-06-01 – 2027-06-01."),
    (_rows(("甲", "", dt.date(2026, 1, 1), "-1")), "r", "Row 1: the tranche must be a number of at least 0."),
    ([{"title": "甲", "due_date": "2026-01-01", "tranche": "abc"}], "r",
     "Row 1: the tranche must be a number of at least 0."),
    (_rows(("甲", "", dt.date(2026, 1, 1), "60"), ("乙", "", dt.date(2027, 1, 1), "40.01")), "r",
     "Accepted tranches (0.00) plus planned tranches (100.01) come to 100.01, more than the funded amount of "
     "100.00 (10k CNY)."),
])
def test_validations_write_nothing(project, bureau, milestones, reason, message):
    before, events = _state(project), AuditEvent.objects.count()
    with override("en"), pytest.raises(ValidationError) as exc:
        projects.milestone_plan_set(actor=bureau, project=project, milestones=milestones, reason=reason)
    assert exc.value.messages == [message]
    assert _state(project) == before and AuditEvent.objects.count() == events


def test_accepted_tranches_count_against_the_amount(project, bureau, enterprise_user):
    first = project.milestones.get(order=1)
    projects.milestone_submit(actor=enterprise_user, milestone=first, report="r")
    projects.milestone_accept(actor=bureau, milestone=first)
    with override("en"), pytest.raises(ValidationError) as exc:
        projects.milestone_plan_set(actor=bureau, project=project, reason="r",
                                    milestones=_rows(("甲", "", dt.date(2026, 1, 1), "70.01")))
    assert exc.value.messages == ["Accepted tranches (30.00) plus planned tranches (70.01) come to 100.01, more "
                                  "than the funded amount of 100.00 (10k CNY)."]
    projects.milestone_plan_set(actor=bureau, project=project, reason="r",
                                milestones=_rows(("甲", "", dt.date(2026, 1, 1), "70")))
    assert [x for _o, _t, _d, x, _s in _state(project)] == [Decimal("30.00"), Decimal("70.00")]


def test_not_for_a_completed_project(project, bureau):
    project.state = "completed"
    project.save()
    with override("en"), pytest.raises(ValidationError) as exc:
        projects.milestone_plan_set(actor=bureau, project=project, reason="r", milestones=[])
    assert exc.value.messages == ["The project is “Completed”; nothing more can be reported or paid."]


# --- permission matrix ----------------------------------------------------------------------------
USERS = ["anonymous", "other_enterprise_user", "enterprise_user", "manager_user", "bureau", "sysadmin", "secadmin",
         "auditadmin"]
ALLOWED = {"manager_user", "bureau"}
PLAN = [{"title": "新计划", "deliverables": "样机", "due_date": "2026-06-01", "tranche": "50"}]


def _client(request, client, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


@pytest.mark.parametrize("who", [u for u in USERS if u != "anonymous"])
def test_service_permissions(request, project, who):
    user = request.getfixturevalue(who)
    if who in ALLOWED:
        projects.milestone_plan_set(actor=user, project=project, milestones=PLAN, reason="r")
        assert [t for _o, t, _d, _x, _s in _state(project)] == ["新计划"]
    else:
        with pytest.raises(PermissionDenied):
            projects.milestone_plan_set(actor=user, project=project, milestones=PLAN, reason="r")
        assert len(_state(project)) == 3 and not _plan_events(project).exists()


@pytest.mark.parametrize("who", USERS)
def test_api_matrix(request, client, project, who):
    client = _client(request, client, who)
    response = client.put(f"/api/programmes/projects/{project.pk}/milestones", {"milestones": PLAN, "reason": "调整"},
                          content_type="application/json")
    if who in ALLOWED:
        assert response.status_code == 200
        assert [(m["title"], m["tranche"], m["state"]) for m in response.json()["milestones"]] == [
            ("新计划", "50.00", "pending")]
        assert _plan_events(project).count() == 1
    else:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert len(_state(project)) == 3 and not _plan_events(project).exists()


def test_api_validation_message(login, project, bureau):
    response = login(bureau).put(f"/api/programmes/projects/{project.pk}/milestones",
                                 {"milestones": PLAN, "reason": ""}, content_type="application/json",
                                 HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "reason", "message": "Give the reason for changing the milestone plan."}]


def _form(rows, reason="页面调整"):
    data = {"op": "milestone_plan", "reason": reason, "milestones-TOTAL_FORMS": str(len(rows)),
            "milestones-INITIAL_FORMS": "0", "milestones-MIN_NUM_FORMS": "0", "milestones-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data.update({f"milestones-{i}-{k}": v for k, v in row.items()})
    return data


@pytest.mark.parametrize("who", USERS)
def test_page_matrix(request, client, project, who):
    client = _client(request, client, who)
    url = reverse("programmes:project_detail", args=[project.pk])
    page = client.get(url)
    response = client.post(url, _form([PLAN[0], {"title": "", "deliverables": "", "due_date": "", "tranche": ""}]))
    if who in ALLOWED:
        assert 'data-testid="milestone-plan"' in page.content.decode()
        assert 'type="date"' in page.content.decode() and 'data-testid="milestone-rows-add"' in page.content.decode()
        assert response.status_code == 302
        assert [t for _o, t, _d, _x, _s in _state(project)] == ["新计划"]
    else:
        if who == "enterprise_user":
            assert page.status_code == 200 and 'data-testid="milestone-plan"' not in page.content.decode()
        assert response.status_code in (302, 403) if who == "anonymous" else response.status_code == 403
        assert len(_state(project)) == 3


def test_page_shows_the_service_error(login, project, bureau):
    client = login(bureau)
    url = reverse("programmes:project_detail", args=[project.pk])
    response = client.post(url, _form([{**PLAN[0], "tranche": "101"}]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert ("Accepted tranches (0.00) plus planned tranches (101.00) come to 101.00, more than the funded amount of "
            "100.00 (10k CNY).") in response.content.decode()
    assert 'value="101"' in response.content.decode() or 'value="101.00"' in response.content.decode()
    assert len(_state(project)) == 3
