"""三员分立 (issue 9, finding 1): no administrator changes another administrator's credentials alone.

A password reset or (de)activation of an administrator account needs a request by the security
administrator and an approval by a second administrator (neither the requester nor the target);
a lost password is also recoverable on the server with ``sciencecity accounts recover-admin``.
"""

from __future__ import annotations

import datetime as dt
import io
from html import escape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sciencecity.accounts import services
from sciencecity.accounts.models import AdminAccountChange, ApiToken, User
from tests.accounts.accounts_helpers import events

CHANGES = reverse("accounts:admin_change_list")
LOGIN = reverse("accounts:login")


def _detail(user):
    return reverse("accounts:user_detail", args=[user.pk])


def _decide(change):
    return reverse("accounts:admin_change_decide", args=[change.pk])


@pytest.fixture
def admins(sysadmin, secadmin, auditadmin):
    return {"sysadmin": sysadmin, "secadmin": secadmin, "auditadmin": auditadmin}


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["secadmin", "auditadmin", "sysadmin"])
def test_the_system_administrator_cannot_reset_an_administrator_password(login, admins, factories, target):
    """The reproduction: sysadmin POSTs action=reset_password on secadmin (and auditadmin, and itself)."""
    account = admins[target]
    response = login(admins["sysadmin"]).post(_detail(account), {"action": "reset_password",
                                                                  "reset-reason": "take over"})
    assert response.status_code == 403
    assert "password" not in response.context
    assert response.context["refused_forms"][0].non_field_errors() == [
        "This is an administrator account: its password and state change only with two people (a request by the "
        "security administrator, approved by another administrator)."]
    account.refresh_from_db()
    assert account.check_password(factories.PASSWORD) and not account.must_change_password
    (attempt,) = events("password_reset")
    assert (attempt.actor, attempt.object_id, attempt.success) == (admins["sysadmin"], str(account.pk), False)
    assert attempt.changes == {"attempted": "reset_password"}
    assert attempt.reason.startswith("refused") and attempt.reason.endswith("take over")
    # The reset never happened, so the old password still logs in and no account was taken over.
    assert Client().post(LOGIN, {"username": account.username, "password": factories.PASSWORD}).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["secadmin", "auditadmin"])
def test_the_system_administrator_cannot_deactivate_or_relink_an_administrator(login, admins, factories, target):
    account = admins[target]
    client = login(admins["sysadmin"])
    response = client.post(_detail(account), {"action": "set_active", "active-active": "no",
                                              "active-reason": "gone"})
    assert response.status_code == 403
    person = factories.make_person()
    response = client.post(_detail(account), {"action": "set_person", "person-person": person.code,
                                              "person-reason": "x"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.is_active and account.person_id is None
    assert [(e.changes["attempted"], e.success) for e in events("update")] == [("set_active", False),
                                                                              ("set_person", False)]


@pytest.mark.django_db
def test_the_user_page_of_an_administrator_offers_no_one_person_change(login, admins):
    html = login(admins["sysadmin"]).get(_detail(admins["secadmin"])).content.decode()
    assert 'data-testid="user-two-person"' in html
    assert 'data-testid="user-reset-password"' not in html and 'data-testid="user-set-active"' not in html


@pytest.mark.django_db
def test_ordinary_accounts_keep_the_one_person_reset(login, admins, enterprise_user):
    response = login(admins["sysadmin"]).post(_detail(enterprise_user), {"action": "reset_password",
                                                                          "reset-reason": "forgot"})
    assert response.status_code == 200
    enterprise_user.refresh_from_db()
    assert enterprise_user.check_password(response.context["password"])


@pytest.mark.django_db
def test_the_security_administrator_cannot_escalate_through_an_ordinary_reset(admins):
    """Neither does the service accept the security administrator as the one person."""
    with pytest.raises(PermissionDenied):
        services.user_password_reset(actor=admins["secadmin"], user=admins["auditadmin"], reason="x")
    assert not events("password_reset")


@pytest.mark.django_db
def test_two_person_password_reset_end_to_end(admins, factories):
    secadmin, sysadmin, auditadmin = admins["secadmin"], admins["sysadmin"], admins["auditadmin"]
    _token, raw = services.api_token_create(user=auditadmin, name="reports")
    requester, approver, holder = Client(), Client(), Client()
    requester.force_login(secadmin)
    approver.force_login(sysadmin)
    holder.force_login(auditadmin)

    page = requester.get(CHANGES)
    assert page.status_code == 200
    assert set(page.context["form"].fields["target"].queryset) == {sysadmin, auditadmin}  # never oneself
    response = requester.post(CHANGES, {"target": auditadmin.pk, "kind": "reset_password",
                                        "reason": "lost the phone"})
    assert response.status_code == 302
    change = AdminAccountChange.objects.get()
    assert (change.state, change.requested_by, change.target) == ("requested", secadmin, auditadmin)
    auditadmin.refresh_from_db()
    assert auditadmin.check_password(factories.PASSWORD)  # nothing happens on the request alone

    # Neither the requester nor the target approves; an ordinary user cannot even see the page.
    assert requester.post(_decide(change), {"decision": "approve"}).status_code == 403
    assert holder.post(_decide(change), {"decision": "approve"}).status_code == 403
    outsider = Client()
    outsider.force_login(factories.make_user("bureau_officer"))
    assert outsider.get(CHANGES).status_code == 403
    assert outsider.post(_decide(change), {"decision": "approve"}).status_code == 403
    change.refresh_from_db()
    assert change.state == "requested"

    page = approver.get(CHANGES)
    assert f'data-testid="admin-change-approve-{change.pk}"' in page.content.decode()
    response = approver.post(_decide(change), {"decision": "approve"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = response.context["password"]
    assert escape(password) in response.content.decode()
    auditadmin.refresh_from_db()
    assert auditadmin.check_password(password) and auditadmin.must_change_password
    change.refresh_from_db()
    assert (change.state, change.decided_by) == ("approved", sysadmin)

    # The holder's old session and token end with the reset.
    assert holder.get(reverse("accounts:profile")).status_code == 302
    assert Client().get("/api/accounts/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401

    (requested,) = events("create", object_type="accounts.adminaccountchange")
    assert (requested.actor, requested.reason) == (secadmin, "lost the phone")
    assert requested.changes["kind"] == [None, "reset_password"]
    refused, (decided,) = events("transition", success=False), events("transition", success=True)
    assert [(e.actor, e.changes) for e in refused] == [(secadmin, {"attempted": "approve"}),
                                                      (auditadmin, {"attempted": "approve"})]
    assert (decided.actor, decided.changes) == (sysadmin, {"state": ["requested", "approved"]})
    (reset,) = events("password_reset")
    assert (reset.actor, reset.object_id, reset.success) == (sysadmin, str(auditadmin.pk), True)
    assert reset.changes == {"change": change.pk, "requested_by": secadmin.username}
    assert password not in str([e.changes for e in events("password_reset")])
    assert approver.post(_decide(change), {"decision": "approve"}).status_code == 302  # decided: no second reset
    assert len(events("password_reset")) == 1


@pytest.mark.django_db
def test_two_person_deactivation_and_activation(admins):
    secadmin, sysadmin, auditadmin = admins["secadmin"], admins["sysadmin"], admins["auditadmin"]
    change = services.admin_change_request(actor=secadmin, target=sysadmin, kind="deactivate", reason="left")
    assert services.admin_change_approve(actor=auditadmin, change=change) is None
    sysadmin.refresh_from_db()
    assert not sysadmin.is_active
    back = services.admin_change_request(actor=secadmin, target=sysadmin, kind="activate", reason="back")
    services.admin_change_approve(actor=auditadmin, change=back)
    sysadmin.refresh_from_db()
    assert sysadmin.is_active
    assert [e.changes["is_active"] for e in events("update")] == [[True, False], [False, True]]
    assert all(e.actor == auditadmin for e in events("update"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "target", "kind", "message"),
    [
        ("secadmin", "secadmin", "reset_password", "Nobody requests a change of their own administrator account"),
        ("secadmin", "ent", "reset_password", "This is not an administrator account"),
        ("secadmin", "auditadmin", "activate", "The account is already active."),
    ],
)
def test_requests_that_are_refused(admins, enterprise_user, actor, target, kind, message):
    accounts = {**admins, "ent": enterprise_user}
    with pytest.raises(ValidationError) as exc:
        services.admin_change_request(actor=accounts[actor], target=accounts[target], kind=kind, reason="r")
    assert message in " ".join(exc.value.messages)
    assert not AdminAccountChange.objects.exists() and not events("create")


@pytest.mark.django_db
def test_only_the_security_administrator_requests(login, admins):
    client = login(admins["sysadmin"])
    assert client.get(CHANGES).context["form"] is None
    response = client.post(CHANGES, {"target": admins["auditadmin"].pk, "kind": "reset_password", "reason": "x"})
    assert response.status_code == 403
    assert not AdminAccountChange.objects.exists()


@pytest.mark.django_db
def test_an_expired_request_cannot_be_approved_and_the_requester_can_withdraw(admins, login, settings):
    change = services.admin_change_request(actor=admins["secadmin"], target=admins["auditadmin"],
                                           kind="reset_password", reason="r")
    AdminAccountChange.objects.filter(pk=change.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=settings.ADMIN_CHANGE_REQUEST_HOURS, seconds=1))
    client = login(admins["sysadmin"])
    response = client.post(_decide(change), {"decision": "approve"}, follow=True)
    assert "This request has expired; ask for a new one." in response.content.decode()
    assert not events("password_reset")

    fresh = services.admin_change_request(actor=admins["secadmin"], target=admins["auditadmin"],
                                          kind="reset_password", reason="again")
    client.force_login(admins["secadmin"])
    assert client.post(_decide(fresh), {"decision": "decline", "reason": "not needed"}).status_code == 302
    fresh.refresh_from_db()
    assert (fresh.state, fresh.decided_by) == ("declined", admins["secadmin"])
    (event,) = events("transition")
    assert event.changes == {"state": ["requested", "declined"]} and event.reason == "not needed"


@pytest.mark.django_db
def test_the_same_change_cannot_be_requested_twice_while_pending(admins):
    services.admin_change_request(actor=admins["secadmin"], target=admins["auditadmin"], kind="reset_password",
                                  reason="r")
    with pytest.raises(ValidationError):
        services.admin_change_request(actor=admins["secadmin"], target=admins["auditadmin"],
                                      kind="reset_password", reason="r")
    assert AdminAccountChange.objects.count() == 1


@pytest.mark.django_db
def test_offline_recovery_command(admins, factories):
    secadmin = admins["secadmin"]
    User.objects.filter(pk=secadmin.pk).update(is_active=False, locked_until=timezone.now() + dt.timedelta(hours=1))
    services.api_token_create(user=secadmin, name="old")
    out = io.StringIO()
    call_command("accounts", "recover-admin", secadmin.username, "--reason", "ticket 42", stdout=out)
    password = out.getvalue().strip().splitlines()[-1]
    secadmin.refresh_from_db()
    assert secadmin.check_password(password) and secadmin.must_change_password
    assert secadmin.is_active and secadmin.locked_until is None
    assert not ApiToken.objects.filter(user=secadmin, revoked_at__isnull=True).exists()
    (reset,) = events("password_reset")
    assert (reset.channel, reset.actor, reset.reason) == ("cli", None, "ticket 42")
    assert reset.changes["offline_recovery"] is True and reset.changes["operator"]
    (activated,) = events("update")
    assert activated.channel == "cli" and activated.changes["is_active"] == [False, True]
    assert Client().post(LOGIN, {"username": secadmin.username, "password": password}).status_code == 302


@pytest.mark.django_db
def test_offline_recovery_refuses_ordinary_and_unknown_accounts(enterprise_user):
    for name in (enterprise_user.username, "no_such_admin"):
        with pytest.raises(CommandError, match="is not an administrator account"):
            call_command("accounts", "recover-admin", name, "--reason", "x", stdout=io.StringIO())
    assert not events("password_reset")


@pytest.mark.django_db
def test_lifting_an_administrator_login_lock_is_not_a_credential_change(login, admins, factories):
    """Unlocking changes no password: the system administrator may lift a lock on another administrator."""
    secadmin = admins["secadmin"]
    for _ in range(5):
        Client().post(LOGIN, {"username": secadmin.username, "password": "Wr0ng!Password"}, REMOTE_ADDR="203.0.113.5")
    response = login(admins["sysadmin"]).post(_detail(secadmin), {"action": "unlock", "unlock-reason": "helpdesk"})
    assert response.status_code == 302
    secadmin.refresh_from_db()
    assert secadmin.check_password(factories.PASSWORD)
    assert Client().post(LOGIN, {"username": secadmin.username, "password": factories.PASSWORD},
                         REMOTE_ADDR="203.0.113.5").status_code == 302
