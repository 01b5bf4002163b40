"""Reads of tech finance: matching both ways on the rules engine, the growth score, the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from sciencecity.engines.rules import fields, growth, vector
from sciencecity.engines.rules.lang import RuleError
from sciencecity.enterprises.finance.choices import MatchState, NeedStatus, ProductStatus
from sciencecity.enterprises.finance.models import FinanceMatch, FinancialProduct, FinancingNeed
from sciencecity.enterprises.policies import selectors as policy_selectors
from sciencecity.enterprises.selectors import profiles_with_data, to_engine_profile


@dataclass(frozen=True)
class ProductFit:
    product: FinancialProduct
    truth: int  # vector.TRUE / UNKNOWN
    unmet: tuple = ()


def _compiled(products: list[FinancialProduct]) -> tuple[list[FinancialProduct], list[vector.Policy]]:
    kept, compiled = [], []
    for product in products:
        try:
            compiled.append(vector.compile_policy(str(product.pk), product.rule, fields.SCHEMA))
        except RuleError:
            continue
        kept.append(product)
    return kept, compiled


def _amount_fits(product: FinancialProduct, amount: Decimal) -> bool:
    return (product.min_amount is None or amount >= product.min_amount) and (
        product.max_amount is None or amount <= product.max_amount)


def products_for_need(need: FinancingNeed) -> tuple[list[ProductFit], list[ProductFit]]:
    """Active products of the need's kind whose amount range covers it: those whose rule holds (or
    may hold: unknown data) for the enterprise, and those it misses by one or two clauses."""
    products = [p for p in FinancialProduct.objects.filter(status=ProductStatus.ACTIVE).select_related("provider")
                if (not need.kind or p.kind == need.kind) and _amount_fits(p, need.amount)]
    products, compiled = _compiled(products)
    columns = policy_selectors.enterprise_table(organisation_ids=[need.organisation_id])
    if not compiled or not columns.organisation_ids:
        return [], []
    result = vector.evaluate_all(compiled, columns.table, columns.today)
    fits, nearly = [], []
    for i, product in enumerate(products):
        truth, unmet = int(result.truth[i, 0]), int(result.unmet[i, 0])
        if truth in (vector.TRUE, vector.UNKNOWN):
            fits.append(ProductFit(product, truth))
        elif 1 <= unmet <= 2:
            nearly.append(ProductFit(product, truth, tuple(result.explain(columns.table, 0, i, columns.today))))
    fits.sort(key=lambda f: (-f.truth, f.product.code))
    return fits, nearly


@dataclass(frozen=True)
class NeedFit:
    need: FinancingNeed
    growth_score: float | None


def needs_for_product(product: FinancialProduct) -> list[NeedFit]:
    """Open needs of the product's kind and amount range whose enterprise meets the product's rule."""
    needs = [n for n in FinancingNeed.objects.filter(status=NeedStatus.OPEN).select_related("organisation")
             if (not n.kind or n.kind == product.kind) and _amount_fits(product, n.amount)]
    if not needs:
        return []
    _kept, compiled = _compiled([product])
    if not compiled:
        return []
    columns = policy_selectors.enterprise_table(organisation_ids={n.organisation_id for n in needs})
    result = vector.evaluate_all(compiled, columns.table, columns.today, costs=False)
    eligible = {columns.organisation_ids[i] for i in result.eligible(0).tolist()}
    scores = columns.table.columns["growth_score"]
    score_of = {org: (None if scores[i] != scores[i] else float(scores[i]))
                for i, org in enumerate(columns.organisation_ids)}
    return sorted((NeedFit(n, score_of.get(n.organisation_id)) for n in needs if n.organisation_id in eligible),
                  key=lambda f: -(f.growth_score or 0))


def growth_for(organisation_id: int) -> growth.GrowthScore | None:
    """The growth score of one enterprise (None when it has no profile)."""
    from django.utils import timezone

    profile = profiles_with_data().filter(organisation_id=organisation_id).first()
    if profile is None:
        return None
    return growth.growth_score(to_engine_profile(profile, assessed_on=timezone.localdate()))


def pipeline_summary(matches) -> list[dict]:
    """Count and amounts per state (for the bureau's pipeline chart)."""
    rows = {r["state"]: r for r in matches.values("state").annotate(count=Count("id"), funded=Sum("funded_amount"))}
    return [{"state": state, "label": label, "count": rows.get(state, {}).get("count", 0),
             "funded": rows.get(state, {}).get("funded") or 0} for state, label in MatchState.choices]


def funded_by_month(matches, *, today, months: int = 12) -> list[tuple[str, float]]:
    """Funded amounts (万元) per calendar month, the last ``months`` months up to ``today`` (the pipeline's chart)."""
    import datetime as dt

    firsts = []
    year, month = today.year, today.month
    for _step in range(months):
        firsts.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    firsts.reverse()
    totals = {first: Decimal(0) for first in firsts}
    for funded_on, amount in matches.filter(state=MatchState.FUNDED, funded_on__gte=firsts[0],
                                            funded_on__lte=today).values_list("funded_on", "funded_amount"):
        totals[funded_on.replace(day=1)] += amount or Decimal(0)
    return [(first.strftime("%Y-%m"), float(total)) for first, total in totals.items()]


def funded_total(year: int) -> Decimal:
    import datetime as dt

    return FinanceMatch.objects.filter(state=MatchState.FUNDED, funded_on__gte=dt.date(year, 1, 1),
                                       funded_on__lte=dt.date(year, 12, 31)).aggregate(
        s=Sum("funded_amount"))["s"] or Decimal(0)
