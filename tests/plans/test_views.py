import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from sciencecity.accounts.choices import Role
from sciencecity.plans.demo import generate_values
from sciencecity.plans.models import Indicator, MajorProject, ObservedValue, Task
from tests.conftest import make_organisation, make_user

ACTORS = ["anonymous", "enterprise", "department", "bureau", "sysadmin", "secadmin", "auditadmin"]


@pytest.fixture
def actors(plan, kcj):
    return {
        "anonymous": None,
        "enterprise": make_user(Role.ENTERPRISE_USER, make_organisation()),
        "department": make_user(Role.DEPARTMENT_OFFICER, kcj),
        "bureau": make_user(Role.BUREAU_OFFICER, kcj),
        "sysadmin": make_user(Role.SYSTEM_ADMIN),
        "secadmin": make_user(Role.SECURITY_ADMIN),
        "auditadmin": make_user(Role.AUDIT_ADMIN),
    }


def _get(client, actors, actor, url):
    if actors[actor]:
        client.force_login(actors[actor])
    response = client.get(url)
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    return response.status_code


MONITORING = {"anonymous": "login", "enterprise": 200, "department": 200, "bureau": 200,
              "sysadmin": 403, "secadmin": 403, "auditadmin": 403}
PUBLIC = {"anonymous": 200, "enterprise": 200, "department": 200, "bureau": 200,
          "sysadmin": 403, "secadmin": 403, "auditadmin": 403}
BUREAU = {"anonymous": "login", "enterprise": 403, "department": 403, "bureau": 200,
          "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_plan_pages_permission_matrix(client, plan, actors, actor):
    task = Task.objects.filter(plan=plan).first()
    indicator = Indicator.objects.filter(plan=plan).first()
    project = MajorProject.objects.filter(box__plan=plan).first()
    pages = {
        reverse("plans:dashboard"): MONITORING,
        reverse("plans:structure"): PUBLIC,
        reverse("plans:task_list"): MONITORING,
        reverse("plans:task_detail", args=[task.pk]): MONITORING,
        reverse("plans:indicator_detail", args=[indicator.pk]): MONITORING,
        reverse("plans:project_list"): MONITORING,
        reverse("plans:project_detail", args=[project.pk]): MONITORING,
        reverse("plans:plan_import"): BUREAU,
    }
    for url, expected in pages.items():
        assert _get(client, actors, actor, url) == expected[actor], url


def test_dashboard_shows_status_trend_and_data_as_of(client, plan, actors):
    generate_values()
    client.force_login(actors["bureau"])
    response = client.get(reverse("plans:dashboard"))
    html = response.content.decode()
    for indicator in Indicator.objects.filter(plan=plan):
        assert escape(indicator.name) in html
    assert 'data-testid="data-as-of"' in html and "badge-synthetic" in html
    rows = response.context["rows"]
    assert {r.assessment.status for r in rows} >= {"achieved", "off_track"}
    mid_term = client.get(reverse("plans:dashboard"), {"as_of": 2023}).context["rows"]
    assert all(r.latest.year <= 2023 for r in mid_term)
    assert {r.assessment.status for r in mid_term} >= {"achieved", "on_track", "at_risk"}
    assert sum(s["count"] for s in response.context["status_counts"]) == 10
    assert len(response.context["chapters"]) == 5  # chapters 三–七 carry the tasks


def test_dashboard_queries_are_bounded(client, plan, actors, django_assert_max_num_queries):
    generate_values()
    client.force_login(actors["bureau"])
    with django_assert_max_num_queries(40):
        client.get(reverse("plans:dashboard"))


def test_demo_values_are_synthetic_and_idempotent(plan):
    first = generate_values()
    assert first["values"] > 50 and first["task_reports"] > 0 and first["project_updates"] == 70
    assert not ObservedValue.objects.filter(source="manual", is_synthetic=False).exists()
    assert generate_values() == {"values": 0, "rounds": 0, "task_reports": 0, "project_updates": 0}


def test_department_officer_files_progress_through_the_page(client, plan, actors):
    task = Task.objects.get(plan=plan, code="5.1.1")  # chapter 五 is led by GOV-KCJ by default
    client.force_login(actors["department"])
    response = client.post(reverse("plans:task_detail", args=[task.pk]), {
        "form": "report", "r-period": "2024", "r-as_of": "2024-12-31", "r-percent": "55", "r-narrative": "试点推进"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.progress == 55 and task.progress_as_of == dt.date(2024, 12, 31)


def test_api_structure_is_public_and_values_need_login(client, plan, actors):
    body = client.get(f"/api/plans/{plan.pk}").json()
    assert body["counts"]["tasks"] == 54
    indicators = client.get(f"/api/plans/{plan.pk}/indicators").json()
    assert [i["name"] for i in indicators][:2] == ["全社会研发支出占GDP比重", "基础研发经费占R&D比重"]
    tasks = client.get(f"/api/plans/{plan.pk}/tasks", {"page_size": 100}).json()
    assert tasks["count"] == 54 and tasks["items"][0]["progress"] is None
    assert client.get(f"/api/plans/{plan.pk}/indicators/status").status_code == 401
    client.force_login(actors["enterprise"])
    status = client.get(f"/api/plans/{plan.pk}/indicators/status").json()
    assert status[0]["values"][-1]["year"] == 2020 and status[0]["status"] == "achieved"


def test_api_value_entry_by_owner_department(client, plan, actors, tjj_officer):
    indicator = Indicator.objects.get(plan=plan, number=5)
    client.force_login(actors["department"])
    response = client.post(f"/api/plans/indicators/{indicator.pk}/values", {"year": 2023, "value": 1890},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["status"] == "draft"
    client.force_login(tjj_officer)
    response = client.post(f"/api/plans/indicators/{indicator.pk}/values", {"year": 2023, "value": 1},
                           content_type="application/json")
    assert response.status_code == 403
    assert ObservedValue.objects.get(indicator=indicator, year=2023).value == 1890


def test_structure_rolls_task_progress_up_to_sections(client, plan, actors):
    from sciencecity.plans.models import Section

    section = Section.objects.get(chapter__plan=plan, chapter__number=3, number=1)
    tasks = list(section.tasks.all())
    tasks[0].weight, tasks[0].progress = 2, 90
    tasks[0].save()
    tasks[1].progress = 30
    tasks[1].save()
    # (2×90 + 1×30 + 1×0) / 4 = 52.5 — weighted by the decomposition's weights
    client.force_login(actors["bureau"])
    html = client.get(reverse("plans:structure")).content.decode()
    import re

    assert re.search(rf'data-testid="section-progress-{section.pk}">[^<]*52\.5%', html)
    client.logout()
    assert "section-progress" not in client.get(reverse("plans:structure")).content.decode()
