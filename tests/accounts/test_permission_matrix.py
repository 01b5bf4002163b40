"""Who may open which accounts page and API endpoint: anonymous, enterprise user, bureau officer, 三员."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sciencecity.accounts import services

ACTORS = ["anonymous", "enterprise", "bureau", "sysadmin", "secadmin", "auditadmin"]
EVERYONE = {"enterprise", "bureau", "sysadmin", "secadmin", "auditadmin"}


@pytest.fixture
def actors(enterprise_user, bureau, sysadmin, secadmin, auditadmin):
    return {"anonymous": None, "enterprise": enterprise_user, "bureau": bureau, "sysadmin": sysadmin,
            "secadmin": secadmin, "auditadmin": auditadmin}


@pytest.fixture
def target(factories, organisation):
    """An account the pages act on (not one of the actors)."""
    return factories.make_user("enterprise_user", organisation, username="target")


# (url name, args from the target, method, the actors allowed, the status of an allowed request)
PAGES = [
    ("accounts:profile", None, "get", EVERYONE, 200),
    ("accounts:token_list", None, "get", EVERYONE, 200),
    ("accounts:token_list", None, "post", EVERYONE, 200),  # creates a token for oneself
    ("accounts:acting_organisation_set", None, "post", EVERYONE, 400),  # no organisation chosen
    ("accounts:user_list", None, "get", {"sysadmin"}, 200),
    ("accounts:user_create", None, "get", {"sysadmin"}, 200),
    ("accounts:user_create", None, "post", {"sysadmin"}, 200),
    ("accounts:user_detail", "user", "get", {"sysadmin"}, 200),
    ("accounts:user_detail", "user", "post", {"sysadmin"}, 302),
    ("accounts:role_list", None, "get", {"secadmin"}, 200),
    ("accounts:role_grant", None, "get", {"secadmin"}, 200),
    ("accounts:role_grant", None, "post", {"secadmin"}, 302),
    ("accounts:role_revoke", "membership", "get", {"secadmin"}, 200),
    ("accounts:role_revoke", "membership", "post", {"secadmin"}, 302),
    ("accounts:admin_change_list", None, "get", {"sysadmin", "secadmin", "auditadmin"}, 200),
    ("accounts:admin_change_list", None, "post", {"secadmin"}, 400),  # no account chosen
    # The request is secadmin's, about auditadmin: the requester withdraws, a third administrator declines.
    ("accounts:admin_change_decide", "change", "post", {"sysadmin", "secadmin"}, 302),
    ("accounts:login_lock_list", None, "get", {"sysadmin", "secadmin"}, 200),
    ("accounts:login_lock_list", None, "post", {"sysadmin", "secadmin"}, 302),
]

#: Pages that ask for a fresh re-authentication (password + code) before acting — sudo mode.
REAUTHENTICATION = {("accounts:token_list", "post"), ("accounts:role_grant", "get"), ("accounts:role_grant", "post"),
                    ("accounts:role_revoke", "get"), ("accounts:role_revoke", "post")}


def _post_data(name, target):
    return {
        "accounts:token_list": {"name": "matrix"},
        "accounts:user_create": {"username": "matrix_user"},
        "accounts:user_detail": {"action": "unlock", "unlock-reason": "matrix"},
        "accounts:role_grant": {"user": target.pk, "role": "expert", "reason": "matrix"},
        "accounts:role_revoke": {"reason": "matrix"},
        "accounts:admin_change_decide": {"decision": "decline"},
        "accounts:login_lock_list": {"username": target.username},
    }.get(name, {})


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "arg", "method", "allowed", "ok"), PAGES,
                         ids=[f"{m}-{n.split(':')[1]}" for n, _, m, _, _ in PAGES])
def test_pages(client, reauthenticate, actors, target, actor, name, arg, method, allowed, ok):
    if arg == "change":
        change = services.admin_change_request(actor=actors["secadmin"], target=actors["auditadmin"],
                                               kind="reset_password", reason="matrix")
    args = {"user": [target.pk], "membership": [target.memberships.get().pk],
            "change": [change.pk] if arg == "change" else None}.get(arg)
    url = reverse(name, args=args)
    user = actors[actor]
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(url, _post_data(name, target) if method == "post" else None)
    if user is not None and actor in allowed and (name, method) in REAUTHENTICATION:
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauthenticate"))
        reauthenticate(user)
        response = getattr(client, method)(url, _post_data(name, target) if method == "post" else None)
    if user is None:
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
    elif actor in allowed:
        assert response.status_code == ok
    else:
        assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_token_revoke_page(client, actors, target, actor):
    """Only the owner (or the system administrator) revokes a token."""
    token, _ = services.api_token_create(user=target, name="target's")
    url = reverse("accounts:token_revoke", args=[token.pk])
    user = actors[actor]
    if user is not None:
        client.force_login(user)
    response = client.post(url)
    token.refresh_from_db()
    if user is None:
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    elif actor == "sysadmin":
        assert response.status_code == 302 and token.revoked_at is not None
    else:
        assert response.status_code == 403 and token.revoked_at is None
    own, _ = services.api_token_create(user=target, name="own")
    client.force_login(target)
    assert client.post(reverse("accounts:token_revoke", args=[own.pk])).status_code == 302


# (method, path, body, the actors allowed, the status of an allowed request)
ENDPOINTS = [
    ("get", "/me", None, EVERYONE, 200),
    ("get", "/memberships", None, EVERYONE, 200),
    ("get", "/users", None, {"sysadmin"}, 200),
    ("post", "/memberships", "grant", {"secadmin"}, 201),
    ("delete", "/memberships/{membership}", None, {"secadmin"}, 204),
]


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "path", "body", "allowed", "ok"), ENDPOINTS,
                         ids=[f"{m}-{p}" for m, p, _, _, _ in ENDPOINTS])
def test_api(api_as, actors, target, actor, method, path, body, allowed, ok):
    api = api_as(actors[actor])
    path = path.format(membership=target.memberships.get().pk)
    data = {"user_id": target.pk, "role": "expert", "reason": "matrix"} if body else None
    if method == "delete":
        response = api.delete(path, reason="matrix")
    else:
        response = api.request(method, path, data)
    if actors[actor] is None:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    elif actor in allowed:
        assert response.status_code == ok
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
