"""Tech-SME (科技型中小企业) evaluation: 《科技型中小企业评价办法》国科发政〔2017〕115号.

Conditions T1–T5 (第六条), the 100-point score (第七条) with both R&D options computed and the
higher taken, and the direct-qualification routes (第八条). The limits, the R&D caliber and the
scoring tables are data (``data/tech_sme_2017.json``, with its regulation and version); a newer
rule set is another file passed to ``load_rule_set``, not a code change.

The latest fiscal year is used. T1 (resident in mainland China) and T3 (not in a forbidden,
restricted or obsolete category) are the enterprise's own declarations on the national platform;
the assessment file carries no field for them, so they come back ``unknown`` unless the caller
passes them, and ``qualifies`` is decided on the conditions the data can decide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .hnte import FAIL, PASS, UNKNOWN, Condition, certificate_valid_on, ratio
from .i18n import _
from .profile import EnterpriseProfile, FiscalYear, q

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_RULE_SET = DATA / "tech_sme_2017.json"


@dataclass(frozen=True)
class RuleSet:
    regulation: str
    version: str
    staff_limit: Fraction
    sales_limit: Fraction
    assets_limit: Fraction
    pass_score: int
    staff_score_nonzero: bool
    commissioned_domestic: Fraction
    commissioned_abroad: Fraction
    other_cap_share: Fraction
    staff_bands: tuple[tuple[Fraction, int], ...]
    rd_sales_bands: tuple[tuple[Fraction, int], ...]
    rd_costs_bands: tuple[tuple[Fraction, int], ...]
    ip_class_i: tuple[tuple[int, int], ...]
    ip_class_ii: tuple[tuple[int, int], ...]


def _bands(rows) -> tuple[tuple[Fraction, int], ...]:
    bands = tuple((q(low), int(points)) for low, points in rows)
    if [b[0] for b in bands] != sorted((b[0] for b in bands), reverse=True):
        raise ValueError("score bands must be listed from the highest lower bound down")
    return bands


def rule_set_from_dict(data: dict) -> RuleSet:
    scores = data["scores"]
    return RuleSet(
        regulation=data["regulation"], version=str(data["version"]),
        staff_limit=q(data["limits"]["staff"]), sales_limit=q(data["limits"]["sales"]),
        assets_limit=q(data["limits"]["total_assets"]),
        pass_score=int(data["pass_score"]["min"]), staff_score_nonzero=bool(data["pass_score"]["staff_score_nonzero"]),
        commissioned_domestic=q(data["rd_caliber"]["commissioned_domestic"]),
        commissioned_abroad=q(data["rd_caliber"]["commissioned_abroad"]),
        other_cap_share=q(data["rd_caliber"]["other_cap_share"]),
        staff_bands=_bands(scores["staff"]["bands"]), rd_sales_bands=_bands(scores["rd_sales"]["bands"]),
        rd_costs_bands=_bands(scores["rd_costs"]["bands"]),
        ip_class_i=tuple((int(a), int(b)) for a, b in scores["ip"]["class_i"]),
        ip_class_ii=tuple((int(a), int(b)) for a, b in scores["ip"]["class_ii"]),
    )


def load_rule_set(path: Path | str = DEFAULT_RULE_SET) -> RuleSet:
    return rule_set_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def band_points(value: Fraction, bands: tuple[tuple[Fraction, int], ...]) -> int:
    """Points of the first band whose inclusive lower bound ``value`` reaches (half-open bands)."""
    for low, points in bands:
        if value >= low:
            return points
    return 0


def ip_points(class_i: int, class_ii: int, rules: RuleSet) -> int:
    for minimum, points in rules.ip_class_i:
        if class_i >= minimum:
            return points
    for minimum, points in rules.ip_class_ii:
        if class_ii >= minimum:
            return points
    return 0


def rd_expense(year: FiscalYear, rules: RuleSet) -> Fraction:
    """R&D of the year in the 财税〔2015〕119号 caliber of the rule set."""
    rd = year.rd
    assert rd is not None
    before_other = (rd.internal + rules.commissioned_domestic * rd.commissioned_domestic
                    + rules.commissioned_abroad * rd.commissioned_abroad)
    cap = before_other * rules.other_cap_share / (1 - rules.other_cap_share)
    return before_other + min(rd.other, cap)


@dataclass(frozen=True)
class TechSmeDeclarations:
    """What the enterprise declares and the assessment file does not carry (None: not declared)."""

    resident_mainland: bool | None = None       # T1
    forbidden_industry: bool | None = None      # T3
    national_award_top3: bool = False           # 第八条(二), last five years
    provincial_rd_institution: bool = False     # 第八条(三)
    led_standard: bool = False                  # 第八条(四), first five drafters, last five years


@dataclass(frozen=True)
class TechSmeResult:
    qualifies: bool
    score: int | None
    parts: dict[str, int | None]
    conditions: tuple[Condition, ...]
    direct_route: str | None
    rd_options: dict[str, int | None] = field(default_factory=dict)
    rule_set: str = ""

    def to_dict(self) -> dict:
        return {"qualifies": self.qualifies, "score": self.score, "parts": self.parts,
                "conditions": [c.to_dict() for c in self.conditions], "direct_route": self.direct_route}


def evaluate(profile: EnterpriseProfile, rules: RuleSet | None = None,
             declarations: TechSmeDeclarations = TechSmeDeclarations()) -> TechSmeResult:
    rules = rules or load_rule_set()
    latest = profile.year(profile.assessed_on.year - 1)
    conditions = [_declared("T1", declarations.resident_mainland, _("resident enterprise in mainland China")),
                  _t2(latest, rules),
                  _declared("T3", None if declarations.forbidden_industry is None else not declarations.forbidden_industry,
                            _("products not in a forbidden, restricted or obsolete category")),
                  _t4(profile)]
    staff_points = rd_points = None
    rd_options: dict[str, int | None] = {"sales": None, "costs": None}
    averages = latest.staff_averages() if latest else None
    if averages and averages[0] > 0:
        staff_points = band_points(averages[1] / averages[0], rules.staff_bands)
    if latest and latest.rd is not None:
        rd = rd_expense(latest, rules)
        if latest.sales:
            rd_options["sales"] = band_points(rd / latest.sales, rules.rd_sales_bands)
        if latest.total_costs:
            rd_options["costs"] = band_points(rd / latest.total_costs, rules.rd_costs_bands)
        known = [v for v in rd_options.values() if v is not None]
        rd_points = max(known) if known else None
    valid = [ip for ip in profile.ip if ip.granted_on is not None and ip.granted_on <= profile.assessed_on]
    ip = ip_points(sum(1 for i in valid if i.ip_class == "I"), sum(1 for i in valid if i.ip_class == "II"), rules)
    parts = {"staff": staff_points, "rd": rd_points, "ip": ip}
    score = None if None in parts.values() else sum(parts.values())
    if score is None:
        t5 = Condition("T5", UNKNOWN, {"parts": parts}, _("staff or R&D of the last fiscal year not given"),
                       "score_unknown")
    elif score >= rules.pass_score and (staff_points != 0 or not rules.staff_score_nonzero):
        t5 = Condition("T5", PASS, {"score": score}, _("score %(score)s ≥ %(pass_score)s, S&T staff score %(staff)s",
                                                        score=score, pass_score=rules.pass_score, staff=staff_points),
                       "score_pass")
    else:
        why = (_("score %(score)s < %(pass_score)s", score=score, pass_score=rules.pass_score)
               if score < rules.pass_score else _("S&T staff score is 0"))
        t5 = Condition("T5", FAIL, {"score": score}, why, "score_fail")
    conditions.append(t5)
    route = None
    if profile.hnte_certificate and certificate_valid_on(profile.hnte_certificate.issued_on, profile.assessed_on):
        route = "hnte_certificate"
    elif declarations.national_award_top3:
        route = "national_award_top3"
    elif declarations.provincial_rd_institution:
        route = "provincial_rd_institution"
    elif declarations.led_standard:
        route = "led_standard"
    decided = [c for c in conditions if c.code in ("T2", "T4")]
    base_ok = all(c.status == PASS for c in decided) and all(
        c.status != FAIL for c in conditions if c.code in ("T1", "T3"))
    qualifies = base_ok and (route is not None or t5.status == PASS)
    return TechSmeResult(qualifies=qualifies, score=score, parts=parts, conditions=tuple(conditions),
                         direct_route=route, rd_options=rd_options, rule_set=f"{rules.regulation} ({rules.version})")


def _declared(code: str, value: bool | None, what: str) -> Condition:
    if value is None:
        return Condition(code, UNKNOWN, {}, _("%(condition)s: declared by the enterprise, not in the data", condition=what),
                         "declaration")
    return Condition(code, PASS if value else FAIL, {}, what if value else _("not: %(condition)s", condition=what),
                     "declared")


def _t2(latest: FiscalYear | None, rules: RuleSet) -> Condition:
    averages = latest.staff_averages() if latest else None
    if latest is None or averages is None or latest.sales is None or latest.total_assets is None:
        return Condition("T2", UNKNOWN, {}, _("staff, sales or total assets of the last fiscal year not given"),
                         "size_unknown")
    staff, sales, assets = averages[0], latest.sales, latest.total_assets
    values = {"staff": ratio(staff), "sales": ratio(sales), "total_assets": ratio(assets)}
    over = [name for name, value, limit in (("staff", staff, rules.staff_limit), ("sales", sales, rules.sales_limit),
                                            ("total_assets", assets, rules.assets_limit)) if value > limit]
    if over:
        return Condition("T2", FAIL, values, _("above the SME limits: %(items)s", items=", ".join(over)), "size_fail")
    return Condition("T2", PASS, values, _("staff ≤ %(staff)s, sales ≤ %(sales)s万元, total assets ≤ %(assets)s万元",
                                                    staff=rules.staff_limit, sales=rules.sales_limit,
                                                    assets=rules.assets_limit), "size_pass")


def _t4(profile: EnterpriseProfile) -> Condition:
    if profile.incident_in_last_year is None:
        return Condition("T4", UNKNOWN, {}, _("incidents not declared"), "no_incident_data")
    if profile.incident_in_last_year:
        return Condition("T4", FAIL, {}, _("a major accident or serious violation"), "incident")
    return Condition("T4", PASS, {}, _("no major accident or serious violation declared (the platform checks the "
                                       "abnormal and dishonest lists)"), "no_incident")

