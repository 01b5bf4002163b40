"""Tech finance: products on the rule engine, needs, matching both ways, the pipeline as a state
machine (transitions, permissions matrix, audit) feeding the finance indicator source, growth API."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.enterprises.finance import selectors, services
from sciencecity.enterprises.finance.choices import MatchState
from sciencecity.enterprises.finance.indicator_sources import finance_funded
from sciencecity.enterprises.finance.models import FinanceMatch
from sciencecity.plans import sources
from tests.conftest import make_organisation, make_user
from tests.enterprises.policy_factories import certified_recently, make_enterprise

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(bureau):
    bank = make_organisation(name="光明银行", kind="bank", code="BANK-1")
    other_bank = make_organisation(name="别的银行", kind="bank", code="BANK-2")
    good = make_enterprise(name="甲科技", sales="5000", rd="250", hnte_issued=certified_recently(),
                           previous_sales=["4000", "4500"])
    small = make_enterprise(name="乙科技", sales="800", rd="10")
    w = {
        "bureau": bureau, "bank": bank, "good": good, "small": small,
        "banker": make_user(Role.INVESTOR, bank), "other_banker": make_user(Role.INVESTOR, other_bank),
        "owner": make_user(Role.ENTERPRISE_USER, good), "stranger": make_user(Role.ENTERPRISE_USER, small),
    }
    w["loan"] = services.product_create(actor=bureau, provider=bank, code="IPL-1", name="知识产权质押贷",
                                        kind="ip_pledge", min_amount=Decimal(100), max_amount=Decimal(1000),
                                        rule='revenue >= 1000 and has_cert("hnte")')
    w["fund"] = services.product_create(actor=bureau, provider=bank, code="EQ-1", name="天使基金", kind="equity_fund",
                                        rule="revenue >= 100")
    w["need"] = services.need_create(actor=w["owner"], organisation=good, amount=Decimal(500), purpose="扩产",
                                     kind="ip_pledge")
    return w


def test_a_product_rule_is_validated_like_a_policy(world):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.product_create(actor=world["bureau"], provider=world["bank"], code="X", name="X", kind="credit_loan",
                                rule='revenue >= "多"')
    assert "«revenue >= \"多\"»" in caught.value.message_dict["rule"][0]


def test_matching_both_ways(world):
    fits, nearly = selectors.products_for_need(world["need"])
    assert [f.product.code for f in fits] == ["IPL-1"]  # the fund is another kind
    assert nearly == []
    assert [f.need.code for f in selectors.needs_for_product(world["loan"])] == [world["need"].code]
    small_need = services.need_create(actor=world["stranger"], organisation=world["small"], amount=Decimal(200),
                                      purpose="周转", kind="ip_pledge")
    fits, nearly = selectors.products_for_need(small_need)
    assert fits == []
    assert [(f.product.code, [u.clause for u in f.unmet]) for f in nearly] == [
        ("IPL-1", ["revenue >= 1000", 'has_cert("hnte", on=today)'])]
    assert [f.need.code for f in selectors.needs_for_product(world["loan"])] == [world["need"].code]


def test_the_pipeline_to_funding_is_audited_and_feeds_the_indicator(world):
    match = services.match_request(actor=world["owner"], need=world["need"], product=world["loan"])
    assert match.state == MatchState.REQUESTED
    match = services.match_introduce(actor=world["bureau"], match=match)
    match = services.match_start_due_diligence(actor=world["banker"], match=match)
    today = timezone.localdate()
    match = services.match_fund(actor=world["banker"], match=match, amount=Decimal("450.50"), funded_on=today)
    assert (match.state, match.funded_amount, match.funded_on) == (MatchState.FUNDED, Decimal("450.50"), today)
    transitions = AuditEvent.objects.filter(object_type="enterprises.financematch", action=AuditAction.TRANSITION)
    assert [e.changes["state"] for e in transitions.order_by("id")] == [
        ["requested", "introduced"], ["introduced", "due_diligence"], ["due_diligence", "funded"]]
    # 450.50 万元 = 0.04505 亿元
    assert finance_funded(today.year, "district")[0] == 0.0451  # 450.50 万元 → 0.04505 亿元, 4 decimals
    assert finance_funded(today.year - 1, "district")[0] == 0
    assert sources.get("enterprises.finance_funded") is not None


def test_indicator_rounds_to_four_decimals(world):
    match = services.match_request(actor=world["bureau"], need=world["need"], product=world["loan"])
    FinanceMatch.objects.filter(pk=match.pk).update(state=MatchState.FUNDED, funded_amount=Decimal("12345"),
                                                    funded_on=dt.date(2025, 3, 1))
    assert finance_funded(2025, "district") == (1.2345, "enterprises: tech-finance matches funded in 2025 "
                                                        "(sum of funded amounts, 亿元)")
    assert finance_funded(2025, "南山区")[0] == 0  # the enterprise is in 光明区


def test_invalid_transitions_and_bad_input_change_nothing(world):
    match = services.match_request(actor=world["owner"], need=world["need"], product=world["loan"])
    with pytest.raises(ValidationError):
        services.match_fund(actor=world["banker"], match=match, amount=Decimal(100))  # not yet in due diligence
    services.match_introduce(actor=world["bureau"], match=match)
    services.match_start_due_diligence(actor=world["banker"], match=match)
    for amount in (Decimal(0), Decimal(-5), "abc"):
        with pytest.raises(ValidationError):
            services.match_fund(actor=world["banker"], match=match, amount=amount)
    with pytest.raises(ValidationError):
        services.match_fund(actor=world["banker"], match=match, amount=Decimal(1),
                            funded_on=timezone.localdate() + dt.timedelta(days=3))
    with pytest.raises(ValidationError):
        services.match_decline(actor=world["banker"], match=match, reason="  ")
    match.refresh_from_db()
    assert match.state == MatchState.DUE_DILIGENCE and match.funded_amount is None
    services.match_decline(actor=world["owner"], match=match, reason="已获其他融资")
    match.refresh_from_db()
    assert match.state == MatchState.DECLINED and match.decline_reason == "已获其他融资"
    with pytest.raises(ValidationError):
        services.match_introduce(actor=world["bureau"], match=match)


def test_a_request_the_rule_refuses_is_refused(world):
    need = services.need_create(actor=world["stranger"], organisation=world["small"], amount=Decimal(200),
                                purpose="周转")
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.match_request(actor=world["stranger"], need=need, product=world["loan"])
    assert "revenue >= 1000" in caught.value.messages[0]
    assert not FinanceMatch.objects.exists()
    services.match_request(actor=world["stranger"], need=need, product=world["fund"])
    with pytest.raises(ValidationError):  # twice
        services.match_request(actor=world["stranger"], need=need, product=world["fund"])


ACTIONS = {
    "introduce": lambda actor, m: services.match_introduce(actor=actor, match=m),
    "due_diligence": lambda actor, m: services.match_start_due_diligence(actor=actor, match=m),
    "fund": lambda actor, m: services.match_fund(actor=actor, match=m, amount=Decimal(10)),
    "decline": lambda actor, m: services.match_decline(actor=actor, match=m, reason="不合适"),
}
STATE_BEFORE = {"introduce": MatchState.REQUESTED, "due_diligence": MatchState.INTRODUCED,
                "fund": MatchState.DUE_DILIGENCE, "decline": MatchState.INTRODUCED}
#: who may make each transition (from the state before it)
ALLOWED = {
    "introduce": {"bureau", "banker"},
    "due_diligence": {"banker"},
    "fund": {"banker"},
    "decline": {"bureau", "banker", "owner"},
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", ["anonymous", "stranger", "owner", "banker", "other_banker", "bureau"])
def test_pipeline_permissions_matrix(world, action, who):
    from django.contrib.auth.models import AnonymousUser

    match = services.match_request(actor=world["owner"], need=world["need"], product=world["loan"])
    FinanceMatch.objects.filter(pk=match.pk).update(state=STATE_BEFORE[action])
    match.refresh_from_db()
    actor = AnonymousUser() if who == "anonymous" else world[who]
    if who in ALLOWED[action]:
        ACTIONS[action](actor, match)
        match.refresh_from_db()
        assert match.state != STATE_BEFORE[action]
    else:
        with pytest.raises((PermissionDenied, ValidationError)):
            ACTIONS[action](actor, match)
        match.refresh_from_db()
        assert match.state == STATE_BEFORE[action]


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("stranger", 404), ("owner", 200),
                                             ("banker", 200), ("other_banker", 404), ("bureau", 200)])
def test_match_page_visibility(client, world, who, status):
    match = services.match_request(actor=world["owner"], need=world["need"], product=world["loan"])
    if who != "anonymous":
        client.force_login(world[who])
    assert client.get(f"/enterprises/finance/matches/{match.pk}/").status_code == status


def test_pages_walk_the_pipeline(client, world):
    client.force_login(world["owner"])
    assert client.get(f"/enterprises/finance/needs/{world['need'].pk}/").status_code == 200
    response = client.post(f"/enterprises/finance/needs/{world['need'].pk}/request/", {"product": world["loan"].pk})
    match = FinanceMatch.objects.get()
    assert response.status_code == 302
    client.force_login(world["banker"])
    client.post(f"/enterprises/finance/matches/{match.pk}/introduce/")
    client.post(f"/enterprises/finance/matches/{match.pk}/due_diligence/")
    client.post(f"/enterprises/finance/matches/{match.pk}/fund/", {"amount": "300", "funded_on": timezone.localdate().isoformat()})
    match.refresh_from_db()
    assert (match.state, match.funded_amount) == (MatchState.FUNDED, Decimal(300))
    client.force_login(world["bureau"])
    page = client.get("/enterprises/finance/pipeline/")
    assert page.status_code == 200
    assert {row["state"]: row["count"] for row in page.context["summary"]}["funded"] == 1
    client.force_login(world["owner"])
    assert client.get("/enterprises/finance/pipeline/").status_code == 403


def test_growth_page_and_api(client, world):
    # sales 4000 → 4500 → 5000: ½(1.125 + 1.1111) − 1 = 11.806 % → 30 × 0.11806 / 0.5 = 7.083
    # R&D 250 / 5000 = 5 % → 12.5 · no staff, no IP → 0 · no net assets → 0
    client.force_login(world["owner"])
    data = client.get(f"/api/enterprises/finance/growth/{world['good'].pk}").json()
    assert data["total"] == 19.58  # 7.0833 + 12.5
    assert [(c["code"], c["points"]) for c in data["components"]] == [
        ("sales_growth", 7.08), ("net_asset_growth", 0.0), ("rd_intensity", 12.5), ("st_share", 0.0), ("ip", 0.0)]
    assert client.get(f"/api/enterprises/finance/growth/{world['small'].pk}").status_code == 403
    page = client.get("/enterprises/my/financing/")
    assert page.status_code == 200 and b'data-testid="growth-total">19.58<' in page.content


def test_api_walks_the_pipeline_and_matches_both_ways(client, world):
    client.force_login(world["owner"])
    assert [p["code"] for p in client.get(f"/api/enterprises/finance/needs/{world['need'].pk}/products").json()] == [
        "IPL-1"]
    response = client.post("/api/enterprises/finance/matches", {"need_id": world["need"].pk,
                                                                "product_id": world["loan"].pk},
                           content_type="application/json")
    assert response.status_code == 201
    match_id = response.json()["id"]
    assert client.post(f"/api/enterprises/finance/matches/{match_id}/introduce", {},
                       content_type="application/json").status_code == 403
    client.force_login(world["banker"])
    assert [n["code"] for n in client.get(f"/api/enterprises/finance/products/{world['loan'].pk}/needs").json()] == [
        world["need"].code]
    for action in ("introduce", "due_diligence"):
        assert client.post(f"/api/enterprises/finance/matches/{match_id}/{action}", {},
                           content_type="application/json").status_code == 200
    response = client.post(f"/api/enterprises/finance/matches/{match_id}/fund", {"amount": "-1"},
                           content_type="application/json")
    assert response.status_code in (400, 422)
    response = client.post(f"/api/enterprises/finance/matches/{match_id}/fund", {"amount": "250"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "funded"
    client.force_login(world["other_banker"])
    assert client.get(f"/api/enterprises/finance/products/{world['loan'].pk}/needs").status_code == 403


def test_the_pipeline_page_charts_matches_by_state_and_funded_amounts_by_month(client, world):
    match = services.match_request(actor=world["owner"], need=world["need"], product=world["loan"])
    services.match_introduce(actor=world["bureau"], match=match)
    services.match_start_due_diligence(actor=world["banker"], match=match)
    today = timezone.localdate()
    services.match_fund(actor=world["banker"], match=match, amount=Decimal("450.50"), funded_on=today)
    older = services.match_request(actor=world["owner"], need=services.need_create(
        actor=world["owner"], organisation=world["good"], amount=Decimal(200), purpose="研发", kind="ip_pledge"),
        product=world["loan"])
    long_ago = today.replace(day=1) - dt.timedelta(days=400)  # outside the twelve months shown
    FinanceMatch.objects.filter(pk=older.pk).update(state=MatchState.FUNDED, funded_amount=Decimal(99),
                                                    funded_on=long_ago)
    client.force_login(world["bureau"])
    with translation.override("en"):
        page = client.get("/enterprises/finance/pipeline/", HTTP_ACCEPT_LANGUAGE="en")
    chart = page.context["chart"]
    assert dict(zip(chart["states"]["labels"], chart["states"]["datasets"][0]["data"], strict=True))["Funded"] == 2
    assert len(chart["funded"]) == 12 and chart["funded"][-1] == (today.strftime("%Y-%m"), 450.5)
    assert sum(amount for _month, amount in chart["funded"]) == 450.5
    html = page.content.decode()
    assert 'data-testid="pipeline-chart-states"' in html and 'id="pipeline-chart"' in html
