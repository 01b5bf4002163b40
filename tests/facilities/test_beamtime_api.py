"""Facility time API and pages: the round from proposal to schedule, the permission matrix, bad input."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.facilities.beamtime.models import BeamtimeProposal, BeamtimeReview, ShiftRequest
from tests.conftest import make_user
from tests.facilities.beamtime_world import PROPOSAL, make_beamtime_world, submit


@pytest.fixture
def world(db):
    return make_beamtime_world()

JSON = "application/json"


def proposal_payload(**extra):
    return {**PROPOSAL, "title": "原位衍射", "requests": [{"beamline": "BL01", "shifts": 6}], **extra}


def test_round_through_the_api(world, login):
    applicant = login(world.applicants[1])
    response = applicant.post("/api/facilities/beamtime/rounds/R2026A/proposals",
                              proposal_payload(requests=[{"beamline": "BL01", "shifts": 5},
                                                         {"beamline": "BL02", "shifts": 2}]), content_type=JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    reference = body["reference"]
    assert (reference, body["state"], [(r["beamline"], r["shifts_requested"]) for r in body["requests"]]) == (
        "R2026A-0001", "submitted", [("BL01", 5), ("BL02", 2)])
    ids = {r["beamline"]: r["id"] for r in body["requests"]}

    scientist = login(world.scientist1)
    response = scientist.post(f"/api/facilities/beamtime/proposals/{reference}/requests/{ids['BL01']}/feasibility",
                              {"feasibility": "feasible"}, content_type=JSON)
    assert response.status_code == 200
    scientist2 = login(world.scientist2)
    response = scientist2.post(f"/api/facilities/beamtime/proposals/{reference}/requests/{ids['BL02']}/feasibility",
                               {"feasibility": "partly", "shifts_granted": 1}, content_type=JSON)
    assert [r["shifts_granted"] for r in response.json()["requests"]] == [5, 1]

    manager = login(world.manager)
    assert manager.post("/api/facilities/beamtime/rounds/R2026A/reviewers").json() == {"assigned": 2}
    for review in BeamtimeReview.objects.all():
        expert = next(u for u in world.experts if u.person_id == review.expert_id)
        client = login(expert)
        assert [r["proposal"] for r in client.get("/api/facilities/beamtime/reviews").json()] == [reference]
        response = client.post(f"/api/facilities/beamtime/reviews/{review.pk}", {"score": "4.5", "comment": "好"},
                                content_type=JSON)
        assert response.status_code == 200 and response.json()["score"] == 4.5

    manager = login(world.manager)
    response = manager.post("/api/facilities/beamtime/rounds/R2026A/allocation", {"policy": "optimal"},
                            content_type=JSON)
    assert response.status_code == 202 and response.json()["state"] == "done"
    assert response.json()["result"]["total_score"] == 4.5
    slots = manager.get("/api/facilities/beamtime/rounds/R2026A/schedule").json()
    start = timezone.make_aware(dt.datetime(2027, 3, 1))
    # 8-hour shifts back to back from 2027-03-01 00:00: 5 on BL01 end at 40 h, 1 on BL02 at 8 h.
    assert [(s["beamline"], s["proposal"], s["shifts"], dt.datetime.fromisoformat(s["starts_at"]),
             dt.datetime.fromisoformat(s["ends_at"])) for s in slots] == [
        ("BL01", reference, 5, start, start + dt.timedelta(hours=40)),
        ("BL02", reference, 1, start, start + dt.timedelta(hours=8))]

    applicant = login(world.applicants[1])
    response = applicant.put(f"/api/facilities/beamtime/proposals/{reference}/report",
                             {"summary": "测得 12 组衍射数据", "shifts_used": 6}, content_type=JSON)
    assert response.status_code == 200 and response.json()["shifts_used"] == 6


@pytest.mark.parametrize(("requests", "field"), [
    ([{"beamline": "BL01", "shifts": -1}], "shifts"),
    ([{"beamline": "BL99", "shifts": 2}], "requests"),
    ([], "requests"),
])
def test_bad_proposals_are_refused_with_the_field_and_nothing_is_written(world, login, requests, field):
    before = (BeamtimeProposal.objects.count(), AuditEvent.objects.count())
    response = login(world.applicants[0]).post("/api/facilities/beamtime/rounds/R2026A/proposals",
                                               proposal_payload(requests=requests), content_type=JSON)
    assert response.status_code in (400, 422), response.content
    assert field in response.content.decode()
    assert (BeamtimeProposal.objects.count(), AuditEvent.objects.count()) == before


def test_safety_declaration_is_required(world, login):
    response = login(world.applicants[0]).post("/api/facilities/beamtime/rounds/R2026A/proposals",
                                               proposal_payload(safety_declared=False), content_type=JSON)
    assert response.status_code in (400, 422) and "safety_declared" in response.content.decode()
    assert not BeamtimeProposal.objects.exists()


# --- permission matrix: anonymous / other organisation / own organisation / officer / administrator


@pytest.fixture
def people(world, bureau, sysadmin):
    from tests.conftest import make_organisation

    other_facility_manager = make_user(Role.FACILITY_MANAGER, make_organisation(kind="major_facility"))
    other_enterprise = make_user(Role.ENTERPRISE_USER)
    return {"anonymous": None, "other_organisation": other_enterprise, "other_facility": other_facility_manager,
            "own_organisation": world.applicants[0], "facility_manager": world.manager, "officer": bureau,
            "administrator": sysadmin}


def _client(client, login, user):
    return login(user) if user is not None else client


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("other_organisation", 404), ("other_facility", 404), ("own_organisation", 200),
    ("facility_manager", 200), ("officer", 200), ("administrator", 404)])
def test_matrix_proposal_detail(world, people, client, login, who, status):
    proposal = submit(world, 0, "矩阵", {world.line01: 3})
    response = _client(client, login, people[who]).get(f"/api/facilities/beamtime/proposals/{proposal.reference}")
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("other_organisation", 403), ("other_facility", 403), ("own_organisation", 403),
    ("facility_manager", 200), ("officer", 200), ("administrator", 403)])
def test_matrix_capacity(world, people, client, login, who, status):
    response = _client(client, login, people[who]).put("/api/facilities/beamtime/rounds/R2026A/beamlines",
                                                       {"beamline": "BL02", "shifts": 7}, content_type=JSON)
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("other_organisation", 403), ("other_facility", 403), ("own_organisation", 403),
    ("facility_manager", 201), ("officer", 201), ("administrator", 403)])
def test_matrix_round_create(world, people, client, login, who, status):
    payload = {"code": "R2026B", "title": "第二轮", "facility": world.facility.code,
               "closes_on": "2027-01-31", "schedule_starts_on": "2027-06-01"}
    response = _client(client, login, people[who]).post("/api/facilities/beamtime/rounds", payload, content_type=JSON)
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("other_organisation", 201), ("other_facility", 201), ("own_organisation", 201),
    ("facility_manager", 201), ("officer", 403), ("administrator", 403)])
def test_matrix_proposal_submit(world, people, client, login, who, status):
    """Everyone with an organisation proposes for it (its own); officers and administrators do not."""
    response = _client(client, login, people[who]).post("/api/facilities/beamtime/rounds/R2026A/proposals",
                                                       proposal_payload(), content_type=JSON)
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("other_organisation", 404), ("other_facility", 404), ("own_organisation", 403),
    ("facility_manager", 200), ("officer", 200), ("administrator", 404)])
def test_matrix_feasibility(world, people, client, login, who, status):
    proposal = submit(world, 0, "矩阵", {world.line01: 3})
    item = ShiftRequest.objects.get(proposal=proposal)
    response = _client(client, login, people[who]).post(
        f"/api/facilities/beamtime/proposals/{proposal.reference}/requests/{item.pk}/feasibility",
        {"feasibility": "feasible"}, content_type=JSON)
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("other_organisation", 403), ("other_facility", 403), ("own_organisation", 403),
    ("facility_manager", 400), ("officer", 400), ("administrator", 403)])
def test_matrix_allocation(world, people, client, login, who, status):
    # The round is still open: those allowed get 400 "not under review", the others 403.
    response = _client(client, login, people[who]).post("/api/facilities/beamtime/rounds/R2026A/allocation",
                                                       {"policy": "optimal"}, content_type=JSON)
    assert response.status_code == status


def test_pages_render_for_each_role(world, login):
    proposal = submit(world, 0, "页面", {world.line01: 3})
    for user, expected in [(world.manager, "assign-reviewers"), (world.applicants[0], "propose"),
                           (world.scientist1, "R2026A")]:
        client = login(user)
        assert expected in client.get("/facilities/beamtime/R2026A/").content.decode()
        assert client.get("/facilities/beamtime/").status_code == 200
        assert client.get("/facilities/beamtime/R2026A/schedule/").status_code == 200
    assert "feasibility-form-BL01" in login(world.scientist1).get(
        f"/facilities/beamtime/proposals/{proposal.reference}/").content.decode()
    assert login(world.applicants[1]).get(f"/facilities/beamtime/proposals/{proposal.reference}/").status_code == 404


def test_proposal_form_page(world, login):
    client = login(world.applicants[2])
    response = client.post("/facilities/beamtime/R2026A/propose/", {
        **PROPOSAL, "title": "页面申请", f"shifts_{world.line01.pk}": "4", f"shifts_{world.line02.pk}": "0"})
    proposal = BeamtimeProposal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/facilities/beamtime/proposals/{proposal.reference}/"
    assert [(r.beamline.instrument.code, r.shifts_requested) for r in proposal.requests.all()] == [("BL01", 4)]
    response = client.post("/facilities/beamtime/R2026A/propose/", {
        **PROPOSAL, "title": "负数", f"shifts_{world.line01.pk}": "-3"})
    assert response.status_code == 200 and BeamtimeProposal.objects.count() == 1


def test_cli_through_the_management_command(tmp_path):
    (tmp_path / "P.csv").write_text("proposal,beamline,shifts,score\nA,BL01,6,9\nB,BL01,5,8\nC,BL01,5,7\n",
                                    encoding="utf-8")
    (tmp_path / "C.csv").write_text("beamline,shifts\nBL01,10\n", encoding="utf-8")
    out = io.StringIO()
    call_command("beamtime", "allocate", "--proposals", str(tmp_path / "P.csv"), "--capacity", str(tmp_path / "C.csv"),
                 "--out", str(tmp_path / "A.csv"), stdout=out)
    assert Path(tmp_path / "A.csv").read_text(encoding="utf-8") == "proposal,beamline,shifts\nB,BL01,5\nC,BL01,5\n"
    assert "15" in out.getvalue()
