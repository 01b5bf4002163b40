"""Accounts API: own memberships, users (系统管理员), role grant and revoke (安全管理员)."""

from __future__ import annotations

import pytest
from django.test import Client

from sciencecity.accounts.models import Membership
from tests.accounts.accounts_helpers import events


@pytest.mark.django_db
def test_my_memberships(api_as, factories, organisation):
    university = factories.make_organisation(name="大学", kind="university")
    user = factories.make_user("enterprise_user", organisation, username="two")
    second = Membership.objects.create(user=user, role="academic_user", organisation=university)
    factories.make_user("enterprise_user", organisation, username="colleague")
    response = api_as(user).get("/memberships")
    assert response.status_code == 200
    first = user.memberships.get(role="enterprise_user")
    assert [(m["id"], m["role"], m["role_label"], m["organisation_id"], m["organisation_name"], m["username"])
            for m in response.json()] == [
        (second.pk, "academic_user", "University / institute user", university.pk, "大学", "two"),
        (first.pk, "enterprise_user", "Enterprise user", organisation.pk, organisation.name, "two"),
    ]


@pytest.mark.django_db
def test_users_paginated_and_filtered(api_as, sysadmin, factories, organisation):
    for n in range(5):
        factories.make_user("enterprise_user", organisation, username=f"staff{n}", display_name=f"员工{n}")
    factories.make_user(username="gone", is_active=False)
    api = api_as(sysadmin)
    page = api.get("/users", page_size=2, page=2).json()
    assert (page["count"], page["page"], page["page_size"]) == (7, 2, 2)
    assert [u["username"] for u in page["items"]] == ["staff1", "staff2"]  # after gone, staff0
    staff1 = page["items"][0]
    assert staff1["memberships"] == [{"id": staff1["memberships"][0]["id"], "role": "enterprise_user",
                                      "organisation_id": organisation.pk}]
    assert (staff1["is_active"], staff1["is_locked"], staff1["must_change_password"]) == (True, False, False)
    assert [u["username"] for u in api.get("/users", q="员工3").json()["items"]] == ["staff3"]
    assert [u["username"] for u in api.get("/users", active="false").json()["items"]] == ["gone"]
    assert api.get("/users", page_size=500).status_code == 422


@pytest.mark.django_db
def test_grant_and_revoke_through_the_api(api_as, secadmin, factories, organisation):
    target = factories.make_user(username="target")
    api = api_as(secadmin)
    response = api.post("/memberships", {"user_id": target.pk, "role": "enterprise_user",
                                         "organisation_id": organisation.pk, "reason": "joined"})
    assert response.status_code == 201
    body = response.json()
    membership = Membership.objects.get(user=target)
    assert (body["id"], body["role"], body["organisation_id"], body["username"]) == (
        membership.pk, "enterprise_user", organisation.pk, "target")
    (grant,) = events("role_grant")
    assert (grant.actor, grant.reason, grant.changes) == (
        secadmin, "joined", {"role": [None, "enterprise_user"], "organisation": [None, organisation.pk]})

    response = api.delete(f"/memberships/{membership.pk}")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "reason", "message": "Give a reason."}]
    assert Membership.objects.filter(pk=membership.pk).exists()

    response = api.delete(f"/memberships/{membership.pk}", {"reason": "left (body)"})
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    (revoke,) = events("role_revoke")
    assert (revoke.actor, revoke.reason, revoke.object_id) == (secadmin, "left (body)", str(target.pk))
    assert revoke.changes == {"role": ["enterprise_user", None], "organisation": [organisation.pk, None]}

    again = Membership.objects.create(user=target, role="expert")
    assert api.delete(f"/memberships/{again.pk}", reason="left (query)").status_code == 204
    assert events("role_revoke")[-1].reason == "left (query)"
    assert api.delete(f"/memberships/{again.pk}", reason="x").json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_api_grant_separation_of_duties(api_as, secadmin, sysadmin, auditadmin, organisation):
    api = api_as(secadmin)
    response = api.post("/memberships", {"user_id": sysadmin.pk, "role": "audit_admin"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == [{"field": "role", "message": "Administrator roles are held alone (separation of "
                                                             "duties): this account already holds System administrator."}]
    response = api.post("/memberships", {"user_id": auditadmin.pk, "role": "enterprise_user",
                                         "organisation_id": organisation.pk})
    assert response.json()["error"]["details"][0]["message"] == (
        "This account holds an administrator role and cannot also hold a business role.")
    response = api.post("/memberships", {"user_id": secadmin.pk, "role": "expert"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not events("role_grant")
    assert sorted(Membership.objects.values_list("role", flat=True)) == ["audit_admin", "security_admin",
                                                                          "system_admin"]


@pytest.mark.django_db
def test_api_grant_bad_input(api_as, secadmin, factories):
    target = factories.make_user(username="target")
    api = api_as(secadmin)
    assert api.post("/memberships", {"user_id": 999999, "role": "expert"}).status_code == 404
    assert api.post("/memberships", {"user_id": target.pk, "role": "expert",
                                     "organisation_id": 999999}).status_code == 404
    response = api.post("/memberships", {"user_id": target.pk, "role": "king"})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "role"
    response = api.post("/memberships", {"user_id": target.pk, "role": "enterprise_user"})
    assert response.json()["error"]["details"] == [
        {"field": "organisation", "message": "The role Enterprise user is held in an organisation."}]
    assert not target.memberships.exists() and not events("role_grant")


@pytest.mark.django_db
def test_api_session_writes_need_the_csrf_token(secadmin, factories):
    target = factories.make_user(username="target")
    client = Client(enforce_csrf_checks=True)
    client.force_login(secadmin)
    assert client.get("/api/accounts/me").status_code == 200
    response = client.post("/api/accounts/memberships", {"user_id": target.pk, "role": "expert"},
                           content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not target.memberships.exists()
