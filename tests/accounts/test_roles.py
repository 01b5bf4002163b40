"""Role pages (安全管理员): list, grant with 三员分立 checks, revoke with a reason, the login policy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sciencecity.accounts.models import Membership
from tests.accounts.accounts_helpers import events

GRANT = reverse("accounts:role_grant")
ROLES = reverse("accounts:role_list")
SEPARATION = "Administrator roles are held alone (separation of duties): this account already holds"
NO_BUSINESS = "This account holds an administrator role and cannot also hold a business role."


@pytest.fixture
def login(login, reauthenticate):
    """Role changes need a fresh re-authentication (sudo mode): these tests log in, then confirm."""

    def _login(user):
        client = login(user)
        reauthenticate(user)
        return client

    return _login


def _grant(client, user, role, organisation=None, reason=""):
    return client.post(GRANT, {"user": user.pk, "role": role, "organisation": getattr(organisation, "pk", ""),
                               "reason": reason})


@pytest.mark.django_db
def test_grant_a_business_role_in_an_organisation(login, secadmin, factories, organisation):
    newcomer = factories.make_user(username="newcomer")
    response = _grant(login(secadmin), newcomer, "enterprise_user", organisation, "joined the company")
    assert response.status_code == 302
    assert response["Location"] == f"{ROLES}?user_q=newcomer"
    membership = Membership.objects.get(user=newcomer)
    assert (membership.role, membership.organisation, membership.granted_by) == (
        "enterprise_user", organisation, secadmin)
    (event,) = events("role_grant")
    assert (event.actor, event.object_id, event.reason) == (secadmin, str(newcomer.pk), "joined the company")
    assert event.changes == {"role": [None, "enterprise_user"], "organisation": [None, organisation.pk]}
    # issue 11 obs. 9: the security administrator acts for no organisation; the target's is in the changes
    assert (event.acting_organisation_id, event.acting_organisation_name) == (None, "")


@pytest.mark.django_db
def test_grant_an_administrator_role_without_organisation(login, secadmin, factories, organisation):
    newcomer = factories.make_user(username="newcomer")
    client = login(secadmin)
    response = _grant(client, newcomer, "audit_admin", organisation)
    assert response.status_code == 400
    assert response.context["form"].errors["organisation"] == ["Administrator roles are held without an organisation."]
    assert _grant(client, newcomer, "audit_admin").status_code == 302
    assert list(newcomer.memberships.values_list("role", "organisation")) == [("audit_admin", None)]


@pytest.mark.django_db
def test_a_business_role_needs_an_organisation(login, secadmin, factories):
    newcomer = factories.make_user(username="newcomer")
    response = _grant(login(secadmin), newcomer, "enterprise_user")
    assert response.status_code == 400
    assert response.context["form"].errors["organisation"] == ["The role Enterprise user is held in an organisation."]
    assert not newcomer.memberships.exists() and not events("role_grant")


@pytest.mark.django_db
def test_separation_of_duties_audit_admin_for_a_system_admin(login, secadmin, sysadmin):
    response = _grant(login(secadmin), sysadmin, "audit_admin")
    assert response.status_code == 400
    (message,) = response.context["form"].errors["role"]
    assert message == f"{SEPARATION} System administrator."
    assert SEPARATION in response.content.decode()
    assert list(sysadmin.memberships.values_list("role", flat=True)) == ["system_admin"]
    assert not events("role_grant")


@pytest.mark.django_db
def test_separation_of_duties_business_role_for_an_admin(login, secadmin, auditadmin, organisation):
    response = _grant(login(secadmin), auditadmin, "enterprise_user", organisation)
    assert response.status_code == 400
    assert response.context["form"].errors["role"] == [NO_BUSINESS]
    assert NO_BUSINESS in response.content.decode()
    assert auditadmin.memberships.count() == 1 and not events("role_grant")


@pytest.mark.django_db
def test_separation_of_duties_admin_role_for_a_business_user(login, secadmin, enterprise_user):
    response = _grant(login(secadmin), enterprise_user, "system_admin")
    assert response.status_code == 400
    assert response.context["form"].errors["role"] == [f"{SEPARATION} Enterprise user."]


@pytest.mark.django_db
def test_nobody_grants_a_role_to_themselves(login, secadmin):
    response = _grant(login(secadmin), secadmin, "security_admin")
    assert response.status_code == 400
    assert response.context["form"].errors["user"] == ["Nobody grants roles to themselves."]
    assert "Nobody grants roles to themselves." in response.content.decode()
    assert secadmin.memberships.count() == 1 and not events("role_grant")


@pytest.mark.django_db
def test_a_held_role_cannot_be_granted_twice(login, secadmin, enterprise_user):
    membership = enterprise_user.memberships.get()
    response = _grant(login(secadmin), enterprise_user, "enterprise_user", membership.organisation)
    assert response.context["form"].errors["role"] == ["The account already holds this role."]
    assert enterprise_user.memberships.count() == 1


@pytest.mark.django_db
def test_grant_pickers_search_accounts_and_organisations(login, secadmin, factories):
    wanted = factories.make_organisation(name="光明科学城实验室", kind="laboratory")
    factories.make_organisation(name="别的公司")
    account = factories.make_user(username="wang_wu", display_name="王五")
    client = login(secadmin)
    form = client.get(GRANT).context["form"]
    assert [c for c in form.fields["organisation"].choices] == [("", "(none)")]
    form = client.get(GRANT, {"organisation_q": "科学城", "user_q": "王五"}).context["form"]
    organisation_choices = [value for value, _ in form.fields["organisation"].choices]
    assert organisation_choices == ["", wanted.pk]
    assert [value for value, _ in form.fields["user"].choices] == ["", account.pk]
    form = client.get(GRANT, {"user": account.pk}).context["form"]
    assert form.initial["user"] == account.pk
    assert [value for value, _ in form.fields["user"].choices] == ["", account.pk]


@pytest.mark.django_db
def test_role_list_filters_and_login_policy(login, secadmin, enterprise_user, other_enterprise_user, bureau, settings):
    client = login(secadmin)
    response = client.get(ROLES)
    assert {m.user.username for m in response.context["page"]} == {
        "secadmin_t", "ent_user", "other_user", "officer"}
    assert [m.user.username for m in client.get(ROLES, {"role": "bureau_officer"}).context["page"]] == ["officer"]
    assert [m.user.username for m in client.get(ROLES, {"user_q": "other"}).context["page"]] == ["other_user"]
    organisation = enterprise_user.memberships.get().organisation
    found = client.get(ROLES, {"organisation_q": organisation.name}).context["page"]
    assert [m.user.username for m in found] == ["ent_user"]

    policy = response.context["policy"]
    assert (policy.password_min_length, policy.password_max_age_days, policy.login_max_failures,
            policy.login_lockout_minutes, policy.session_idle_timeout_minutes, policy.audit_retention_days) == (
        settings.PASSWORD_MIN_LENGTH, settings.PASSWORD_MAX_AGE_DAYS, settings.LOGIN_MAX_FAILURES,
        settings.LOGIN_LOCKOUT_MINUTES, settings.SESSION_IDLE_TIMEOUT_MINUTES, settings.AUDIT_RETENTION_DAYS)
    html = response.content.decode()
    assert 'data-testid="login-policy"' in html
    for text in ("30 minutes", "90 days", f"{settings.AUDIT_RETENTION_DAYS} days"):
        assert text in html
    assert "<input" not in html.split('data-testid="login-policy"')[1].split("</dl>")[0]  # read-only


@pytest.mark.django_db
def test_revoke_needs_a_reason_and_is_audited(login, secadmin, enterprise_user):
    membership = enterprise_user.memberships.get()
    url = reverse("accounts:role_revoke", args=[membership.pk])
    client = login(secadmin)
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    assert Membership.objects.filter(pk=membership.pk).exists() and not events("role_revoke")

    response = client.post(url, {"reason": "left the company"})
    assert response.status_code == 302 and response["Location"] == ROLES
    assert not Membership.objects.filter(pk=membership.pk).exists()
    (event,) = events("role_revoke")
    assert (event.actor, event.object_id, event.reason) == (secadmin, str(enterprise_user.pk), "left the company")
    assert event.changes == {"role": ["enterprise_user", None], "organisation": [membership.organisation_id, None]}
    assert client.post(url, {"reason": "again"}).status_code == 404


@pytest.mark.django_db
def test_grant_form_chooses_no_role_in_advance_and_refuses_a_missing_role(login, secadmin, factories, organisation):
    newcomer = factories.make_user(username="newcomer")
    client = login(secadmin)
    form = client.get(GRANT).context["form"]
    assert form["role"].value() is None and form.fields["role"].choices[0] == ("", "---------")
    response = _grant(client, newcomer, "", organisation)
    assert response.status_code == 400 and "role" in response.context["form"].errors
    assert not newcomer.memberships.exists() and not events("role_grant")


@pytest.mark.django_db
def test_grant_organisation_picker_lists_the_departments_before_any_search_and_narrows_as_one_types(
        login, secadmin, factories):
    statistics = factories.make_organisation(name="光明区统计局", kind="government_department")
    bureau = factories.make_organisation(name="光明区科技创新局", kind="government_department")
    laboratory = factories.make_organisation(name="光明实验室", kind="laboratory")
    client = login(secadmin)
    form = client.get(GRANT).context["form"]
    assert [value for value, _ in form.fields["organisation"].choices] == ["", bureau.pk, statistics.pk]  # by name: 科 (U+79D1) before 统 (U+7EDF)
    page = client.get(GRANT).content.decode()
    assert 'hx-get="/accounts/roles/grant/"' in page and 'hx-select="#id_organisation"' in page
    swapped = client.get(GRANT, {"organisation_q": "实验室"}, HTTP_HX_REQUEST="true")
    assert [value for value, _ in swapped.context["form"].fields["organisation"].choices] == ["", laboratory.pk]
