"""Tokens and sessions end with the credentials (issue 9, finding 7): a password reset, a password
change, a deactivation and a role removal revoke the user's API tokens and end their other sessions."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from sciencecity.accounts import services
from sciencecity.accounts.models import ApiToken
from tests.accounts.accounts_helpers import events

PROFILE = reverse("accounts:profile")
NEW_PASSWORD = "Fresh!Passw0rd9"


def _me(raw: str) -> int:
    return Client().get("/api/accounts/me", headers={"Authorization": f"Bearer {raw}"}).status_code


def _session_of(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(PROFILE).status_code == 200
    return client


@pytest.fixture
def member(factories, organisation):
    return factories.make_user("enterprise_user", organisation, username="member")


@pytest.fixture
def tokens(member):
    return [services.api_token_create(user=member, name=name)[1] for name in ("script", "etl")]


@pytest.mark.django_db
def test_a_password_reset_revokes_tokens_and_sessions(login, sysadmin, member, tokens):
    assert [_me(raw) for raw in tokens] == [200, 200]
    session = _session_of(member)
    response = login(sysadmin).post(reverse("accounts:user_detail", args=[member.pk]),
                                    {"action": "reset_password", "reset-reason": "forgot"})
    assert response.status_code == 200
    assert [_me(raw) for raw in tokens] == [401, 401]
    assert session.get(PROFILE).status_code == 302
    (revoked,) = events("token_revoke")
    assert (revoked.actor, revoked.object_id, revoked.reason) == (sysadmin, str(member.pk), "password reset")
    assert revoked.changes == {"tokens": sorted(ApiToken.objects.filter(user=member).values_list("pk", flat=True)),
                               "sessions_ended": True}


@pytest.mark.django_db
def test_a_password_change_keeps_the_current_session_only(factories, member, tokens):
    current, other = _session_of(member), _session_of(member)
    response = current.post(reverse("accounts:password_change"),
                            {"old_password": factories.PASSWORD, "new_password": NEW_PASSWORD,
                             "new_password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert current.get(PROFILE).status_code == 200
    assert current.session[SESSION_KEY] == str(member.pk)
    assert other.get(PROFILE).status_code == 302
    assert [_me(raw) for raw in tokens] == [401, 401]
    assert events("token_revoke")[0].reason == "password change"


@pytest.mark.django_db
def test_a_disabled_account_is_logged_out_on_the_next_request(login, sysadmin, member, tokens):
    session = _session_of(member)
    admin = login(sysadmin)
    admin.post(reverse("accounts:user_detail", args=[member.pk]),
               {"action": "set_active", "active-active": "no", "active-reason": "left"})
    response = session.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert session.get("/api/accounts/me").status_code == 401
    # Activating the account again does not bring the old tokens back.
    admin.post(reverse("accounts:user_detail", args=[member.pk]),
               {"action": "set_active", "active-active": "yes", "active-reason": "back"})
    assert [_me(raw) for raw in tokens] == [401, 401]
    assert session.get(PROFILE).status_code == 302


@pytest.mark.django_db
def test_a_role_removal_revokes_tokens_and_sessions(login, reauthenticate, secadmin, member, tokens):
    session = _session_of(member)
    membership = member.memberships.get()
    login(secadmin)
    response = reauthenticate(secadmin).post(reverse("accounts:role_revoke", args=[membership.pk]), {"reason": "moved"})
    assert response.status_code == 302
    assert [_me(raw) for raw in tokens] == [401, 401]
    assert session.get(PROFILE).status_code == 302
    (revoked,) = events("token_revoke")
    assert (revoked.actor, revoked.reason) == (secadmin, "role removed")


@pytest.mark.django_db
def test_the_role_removal_api_also_revokes(api_as, secadmin, member, tokens):
    membership = member.memberships.get()
    assert api_as(secadmin).delete(f"/memberships/{membership.pk}", reason="moved").status_code == 204
    assert [_me(raw) for raw in tokens] == [401, 401]


@pytest.mark.django_db
def test_other_users_keep_their_tokens_and_sessions(login, sysadmin, member, tokens, factories):
    bystander = factories.make_user("enterprise_user", username="bystander")
    _token, raw = services.api_token_create(user=bystander, name="own")
    session = _session_of(bystander)
    login(sysadmin).post(reverse("accounts:user_detail", args=[member.pk]),
                         {"action": "reset_password", "reset-reason": "forgot"})
    assert _me(raw) == 200
    assert session.get(PROFILE).status_code == 200


@pytest.mark.django_db
def test_sessions_from_before_the_upgrade_stay_valid(member):
    """An empty session generation keeps Django's own session hash, so the migration logs nobody out."""
    assert member.session_epoch == ""
    session = _session_of(member)
    services.credentials_revoke(actor=None, user=member, reason="test")
    assert member.session_epoch and session.get(PROFILE).status_code == 302
