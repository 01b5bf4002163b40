"""Permission matrix for every registry page and API endpoint.

Actors: anonymous, other organisation, own organisation, bureau officer, and each administrator role.
"""

import json

import pytest
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.registry.models import Organisation, Person
from tests.conftest import make_organisation, make_person, make_user

ACTORS = ["anonymous", "other_org", "own_org", "officer", "sysadmin", "secadmin", "auditadmin"]


@pytest.fixture
def world(db):
    own = make_organisation(name="自有企业", code="OWN-1")
    other = make_organisation(name="他人企业", code="OTHER-1")
    bureau = make_organisation(name="科技创新局", kind="government_department", code="GOV-1")
    person = make_person(name="张三", email="zhang@example.org", phone="13800000000")
    from sciencecity.registry.models import Affiliation

    Affiliation.objects.create(person=person, organisation=own, position="工程师")
    users = {
        "anonymous": None,
        "other_org": make_user(Role.ENTERPRISE_USER, other),
        "own_org": make_user(Role.ENTERPRISE_USER, own),
        "officer": make_user(Role.BUREAU_OFFICER, bureau),
        "sysadmin": make_user(Role.SYSTEM_ADMIN),
        "secadmin": make_user(Role.SECURITY_ADMIN),
        "auditadmin": make_user(Role.AUDIT_ADMIN),
    }
    return {"own": own, "other": other, "person": person, "users": users}


def _client(client, world, actor):
    user = world["users"][actor]
    if user is not None:
        client.force_login(user)
    return client


def _status(response):
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    return response.status_code


# (url name, kwargs builder, expected per actor)
READ_PAGES = [
    ("registry:organisation_list", lambda w: {}),
    ("registry:organisation_detail", lambda w: {"pk": w["own"].pk}),
    ("registry:person_list", lambda w: {}),
    ("registry:person_detail", lambda w: {"pk": w["person"].pk}),
]
READ_EXPECTED = {"anonymous": "login", "other_org": 200, "own_org": 200, "officer": 200,
                 "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES)
def test_read_pages(client, world, actor, name, kwargs):
    response = _client(client, world, actor).get(reverse(name, kwargs=kwargs(world)))
    assert _status(response) == READ_EXPECTED[actor]


CREATE_EXPECTED = {"anonymous": "login", "other_org": 403, "own_org": 403, "officer": 200,
                   "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", ["registry:organisation_create", "registry:person_create"])
def test_create_pages(client, world, actor, name):
    assert _status(_client(client, world, actor).get(reverse(name))) == CREATE_EXPECTED[actor]


EDIT_OWN_EXPECTED = {"anonymous": "login", "other_org": 403, "own_org": 200, "officer": 200,
                     "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_edit_own_organisation_page(client, world, actor):
    url = reverse("registry:organisation_edit", kwargs={"pk": world["own"].pk})
    assert _status(_client(client, world, actor).get(url)) == EDIT_OWN_EXPECTED[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_edit_person_page(client, world, actor):
    url = reverse("registry:person_edit", kwargs={"pk": world["person"].pk})
    # The person works for the own organisation, so colleagues may edit the profile.
    assert _status(_client(client, world, actor).get(url)) == EDIT_OWN_EXPECTED[actor]


def test_contact_details_only_for_officers_and_colleagues(client, world):
    url = reverse("registry:person_detail", kwargs={"pk": world["person"].pk})
    assert "zhang@example.org" in _client(client, world, "own_org").get(url).content.decode()
    client.logout()
    assert "zhang@example.org" in _client(client, world, "officer").get(url).content.decode()
    client.logout()
    assert "zhang@example.org" not in _client(client, world, "other_org").get(url).content.decode()


# --- API
def _api(client, world, actor, method, path, payload=None):
    _client(client, world, actor)
    kwargs = {"content_type": "application/json"}
    if payload is not None:
        kwargs["data"] = json.dumps(payload)
    return getattr(client, method)(path, **kwargs)


API_READ_EXPECTED = {"anonymous": 401, "other_org": 200, "own_org": 200, "officer": 200,
                     "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("path", ["/api/registry/organisations", "/api/registry/people", "/api/registry/sectors",
                                  "ORG_DETAIL", "PERSON_DETAIL"])
def test_api_reads(client, world, actor, path):
    path = {"ORG_DETAIL": f"/api/registry/organisations/{world['own'].pk}",
            "PERSON_DETAIL": f"/api/registry/people/{world['person'].pk}"}.get(path, path)
    response = _api(client, world, actor, "get", path)
    assert response.status_code == API_READ_EXPECTED[actor]
    if response.status_code != 200:
        assert set(response.json()["error"]) >= {"code", "message"}


API_CREATE_EXPECTED = {"anonymous": 401, "other_org": 403, "own_org": 403, "officer": 201,
                       "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_api_create_organisation(client, world, actor):
    before = Organisation.objects.count()
    response = _api(client, world, actor, "post", "/api/registry/organisations",
                    {"name": "新机构", "kind": "enterprise"})
    assert response.status_code == API_CREATE_EXPECTED[actor]
    assert Organisation.objects.count() == before + (1 if response.status_code == 201 else 0)


@pytest.mark.parametrize("actor", ACTORS)
def test_api_create_person(client, world, actor):
    before = Person.objects.count()
    response = _api(client, world, actor, "post", "/api/registry/people", {"name": "李四"})
    assert response.status_code == API_CREATE_EXPECTED[actor]
    assert Person.objects.count() == before + (1 if response.status_code == 201 else 0)


API_EDIT_OWN_EXPECTED = {"anonymous": 401, "other_org": 403, "own_org": 200, "officer": 200,
                         "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_api_patch_own_organisation(client, world, actor):
    _client(client, world, actor)
    events = AuditEvent.objects.count()  # after the login (its second step is audited too)
    response = client.patch(f"/api/registry/organisations/{world['own'].pk}",
                            data=json.dumps({"address": f"光明街道 {actor}"}), content_type="application/json")
    assert response.status_code == API_EDIT_OWN_EXPECTED[actor]
    world["own"].refresh_from_db()
    if response.status_code == 200:
        assert world["own"].address == f"光明街道 {actor}"
        assert AuditEvent.objects.count() == events + 1
    else:
        assert world["own"].address == ""
        assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("actor", ACTORS)
def test_api_patch_person(client, world, actor):
    response = _api(client, world, actor, "patch", f"/api/registry/people/{world['person'].pk}", {"title": "研究员"})
    assert response.status_code == API_EDIT_OWN_EXPECTED[actor]


def test_members_cannot_change_certified_fields(client, world):
    response = _api(client, world, "own_org", "patch", f"/api/registry/organisations/{world['own'].pk}",
                    {"level": "national"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "level"
    world["own"].refresh_from_db()
    assert world["own"].level == "none"


def test_contact_hidden_in_api_for_other_organisations(client, world):
    body = _api(client, world, "other_org", "get", f"/api/registry/people/{world['person'].pk}").json()
    assert body["email"] is None and body["phone"] is None
    client.logout()
    body = _api(client, world, "own_org", "get", f"/api/registry/people/{world['person'].pk}").json()
    assert body["email"] == "zhang@example.org"
