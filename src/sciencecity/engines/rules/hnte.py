"""High-tech enterprise (高新技术企业) self-assessment.

Rules: 《高新技术企业认定管理办法》国科发火〔2016〕32号 ("办法") and 《高新技术企业认定管理工作指引》
国科发火〔2016〕195号 ("指引"), as summarised in shared/domain/high-tech-enterprise.md.

- Hard conditions H1–H8 (办法 第十一条): each ``pass`` / ``fail`` / ``review`` (a boundary the guide
  leaves open: flagged, never guessed) / ``unknown`` (the input lacks the data), with the numbers.
- Innovation-capacity score (指引 三(七)) as a min–max range per part: the expert picks the integer
  within each band, so only a range can be computed; expert-judged items span their whole scale
  unless the enterprise rates itself.
- Verdict: ``not_yet`` if a hard condition fails or the maximum is below 71; ``certain`` if every
  condition passes and the minimum is at least 71; else ``possible``.
- Improvements with the concrete amount, those that unblock a failed condition first, then by
  the points they add.
- Certificate lifecycle as pure date functions of ``today``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from fractions import Fraction

from .i18n import _, percent
from .profile import EnterpriseProfile, FiscalYear

PASS, FAIL, REVIEW, UNKNOWN = "pass", "fail", "review", "unknown"
CERTAIN, POSSIBLE, NOT_YET = "certain", "possible", "not_yet"

#: H1 (办法 第十一条(一), 指引 三(一)): 注册成立一年以上 = at least 365 calendar days.
MIN_AGE_DAYS = 365
#: H4 (办法 第十一条(四)): 科技人员 ≥ 10 % of 当年职工总数.
ST_STAFF_SHARE = Fraction(10, 100)
#: H5 (办法 第十一条(五)): R&D intensity bands by 最近一年销售收入 (万元, upper bound inclusive).
RD_BANDS: tuple[tuple[Fraction | None, Fraction], ...] = (
    (Fraction(5000), Fraction(5, 100)),   # ≤ 5,000万元 → ≥ 5 %
    (Fraction(20000), Fraction(4, 100)),  # 5,000万 – 2亿元 (2亿 inclusive) → ≥ 4 %
    (None, Fraction(3, 100)),             # > 2亿元 → ≥ 3 %
)
#: H5: R&D spent in China ≥ 60 % of all R&D (办法 第十一条(五)).
DOMESTIC_SHARE = Fraction(60, 100)
#: 指引 三(六)3: 委托外部研究开发费用 counts at 80 % of the actual amount.
COMMISSIONED_FACTOR = Fraction(80, 100)
#: 指引 三(六)4: 其他费用 "generally" ≤ 20 % of total R&D.
OTHER_CAP_SHARE = Fraction(20, 100)
#: H6 (办法 第十一条(六)): 高新收入 ≥ 60 % of 同期总收入.
HIGH_TECH_SHARE = Fraction(60, 100)
#: H7 (指引 三(七)): score > 70; integer scores, so ≥ 71.
PASS_SCORE = 71
#: 办法 第九条: a certificate is valid for three years.
VALIDITY_YEARS = 3
#: 指引 (年报): filed each year before 31 May.
ANNUAL_REPORT_DUE = (5, 31)

#: 办法 附件 国家重点支持的高新技术领域: the eight first-level domains.
DOMAINS = ("电子信息", "生物与新医药", "航空航天", "新材料", "高技术服务", "新能源与节能", "资源与环境",
           "先进制造与自动化")
#: 8-point expert items (指引 附件3 1(1)(2)): band → (min, max).
EIGHT_POINT_BANDS = {"A": (7, 8), "B": (5, 6), "C": (3, 4), "D": (1, 2), "E": (0, 0)}
#: Conversion ability (指引 三(七)2): annual average conversions → band (min, max), highest first.
CONVERSION_BANDS = ((5, "A", 25, 30), (4, "B", 19, 24), (3, "C", 13, 18), (2, "D", 7, 12), (1, "E", 1, 6))
#: Growth rate bands (指引 三(七)4): lower bound (inclusive), band, points; > 0 → E, ≤ 0 → F.
GROWTH_BANDS = ((Fraction(35, 100), "A", 9, 10), (Fraction(25, 100), "B", 7, 8), (Fraction(15, 100), "C", 5, 6),
                (Fraction(5, 100), "D", 3, 4))


@dataclass(frozen=True)
class Condition:
    code: str
    status: str
    values: dict = field(default_factory=dict)
    message: str = ""
    reason: str = ""  # stable code of the message, for translation by the caller

    def to_dict(self) -> dict:
        return {"code": self.code, "status": self.status, "values": self.values, "message": self.message}


@dataclass(frozen=True)
class ScoreItem:
    code: str
    min: int
    max: int
    basis: str  # computed | self_rated | expert
    note: str = ""


@dataclass(frozen=True)
class ScorePart:
    code: str  # ip | conversion | rd_management | growth
    min: int
    max: int
    items: tuple[ScoreItem, ...] = ()
    review: bool = False
    notes: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """As the file format has it; the part's figures and review notes go into H7's values."""
        return {"code": self.code, "min": self.min, "max": self.max}


@dataclass(frozen=True)
class Improvement:
    code: str
    message: str
    blocking: bool  # it fixes a failed hard condition
    points_min: int = 0
    points_max: int = 0
    amount: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class HnteAssessment:
    verdict: str
    conditions: tuple[Condition, ...]
    parts: tuple[ScorePart, ...]
    improvements: tuple[Improvement, ...]

    @property
    def score_min(self) -> int:
        return sum(p.min for p in self.parts)

    @property
    def score_max(self) -> int:
        return sum(p.max for p in self.parts)

    def condition(self, code: str) -> Condition:
        return next(c for c in self.conditions if c.code == code)

    def part(self, code: str) -> ScorePart:
        return next(p for p in self.parts if p.code == code)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "conditions": [c.to_dict() for c in self.conditions],
                "score": {"min": self.score_min, "max": self.score_max, "parts": [p.to_dict() for p in self.parts]},
                "improvements": [i.message for i in self.improvements]}


def plus(low: int, high: int) -> str:
    """A point gain: "+6" or "+2–3"."""
    return f"+{low}" if low == high else f"+{low}–{high}"


def ratio(value: Fraction) -> float:
    return round(float(value), 4)


def wan(amount: Fraction | float) -> str:
    """An amount in 万元, rounded up to 0.01 and without trailing zeros."""
    cents = math.ceil(Fraction(amount) * 100)
    text = f"{cents / 100:.2f}".rstrip("0").rstrip(".")
    return text


# --- the figures the rules use -----------------------------------------------------------------

def rd_band(latest_sales: Fraction) -> Fraction:
    """The minimum R&D intensity for 最近一年销售收入 (办法 第十一条(五)); bounds inclusive."""
    for limit, band in RD_BANDS:
        if limit is None or latest_sales <= limit:
            return band
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class RDFigures:
    """HNTE-caliber R&D of one or more years: commissioned at 80 %, abroad out of the domestic share."""

    total: Fraction  # counted, with 其他费用 capped at 20 % of the total
    domestic: Fraction
    uncapped_total: Fraction
    other_excess: Fraction  # 其他费用 above the 20 % cap (0 if within)


def rd_figures(years: list[FiscalYear]) -> RDFigures:
    """Sum over ``years`` of the R&D as counted by 指引 三(六)2–4 (each year's ``rd`` must be given).

    Counted = internal + 80 % × (commissioned in China + abroad) + 其他费用 up to 20 % of the total;
    domestic = internal + 80 % × commissioned in China + the counted 其他费用 (spent in China).
    """
    total = domestic = uncapped = excess = Fraction(0)
    for year in years:
        rd = year.rd
        assert rd is not None
        before_other = rd.internal + COMMISSIONED_FACTOR * (rd.commissioned_domestic + rd.commissioned_abroad)
        # other ≤ 20 % × (before_other + other)  ⇔  other ≤ before_other × 20/80
        cap = before_other * OTHER_CAP_SHARE / (1 - OTHER_CAP_SHARE)
        other = min(rd.other, cap)
        excess += rd.other - other
        total += before_other + other
        uncapped += before_other + rd.other
        domestic += rd.internal + COMMISSIONED_FACTOR * rd.commissioned_domestic + other
    return RDFigures(total=total, domestic=domestic, uncapped_total=uncapped, other_excess=excess)


def period_years(profile: EnterpriseProfile) -> tuple[list[int], list[int]]:
    """(the fiscal years of 近三个会计年度 the firm existed in, those of them missing from the input).

    近三个会计年度 = the three fiscal years before the application year (指引 三(六)); a younger firm
    uses its actual period (from its registration year)."""
    application_year = profile.assessed_on.year
    first = application_year - 3
    if profile.registered_on is not None:
        first = max(first, profile.registered_on.year)
    expected = list(range(first, application_year))
    missing = [y for y in expected if profile.year(y) is None]
    return expected, missing


def growth_rate(values: list[Fraction]) -> tuple[Fraction | None, str]:
    """The growth rate of 指引 三(七)4 over 1–3 year-end values, and a note code.

    Three values: ½ × (v2 ÷ v1 + v3 ÷ v2) − 1. If v2 is 0 the rate scores 0 (``zero_second``). If
    v1 is 0, 按后两年计算 is read as v3 ÷ v2 − 1 (``first_year_zero``, an interpretation: review).
    Two values (actual period): v2 ÷ v1 − 1. Negative bases, one value or none: no rate."""
    if len(values) == 3:
        v1, v2, v3 = values
        if v2 == 0:
            return None, "zero_second"
        if v1 < 0 or v2 < 0:
            return None, "negative_base"
        if v1 == 0:
            return v3 / v2 - 1, "first_year_zero"
        return (v2 / v1 + v3 / v2) / 2 - 1, ""
    if len(values) == 2:
        v1, v2 = values
        if v2 == 0:
            return None, "zero_second"
        if v1 <= 0:
            return None, "negative_base" if v1 < 0 else "first_year_zero_two_years"
        return v2 / v1 - 1, ""
    return None, "too_few_years"


def growth_points(rate: Fraction) -> tuple[int, int, str, bool]:
    """(min, max, band, review) for one growth rate. Exactly 5 % is a review case: 指引's table
    says D is ≥ 5 %, its 附件4 prints ＞5 %, so the range spans D and E."""
    if rate == Fraction(5, 100):
        return 1, 4, "D/E", True
    for low, band, lo, hi in GROWTH_BANDS:
        if rate >= low:
            return lo, hi, band, False
    if rate > 0:
        return 1, 2, "E", False
    return 0, 0, "F", False


def conversion_points(average: Fraction) -> tuple[int, int, str, bool]:
    """(min, max, band, review) for the annual average number of conversions (指引 三(七)2). An
    average strictly between 0 and 1 falls between E (≥ 1) and F (0): review, range 0–6."""
    for low, band, lo, hi in CONVERSION_BANDS:
        if average >= low:
            return lo, hi, band, False
    if average > 0:
        return 0, 6, "E/F", True
    return 0, 0, "F", False


# --- the assessment ----------------------------------------------------------------------------

def assess(profile: EnterpriseProfile) -> HnteAssessment:
    expected, missing = period_years(profile)
    years = [profile.year(y) for y in expected if profile.year(y) is not None]
    latest = profile.year(profile.assessed_on.year - 1)
    improvements: list[Improvement] = []
    conditions = [
        _h1(profile, improvements),
        _h2(profile, improvements),
        _h3(profile),
        _h4(latest, improvements),
        _h5(years, missing, latest, improvements),
        _h6(latest, improvements),
    ]
    parts = (_ip_part(profile), _conversion_part(years, missing), _rd_management_part(profile),
             _growth_part(profile, years, missing))
    score_min, score_max = sum(p.min for p in parts), sum(p.max for p in parts)
    h7_values: dict = {"min": score_min, "max": score_max}
    h7_values.update({p.code: p.values for p in parts if p.values})
    notes = [note for p in parts for note in p.notes]
    if notes:
        h7_values["review"] = [p.code for p in parts if p.review]
        h7_values["notes"] = notes
    if score_min >= PASS_SCORE:
        h7 = Condition("H7", PASS, h7_values, _("score %(min)s–%(max)s ≥ 71", min=score_min, max=score_max),
                       "score_pass")
    elif score_max < PASS_SCORE:
        h7 = Condition("H7", FAIL, h7_values, _("score %(min)s–%(max)s < 71", min=score_min, max=score_max),
                       "score_fail")
    else:
        h7 = Condition("H7", REVIEW, h7_values,
                       _("score %(min)s–%(max)s: reaching 71 depends on the experts", min=score_min, max=score_max),
                       "score_range")
    conditions.append(h7)
    conditions.append(_h8(profile))
    _score_improvements(profile, parts, years, missing, improvements)
    statuses = {c.status for c in conditions}
    if FAIL in statuses or score_max < PASS_SCORE:
        verdict = NOT_YET
    elif statuses == {PASS} and score_min >= PASS_SCORE:
        verdict = CERTAIN
    else:
        verdict = POSSIBLE
    improvements.sort(key=lambda i: (not i.blocking, -i.points_min, -i.points_max))
    return HnteAssessment(verdict=verdict, conditions=tuple(conditions), parts=parts, improvements=tuple(improvements))


def _h1(p: EnterpriseProfile, improvements: list[Improvement]) -> Condition:
    if p.registered_on is None:
        return Condition("H1", UNKNOWN, {}, _("registration date not given"), "no_registration")
    days = (p.assessed_on - p.registered_on).days
    values = {"days": days, "required": MIN_AGE_DAYS}
    if days >= MIN_AGE_DAYS:
        return Condition("H1", PASS, values, _("registered %(days)s days before the application", days=days), "age_pass")
    eligible_on = p.registered_on + dt.timedelta(days=MIN_AGE_DAYS)
    improvements.append(Improvement("H1", _("Apply on or after %(date)s (one year after registration)",
                                                     date=eligible_on.isoformat()),
                                    True))
    return Condition("H1", FAIL, values, _("registered only %(days)s days before the application", days=days),
                     "age_fail")


def _valid_ip(p: EnterpriseProfile) -> tuple[list, int]:
    """IP granted before the application (a patent counts only once granted), and how many lack a date."""
    dated = [ip for ip in p.ip if ip.granted_on is not None and ip.granted_on <= p.assessed_on]
    undated = sum(1 for ip in p.ip if ip.granted_on is None)
    return dated, undated


def _h2(p: EnterpriseProfile, improvements: list[Improvement]) -> Condition:
    valid, undated = _valid_ip(p)
    values = {"class_i": sum(1 for ip in valid if ip.ip_class == "I"),
              "class_ii": sum(1 for ip in valid if ip.ip_class == "II")}
    if valid:
        return Condition("H2", PASS, values, _("owns IP granted before the application; the experts judge its core role"),
                         "ip_pass")
    if undated:
        return Condition("H2", UNKNOWN, values, _("IP without a grant date"), "ip_undated")
    improvements.append(Improvement("H2", _("Obtain at least one granted IP right (a class I right also scores 7–8 "
                                            "points for IP quantity)"), True))
    return Condition("H2", FAIL, values, _("no granted IP: 不具备知识产权的企业不能认定"), "ip_fail")


def _h3(p: EnterpriseProfile) -> Condition:
    if not p.field:
        return Condition("H3", UNKNOWN, {}, _("technical field not given"), "no_field")
    name = p.field.lstrip("一二三四五六七八、.0123456789 ")
    domain = next((d for d in DOMAINS if name.startswith(d)), None)
    if domain:
        return Condition("H3", PASS, {"domain": domain}, _("%(domain)s: a 国家重点支持的高新技术领域", domain=domain),
                         "field_pass")
    return Condition("H3", REVIEW, {"field": p.field}, _("field not recognised as one of the eight domains: the experts decide"),
                     "field_review")


def _h4(latest: FiscalYear | None, improvements: list[Improvement]) -> Condition:
    averages = latest.staff_averages() if latest else None
    if averages is None:
        return Condition("H4", UNKNOWN, {}, _("staff of the last fiscal year not given"), "no_staff")
    staff, st = averages
    if staff == 0:
        return Condition("H4", FAIL, {"staff": 0.0, "st_staff": 0.0}, _("no staff"), "no_staff_count")
    share = st / staff
    values = {"staff": ratio(staff), "st_staff": ratio(st), "st_share": ratio(share), "required": 0.1}
    if share >= ST_STAFF_SHARE:
        return Condition("H4", PASS, values, _("S&T staff %(share)s ≥ 10%%", share=percent(float(share))), "st_pass")
    # New S&T hires raise both counts: (st + n) ÷ (staff + n) ≥ 10 %  ⇔  n ≥ (10 % × staff − st) ÷ 90 %.
    needed = (ST_STAFF_SHARE * staff - st) / (1 - ST_STAFF_SHARE)
    hires = math.ceil(needed)
    improvements.append(Improvement("H4", _("Add %(count)s S&T staff (monthly average over the year) to reach 10%%",
                                                     count=hires),
                                    True, amount=float(hires), unit="people"))
    return Condition("H4", FAIL, values, _("S&T staff %(share)s < 10%%", share=percent(float(share))), "st_fail")


def _h5(years: list[FiscalYear], missing: list[int], latest: FiscalYear | None,
        improvements: list[Improvement]) -> Condition:
    if missing:
        return Condition("H5", UNKNOWN, {"missing_years": missing}, _("fiscal years missing: %(years)s", years=", ".join(map(str, missing))),
                         "rd_missing_years")
    if not years or latest is None:
        return Condition("H5", UNKNOWN, {}, _("no fiscal year before the application"), "rd_no_years")
    lacking = [y.year for y in years if y.rd is None or y.sales is None]
    if lacking:
        return Condition("H5", UNKNOWN, {"missing_years": lacking}, _("R&D or sales missing for %(years)s", years=", ".join(map(str, lacking))),
                         "rd_missing_values")
    rd = rd_figures(years)
    sales = sum((y.sales for y in years), Fraction(0))
    latest_sales = latest.sales
    band = rd_band(latest_sales)
    values = {"rd": ratio(rd.total), "sales": ratio(sales), "latest_sales": ratio(latest_sales), "band": ratio(band),
              "years": [y.year for y in years]}
    if sales == 0:
        return Condition("H5", REVIEW, values, _("no sales in the period: the intensity is undefined"),
                         "rd_no_sales")
    intensity = rd.total / sales
    share = rd.domestic / rd.total if rd.total else Fraction(0)
    values.update(rd_ratio=ratio(intensity), domestic_share=ratio(share))
    if rd.other_excess:
        values["other_excess"] = ratio(rd.other_excess)
    intensity_ok = intensity >= band
    share_ok = share >= DOMESTIC_SHARE
    if intensity_ok and share_ok:
        return Condition("H5", PASS, values, _("R&D %(ratio)s ≥ %(band)s, in China %(share)s ≥ 60%%",
                                                    ratio=percent(float(intensity)), band=percent(float(band), 0),
                                                    share=percent(float(share), 0)), "rd_pass")
    if not intensity_ok and rd.other_excess and rd.uncapped_total / sales >= band and share_ok:
        # 其他费用 is capped "generally" (一般): whether the excess may count is left open.
        return Condition("H5", REVIEW, values, _("R&D reaches the band only with 其他费用 above 20% of the total"),
                         "rd_other_cap")
    if not intensity_ok:
        gap = band * sales - rd.total
        improvements.append(Improvement("H5", _("Raise R&D by %(amount)s万元 (three-year total, HNTE caliber) to "
                                                "reach the %(band)s band", amount=wan(gap),
                                                band=percent(float(band), 0)), True, amount=float(gap), unit="万元"))
    if not share_ok:
        # Added domestic R&D d: (domestic + d) ÷ (total + d) ≥ 60 %  ⇔  d ≥ (60 % × total − domestic) ÷ 40 %.
        gap = (DOMESTIC_SHARE * rd.total - rd.domestic) / (1 - DOMESTIC_SHARE)
        improvements.append(Improvement("H5", _("Add %(amount)s万元 of R&D in China (internal or commissioned in China) "
                                                "to reach the 60%% domestic share", amount=wan(gap)), True, amount=float(gap),
                                        unit="万元"))
    problem = (_("R&D %(ratio)s < %(band)s", ratio=percent(float(intensity)), band=percent(float(band), 0))
               if not intensity_ok else _("R&D in China %(share)s < 60%%", share=percent(float(share), 0)))
    return Condition("H5", FAIL, values, problem, "rd_fail")


def _h6(latest: FiscalYear | None, improvements: list[Improvement]) -> Condition:
    if latest is None or latest.income is None or latest.high_tech_income is None:
        return Condition("H6", UNKNOWN, {}, _("income of the last fiscal year not given"), "no_income")
    income, high_tech = latest.income, latest.high_tech_income
    values = {"high_tech_income": ratio(high_tech), "total_income": ratio(income)}
    if income <= 0:
        return Condition("H6", REVIEW, values, _("总收入 (收入总额 − 不征税收入) is not positive"),
                         "income_not_positive")
    share = high_tech / income
    values["share"] = ratio(share)
    if share >= HIGH_TECH_SHARE:
        return Condition("H6", PASS, values, _("high-tech income %(share)s ≥ 60%%", share=percent(float(share))),
                         "high_tech_pass")
    # New high-tech revenue x raises both: (h + x) ÷ (income + x) ≥ 60 %  ⇔  x ≥ (60 % × income − h) ÷ 40 %.
    gap = (HIGH_TECH_SHARE * income - high_tech) / (1 - HIGH_TECH_SHARE)
    improvements.append(Improvement("H6", _("Raise high-tech product/service income by %(amount)s万元 to reach 60%% "
                                            "of total income", amount=wan(gap)), True, amount=float(gap), unit="万元"))
    return Condition("H6", FAIL, values, _("high-tech income %(share)s < 60%%", share=percent(float(share))),
                     "high_tech_fail")


def _h8(p: EnterpriseProfile) -> Condition:
    if p.incident_in_last_year is None:
        return Condition("H8", UNKNOWN, {}, _("incidents in the last year not declared"), "no_incident_data")
    if p.incident_in_last_year:
        return Condition("H8", FAIL, {}, _("a major safety or quality accident or serious environmental violation "
                                           "in the 365 days before the application"), "incident")
    return Condition("H8", PASS, {}, _("no major accident or environmental violation declared"), "no_incident")


# --- the score ----------------------------------------------------------------------------------

def _rated(p: EnterpriseProfile, key: str, low: int, high: int, letters: dict | None = None) -> ScoreItem:
    """An expert-judged item: the self-rating (band letter or integer) within [low, high], else the range."""
    rating = p.self_rating.get(key)
    if isinstance(rating, str) and letters:
        lo, hi = letters[rating]
        return ScoreItem(key, max(lo, low), min(hi, high), "self_rated")
    if isinstance(rating, int):
        value = min(max(rating, low), high)
        return ScoreItem(key, value, value, "self_rated")
    return ScoreItem(key, low, high, "expert")


def ip_quantity_points(class_i: int, class_ii: int) -> tuple[int, int, str]:
    """知识产权数量 (指引 附件3 1(3)): ≥1 Ⅰ类 → 7–8; ≥5 Ⅱ类 → 5–6; 3–4 → 3–4; 1–2 → 1–2; none → 0."""
    if class_i >= 1:
        return 7, 8, "A"
    if class_ii >= 5:
        return 5, 6, "B"
    if class_ii >= 3:
        return 3, 4, "C"
    if class_ii >= 1:
        return 1, 2, "D"
    return 0, 0, "E"


def _ip_part(p: EnterpriseProfile) -> ScorePart:
    valid, undated = _valid_ip(p)
    class_i = sum(1 for ip in valid if ip.ip_class == "I")
    class_ii = sum(1 for ip in valid if ip.ip_class == "II")
    has_ip = bool(valid)
    items = []
    if has_ip or undated:
        items.append(_rated(p, "ip_advancedness", 0, 8, EIGHT_POINT_BANDS))
        items.append(_rated(p, "ip_core_support", 0, 8, EIGHT_POINT_BANDS))
    else:  # no IP: nothing to be advanced or supportive (band E)
        items += [ScoreItem("ip_advancedness", 0, 0, "computed"), ScoreItem("ip_core_support", 0, 0, "computed")]
    lo, hi, band = ip_quantity_points(class_i, class_ii)
    if undated:  # undated rights might count: widen to what they could add
        hi = ip_quantity_points(class_i + undated, class_ii + undated)[1]
    items.append(ScoreItem("ip_quantity", lo, hi, "computed", band))
    own = any(ip.acquired == "own" for ip in p.ip if ip in valid)
    if own:
        items.append(_rated(p, "ip_acquisition", 1, 6))   # A 有自主研发 1–6
    elif has_ip:
        items.append(_rated(p, "ip_acquisition", 1, 3))   # B 仅有受让、受赠和并购 1–3
    else:
        items.append(ScoreItem("ip_acquisition", 0, 6 if undated else 0, "computed"))
    if p.standards_drafted is None:
        items.append(ScoreItem("standards", 0, 2, "expert", "not given"))
    elif p.standards_drafted > 0:
        items.append(ScoreItem("standards", 1, 2, "expert"))
    else:
        items.append(ScoreItem("standards", 0, 0, "computed"))
    # 指引 附件3: the bonus may not lift the part above 30.
    total_min = min(sum(i.min for i in items), 30)
    total_max = min(sum(i.max for i in items), 30)
    return ScorePart("ip", total_min, total_max, tuple(items),
                     values={"class_i": class_i, "class_ii": class_ii})


def _conversion_part(years: list[FiscalYear], missing: list[int]) -> ScorePart:
    counts = [y.conversions for y in years]
    if missing or not years or any(c is None for c in counts):
        return ScorePart("conversion", 0, 30, (ScoreItem("conversion", 0, 30, "expert", "no data"),),
                         notes=(_("conversions missing"),))
    average = Fraction(sum(counts), len(counts))
    lo, hi, band, review = conversion_points(average)
    notes = (_("average between 0 and 1: between bands E and F"),) if review else ()
    return ScorePart("conversion", lo, hi, (ScoreItem("conversion", lo, hi, "computed", band),), review=review,
                     notes=notes, values={"annual_average": ratio(average), "band": band})


def _rd_management_part(p: EnterpriseProfile) -> ScorePart:
    # 指引 三(七)3: one holistic score of four items (6 + 6 + 4 + 4) with no sub-bands.
    items = (_rated(p, "rd_system", 0, 6), _rated(p, "rd_institution", 0, 6),
             _rated(p, "conversion_incentives", 0, 4), _rated(p, "talent_development", 0, 4))
    return ScorePart("rd_management", sum(i.min for i in items), sum(i.max for i in items), items)


def _growth_part(p: EnterpriseProfile, years: list[FiscalYear], missing: list[int]) -> ScorePart:
    items, notes, values = [], [], {}
    review = False
    for code, attribute in (("net_assets", "net_assets"), ("sales", "sales")):
        series = [getattr(y, attribute) for y in years]
        if missing or not years or any(v is None for v in series):
            items.append(ScoreItem(f"{code}_growth", 0, 10, "expert", "no data"))
            notes.append(_("%(item)s: data missing", item=code))
            continue
        rate, note = growth_rate(series)
        if rate is None and note == "zero_second":
            items.append(ScoreItem(f"{code}_growth", 0, 0, "computed", note))
            continue
        if rate is None:
            review = True
            notes.append(_("%(item)s: no growth rate can be computed (%(reason)s)", item=code, reason=note))
            items.append(ScoreItem(f"{code}_growth", 0, 10, "expert", note))
            continue
        lo, hi, band, boundary = growth_points(rate)
        values[f"{code}_rate"] = ratio(rate)
        if note:
            review = True
            notes.append(_("%(item)s: first year zero, 按后两年计算 read as year 3 ÷ year 2 − 1", item=code))
        if boundary:
            review = True
            notes.append(_("%(item)s: exactly 5%% (指引 ≥ 5%%, 附件4 ＞ 5%%)", item=code))
        items.append(ScoreItem(f"{code}_growth", lo, hi, "computed", band))
    return ScorePart("growth", sum(i.min for i in items), sum(i.max for i in items), tuple(items), review=review,
                     notes=tuple(notes), values=values)


def _score_improvements(p: EnterpriseProfile, parts: tuple[ScorePart, ...], years: list[FiscalYear],
                        missing: list[int], improvements: list[Improvement]) -> None:
    ip = next(x for x in parts if x.code == "ip")
    quantity = next(i for i in ip.items if i.code == "ip_quantity")
    if quantity.max < 8 and (ip.values["class_i"] or ip.values["class_ii"]):  # with no IP at all, H2 says it
        gain_min, gain_max = 7 - quantity.min, 8 - quantity.max
        improvements.append(Improvement("ip_quantity", _("Obtain one class I IP right (invention patent …): IP quantity 7–8 points "
                                          "(%(points)s)", points=plus(gain_min, gain_max)), False, gain_min, gain_max, 1, "rights"))
    if p.standards_drafted == 0:
        headroom = 30 - ip.max
        if headroom > 0:
            improvements.append(Improvement("standards", _("Take part in drafting a national or industry standard: up to "
                                              "+%(points)s points", points=min(2, headroom)), False, min(1, headroom),
                                            min(2, headroom), 1, "standards"))
    conversion = next(x for x in parts if x.code == "conversion")
    if "annual_average" in conversion.values and not missing and years:
        average = Fraction(sum(y.conversions for y in years), len(years))
        for low, band, lo, hi in reversed(CONVERSION_BANDS):
            if average < low:
                more = math.ceil(low * len(years) - sum(y.conversions for y in years))
                improvements.append(Improvement("conversion", _("Convert %(count)s more result(s) in the %(years)s-year period to reach "
                                      "band %(band)s (%(per_year)s a year): %(points)s points", count=more,
                                      years=len(years), band=band, per_year=low,
                                      points=plus(lo - conversion.min, hi - conversion.max)), False, lo - conversion.min, hi - conversion.max,
                                    more, "conversions"))
                break
    growth = next(x for x in parts if x.code == "growth")
    sales_item = next(i for i in growth.items if i.code == "sales_growth")
    series = [y.sales for y in years]
    if (not missing and len(years) == 3 and None not in series and series[0] > 0 and series[1] > 0
            and sales_item.basis == "computed" and sales_item.max < 10):
        v1, v2 = series[0], series[1]
        for low, band, lo, hi in reversed(GROWTH_BANDS):
            if lo > sales_item.max:
                # ½ (v2/v1 + v3/v2) − 1 ≥ low  ⇔  v3 ≥ v2 × (2 (1 + low) − v2/v1)
                target = v2 * (2 * (1 + low) - v2 / v1)
                if low == Fraction(5, 100):
                    target += Fraction(1, 100)  # strictly above the open 5 % boundary
                improvements.append(Improvement("sales_growth", _("Grow last year's sales to %(amount)s万元: sales growth band %(band)s "
                                      "(%(points)s points)", amount=wan(target), band=band,
                                      points=plus(lo - sales_item.min, hi - sales_item.max)), False,
                                    lo - sales_item.min, hi - sales_item.max, float(target), "万元"))
                break


# --- certificate lifecycle (办法 第九条, 指引 年报) ------------------------------------------------

@dataclass(frozen=True)
class Reminder:
    code: str  # annual_report_due | annual_report_overdue | expiring | expired | cancellation_risk
    due: dt.date
    message: str


def certificate_valid_until(issued_on: dt.date) -> dt.date:
    """The last valid day: three years from the certificate date (办法 第九条), i.e. the day before
    the third anniversary (29 February issues end on 28 February)."""
    year = issued_on.year + VALIDITY_YEARS
    try:
        anniversary = issued_on.replace(year=year)
    except ValueError:  # 29 February
        anniversary = dt.date(year, 3, 1)
    return anniversary - dt.timedelta(days=1)


def certificate_valid_on(issued_on: dt.date, day: dt.date) -> bool:
    return issued_on <= day <= certificate_valid_until(issued_on)


def annual_report_deadlines(issued_on: dt.date) -> list[tuple[int, dt.date]]:
    """(reported year, deadline): each year of validity is reported before 31 May of the next year."""
    return [(year, dt.date(year + 1, *ANNUAL_REPORT_DUE)) for year in range(issued_on.year, issued_on.year + VALIDITY_YEARS)]


def certificate_reminders(issued_on: dt.date, today: dt.date, *, reported_years: frozenset[int] = frozenset(),
                          remind_days: int = 60, warn_days: int = 180) -> list[Reminder]:
    """What to tell the firm ``today``: 年报 due within ``remind_days`` or overdue (two missed →
    cancellation, 办法 第十九条), expiry within ``warn_days``, or expired (no 复审: re-recognition)."""
    reminders = []
    until = certificate_valid_until(issued_on)
    missed = 0
    for year, deadline in annual_report_deadlines(issued_on):
        if year in reported_years or year >= today.year:
            continue
        if today > deadline:
            missed += 1
            reminders.append(Reminder("annual_report_overdue", deadline,
                                      _("annual report for %(year)s was due by %(date)s", year=year,
                                        date=deadline.isoformat())))
        elif (deadline - today).days <= remind_days:
            reminders.append(Reminder("annual_report_due", deadline,
                                      _("file the annual report for %(year)s by %(date)s", year=year,
                                        date=deadline.isoformat())))
    if missed >= 2:
        reminders.append(Reminder("cancellation_risk", today, _("%(count)s annual reports missed: the status is cancelled after two "
                                    "(办法 第十九条)", count=missed)))
    if today > until:
        reminders.append(Reminder("expired", until, _("certificate expired on %(date)s: apply for re-recognition (there is "
                                    "no 复审)", date=until.isoformat())))
    elif (until - today).days <= warn_days:
        reminders.append(Reminder("expiring", until, _("certificate valid until %(date)s: prepare the re-recognition "
                                    "application", date=until.isoformat())))
    return reminders
