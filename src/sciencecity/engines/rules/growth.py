"""企业成长性评价: an enterprise growth score from 0 to 100 with a published, explainable formula.

    score = Σ weight × clip((value − floor) ÷ (full − floor), 0, 1)

over five components, each shown with its value, its share of the way from floor to full marks and
its points:

=================  ======  =====================================================  =====  ======
component          weight  value                                                  floor  full
=================  ======  =====================================================  =====  ======
sales_growth        30     sales growth rate over the last three years (指引 三(七)4)  0      50 %
net_asset_growth    15     net-asset growth rate, same formula                      0      50 %
rd_intensity        25     R&D expense ÷ sales revenue, latest year                 0      10 %
st_share            15     S&T staff ÷ staff, latest year                           0      30 %
ip                  15     class I rights + ¼ × class II rights                     0      5
=================  ======  =====================================================  =====  ======

The growth rate is ``hnte.growth_rate``: ½ × (v2 ÷ v1 + v3 ÷ v2) − 1 over three year-end values;
a zero first year counts the last two years only (v3 ÷ v2 − 1); negative growth scores 0. A value
that cannot be computed (missing data, a zero or negative base) scores 0 and says why. Exact
fractions throughout; the points are rounded to 2 decimals only for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .hnte import growth_rate
from .i18n import _
from .profile import EnterpriseProfile


@dataclass(frozen=True)
class Component:
    code: str
    label: str
    weight: int
    floor: Fraction
    full: Fraction
    unit: str  # "%" (a ratio shown as a percentage) or "" (a count)


COMPONENTS: tuple[Component, ...] = (
    Component("sales_growth", "Sales growth rate (last three years)", 30, Fraction(0), Fraction(1, 2), "%"),
    Component("net_asset_growth", "Net-asset growth rate (last three years)", 15, Fraction(0), Fraction(1, 2), "%"),
    Component("rd_intensity", "R&D expense ÷ sales revenue", 25, Fraction(0), Fraction(1, 10), "%"),
    Component("st_share", "S&T staff ÷ staff", 15, Fraction(0), Fraction(3, 10), "%"),
    Component("ip", "Class I rights + ¼ × class II rights", 15, Fraction(0), Fraction(5), ""),
)
assert sum(c.weight for c in COMPONENTS) == 100


@dataclass(frozen=True)
class ComponentScore:
    component: Component
    value: Fraction | None  # None: cannot be computed (see ``note``)
    share: Fraction  # 0..1 of the way from floor to full
    points: Fraction
    note: str = ""


@dataclass(frozen=True)
class GrowthScore:
    total: Fraction
    components: tuple[ComponentScore, ...]

    @property
    def total_points(self) -> float:
        return round(float(self.total), 2)


def component_score(component: Component, value: Fraction | None, note: str = "") -> ComponentScore:
    if value is None:
        return ComponentScore(component, None, Fraction(0), Fraction(0), note)
    share = (value - component.floor) / (component.full - component.floor)
    share = min(max(share, Fraction(0)), Fraction(1))
    return ComponentScore(component, value, share, share * component.weight, note)


_NOTES = {
    "zero_second": "the middle year is zero",
    "negative_base": "a base year is negative",
    "first_year_zero": "the first year is zero: the last two years are used",
    "first_year_zero_two_years": "the first year is zero",
    "too_few_years": "fewer than two years of data",
}


def _rate(values: list[Fraction | None]) -> tuple[Fraction | None, str]:
    if not values or any(v is None for v in values):
        return None, _("missing data")
    rate, code = growth_rate(values)  # type: ignore[arg-type]
    return rate, _(_NOTES[code]) if code else ""


def growth_score(profile: EnterpriseProfile) -> GrowthScore:
    """The score of ``profile`` from its fiscal years before the assessment year (the last three)."""
    years = sorted((y for y in profile.years if y.year < profile.assessed_on.year), key=lambda y: y.year)[-3:]
    latest = years[-1] if years else None
    by_code = {c.code: c for c in COMPONENTS}
    scores = []
    scores.append(component_score(by_code["sales_growth"], *_rate([y.sales for y in years])))
    scores.append(component_score(by_code["net_asset_growth"], *_rate([y.net_assets for y in years])))
    rd = None
    if latest is not None and latest.rd is not None and latest.sales:
        rd_total = latest.rd.internal + latest.rd.commissioned_domestic + latest.rd.commissioned_abroad + latest.rd.other
        rd = rd_total / latest.sales
    scores.append(component_score(by_code["rd_intensity"], rd, "" if rd is not None else _("missing data")))
    staff = latest.staff_averages() if latest is not None else None
    share = staff[1] / staff[0] if staff and staff[0] > 0 else None
    scores.append(component_score(by_code["st_share"], share, "" if share is not None else _("missing data")))
    ip = Fraction(sum(1 for i in profile.ip if i.ip_class == "I")) + Fraction(
        sum(1 for i in profile.ip if i.ip_class == "II"), 4)
    scores.append(component_score(by_code["ip"], ip))
    return GrowthScore(sum((s.points for s in scores), Fraction(0)), tuple(scores))
