"""TOTP two-factor authentication: mandatory roles, enrolment, the code after the password, recovery codes,
lockout, re-authentication ("sudo mode"), secrets at rest, the API, the offline reset command."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from sciencecity.accounts import services, two_factor
from sciencecity.accounts.models import RecoveryCode, TotpDevice, User
from sciencecity.engines import totp
from tests.accounts.accounts_helpers import events
from tests.two_factor_helpers import RECOVERY_CODES, device_secret, enrol_through_setup_page, next_code

PASSWORD = "Str0ng!Passw0rd"
LOGIN = reverse("accounts:login")
HOME = reverse("portal:home")
SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")
REAUTH = reverse("accounts:reauthenticate")
GRANT = reverse("accounts:role_grant")

pytestmark = pytest.mark.django_db


def password_login(client: Client, username: str, password: str = PASSWORD, next_url: str = ""):
    """The real password step (the login page); the second step is up to the test."""
    return client.post(LOGIN + (f"?next={next_url}" if next_url else ""),
                       {"username": username, "password": password})


def enrolled(factories, role="bureau_officer", **fields) -> tuple[User, str]:
    """A user of ``role`` with an authenticator enrolled through the real pages; returns (user, secret)."""
    user = factories.make_user(role, **fields)
    client = Client()
    password_login(client, user.username)
    secret = enrol_through_setup_page(client, user)
    return user, secret


# --- mandatory roles and enrolment
@pytest.mark.parametrize("role", ["system_admin", "security_admin", "audit_admin", "bureau_officer"])
def test_mandatory_roles_must_enrol_before_anything_else(client, factories, role):
    user = factories.make_user(role)
    response = password_login(client, user.username)
    assert response.status_code == 302
    for path in (HOME, reverse("accounts:profile"), "/registry/organisations/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(SETUP), path
    api = client.get("/api/accounts/me")
    assert api.status_code == 403 and api.json()["error"]["code"] == "two_factor_enrolment_required"
    assert client.get(SETUP).status_code == 200


def test_enrolment_shows_the_secret_once_and_stores_it_encrypted(client, factories):
    user = factories.make_user("security_admin")
    password_login(client, user.username)
    page = client.get(SETUP)
    secret, uri = page.context["secret"], page.context["uri"]
    html = page.content.decode()
    assert secret in html and "<svg" in html and "otpauth://totp/" in uri and f"secret={secret}" in uri
    assert "no-store" in page["Cache-Control"]
    assert client.get(SETUP).context["secret"] == secret  # a reload keeps the secret being set up

    wrong = client.post(SETUP, {"code": totp.totp(secret, 0)})
    assert wrong.status_code == 400 and wrong.context["form"].errors["code"]
    assert not TotpDevice.objects.exists()
    (failure,) = events("two_factor_failed")
    assert (failure.actor, failure.success, failure.reason) == (user, False, "enrolment: wrong code")

    done = client.post(SETUP, {"code": totp.totp(secret)})
    assert done.status_code == 200 and "no-store" in done["Cache-Control"]
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10 and all(c in done.content.decode() for c in codes)
    user.refresh_from_db()
    assert user.totp_enabled
    device = TotpDevice.objects.get(user=user)
    assert secret not in device.secret_encrypted and device.secret_encrypted.startswith("v1$")
    assert two_factor.decrypt_secret(device.secret_encrypted, user_id=user.pk) == secret
    stored = [h for h in RecoveryCode.objects.values_list("code_hash", flat=True)]
    assert len(stored) == 10 and not any(c in h or c.replace("-", "") in h for c in codes for h in stored)
    (event,) = events("two_factor_enrol")
    assert event.actor == user and event.changes == {"totp_enabled": [False, True], "recovery_codes": [None, 10]}
    assert secret not in json.dumps(event.changes) + event.reason
    assert client.get(HOME).status_code == 200
    assert client.get(SETUP).status_code == 302  # never shown again
    assert secret not in client.get(reverse("accounts:two_factor")).content.decode()


def test_a_ciphertext_does_not_decrypt_for_another_user_and_keys_rotate(factories, settings):
    user, secret = enrolled(factories)
    sealed = TotpDevice.objects.get(user=user).secret_encrypted
    with pytest.raises(ValueError):
        two_factor.decrypt_secret(sealed, user_id=user.pk + 1)
    settings.TWO_FACTOR_KEY = "a-new-key"
    settings.TWO_FACTOR_KEY_FALLBACKS = [settings.SECRET_KEY]
    assert two_factor.decrypt_secret(sealed, user_id=user.pk) == secret  # the old key still decrypts
    assert two_factor.encrypt_secret(secret, user_id=user.pk) != sealed
    settings.TWO_FACTOR_KEY_FALLBACKS = []
    with pytest.raises(ValueError):
        two_factor.decrypt_secret(sealed, user_id=user.pk)


def test_first_administrator_login_changes_the_password_then_enrols(client, db):
    (username, _role, one_time), *_ = services.administrators_bootstrap()
    response = password_login(client, username, one_time)
    assert client.get(HOME)["Location"] == reverse("accounts:password_change")
    new = "N3w!Secure-pass"
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": one_time, "new_password": new, "new_password_again": new})
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    secret = client.get(SETUP).context["secret"]
    assert client.post(SETUP, {"code": totp.totp(secret)}).status_code == 200
    assert client.get(HOME).status_code == 200


def test_optional_for_other_roles_and_enabled_from_the_profile(client, enterprise_user):
    password_login(client, enterprise_user.username)
    assert client.get(HOME).status_code == 200
    manage = client.get(reverse("accounts:two_factor"))
    assert manage.status_code == 200 and manage.context["enabled"] is False
    secret = enrol_through_setup_page(client, enterprise_user)
    client.post(reverse("accounts:logout"))
    password_login(client, enterprise_user.username)
    assert client.get(HOME)["Location"].startswith(VERIFY)  # enrolled: the code is now needed
    assert client.post(VERIFY, {"code": next_code(enterprise_user)}).status_code == 302
    assert device_secret(enterprise_user) == secret
    assert client.get(HOME).status_code == 200


def test_the_mandatory_roles_are_a_setting(client, bureau, settings):
    settings.TWO_FACTOR_MANDATORY_ROLES = ["system_admin"]
    password_login(client, bureau.username)
    assert client.get(HOME).status_code == 200


# --- the code after the password
def test_enrolled_users_give_a_code_before_anything_else(client, factories):
    user, secret = enrolled(factories)
    response = password_login(client, user.username, next_url="/registry/organisations/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.get("/api/accounts/me").json()["error"]["code"] == "two_factor_required"
    assert client.get(SETUP)["Location"].startswith(VERIFY)

    wrong = client.post(response["Location"], {"code": "000000" if totp.totp(secret) != "000000" else "111111"})
    assert wrong.status_code == 400 and wrong.context["form"].errors["code"] == ["The code is not right."]
    assert client.get(HOME)["Location"].startswith(VERIFY)
    (failure,) = events("two_factor_failed")
    assert (failure.actor, failure.reason) == (user, "login: wrong code")

    ok = client.post(response["Location"], {"code": next_code(user)})
    assert ok.status_code == 302 and ok["Location"] == "/registry/organisations/"
    assert client.get(HOME).status_code == 200
    assert client.get("/api/accounts/me").status_code == 200
    (event,) = events("two_factor_verify")
    assert event.actor == user and event.reason == "login"
    user.refresh_from_db()
    assert user.failed_code_count == 0


def test_a_code_is_accepted_once(factories):
    user, secret = enrolled(factories)
    code = next_code(user)
    first, second = Client(), Client()
    password_login(first, user.username)
    password_login(second, user.username)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    replay = second.post(VERIFY, {"code": code})
    assert replay.status_code == 400
    assert second.get(HOME)["Location"].startswith(VERIFY)


def test_a_recovery_code_works_once(client, factories):
    user, _secret = enrolled(factories)
    code = RECOVERY_CODES[user.pk][0]
    password_login(client, user.username)
    response = client.post(VERIFY, {"code": code.upper().replace("-", " ")}, follow=True)
    assert response.status_code == 200
    assert "9 are left" in response.content.decode()
    (event,) = events("recovery_code_use")
    assert event.changes == {"recovery_codes_left": [10, 9]} and event.reason == "login"
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1

    other = Client()
    password_login(other, user.username)
    assert other.post(VERIFY, {"code": code}).status_code == 400
    assert other.get(HOME)["Location"].startswith(VERIFY)


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, factories, settings):
    user, secret = enrolled(factories)
    wrong = "000000" if totp.totp(secret) != "000000" else "111111"
    password_login(client, user.username)
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert client.post(VERIFY, {"code": wrong}).status_code == 400
    # A correct password does not buy fresh guesses at the code.
    client.post(reverse("accounts:logout"))
    password_login(client, user.username)
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 302 and response["Location"] == LOGIN
    user.refresh_from_db()
    assert user.locked_until is not None
    assert client.get(reverse("accounts:profile"))["Location"].startswith(LOGIN)  # the session ended
    assert len(events("two_factor_failed")) == settings.LOGIN_MAX_FAILURES and len(events("locked")) == 1
    again = password_login(client, user.username)  # the right password: refused while locked, in the one answer
    assert again.status_code == 200 and "Wrong user name or password" in again.context["form"].non_field_errors()[0]
    assert not again.wsgi_request.user.is_authenticated


def test_a_new_login_starts_unverified(client, factories):
    user, _secret = enrolled(factories)
    password_login(client, user.username)
    client.post(VERIFY, {"code": next_code(user)})
    assert client.get(HOME).status_code == 200
    password_login(client, user.username)  # logging in again in the same browser
    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_api_tokens_work_without_the_second_step(client, factories):
    user, _secret = enrolled(factories, role="security_admin")
    _token, raw = services.api_token_create(user=user, name="script")
    response = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200 and response.json()["username"] == user.username


def test_a_junk_authorization_header_does_not_open_the_api_to_an_unverified_session(client, factories):
    user, _secret = enrolled(factories, role="security_admin")
    password_login(client, user.username)
    response = client.get("/api/accounts/me", HTTP_AUTHORIZATION="Bearer sct_not-a-token")
    assert response.status_code == 403 and response.json()["error"]["code"] == "two_factor_required"


# --- re-authentication (sudo mode)
def test_role_grant_asks_for_password_and_code_first(client, factories, settings):
    secadmin, secret = enrolled(factories, role="security_admin")
    newcomer = factories.make_user(username="newcomer")
    password_login(client, secadmin.username)
    client.post(VERIFY, {"code": next_code(secadmin)})
    response = client.get(GRANT)
    assert response.status_code == 302 and response["Location"] == f"{REAUTH}?next=%2Faccounts%2Froles%2Fgrant%2F"
    posted = client.post(GRANT, {"user": newcomer.pk, "role": "expert", "reason": "x"})
    assert posted.status_code == 302 and posted["Location"].startswith(REAUTH)
    assert not newcomer.memberships.exists()

    page = client.get(response["Location"])
    assert set(page.context["form"].fields) == {"password", "code"}
    refused = client.post(response["Location"], {"password": PASSWORD, "code": "12345"})
    assert refused.status_code == 400
    refused = client.post(response["Location"], {"password": "wrong", "code": next_code(secadmin)})
    assert refused.status_code == 400
    assert [e.reason for e in events("reauthenticate")] == ["wrong code", "wrong password"]
    assert all(not e.success for e in events("reauthenticate"))

    ok = client.post(response["Location"], {"password": PASSWORD, "code": next_code(secadmin)})
    assert ok.status_code == 302 and ok["Location"] == GRANT
    assert events("reauthenticate")[-1].success
    assert client.post(GRANT, {"user": newcomer.pk, "role": "expert", "reason": "x"}).status_code == 302
    assert newcomer.memberships.get().role == "expert"

    settings.REAUTHENTICATION_MINUTES = 0  # the window has passed
    assert client.get(GRANT)["Location"].startswith(REAUTH)


def test_reauthentication_without_a_device_asks_for_the_password(client, enterprise_user):
    password_login(client, enterprise_user.username)
    response = client.post(reverse("accounts:token_list"), {"name": "script"})
    assert response.status_code == 302 and response["Location"].startswith(REAUTH)
    page = client.get(response["Location"])
    assert set(page.context["form"].fields) == {"password"}
    assert client.post(response["Location"], {"password": PASSWORD}).status_code == 302
    created = client.post(reverse("accounts:token_list"), {"name": "script"})
    assert created.status_code == 200 and created.context["raw_token"].startswith("sct_")


def test_failed_reauthentications_lock_the_account(client, factories, settings):
    user, _secret = enrolled(factories)
    password_login(client, user.username)
    client.post(VERIFY, {"code": next_code(user)})
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert client.post(REAUTH, {"password": "wrong", "code": "123456"}).status_code == 400
    response = client.post(REAUTH, {"password": "wrong", "code": "123456"})
    assert response.status_code == 302 and response["Location"] == LOGIN
    user.refresh_from_db()
    assert user.locked_until is not None
    assert len(events("reauthenticate", success=False)) == settings.LOGIN_MAX_FAILURES
    assert not events("two_factor_failed") and len(events("locked")) == 1
    assert client.get(reverse("accounts:profile"))["Location"].startswith(LOGIN)


def test_api_role_grant_in_a_session_needs_reauthentication(client, factories):
    secadmin, _secret = enrolled(factories, role="security_admin")
    newcomer = factories.make_user(username="newcomer")
    password_login(client, secadmin.username)
    client.post(VERIFY, {"code": next_code(secadmin)})
    body = json.dumps({"user_id": newcomer.pk, "role": "expert"})
    response = client.post("/api/accounts/memberships", body, content_type="application/json")
    assert response.status_code == 403
    junk = client.post("/api/accounts/memberships", body, content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer sct_not-a-token")
    assert junk.status_code == 403 and not newcomer.memberships.exists()
    client.post(REAUTH, {"password": PASSWORD, "code": next_code(secadmin)})
    assert client.post("/api/accounts/memberships", body, content_type="application/json").status_code == 201


def test_regenerating_recovery_codes_needs_reauthentication_and_voids_the_old_ones(client, factories):
    user, _secret = enrolled(factories)
    old = list(RECOVERY_CODES[user.pk])
    password_login(client, user.username)
    client.post(VERIFY, {"code": next_code(user)})
    url = reverse("accounts:two_factor_recovery_codes")
    assert client.post(url)["Location"].startswith(REAUTH)
    client.post(REAUTH, {"password": PASSWORD, "code": old[0]})  # a recovery code also re-authenticates
    response = client.post(url)
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert "no-store" in response["Cache-Control"]
    (event,) = events("recovery_codes_regen")
    assert event.actor == user
    other = Client()
    password_login(other, user.username)
    assert other.post(VERIFY, {"code": old[1]}).status_code == 400
    assert other.post(VERIFY, {"code": new[0]}).status_code == 302


def test_disable_needs_reauthentication_and_mandatory_users_enrol_again(client, factories):
    user, _secret = enrolled(factories)
    password_login(client, user.username)
    client.post(VERIFY, {"code": next_code(user)})
    url = reverse("accounts:two_factor_disable")
    assert client.post(url)["Location"].startswith(REAUTH)
    client.post(REAUTH, {"password": PASSWORD, "code": next_code(user)})
    response = client.post(url)
    assert response["Location"] == SETUP
    user.refresh_from_db()
    assert not user.totp_enabled and not TotpDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert events("two_factor_disable")[0].actor == user
    assert client.get(HOME)["Location"].startswith(SETUP)  # no way around enrolling again


def test_optional_users_may_turn_it_off(client, enterprise_user):
    password_login(client, enterprise_user.username)
    enrol_through_setup_page(client, enterprise_user)
    client.post(REAUTH, {"password": PASSWORD, "code": next_code(enterprise_user)})
    response = client.post(reverse("accounts:two_factor_disable"))
    assert response["Location"] == reverse("accounts:two_factor")
    assert client.get(HOME).status_code == 200


def test_server_command_resets_a_lost_authenticator(factories):
    user, _secret = enrolled(factories, role="audit_admin")
    out = io.StringIO()
    call_command("two-factor", "status", user.username, stdout=out)
    assert "on (required by the role)" in out.getvalue() and "10 recovery codes left" in out.getvalue()
    call_command("two-factor", "reset", user.username, "--reason", "phone lost, ticket 42", stdout=out)
    user.refresh_from_db()
    assert not user.totp_enabled
    (event,) = events("two_factor_disable")
    assert event.actor is None and event.reason == "server command: phone lost, ticket 42"
    client = Client()
    password_login(client, user.username)
    assert client.get(HOME)["Location"].startswith(SETUP)


def test_device_secret_helper_reads_what_the_app_holds(factories):
    user, secret = enrolled(factories)
    assert device_secret(user) == secret
