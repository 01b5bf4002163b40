"""Listings: posting and editing (UI and API, audited), and the visibility / confidentiality matrix."""

from __future__ import annotations

import pytest
from django.utils import translation

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent, Notification
from sciencecity.transfer.models import Achievement, Deal, TechDemand
from tests.conftest import make_organisation, make_user
from tests.transfer.conftest import make_achievement, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db, university, academic_user, bureau, sysadmin, auditadmin):
    """Listings of every visibility, a confidential demand and the users of the matrix."""
    invited_org = make_organisation(name="受邀企业")
    matched_org = make_organisation(name="成交企业")
    demand_org = make_organisation(name="需求企业")
    public = make_achievement(university, title="公开成果", abstract="公开摘要", ip_number="ZL-PUBLIC",
                              contact_email="secret@example.cn")
    registered = make_achievement(university, title="注册成果", abstract="注册摘要", visibility="registered")
    invited = make_achievement(university, title="邀请成果", abstract="邀请摘要", visibility="invited",
                               invited=[invited_org.code])
    closed = make_achievement(university, title="关闭成果", abstract="关闭摘要", status="closed")
    demand = make_demand(demand_org, title="保密需求", public_summary="公开的需求摘要", description="保密的详细描述",
                         confidential=True)
    Deal.objects.create(code="DEAL-T1", achievement=invited, demand=demand, seller=university, buyer=matched_org)
    return {
        "listings": {"public": public, "registered": registered, "invited": invited, "closed": closed},
        "demand": demand,
        "users": {
            "anonymous": None,
            "other_org": make_user(Role.ENTERPRISE_USER, make_organisation()),
            "owner_org": academic_user,
            "invited_org": make_user(Role.ENTERPRISE_USER, invited_org),
            "matched_party": make_user(Role.ENTERPRISE_USER, matched_org),
            "demand_owner": make_user(Role.ENTERPRISE_USER, demand_org),
            "bureau": bureau,
            "sysadmin": sysadmin,
            "auditadmin": auditadmin,
        },
    }


# which achievements each user sees
ACHIEVEMENT_MATRIX = {
    "anonymous": {"public"},
    "other_org": {"public", "registered"},
    "owner_org": {"public", "registered", "invited", "closed"},
    "invited_org": {"public", "registered", "invited"},
    "matched_party": {"public", "registered", "invited"},
    "demand_owner": {"public", "registered"},
    "bureau": {"public", "registered"},
    "sysadmin": {"public"},
    "auditadmin": {"public"},
}
# who reads the confidential demand's full description
DESCRIPTION_READERS = {"matched_party", "demand_owner", "owner_org"}  # the university is the deal's seller


def _client(client, user):
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("who", list(ACHIEVEMENT_MATRIX))
def test_achievement_visibility_matrix_ui_and_api(client, world, who):
    client = _client(client, world["users"][who])
    expected = ACHIEVEMENT_MATRIX[who]
    for name, achievement in world["listings"].items():
        page = client.get(f"/transfer/achievements/{achievement.pk}/")
        api = client.get(f"/api/transfer/achievements/{achievement.pk}")
        assert (page.status_code, api.status_code) == ((200, 200) if name in expected else (404, 404)), name
        if name in expected:
            content = page.content.decode()
            assert achievement.abstract in content
            assert "secret@example.cn" not in content and "contact_email" not in api.json()
    listed = client.get("/api/transfer/achievements").json()["items"]
    assert {a["title"] for a in listed} == {world["listings"][n].title for n in expected}
    details = {a["title"]: a["details"] for a in listed}
    if "公开成果" in details:
        assert (details["公开成果"] is None) == (who in {"anonymous", "sysadmin", "auditadmin"})


@pytest.mark.parametrize("who", list(ACHIEVEMENT_MATRIX))
def test_confidential_demand_matrix_ui_and_api(client, world, who):
    client = _client(client, world["users"][who])
    demand = world["demand"]
    page = client.get(f"/transfer/demands/{demand.pk}/").content.decode()
    body = client.get(f"/api/transfer/demands/{demand.pk}").json()
    assert "公开的需求摘要" in page and body["public_summary"] == "公开的需求摘要"
    readable = who in DESCRIPTION_READERS
    assert ("保密的详细描述" in page) == readable
    assert body["description"] == ("保密的详细描述" if readable else None)
    listed = client.get("/api/transfer/demands").json()["items"]
    assert [d["description"] for d in listed] == [body["description"]]


def test_owner_posts_and_edits_an_achievement_through_the_ui(client, academic_user, university):
    client.force_login(academic_user)
    response = client.post("/transfer/achievements/new/", {
        "title": "柔性传感器", "abstract": "可拉伸柔性压力传感器", "sectors": ["IND-AI"], "trl": "5",
        "ip_type": "invention_patent", "modes": ["licence", "equity"], "visibility": "public", "invited": ""})
    achievement = Achievement.objects.get()
    assert response.status_code == 302 and response.url == f"/transfer/achievements/{achievement.pk}/"
    assert (achievement.owner, achievement.code, achievement.modes) == (
        university, f"ACH-{achievement.pk:06d}", ["licence", "equity"])
    response = client.post(f"/transfer/achievements/{achievement.pk}/edit/", {
        "title": "柔性压力传感器", "abstract": "可拉伸柔性压力传感器", "trl": "6", "ip_type": "none",
        "modes": ["licence"], "visibility": "registered", "invited": "", "s-status": "active"})
    assert response.status_code == 302
    achievement.refresh_from_db()
    assert (achievement.title, achievement.trl, achievement.visibility) == ("柔性压力传感器", 6, "registered")
    events = AuditEvent.objects.filter(object_type="transfer.achievement", object_id=str(achievement.pk))
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]
    assert events.get(action="update").changes["trl"] == [5, 6]


def test_others_cannot_edit_and_enterprise_only_posts_demands(client, world):
    achievement = world["listings"]["public"]
    client.force_login(world["users"]["other_org"])
    assert client.get(f"/transfer/achievements/{achievement.pk}/edit/").status_code == 403
    response = client.patch(f"/api/transfer/achievements/{achievement.pk}", {"title": "x"},
                            content_type="application/json")
    assert response.status_code == 403
    client.force_login(world["users"]["owner_org"])  # an academic user: no demands
    assert client.get("/transfer/demands/new/").status_code == 403
    response = client.post("/api/transfer/demands", {"title": "t", "public_summary": "s"},
                           content_type="application/json")
    assert response.status_code == 403
    assert TechDemand.objects.count() == 1
    assert Achievement.objects.get(pk=achievement.pk).title == "公开成果"


def test_api_posts_a_demand_with_validation(client, enterprise_user, organisation):
    client.force_login(enterprise_user)
    bad = client.post("/api/transfer/demands", {"title": "t", "public_summary": "s", "budget_min": "-1",
                                                "sectors": ["NOPE"]}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    assert TechDemand.objects.count() == 0
    response = client.post("/api/transfer/demands", {
        "title": "石墨烯散热", "public_summary": "手机散热", "description": "详细", "confidential": True,
        "budget_min": "10", "budget_max": "50", "modes": ["licence"], "min_trl": 5, "sectors": ["IND-GRAPHENE"]},
        content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert (body["organisation_id"], body["description"], body["sectors"], body["min_trl"]) == (
        organisation.pk, "详细", ["IND-GRAPHENE"], 5)
    patched = client.patch(f"/api/transfer/demands/{body['id']}", {"status": "closed"},
                           content_type="application/json")
    assert patched.status_code == 200 and patched.json()["status"] == "closed"
    assert client.get("/api/transfer/demands").json()["count"] == 1  # the owner still sees it
    client.logout()
    assert client.get(f"/api/transfer/demands/{body['id']}").status_code == 404


def test_matches_api_explains_and_feedback_and_notifications(client, university, academic_user):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the explanations are checked in English
    enterprise = make_organisation()
    buyer = make_user(Role.ENTERPRISE_USER, enterprise)
    demand = make_demand(enterprise, title="钠离子电池正极材料", public_summary="寻找低成本钠离子电池正极材料",
                         min_trl=4)
    achievement = make_achievement(university, title="钠离子电池层状氧化物正极", abstract="低成本钠离子电池正极材料",
                                   trl=6)
    client.force_login(buyer)
    body = client.get(f"/api/transfer/demands/{demand.pk}/matches").json()
    assert [m["id"] for m in body["achievements"]] == [achievement.pk]
    match = body["achievements"][0]
    assert "钠离子电池" in match["shared_terms"] and "<mark>" in match["title_html"]
    assert "TRL 6 meets the minimum 4" in match["reasons"]
    page = client.get(f"/transfer/demands/{demand.pk}/").content.decode()
    assert f'data-testid="match-achievements-{achievement.pk}"' in page
    response = client.post("/api/transfer/feedback", {"label": "interesting", "demand_id": demand.pk,
                                                      "achievement_id": achievement.pk},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["label"] == "interesting"
    notes = client.get("/api/transfer/notifications").json()
    assert [n["url"] for n in notes["items"]] == [f"/transfer/achievements/{achievement.pk}/"]
    assert 'data-testid="unread-count">1<' in client.get("/transfer/").content.decode()
    assert client.get("/transfer/notifications/").url == "/notifications/"  # one list for every app
    client.post("/notifications/")
    assert Notification.objects.get().read_at is not None
    client.force_login(academic_user)  # not the owner of the demand: no matches
    assert client.get(f"/api/transfer/demands/{demand.pk}/matches").status_code == 403
    assert client.get(f"/api/transfer/achievements/{achievement.pk}/matches").json()["demands"][0]["id"] == demand.pk


def test_search_page_and_api_respect_visibility(client, world):
    response = client.get("/api/transfer/search", {"q": "成果", "kind": "achievements"})
    assert [r["title"] for r in response.json()] == ["公开成果"]
    page = client.get("/transfer/search/", {"q": "成果"}).content.decode()
    assert "公开" in page and "注册" not in page
    client.force_login(world["users"]["invited_org"])
    titles = {r["title"] for r in client.get("/api/transfer/search", {"q": "成果"}).json()}
    assert titles == {"公开成果", "注册成果", "邀请成果"}


def test_index_shows_recommendations(client, university, academic_user):
    enterprise = make_organisation()
    make_demand(enterprise, title="钙钛矿电池封装", public_summary="钙钛矿太阳能电池封装技术")
    make_achievement(university, title="钙钛矿电池封装工艺", abstract="钙钛矿太阳能电池封装")
    client.force_login(academic_user)
    page = client.get("/transfer/").content.decode()
    assert 'data-testid="recommendations"' in page and "<mark>钙钛矿</mark>" in page


def test_pages_render_for_anonymous_and_members(client, world):
    for url in ("/transfer/", "/transfer/achievements/", "/transfer/demands/", "/transfer/search/?q=成果"):
        assert client.get(url).status_code == 200, url
    assert client.get("/transfer/watch/").status_code == 302  # to the login page
    client.force_login(world["users"]["demand_owner"])
    for url in ("/transfer/", "/transfer/achievements/?mine=1", "/transfer/demands/?sector=IND-AI",
                "/transfer/demands/new/", "/transfer/watch/", "/notifications/",
                f"/transfer/demands/{world['demand'].pk}/edit/"):
        assert client.get(url).status_code == 200, url
    client.force_login(world["users"]["sysadmin"])
    assert client.get("/transfer/watch/").status_code == 403


@pytest.mark.parametrize("role", ["enterprise", "officer", "expert"])
def test_express_interest_is_shown_only_to_those_it_opens_for(db, university, bureau, enterprise_user, role):
    from django.test import Client
    from django.urls import reverse

    achievement = make_achievement(university, visibility="public")
    user = {"enterprise": enterprise_user, "officer": bureau, "expert": make_user(Role.EXPERT)}[role]
    client = Client()
    client.force_login(user)
    page = client.get(reverse("transfer:achievement_detail", args=[achievement.pk])).content.decode()
    target = client.get(f"{reverse('transfer:deal_create')}?achievement={achievement.pk}")
    shown = 'data-testid="express-interest"' in page
    assert shown == (role == "enterprise") and (target.status_code < 400) == shown
