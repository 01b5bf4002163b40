"""Permission matrix of the calls side (pages and API): anonymous, another organisation, the
applicant's own organisation, a bureau officer, a reviewer (expert) and the three administrators;
plus the index page and the integrity list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sciencecity.core.models import AuditEvent
from sciencecity.programmes.models import IntegrityEntry
from sciencecity.programmes.services import applications, calls
from tests.conftest import make_person
from tests.programmes.conftest import make_draft, make_open_call

pytestmark = pytest.mark.django_db
WHO = ["anonymous", "other", "own", "bureau", "reviewer", "sysadmin", "secadmin", "auditadmin"]


@pytest.fixture
def world(bureau, enterprise_user, other_enterprise_user, organisation, reviewer_user, sysadmin, secadmin,
          auditadmin):
    open_call = make_open_call(bureau, title="开放指南")
    draft_call = make_open_call(bureau, state="draft", title="草稿指南")
    draft = make_draft(enterprise_user, open_call, organisation)
    submitted = make_draft(enterprise_user, open_call, organisation, title="已提交")
    applications.application_submit(actor=enterprise_user, application=submitted)
    demand = calls.demand_submit(actor=enterprise_user, organisation=organisation,
                                 data={"title": "需求", "description": "描述"})
    users = {"anonymous": None, "other": other_enterprise_user, "own": enterprise_user, "bureau": bureau,
             "reviewer": reviewer_user, "sysadmin": sysadmin, "secadmin": secadmin, "auditadmin": auditadmin}
    return {"users": users, "open_call": open_call, "draft_call": draft_call, "draft": draft,
            "submitted": submitted, "demand": demand}


def _client(client, world, who):
    user = world["users"][who]
    if user is not None:
        client.force_login(user)
    return client


ADMINS = {"sysadmin": 403, "secadmin": 403, "auditadmin": 403}
BUSINESS = {"anonymous": 302, "other": 200, "own": 200, "bureau": 200, "reviewer": 200, **ADMINS}
BUREAU_ONLY = {"anonymous": 302, "other": 403, "own": 403, "bureau": 200, "reviewer": 403, **ADMINS}
PAGES = [
    ("programmes:index", None, BUSINESS),
    ("programmes:demand_list", None, BUSINESS),
    ("programmes:demand_create", None, {**BUSINESS, "reviewer": 403}),
    ("programmes:demand_detail", "demand", {**BUSINESS, "other": 404, "reviewer": 404}),
    ("programmes:topic_list", None, BUSINESS),
    ("programmes:topic_create", None, BUREAU_ONLY),
    ("programmes:call_list", None, BUSINESS),
    ("programmes:call_create", None, BUREAU_ONLY),
    ("programmes:call_detail", "open_call", BUSINESS),
    ("programmes:call_detail", "draft_call", {**BUSINESS, "other": 404, "own": 404, "reviewer": 404}),
    ("programmes:application_create", "open_call", {**BUSINESS, "bureau": 403, "reviewer": 403}),
    ("programmes:application_list", None, BUSINESS),
    ("programmes:application_detail", "draft", {**BUSINESS, "other": 403, "reviewer": 403}),
    ("programmes:application_edit", "draft", {**BUSINESS, "other": 403, "reviewer": 403, "bureau": 403}),
    ("programmes:integrity_list", None, BUREAU_ONLY),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("name", "obj", "expected"), PAGES, ids=[f"{p[0]}-{p[1]}" for p in PAGES])
def test_page_matrix(client, world, who, name, obj, expected):
    args = [world[obj].pk] if obj else []
    response = _client(client, world, who).get(reverse(name, args=args))
    assert response.status_code == expected[who]
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("who", WHO)
def test_receipt_matrix(client, world, who):
    url = reverse("programmes:application_action", args=[world["submitted"].pk, "receipt"])
    expected = {**BUSINESS, "other": 403, "reviewer": 403}
    assert _client(client, world, who).get(url).status_code == expected[who]


@pytest.mark.parametrize("who", WHO)
def test_post_matrix(client, world, who):
    """Unsafe actions: only the allowed users change anything."""
    c = _client(client, world, who)
    open_call, draft, submitted = world["open_call"], world["draft"], world["submitted"]
    transition = c.post(reverse("programmes:call_transition", args=[open_call.pk]), {"state": "closed"})
    submit = c.post(reverse("programmes:application_action", args=[draft.pk, "submit"]))
    returned = c.post(reverse("programmes:application_action", args=[submitted.pk, "return"]), {"reason": "补充"})
    open_call.refresh_from_db()
    draft.refresh_from_db()
    submitted.refresh_from_db()
    if who == "anonymous":
        assert {transition.status_code, submit.status_code, returned.status_code} == {302}
    assert (open_call.state == "closed") == (who == "bureau")
    assert transition.status_code == (302 if who in ("bureau", "anonymous") else 403)
    assert (draft.state == "submitted") == (who == "own")
    assert submit.status_code == {"own": 302, "anonymous": 302, "bureau": 403}.get(who, 403)
    assert submitted.state == ("returned" if who == "bureau" else "submitted")
    assert returned.status_code == (302 if who in ("bureau", "anonymous") else 403)


def test_bureau_returns_while_open(login, world, bureau):
    submitted = world["submitted"]
    login(bureau).post(reverse("programmes:application_action", args=[submitted.pk, "return"]), {"reason": "补充"})
    submitted.refresh_from_db()
    assert submitted.state == "returned"


def test_application_lists_are_scoped(client, world):
    expected = {"other": [], "own": ["已提交", "新型钙钛矿光伏材料"], "bureau": ["已提交", "新型钙钛矿光伏材料"],
                "reviewer": []}
    for who, titles in expected.items():
        page = _client(client, world, who).get(reverse("programmes:application_list")).content.decode()
        assert [t for t in ("已提交", "新型钙钛矿光伏材料") if t in page] == titles, who
        body = client.get("/api/programmes/applications").json()
        assert sorted(a["title"] for a in body["items"]) == sorted(titles), who


# --- API matrix
API = [
    ("get", "/api/programmes/calls", None,
     {"anonymous": 200, "other": 200, "own": 200, "bureau": 200, "reviewer": 200, "sysadmin": 200, "secadmin": 200,
      "auditadmin": 200}),
    ("get", "/api/programmes/calls/{draft_call}", None,
     {"anonymous": 404, "other": 404, "own": 404, "bureau": 200, "reviewer": 404, "sysadmin": 404, "secadmin": 404,
      "auditadmin": 404}),
    ("post", "/api/programmes/calls/{open_call}/transition", {"state": "closed"},
     {"anonymous": 401, "other": 403, "own": 403, "bureau": 200, "reviewer": 403, **ADMINS}),
    ("get", "/api/programmes/demands", None,
     {"anonymous": 401, "other": 200, "own": 200, "bureau": 200, "reviewer": 200, **ADMINS}),
    ("post", "/api/programmes/demands", {"title": "新需求", "description": "描述"},
     {"anonymous": 401, "other": 201, "own": 201, "bureau": 201, "reviewer": 403, **ADMINS}),
    ("get", "/api/programmes/applications", None,
     {"anonymous": 401, "other": 200, "own": 200, "bureau": 200, "reviewer": 200, **ADMINS}),
    ("post", "/api/programmes/applications", {"call_id": "{open_call}", "title": "t", "abstract": "a",
                                              "requested_amount": "10"},
     {"anonymous": 401, "other": 201, "own": 201, "bureau": 403, "reviewer": 403, **ADMINS}),
    ("post", "/api/programmes/applications/{draft}/submit", None,
     {"anonymous": 401, "other": 403, "own": 200, "bureau": 403, "reviewer": 403, **ADMINS}),
    ("get", "/api/programmes/integrity", None,
     {"anonymous": 401, "other": 403, "own": 403, "bureau": 200, "reviewer": 403, **ADMINS}),
    ("post", "/api/programmes/integrity", {"person_id": "{person}", "reason": "r", "source": "s",
                                           "start_date": "2026-01-01"},
     {"anonymous": 401, "other": 403, "own": 403, "bureau": 201, "reviewer": 403, **ADMINS}),
    ("get", "/api/programmes/people-search?q=测试", None,
     {"anonymous": 401, "other": 200, "own": 200, "bureau": 200, "reviewer": 200, **ADMINS}),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "path", "payload", "expected"), API, ids=[f"{a[0]}{a[1]}" for a in API])
def test_api_matrix(client, world, who, method, path, payload, expected):
    refs = {"draft_call": world["draft_call"].pk, "open_call": world["open_call"].pk, "draft": world["draft"].pk,
            "person": make_person().pk}
    path = path.format(**refs)
    if payload:
        payload = {k: (int(v.format(**refs)) if isinstance(v, str) and v.startswith("{") else v)
                   for k, v in payload.items()}
    c = _client(client, world, who)
    if method == "get":
        response = c.get(path)
    else:
        response = c.post(path, payload or {}, content_type="application/json")
    assert response.status_code == expected[who], response.content


# --- index
def test_index_shows_open_calls_and_role_links(login, world, bureau, enterprise_user, reviewer_user):
    page = login(enterprise_user).get(reverse("programmes:index")).content.decode()
    assert "开放指南" in page and "草稿指南" not in page
    assert 'data-testid="my-applications"' in page and "已提交" in page
    assert 'data-testid="officer-links"' not in page and 'data-testid="my-reviews"' not in page
    page = login(reviewer_user).get(reverse("programmes:index")).content.decode()
    assert reverse("programmes:my_reviews") in page and 'data-testid="my-applications"' not in page
    page = login(bureau).get(reverse("programmes:index")).content.decode()
    for name in ("demand_list", "topic_list", "call_list", "integrity_list", "disclosure", "project_list"):
        assert reverse(f"programmes:{name}") in page


# --- integrity list page
def test_integrity_add_and_end(login, bureau, enterprise_user, organisation):
    person = make_person(name="失信者")
    client = login(bureau)
    response = client.post(reverse("programmes:integrity_list"), {
        "op": "add", "person": person.pk, "reason": "论文造假", "source": "深科技〔2026〕1号",
        "start_date": (timezone.localdate() - dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 302
    entry = IntegrityEntry.objects.get()
    assert entry.person == person and entry.end_date is None
    page = client.get(reverse("programmes:integrity_list")).content.decode()
    assert "失信者" in page.split('data-testid="integrity-past"')[0]
    response = client.post(reverse("programmes:integrity_list"), {"op": "end", "entry": entry.pk,
                                                                  "end_date": "", "reason": ""})
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.end_date is None
    response = client.post(reverse("programmes:integrity_list"), {
        "op": "end", "entry": entry.pk, "end_date": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "reason": "申诉成立"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.end_date == timezone.localdate() - dt.timedelta(days=1)
    events = AuditEvent.objects.filter(object_type="programmes.integrityentry").order_by("id")
    assert [e.action for e in events] == ["create", "update"] and events[1].reason == "申诉成立"
    page = client.get(reverse("programmes:integrity_list")).content.decode()
    assert "失信者" in page.split('data-testid="integrity-past"')[1]


def test_integrity_entry_needs_someone(login, bureau):
    response = login(bureau).post(reverse("programmes:integrity_list"), {
        "op": "add", "reason": "r", "source": "s", "start_date": "2026-01-01"})
    assert response.status_code == 400 and not IntegrityEntry.objects.exists()


def test_people_search_finds_registry_people(login, enterprise_user):
    person = make_person(name="欧阳研究员")
    body = login(enterprise_user).get("/api/programmes/people-search?q=欧阳").json()
    assert body == [{"id": person.pk, "label": "欧阳研究员"}]
