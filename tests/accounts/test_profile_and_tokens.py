"""Profile, acting organisation and personal API tokens (any logged-in user, own data only)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from sciencecity.accounts import services
from sciencecity.accounts.models import ApiToken, Membership
from sciencecity.registry.acting import acting_organisation
from tests.accounts.accounts_helpers import ApiClient, events

TOKENS = reverse("accounts:token_list")


@pytest.fixture
def two_hat_user(factories):
    """An enterprise user who also works for a university."""
    company = factories.make_organisation(name="光明芯片有限公司")
    university = factories.make_organisation(name="中山大学深圳校区", kind="university")
    user = factories.make_user("enterprise_user", company, username="twohats", display_name="王工")
    Membership.objects.create(user=user, role="academic_user", organisation=university)
    return user, company, university


@pytest.mark.django_db
def test_profile_shows_name_and_roles_per_organisation(login, two_hat_user):
    user, company, university = two_hat_user
    response = login(user).get(reverse("accounts:profile"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "王工" in html and "twohats" in html
    rows = [(m.get_role_display(), m.organisation.name) for m in response.context["memberships"]]
    assert rows == [("University / institute user", "中山大学深圳校区"), ("Enterprise user", "光明芯片有限公司")]
    assert reverse("accounts:password_change") in html and TOKENS in html
    assert response.context["acting_organisation"] == min((company, university), key=lambda o: o.pk)


@pytest.mark.django_db
def test_acting_organisation_switch_among_own_organisations(login, two_hat_user, factories):
    user, company, university = two_hat_user
    client = login(user)
    response = client.post(reverse("accounts:acting_organisation_set"), {"organisation": university.pk})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    assert client.session["acting_organisation_id"] == university.pk
    request = RequestFactory().get("/")
    request.user, request.session = user, client.session
    assert acting_organisation(request) == university
    assert client.get(reverse("accounts:profile")).context["acting_organisation"] == university

    stranger = factories.make_organisation(name="别人的公司")
    response = client.post(reverse("accounts:acting_organisation_set"), {"organisation": stranger.pk})
    assert response.status_code == 400
    assert response.context["acting_form"].errors["organisation"]
    assert client.session["acting_organisation_id"] == university.pk


@pytest.mark.django_db
def test_acting_organisation_set_needs_post(login, two_hat_user):
    assert login(two_hat_user[0]).get(reverse("accounts:acting_organisation_set")).status_code == 405


@pytest.mark.django_db
def test_administrators_have_no_acting_organisation(login, sysadmin):
    response = login(sysadmin).get(reverse("accounts:profile"))
    assert response.context["acting_organisation"] is None
    assert "does not act for an organisation" in response.content.decode()


@pytest.mark.django_db
def test_create_token_shows_it_once_and_stores_only_the_hash(login, reauthenticate, enterprise_user):
    client = login(enterprise_user)
    reauthenticate(enterprise_user)  # creating a token needs sudo mode
    response = client.post(TOKENS, {"name": "报表脚本", "expires_on": ""})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = response.context["raw_token"]
    assert raw.startswith("sct_") and raw in response.content.decode()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.expires_at, token.revoked_at) == (enterprise_user, "报表脚本", None, None)
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:12]
    stored = [str(v) for v in ApiToken.objects.values_list().get()]
    assert not any(raw in value for value in stored)
    (event,) = events("token_create")
    assert event.actor == enterprise_user and event.object_id == str(token.pk)
    assert event.changes == {"name": [None, "报表脚本"]}
    assert raw not in str(event.changes) + event.object_repr

    listing = client.get(TOKENS)
    assert raw not in listing.content.decode()
    assert token.prefix in listing.content.decode()
    assert list(listing.context["tokens"]) == [token]

    me = ApiClient(raw).get("/me")
    assert me.status_code == 200
    assert me.json() == {"id": enterprise_user.pk, "username": "ent_user", "display_name": "",
                         "roles": ["enterprise_user"]}
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_token_expiry_date(login, reauthenticate, enterprise_user):
    client = login(enterprise_user)
    reauthenticate(enterprise_user)  # creating a token needs sudo mode
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(TOKENS, {"name": "old", "expires_on": yesterday.isoformat()})
    assert response.context["form"].errors["expires_on"] == ["The date is in the past."]
    assert not ApiToken.objects.exists()
    response = client.post(TOKENS, {"name": "", "expires_on": ""})
    assert "name" in response.context["form"].errors
    assert not ApiToken.objects.exists() and not events("token_create")

    today = timezone.localdate()
    client.post(TOKENS, {"name": "today", "expires_on": today.isoformat()})
    token = ApiToken.objects.get()
    assert timezone.localtime(token.expires_at) == timezone.make_aware(
        dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))


@pytest.mark.django_db
def test_revoked_and_expired_tokens_get_401(login, enterprise_user):
    _, raw = services.api_token_create(user=enterprise_user, name="a")
    expired, raw_expired = services.api_token_create(
        user=enterprise_user, name="b", expires_at=timezone.now() - dt.timedelta(seconds=1))
    token = ApiToken.objects.get(name="a")
    assert ApiClient(raw).get("/me").status_code == 200

    client = login(enterprise_user)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302 and response["Location"] == TOKENS
    token.refresh_from_db()
    assert token.revoked_at is not None
    (event,) = events("token_revoke")
    assert event.actor == enterprise_user and event.object_id == str(token.pk)

    for value in (raw, raw_expired, "sct_made-up"):
        response = ApiClient(value).get("/me")
        assert response.status_code == 401
        assert response.json() == {"error": {"code": "not_authenticated",
                                             "message": "Log in or send a valid API token.", "details": None}}

    client.post(reverse("accounts:token_revoke", args=[token.pk]))  # again: nothing new
    assert len(events("token_revoke")) == 1


@pytest.mark.django_db
def test_a_user_cannot_revoke_another_users_token(login, enterprise_user, other_enterprise_user):
    token, raw = services.api_token_create(user=other_enterprise_user, name="theirs")
    response = login(enterprise_user).post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not events("token_revoke")
    assert ApiClient(raw).get("/me").status_code == 200
    listing = login(enterprise_user).get(TOKENS)
    assert list(listing.context["tokens"]) == []


@pytest.mark.django_db
def test_the_system_administrator_may_revoke_any_token(login, sysadmin, enterprise_user):
    token, _ = services.api_token_create(user=enterprise_user, name="leaked")
    response = login(sysadmin).post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response["Location"] == reverse("accounts:user_detail", args=[enterprise_user.pk])
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert events("token_revoke")[0].actor == sysadmin


@pytest.mark.django_db
def test_token_revoke_needs_post(login, enterprise_user):
    token, _ = services.api_token_create(user=enterprise_user, name="a")
    assert login(enterprise_user).get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405
