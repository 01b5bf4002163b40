"""Login policy (GB/T 22239-2019 8.1.4.1 a–b): lockout, idle timeout, forced password change, password rules."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from sciencecity.accounts.models import LoginThrottle, User
from tests.accounts.accounts_helpers import events

LOGIN = reverse("accounts:login")
PASSWORD_PAGE = reverse("accounts:password_change")
WRONG = "Wr0ng!Password"


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def member(factories, organisation):
    return factories.make_user("enterprise_user", organisation, username="member")


FAILED = ("Wrong user name or password. After 5 failed attempts, signing in with this user name from this "
          "address pauses for 30 minutes or longer.")


def _error(response) -> str:
    return response.context["form"].non_field_errors()[0]


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_for_thirty_minutes(client, member, factories, settings):
    assert (settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_MINUTES) == (5, 30)
    for attempt in range(1, 5):
        response = _login(client, "member", WRONG)
        assert response.status_code == 200
        assert _error(response) == FAILED
        member.refresh_from_db()
        assert member.failed_login_count == attempt
        assert not LoginThrottle.objects.get(username="member").blocked_until
    before = timezone.now()
    response = _login(client, "member", WRONG)
    assert _error(response) == FAILED  # the same answer: the page never says "locked"
    throttle = LoginThrottle.objects.get(username="member", address="127.0.0.1")
    assert before + dt.timedelta(minutes=30) <= throttle.blocked_until <= timezone.now() + dt.timedelta(minutes=30)

    response = _login(client, "member", factories.PASSWORD)  # the right password, 6th attempt
    assert response.status_code == 200
    assert _error(response) == FAILED
    assert SESSION_KEY not in client.session
    assert not events("login", actor=member)

    failed = events("login_failed", object_id=str(member.pk))
    assert [e.reason for e in failed] == ["wrong password"] * 5 + ["account locked"]
    assert all(e.actor_username == "member" and not e.success for e in failed)
    (locked,) = events("locked", object_id=str(member.pk))
    assert locked.reason == "5 failed logins"
    assert locked.changes["locked_until"][0] is None
    assert locked.changes["address"] == "127.0.0.1" and locked.changes["lock_count"] == 1


@pytest.mark.django_db
def test_a_successful_login_resets_the_failure_counter(client, member, factories):
    for _ in range(3):
        _login(client, "member", WRONG)
    member.refresh_from_db()
    assert member.failed_login_count == 3
    response = _login(client, "member", factories.PASSWORD)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.failed_login_count == 0
    assert client.session[SESSION_KEY] == str(member.pk)
    (event,) = events("login")
    assert event.actor == member and event.success


@pytest.mark.django_db
def test_the_lock_ends_after_the_lockout_period(client, member, factories):
    User.objects.filter(pk=member.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert _login(client, "member", factories.PASSWORD).status_code == 302


@pytest.mark.django_db
def test_idle_session_is_logged_out_after_the_timeout(client, member, factories, settings):
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    _login(client, "member", factories.PASSWORD)
    profile = reverse("accounts:profile")
    assert client.get(profile).status_code == 200

    session = client.session
    session["last_seen"] = time.time() - 29 * 60
    session.save()
    assert client.get(profile).status_code == 200  # 29 minutes idle: still in

    session = client.session
    session["last_seen"] = time.time() - 31 * 60
    session.save()
    response = client.get(profile)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={profile}"
    assert SESSION_KEY not in client.session
    (logout,) = events("logout")
    assert logout.actor == member and logout.reason == "idle timeout"
    assert client.get(profile).status_code == 302  # still out


@pytest.mark.django_db
def test_idle_api_session_gets_401_session_expired(client, member, factories):
    _login(client, "member", factories.PASSWORD)
    session = client.session
    session["last_seen"] = time.time() - 31 * 60
    session.save()
    response = client.get("/api/accounts/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"


@pytest.fixture
def newcomer(factories, organisation):
    return factories.make_user("enterprise_user", organisation, username="newcomer", must_change_password=True)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["portal:home", "accounts:profile", "accounts:token_list", "accounts:user_list",
                                  "accounts:role_list"])
def test_must_change_password_redirects_every_page(client, newcomer, page):
    client.force_login(newcomer)
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"] == PASSWORD_PAGE


@pytest.mark.django_db
def test_must_change_password_blocks_the_api_with_session_auth(client, newcomer):
    client.force_login(newcomer)
    response = client.get("/api/accounts/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "password_change_required"


@pytest.mark.django_db
def test_login_with_initial_password_goes_to_the_password_page(client, newcomer, factories):
    response = _login(client, "newcomer", factories.PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == PASSWORD_PAGE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "new_password", "message"),
    [
        ("new_password", "Ab1!xyz", "This password is too short. It must contain at least 8 characters."),
        ("new_password", "Abcdefgh12345", "The password must contain a special character."),
        ("new_password", "abcdefgh12345!", "The password must contain an upper-case letter."),
        ("new_password", "<current>", "The password was used recently; choose another."),
        ("new_password_again", "Other!Passw0rd9", "The two new passwords differ."),
        ("old_password", "Fresh!Passw0rd9", "The current password is wrong."),
    ],
)
def test_password_rules_give_field_errors(client, newcomer, factories, field, new_password, message):
    client.force_login(newcomer)
    new_password = factories.PASSWORD if new_password == "<current>" else new_password
    old = WRONG if field == "old_password" else factories.PASSWORD
    again = "Mismatch!Passw0rd1" if field == "new_password_again" else new_password
    response = client.post(PASSWORD_PAGE, {"old_password": old, "new_password": new_password,
                                           "new_password_again": again})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    newcomer.refresh_from_db()
    assert newcomer.must_change_password
    assert newcomer.check_password(factories.PASSWORD)
    assert not events("password_change")


@pytest.mark.django_db
def test_forced_change_works_and_clears_the_flag(client, newcomer, factories):
    client.force_login(newcomer)
    response = client.post(PASSWORD_PAGE, {"old_password": factories.PASSWORD, "new_password": "Fresh!Passw0rd9",
                                           "new_password_again": "Fresh!Passw0rd9"})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert not newcomer.must_change_password
    assert newcomer.check_password("Fresh!Passw0rd9")
    (event,) = events("password_change")
    assert event.actor == newcomer and event.object_id == str(newcomer.pk)
    assert client.get(reverse("accounts:profile")).status_code == 200  # session kept, no redirect any more
    assert client.get("/api/accounts/me").status_code == 200


@pytest.mark.django_db
def test_an_expired_password_must_be_changed(client, member, settings):
    User.objects.filter(pk=member.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS + 1))
    client.force_login(member)
    assert client.get(reverse("accounts:profile"))["Location"] == PASSWORD_PAGE
