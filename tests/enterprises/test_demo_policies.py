"""``sciencecity demo-policies``: labelled synthetic rows whose rules all validate, idempotent."""

import io

import pytest
from django.core.management import call_command

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.enterprises.models import FinanceMatch, FinancialProduct, FinancingNeed, Policy, PolicyMatch
from tests.conftest import make_organisation
from tests.enterprises.policy_factories import certified_recently, make_enterprise

pytestmark = pytest.mark.django_db


def test_demo_policies_are_labelled_valid_and_idempotent():
    make_organisation(kind="bank", name="演示银行")
    make_organisation(kind="investment_fund", name="演示基金")
    for i in range(6):
        make_enterprise(name=f"演示企业{i}", sales=str(1000 * (i + 1)), rd=str(60 * (i + 1)),
                        hnte_issued=certified_recently() if i % 2 else None)
    out = io.StringIO()
    call_command("demo-policies", stdout=out)
    assert Policy.objects.count() == 16 and FinancialProduct.objects.count() == 6
    assert all(p.is_synthetic and p.title.startswith("【演示】") for p in Policy.objects.all())
    assert FinancingNeed.objects.filter(is_synthetic=True).count() == 6
    assert FinanceMatch.objects.count() == 4  # every third need is left open
    # 高企认定奖励: the three certified ones; 研发投入补助: R&D ≥ 100 and ≥ 3 % of sales: all but the first (60)
    assert PolicyMatch.objects.filter(policy__code="DEMO-P01").count() == 3
    assert PolicyMatch.objects.filter(policy__code="DEMO-P02").count() == 5
    assert AuditEvent.objects.filter(action=AuditAction.GENERATE, object_id="demo-20261207").count() == 1
    call_command("demo-policies", stdout=io.StringIO())
    assert Policy.objects.count() == 16 and FinanceMatch.objects.count() == 4
    assert AuditEvent.objects.filter(action=AuditAction.GENERATE, object_id="demo-20261207").count() == 1
