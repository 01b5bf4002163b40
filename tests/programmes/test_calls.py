"""Demands → topics → calls: the call state machine, call creation (UI and API), demand and topic
curation, and what each user sees on a call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from sciencecity.core.models import AuditEvent
from sciencecity.programmes.choices import ApplicationState, CallState, DemandStatus
from sciencecity.programmes.models import Call, Demand, Topic, TopicList
from sciencecity.programmes.services import applications, calls
from tests.programmes.conftest import make_draft, make_open_call

pytestmark = pytest.mark.django_db

ALLOWED = [("draft", "open"), ("open", "closed"), ("closed", "open"), ("closed", "review"), ("review", "panel"),
           ("panel", "decided")]
STATES = ["draft", "open", "closed", "review", "panel", "decided"]
REFUSED = [(a, b) for a in STATES for b in STATES if a != b and (a, b) not in ALLOWED and b != "draft"]


def _events(call):
    return AuditEvent.objects.filter(object_type="programmes.call", object_id=str(call.pk), action="transition")


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_allowed_transition_is_audited(bureau, old, new):
    call = make_open_call(bureau, state="draft")
    Call.objects.filter(pk=call.pk).update(state=old)
    call.refresh_from_db()
    calls.call_transition(actor=bureau, call=call, new=new, reason="按计划")
    call.refresh_from_db()
    assert call.state == new
    event = _events(call).get()
    assert event.changes == {"state": [old, new]}
    assert event.reason == "按计划"
    assert event.actor == bureau


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_refused_transition_changes_nothing(bureau, old, new):
    call = make_open_call(bureau, state="draft")
    Call.objects.filter(pk=call.pk).update(state=old)
    call.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        calls.call_transition(actor=bureau, call=call, new=new)
    assert exc.value.code == "invalid_transition"
    call.refresh_from_db()
    assert call.state == old
    assert not _events(call).exists()


def test_to_draft_is_never_allowed(bureau):
    call = make_open_call(bureau)
    with pytest.raises((ValidationError, KeyError)):
        calls.call_transition(actor=bureau, call=call, new="draft")
    call.refresh_from_db()
    assert call.state == "open"


def test_only_bureau_moves_a_call(bureau, enterprise_user, reviewer_user):
    call = make_open_call(bureau, state="draft")
    for user in (enterprise_user, reviewer_user):
        with pytest.raises(PermissionDenied):
            calls.call_transition(actor=user, call=call, new="open")
    call.refresh_from_db()
    assert call.state == "draft" and not _events(call).exists()


def test_review_marks_submitted_applications_under_review(bureau, enterprise_user, organisation, open_call):
    submitted = make_draft(enterprise_user, open_call, organisation)
    applications.application_submit(actor=enterprise_user, application=submitted)
    still_draft = make_draft(enterprise_user, open_call, organisation, title="草稿")
    calls.call_transition(actor=bureau, call=open_call, new="closed")
    calls.call_transition(actor=bureau, call=open_call, new="review")
    submitted.refresh_from_db()
    still_draft.refresh_from_db()
    assert submitted.state == ApplicationState.UNDER_REVIEW
    assert still_draft.state == ApplicationState.DRAFT


# --- the call pages
def _call_post(**overrides):
    today = timezone.localdate()
    data = {"title": "揭榜挂帅：高端科学仪器核心部件", "description": "面向光明科学城的仪器需求",
            "mechanism": "open_competition", "opens_on": today.isoformat(),
            "closes_on": (today + dt.timedelta(days=20)).isoformat(), "eligible_kinds": ["enterprise", "university"],
            "eligible_levels": [], "eligible_districts": "光明区, 南山区", "max_request": "500",
            "reviews_per_application": "3", "min_load": "0", "max_load": "6", "conflict_years": "3",
            "blind_review": "on", "normalise_scores": "on", "reward": "800", "acceptance_criteria": "样机通过第三方测试",
            "teams_funded": "1", "keep_per_round": "1",
            "fields-TOTAL_FORMS": "2", "fields-INITIAL_FORMS": "0", "fields-MIN_NUM_FORMS": "0",
            "fields-MAX_NUM_FORMS": "1000", "fields-0-name": "plan", "fields-0-label": "技术路线", "fields-0-required": "on",
            "fields-1-name": "", "fields-1-label": "",
            "criteria-TOTAL_FORMS": "3", "criteria-INITIAL_FORMS": "0", "criteria-MIN_NUM_FORMS": "1",
            "criteria-MAX_NUM_FORMS": "1000", "criteria-0-name": "技术先进性", "criteria-0-weight": "0.5",
            "criteria-0-max_score": "10", "criteria-0-descriptors": "9-10 国际领先",
            "criteria-1-name": "团队能力", "criteria-1-weight": "0.5", "criteria-1-max_score": "10",
            "criteria-2-name": "", "criteria-2-weight": "", "criteria-2-max_score": "10"}
    data.update(overrides)
    return data


def test_officer_creates_a_call_with_rubric_and_questions(login, bureau):
    client = login(bureau)
    response = client.post(reverse("programmes:call_create"), _call_post())
    call = Call.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("programmes:call_detail", args=[call.pk])
    assert call.state == CallState.DRAFT and call.mechanism == "open_competition"
    assert call.eligible_kinds == ["enterprise", "university"] and call.eligible_districts == ["光明区", "南山区"]
    assert call.form_fields == [{"name": "plan", "label": "技术路线", "required": True}]
    assert call.reward == Decimal("800") and call.blind_review is True
    assert [(c.name, c.weight, c.order) for c in call.criteria.all()] == [
        ("技术先进性", Decimal("0.50"), 1), ("团队能力", Decimal("0.50"), 2)]
    assert AuditEvent.objects.filter(object_type="programmes.call", action="create").count() == 1


@pytest.mark.parametrize(("overrides", "message"), [
    ({"criteria-0-name": "", "criteria-0-weight": "", "criteria-0-max_score": "", "criteria-1-name": "",
      "criteria-1-weight": "", "criteria-1-max_score": ""}, "This field is required."),
    ({"reward": ""}, "A 揭榜挂帅 call states the reward paid on acceptance."),
    ({"acceptance_criteria": ""}, "A 揭榜挂帅 call states its acceptance criteria."),
    ({"mechanism": "horse_race", "teams_funded": "1"}, "A horse race funds at least two teams in parallel."),
    ({"mechanism": "horse_race", "teams_funded": "3", "keep_per_round": "3"},
     "Keep at least one team and fewer than the teams funded."),
    ({"criteria-1-name": "技术先进性"}, "Each row needs a different name."),
    ({"closes_on": "2000-01-01"}, "The call closes after it opens."),
])
def test_invalid_call_is_not_created(login, bureau, overrides, message, settings):
    settings.LANGUAGE_CODE = "en"
    client = login(bureau)
    response = client.post(reverse("programmes:call_create"), _call_post(**overrides), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Call.objects.exists()


def test_call_detail_buttons_for_officers_only(login, bureau, enterprise_user, open_call):
    page = login(bureau).get(reverse("programmes:call_detail", args=[open_call.pk])).content.decode()
    assert 'data-testid="call-to-closed"' in page and 'data-testid="apply"' not in page
    page = login(enterprise_user).get(reverse("programmes:call_detail", args=[open_call.pk])).content.decode()
    assert 'data-testid="call-to-closed"' not in page and 'data-testid="apply"' in page


def test_ineligible_organisation_sees_why_instead_of_apply(login, bureau, enterprise_user):
    call = make_open_call(bureau, eligible_kinds=["university"])
    page = login(enterprise_user).get(reverse("programmes:call_detail", args=[call.pk])).content.decode()
    assert 'data-testid="apply"' not in page and 'data-testid="apply-problems"' in page
    response = login(enterprise_user).get(reverse("programmes:application_create", args=[call.pk]))
    assert response.status_code == 302


def test_transition_view(login, bureau, enterprise_user, open_call):
    url = reverse("programmes:call_transition", args=[open_call.pk])
    assert login(enterprise_user).post(url, {"state": "closed"}).status_code == 403
    open_call.refresh_from_db()
    assert open_call.state == "open"
    client = login(bureau)
    assert client.post(url, {"state": "closed"}).status_code == 302
    open_call.refresh_from_db()
    assert open_call.state == "closed"
    client.post(url, {"state": "decided"})  # refused: shown as a message, nothing changes
    open_call.refresh_from_db()
    assert open_call.state == "closed" and _events(open_call).count() == 2  # draft→open, open→closed


# --- demands and topics
def test_demand_to_topic(login, bureau, enterprise_user, organisation):
    client = login(enterprise_user)
    response = client.post(reverse("programmes:demand_create"), {
        "title": "大面积钙钛矿组件封装", "description": "组件在湿热环境下衰减快", "expected_results": "1000小时衰减<5%",
        "budget": "300", "deadline": "2027-06-30"})
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert demand.organisation == organisation and demand.submitted_by == enterprise_user
    assert demand.code == "XQ-0001" and demand.status == DemandStatus.SUBMITTED
    client = login(bureau)
    client.post(reverse("programmes:topic_list"), {"name": "2026年重点产业瓶颈技术清单", "kind": "industry_bottleneck",
                                                  "year": "2026"})
    topic_list = TopicList.objects.get()
    page = client.get(reverse("programmes:topic_create") + f"?demand={demand.pk}").content.decode()
    assert f'value="{demand.pk}" id="id_demands_0" checked' in page or "checked" in page
    response = client.post(reverse("programmes:topic_create"), {
        "topic_list": topic_list.pk, "title": "钙钛矿组件封装技术", "description": "攻克封装", "reward": "800",
        "acceptance_criteria": "第三方检测", "demands": [demand.pk]})
    assert response.status_code == 302
    topic = Topic.objects.get()
    assert list(topic.demands.all()) == [demand]
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED
    detail = login(enterprise_user).get(reverse("programmes:demand_detail", args=[demand.pk])).content.decode()
    assert "钙钛矿组件封装技术" in detail
    topics_page = login(bureau).get(reverse("programmes:topic_list")).content.decode()
    assert demand.code in topics_page


def test_demands_are_seen_by_their_organisation_and_officers(login, bureau, enterprise_user, other_enterprise_user,
                                                             organisation):
    demand = calls.demand_submit(actor=enterprise_user, organisation=organisation,
                                 data={"title": "需求甲", "description": "描述"})
    assert "需求甲" in login(bureau).get(reverse("programmes:demand_list")).content.decode()
    assert "需求甲" in login(enterprise_user).get(reverse("programmes:demand_list")).content.decode()
    assert "需求甲" not in login(other_enterprise_user).get(reverse("programmes:demand_list")).content.decode()
    assert login(other_enterprise_user).get(reverse("programmes:demand_detail", args=[demand.pk])).status_code == 404


# --- API
def test_api_public_call_list_shows_open_calls_only(client, bureau):
    open_one = make_open_call(bureau, title="开放")
    make_open_call(bureau, state="draft", title="草稿")
    body = client.get("/api/programmes/calls").json()
    assert [c["code"] for c in body["items"]] == [open_one.code]
    draft = Call.objects.get(title="草稿")
    assert client.get(f"/api/programmes/calls/{draft.pk}").status_code == 404
    detail = client.get(f"/api/programmes/calls/{open_one.pk}").json()
    assert [c["name"] for c in detail["criteria"]] == ["创新性", "可行性"]


def test_api_call_create_and_transition(client, login, bureau, enterprise_user):
    today = timezone.localdate()
    payload = {"title": "赛马式：固态电池", "mechanism": "horse_race", "opens_on": today.isoformat(),
               "closes_on": (today + dt.timedelta(days=10)).isoformat(), "teams_funded": 3, "keep_per_round": 1,
               "criteria": [{"name": "技术路线", "weight": "1"}]}
    assert client.post("/api/programmes/calls", payload, content_type="application/json").status_code == 401
    assert login(enterprise_user).post("/api/programmes/calls", payload,
                                       content_type="application/json").status_code == 403
    response = login(bureau).post("/api/programmes/calls", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    call_id = response.json()["id"]
    response = client.post(f"/api/programmes/calls/{call_id}/transition", {"state": "open"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "open"
    response = client.post(f"/api/programmes/calls/{call_id}/transition", {"state": "panel"},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert login(enterprise_user).post(f"/api/programmes/calls/{call_id}/transition", {"state": "closed"},
                                       content_type="application/json").status_code == 403
    assert Call.objects.get(pk=call_id).state == "open"


def test_api_demands(client, login, enterprise_user, other_enterprise_user, organisation):
    response = login(enterprise_user).post("/api/programmes/demands", {"title": "需求乙", "description": "描述"},
                                           content_type="application/json")
    assert response.status_code == 201 and response.json()["organisation_id"] == organisation.pk
    assert client.get("/api/programmes/demands").json()["count"] == 1
    assert login(other_enterprise_user).get("/api/programmes/demands").json()["count"] == 0
