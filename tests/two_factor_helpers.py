"""The second login step for tests: enrol through the real setup page, or give the real verify page a code.

Tests compute codes the way an authenticator app does (``engines.totp``) from the secret the setup
page shows, or, for an account enrolled earlier, from the stored device (decrypted with the
server key, as the server itself does). A code is accepted once, so a user who logs in several
times within one 30-second step gets the next step's code (the ±1 step window), then a recovery code.
"""

from __future__ import annotations

import time

from django.test import Client

from sciencecity.accounts import two_factor
from sciencecity.accounts.models import TotpDevice, User
from sciencecity.engines import totp

SETUP_URL = "/accounts/two-factor/setup/"
VERIFY_URL = "/accounts/two-factor/verify/"
REAUTHENTICATE_URL = "/accounts/reauthenticate/"

#: Recovery codes seen at enrolment, per user id (they are shown once, like to a real user).
RECOVERY_CODES: dict[int, list[str]] = {}

#: Django's own ``Client.force_login`` (tests/conftest.py makes ``force_login`` also do the second step).
password_only_force_login = Client.force_login


def device_secret(user: User) -> str:
    device = TotpDevice.objects.get(user=user)
    return two_factor.decrypt_secret(device.secret_encrypted, user_id=user.pk)


def next_code(user: User) -> str:
    """A code the server will accept now for ``user``: a TOTP code not used yet, else a recovery code."""
    device = TotpDevice.objects.get(user=user)
    secret = two_factor.decrypt_secret(device.secret_encrypted, user_id=user.pk)
    now_step = totp.time_step()
    for step in (now_step, now_step + 1):
        if device.last_used_step is None or step > device.last_used_step:
            return totp.hotp(secret, step)
    codes = RECOVERY_CODES.get(user.pk)
    if not codes:
        codes = RECOVERY_CODES[user.pk] = two_factor.recovery_codes_regenerate(user=user)
    return codes.pop()


def _with_csrf(client: Client, data: dict[str, str]) -> dict[str, str]:
    """Add the CSRF token a page just set (clients made with ``enforce_csrf_checks`` need it)."""
    cookie = client.cookies.get("csrftoken")
    return {**data, "csrfmiddlewaretoken": cookie.value} if cookie else data


def enrol_through_setup_page(client: Client, user: User) -> str:
    """Enrol an authenticator for the logged-in ``user`` via the setup page; returns the secret."""
    response = client.get(SETUP_URL)
    assert response.status_code == 200, response.status_code
    secret = response.context["secret"]
    response = client.post(SETUP_URL, _with_csrf(client, {"code": totp.totp(secret, time.time())}))
    assert response.status_code == 200 and "codes" in response.context, response.status_code
    RECOVERY_CODES[user.pk] = list(response.context["codes"])
    user.totp_enabled = True
    return secret


def complete_second_factor(client: Client, user: User) -> None:
    """The second step of a login, for users who need one (enrolled, or in a role that requires 2FA)."""
    user.refresh_from_db(fields=["totp_enabled"])
    user._role_cache = None
    if not two_factor.two_factor_required(user):
        return
    if not user.totp_enabled:
        enrol_through_setup_page(client, user)
        return
    client.get(VERIFY_URL)
    response = client.post(VERIFY_URL, _with_csrf(client, {"code": next_code(user)}))
    assert response.status_code == 302, (response.status_code, getattr(response, "context", None) and
                                         response.context["form"].errors)


def login_with_second_factor(client: Client, user: User, backend: str | None = None) -> None:
    """Log ``user`` in as a browser would end up: password step (``force_login``) and the second step."""
    password_only_force_login(client, user, backend)
    complete_second_factor(client, user)


def reauthenticate(client: Client, user: User, password: str) -> None:
    """Re-authenticate the session (sudo mode) through the real page: password, and a code when enrolled."""
    user.refresh_from_db(fields=["totp_enabled"])
    data = {"password": password}
    if user.totp_enabled:
        data["code"] = next_code(user)
    client.get(REAUTHENTICATE_URL)
    response = client.post(REAUTHENTICATE_URL, _with_csrf(client, data))
    assert response.status_code == 302, response.status_code
