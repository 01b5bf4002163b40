"""Synthetic demo policies, financial products, financing needs and matches (``sciencecity demo-policies``).

Every row is labelled synthetic (``is_synthetic``; titles and names start with 【演示】). The policies
are modelled on the kinds of support the plan names (高企认定奖励, 研发投入补助, 梯次培育, 知识产权,
标准, 成果转化 …) but their figures are invented. Idempotent: rows whose code exists are left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.enterprises.finance.choices import MatchState, ProductKind
from sciencecity.enterprises.finance.models import FinanceMatch, FinancialProduct, FinancingNeed
from sciencecity.enterprises.models import EnterpriseProfile
from sciencecity.enterprises.policies.models import Policy
from sciencecity.enterprises.policies.services import check_rule
from sciencecity.registry.models import Organisation

SEED = 20261207
LABEL = "【演示】"
ISSUER = "深圳市光明区科技创新局（演示）"

#: (code, title, rule, amount formula, benefit, 免申即享, opens (month, day), closes (month, day))
POLICIES = [
    ("DEMO-P01", "高新技术企业认定奖励", 'has_cert("hnte")', "20", "新认定或重新认定的国家高新技术企业一次性奖励20万元。",
     True, None, None),
    ("DEMO-P02", "企业研发投入补助", "rd_expense >= 100 and rd_ratio >= 0.03", "min(0.1 * rd_expense, 100)",
     "按上年度研发费用的10%给予补助，最高100万元。", False, (4, 1), (5, 31)),
    ("DEMO-P03", "科技型中小企业入库奖励", 'has_cert("tech_sme") and staff <= 500', "5",
     "取得科技型中小企业入库登记编号的企业奖励5万元。", True, None, None),
    ("DEMO-P04", "专精特新企业奖励", 'has_cert("specialised")', "30", "获评专精特新企业的奖励30万元。", False,
     (6, 1), (7, 15)),
    ("DEMO-P05", "瞪羚企业成长奖励", 'tier == "gazelle" and revenue_growth >= 0.2', "min(0.01 * revenue, 200)",
     "瞪羚企业按上年度销售收入的1%奖励，最高200万元。", False, (8, 1), (9, 30)),
    ("DEMO-P06", "独角兽企业培育支持", 'tier == "unicorn"', "500", "入库独角兽企业给予500万元培育支持。", False,
     (3, 1), (12, 31)),
    ("DEMO-P07", "雏凤企业启航资助", 'tier == "chufeng" and age_years <= 5', "10", "成立5年内的雏凤企业资助10万元。",
     True, None, None),
    ("DEMO-P08", "高企后备库培育补贴", 'tier == "reserve" and not has_cert("hnte")', "10",
     "纳入高企后备库且尚未认定的企业补贴10万元。", True, None, None),
    ("DEMO-P09", "发明专利资助", "ip_class_i >= 1", "min(2 * ip_class_i, 50)", "每件Ⅰ类知识产权资助2万元，最高50万元。",
     False, (2, 15), (4, 15)),
    ("DEMO-P10", "标准制定资助", "standards >= 1", "min(10 * standards, 50)", "主导制定标准每项10万元，最高50万元。", False,
     (9, 1), (10, 31)),
    ("DEMO-P11", "科技成果转化奖励", "conversions >= 5", "min(conversions, 30)", "每项成果转化奖励1万元，最高30万元。",
     False, (5, 1), (6, 30)),
    ("DEMO-P12", "科技人才集聚奖励", "st_share >= 0.3 and st_staff >= 20", "min(0.5 * st_staff, 50)",
     "科技人员占比30%以上的企业，按每名科技人员0.5万元奖励，最高50万元。", False, (7, 1), (8, 31)),
    ("DEMO-P13", "高新收入提升奖励", 'high_tech_share >= 0.6 and has_cert("hnte") and revenue >= 2000', "15",
     "高新收入占比60%以上的高企奖励15万元。", False, (10, 1), (11, 30)),
    ("DEMO-P14", "规上科技企业稳增长奖励", "revenue >= 2000 and revenue_growth >= 0.1 and not incident",
     "min(0.005 * revenue, 100)", "上年度销售收入增长10%以上的规上企业按销售收入0.5%奖励。", False, (3, 15), (5, 15)),
    ("DEMO-P15", "光明区新落户科技企业支持", 'district == "光明区" and age_years <= 3', "20",
     "成立3年内在光明区注册的科技企业支持20万元。", True, None, None),
    ("DEMO-P16", "成长性优秀企业融资贴息", "growth_score >= 50", "min(0.2 * growth_score, 20)",
     "成长性评分50分以上的企业给予融资贴息，最高20万元。", False, (1, 10), (12, 20)),
]

#: (code, name, kind, rule, min, max, term months, rate)
PRODUCTS = [
    ("DEMO-F01", "知识产权质押贷", ProductKind.IP_PLEDGE, "ip_class_i >= 1 and not incident", 100, 3000, 36,
     "LPR + 0.5%，区财政贴息50%"),
    ("DEMO-F02", "科技信用贷", ProductKind.CREDIT_LOAN, 'has_cert("hnte") or has_cert("tech_sme")', 50, 1000, 12,
     "LPR"),
    ("DEMO-F03", "投贷联动计划", ProductKind.INVESTMENT_LOAN, "growth_score >= 40 and rd_ratio >= 0.05", 500, 5000,
     36, "债权 + 认股权"),
    ("DEMO-F04", "光明科学城天使基金", ProductKind.EQUITY_FUND, "age_years <= 5 and st_share >= 0.2", 200, 2000, None,
     "股权投资"),
    ("DEMO-F05", "科技企业研发费用损失保险", ProductKind.INSURANCE, "rd_expense >= 50", 10, 200, 12, "费率1.5%，补贴50%"),
    ("DEMO-F06", "高企研发贷", ProductKind.CREDIT_LOAN, 'has_cert("hnte") and rd_expense >= 200', 200, 2000, 24,
     "LPR − 0.2%"),
]


@dataclass
class DemoResult:
    counts: dict[str, int] = field(default_factory=dict)
    skipped_products: bool = False

    @property
    def created(self) -> int:
        return sum(self.counts.values())


@transaction.atomic
def demo_generate(*, seed: int = SEED, today: dt.date | None = None) -> DemoResult:
    today = demo_as_of(today)
    rng = random.Random(seed)
    result = DemoResult(counts={"policies": 0, "products": 0, "needs": 0, "matches": 0})
    existing = set(Policy.objects.filter(code__in=[p[0] for p in POLICIES]).values_list("code", flat=True))
    for code, title, rule, amount, benefit, automatic, opens, closes in POLICIES:
        if code in existing:
            continue
        check_rule(rule, amount)
        Policy.objects.create(
            code=code, title=LABEL + title, issuer=ISSUER, document_number=f"深光科〔{today.year}〕演{code[-2:]}号",
            valid_from=dt.date(today.year, 1, 1), valid_until=dt.date(today.year + 2, 12, 31),
            application_opens=dt.date(today.year, *opens) if opens else None,
            application_closes=dt.date(today.year, *closes) if closes else None,
            benefit=benefit, amount_formula=amount, materials="营业执照；上年度审计报告；研发费用专项审计报告（演示）",
            rule=rule, without_application=automatic, status="published", is_synthetic=True)
        result.counts["policies"] += 1
    providers = list(Organisation.objects.filter(kind__in=["bank", "investment_fund"]).order_by("code")[:6])
    if not providers:
        result.skipped_products = True
    else:
        existing = set(FinancialProduct.objects.filter(code__in=[p[0] for p in PRODUCTS]).values_list("code",
                                                                                                     flat=True))
        for i, (code, name, kind, rule, low, high, term, rate) in enumerate(PRODUCTS):
            if code in existing:
                continue
            check_rule(rule)
            funds = [p for p in providers if p.kind == "investment_fund"]
            banks = [p for p in providers if p.kind == "bank"]
            provider = (funds or providers)[0] if kind == ProductKind.EQUITY_FUND else (banks or providers)[
                i % len(banks or providers)]
            FinancialProduct.objects.create(code=code, name=LABEL + name, kind=kind, provider=provider,
                                            min_amount=Decimal(low), max_amount=Decimal(high), term_months=term,
                                            rate_note=rate, description="演示产品，条件与价格均为虚构。", rule=rule,
                                            is_synthetic=True)
            result.counts["products"] += 1
    if not FinancingNeed.objects.filter(is_synthetic=True).exists():
        _needs_and_matches(rng, today, result)
    if result.created:
        audit_record(action=AuditAction.GENERATE, object_type="enterprises.policy", object_id=f"demo-{seed}",
                     object_repr="demo-policies", changes={k: [None, v] for k, v in result.counts.items()})
    return result


def _needs_and_matches(rng: random.Random, today: dt.date, result: DemoResult) -> None:
    products = list(FinancialProduct.objects.filter(is_synthetic=True).order_by("code"))
    organisations = list(EnterpriseProfile.objects.order_by("organisation__code").values_list("organisation_id",
                                                                                           flat=True)[:400])
    if not products or not organisations:
        return
    chosen = rng.sample(organisations, min(len(organisations), 40))
    states = [MatchState.REQUESTED, MatchState.INTRODUCED, MatchState.DUE_DILIGENCE, MatchState.FUNDED,
              MatchState.FUNDED, MatchState.DECLINED]
    for n, org_id in enumerate(chosen, start=1):
        product = rng.choice(products)
        amount = Decimal(rng.randrange(int(product.min_amount or 50), int(product.max_amount or 1000) + 1, 10))
        need = FinancingNeed.objects.create(code=f"FN-DEMO-{n:04d}", organisation_id=org_id, kind=product.kind,
                                            amount=amount, purpose=LABEL + rng.choice(
                                                ["扩大产能", "研发中试", "设备购置", "流动资金", "海外市场拓展"]),
                                            is_synthetic=True)
        result.counts["needs"] += 1
        if n % 3 == 0:
            continue  # an open need nobody has answered yet
        state = rng.choice(states)
        funded = state == MatchState.FUNDED
        FinanceMatch.objects.create(
            code=f"FM-DEMO-{n:04d}", need=need, product=product, state=state,
            funded_amount=(amount * Decimal(rng.choice([6, 8, 10])) / 10).quantize(Decimal("0.01")) if funded else None,
            funded_on=today - dt.timedelta(days=rng.randrange(10, 700)) if funded else None,
            decline_reason="演示：资料不全" if state == MatchState.DECLINED else "")
        result.counts["matches"] += 1
