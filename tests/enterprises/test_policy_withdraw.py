"""撤回: a policy is withdrawn with a reason, audited as a state change; its matches and "my policies"
entries go; refusals (no reason, twice, not the bureau) change nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.enterprises.policies import selectors, services
from sciencecity.enterprises.policies.models import Policy, PolicyMatch
from tests.conftest import make_user
from tests.enterprises.policy_factories import make_enterprise

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(bureau):
    today = timezone.localdate()
    return services.policy_create(actor=bureau, code="P-W", title="研发补助", issuer="光明区科技创新局",
                                  valid_from=today - dt.timedelta(days=10), valid_until=today + dt.timedelta(days=100),
                                  benefit="补助", amount_formula="10", rule="revenue >= 1000", status="published")


@pytest.fixture
def rich(db):
    return make_enterprise(name="甲科技", sales="5000")


def test_withdraw_is_audited_and_removes_the_matches(bureau, rich, policy):
    services.policy_matches_refresh(actor=bureau)
    assert PolicyMatch.objects.filter(policy=policy).count() == 1
    assert [m.policy.code for m in selectors.policies_for(rich.pk)[0]] == ["P-W"]
    services.policy_withdraw(actor=bureau, policy=policy, reason="上级文件废止")
    policy.refresh_from_db()
    assert policy.status == "withdrawn"
    event = AuditEvent.objects.get(object_type="enterprises.policy", object_id=str(policy.pk),
                                   action=AuditAction.TRANSITION)
    assert event.changes == {"status": ["published", "withdrawn"], "matches_removed": 1}
    assert event.reason == "上级文件废止"
    assert not PolicyMatch.objects.filter(policy=policy).exists()
    assert selectors.policies_for(rich.pk)[0] == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_withdrawal_without_reason_is_refused(bureau, policy, reason):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.policy_withdraw(actor=bureau, policy=policy, reason=reason)
    assert "reason" in refused.value.message_dict
    assert Policy.objects.get(pk=policy.pk).status == "published"
    assert AuditEvent.objects.count() == before


def test_withdrawing_twice_is_refused(bureau, policy):
    services.policy_withdraw(actor=bureau, policy=policy, reason="废止")
    with pytest.raises(ValidationError) as refused:
        services.policy_withdraw(actor=bureau, policy=policy, reason="again")
    assert "status" in refused.value.message_dict
    assert AuditEvent.objects.filter(action=AuditAction.TRANSITION).count() == 1


@pytest.mark.parametrize("role", [Role.ENTERPRISE_USER, Role.DEPARTMENT_OFFICER, Role.SYSTEM_ADMIN])
def test_only_the_bureau_withdraws(policy, role):
    with pytest.raises(PermissionDenied):
        services.policy_withdraw(actor=make_user(role), policy=policy, reason="x")
    assert Policy.objects.get(pk=policy.pk).status == "published"


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("enterprise", 403), ("bureau", 302)])
def test_the_withdraw_form(client, bureau, policy, who, status):
    if who == "bureau":
        client.force_login(bureau)
        page = client.get(f"/enterprises/policies/{policy.pk}/").content.decode()
        assert 'data-testid="policy-withdraw"' in page
    elif who == "enterprise":
        client.force_login(make_user(Role.ENTERPRISE_USER))
    response = client.post(f"/enterprises/policies/{policy.pk}/withdraw/", {"reason": "废止"})
    assert response.status_code == status
    assert Policy.objects.get(pk=policy.pk).status == ("withdrawn" if who == "bureau" else "published")
    if who == "bureau":
        page = client.get(f"/enterprises/policies/{policy.pk}/").content.decode()
        assert 'data-testid="policy-withdraw"' not in page


def test_the_form_without_reason_shows_the_message(client, bureau, policy):
    client.force_login(bureau)
    response = client.post(f"/enterprises/policies/{policy.pk}/withdraw/", {"reason": ""}, follow=True)
    assert Policy.objects.get(pk=policy.pk).status == "published"
    assert "请说明撤回政策的原因。" in response.content.decode()  # zh-hans, the default language
