"""The marketplace's indicator source respects the scope: a district's figure counts only the
contracts sold by organisations in that district, never the whole area's total."""

import datetime as dt
from decimal import Decimal

import pytest

from sciencecity.plans import sources
from sciencecity.transfer.models import TechContract
from tests.conftest import make_organisation

pytestmark = pytest.mark.django_db


def _contract(seller, buyer, amount: str, number: str, day=dt.date(2024, 6, 1)):
    return TechContract.objects.create(
        contract_type="development", seller=seller, buyer=buyer, title=f"合同{number}", amount=Decimal(amount),
        technical_income=Decimal(amount), registration_number=number, signed_on=day, registered_on=day,
        contract_file="transfer/contracts/x.pdf")


def test_contract_turnover_by_scope():
    guangming = make_organisation(district="光明区")
    nanshan = make_organisation(district="南山区")
    buyer = make_organisation(district="福田区")
    _contract(guangming, buyer, "3000", "GM-1")
    _contract(guangming, nanshan, "1000", "GM-2")
    _contract(nanshan, guangming, "5000", "NS-1")
    _contract(nanshan, guangming, "7000", "NS-OLD", day=dt.date(2023, 12, 31))
    turnover = sources.get("transfer.contract_turnover")
    whole, words = sources.compute(turnover, year=2024, scope="district")
    assert whole == 0.9 and "光明区" not in words
    value, words = sources.compute(turnover, year=2024, scope="光明区")
    assert value == 0.4 and "（卖方位于光明区）" in words
    assert sources.compute(turnover, year=2024, scope="南山区")[0] == 0.5
    assert sources.compute(turnover, year=2024, scope="宝安区")[0] == 0.0
    assert sources.compute(turnover, year=2024, scope="")[0] == 0.9
