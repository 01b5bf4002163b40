"""The fields a policy or financial-product rule may name, and one enterprise's values for them.

The schema is the contract between the policy editor and the profile: a rule is validated against
``SCHEMA`` at save time (``lang.parse_rule``), and ``policy_record`` turns an ``EnterpriseProfile``
(the latest fiscal year before the assessment date) plus what the profile does not hold (district,
cultivation tier, certificates other than 高新, growth score) into the flat record the evaluators
read. Amounts are in 万元, ratios are fractions (0.05 = 5 %), ages in years.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .lang import BOOL, CERTIFICATE, DATE, NUMBER, TEXT
from .profile import EnterpriseProfile, FiscalYear


@dataclass(frozen=True)
class RuleField:
    name: str
    type: str
    label: str  # English; the Django side translates it
    unit: str = ""


FIELDS: tuple[RuleField, ...] = (
    RuleField("revenue", NUMBER, "Sales revenue, latest year", "万元"),
    RuleField("total_income", NUMBER, "Total income less non-taxable income, latest year", "万元"),
    RuleField("high_tech_income", NUMBER, "High-tech products and technical income, latest year", "万元"),
    RuleField("high_tech_share", NUMBER, "High-tech income ÷ total income"),
    RuleField("rd_expense", NUMBER, "R&D expense, latest year", "万元"),
    RuleField("rd_ratio", NUMBER, "R&D expense ÷ sales revenue"),
    RuleField("net_assets", NUMBER, "Net assets, latest year", "万元"),
    RuleField("total_assets", NUMBER, "Total assets, latest year", "万元"),
    RuleField("staff", NUMBER, "Staff (monthly average)"),
    RuleField("st_staff", NUMBER, "S&T staff (monthly average)"),
    RuleField("st_share", NUMBER, "S&T staff ÷ staff"),
    RuleField("ip_class_i", NUMBER, "Class I IP rights"),
    RuleField("ip_class_ii", NUMBER, "Class II IP rights"),
    RuleField("conversions", NUMBER, "Conversions of results, latest year"),
    RuleField("standards", NUMBER, "Standards drafted"),
    RuleField("revenue_growth", NUMBER, "Sales growth rate over the last years"),
    RuleField("age_years", NUMBER, "Years since registration"),
    RuleField("growth_score", NUMBER, "Growth score (0–100)"),
    RuleField("sector", TEXT, "Technical field"),
    RuleField("district", TEXT, "District"),
    RuleField("tier", TEXT, "Cultivation tier"),
    RuleField("incident", BOOL, "Major incident in the last year"),
    RuleField("registered_on", DATE, "Registration date"),
    RuleField("hnte", CERTIFICATE, "High-tech enterprise certificate"),
    RuleField("tech_sme", CERTIFICATE, "Tech-SME registration"),
    RuleField("specialised", CERTIFICATE, "专精特新 recognition"),
)
SCHEMA: dict[str, str] = {f.name: f.type for f in FIELDS}


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _ratio(top: Fraction | None, bottom: Fraction | None) -> float | None:
    if top is None or bottom is None or bottom <= 0:
        return None
    return float(top / bottom)


def latest_year(profile: EnterpriseProfile) -> FiscalYear | None:
    years = [y for y in profile.years if y.year < profile.assessed_on.year]
    return max(years, key=lambda y: y.year) if years else None


def policy_record(profile: EnterpriseProfile, *, district: str | None = None, tier: str | None = None,
                  certificates: Mapping[str, tuple[dt.date, dt.date]] | None = None,
                  growth_score: float | None = None) -> dict[str, Any]:
    """The values of ``FIELDS`` for one enterprise (None = unknown). ``certificates`` maps a
    certificate field to (valid from, valid until); the 高新 certificate of the profile is used
    when ``certificates`` does not name ``hnte``."""
    from .hnte import certificate_valid_until, growth_rate

    year = latest_year(profile)
    record: dict[str, Any] = {f.name: None for f in FIELDS}
    if year is not None:
        rd_total = None if year.rd is None else sum(
            (getattr(year.rd, name) for name in ("personnel", "direct", "depreciation", "amortisation", "design",
                                                  "equipment_testing", "commissioned_domestic",
                                                  "commissioned_abroad", "other")), Fraction(0))
        staff = year.staff_averages()
        record.update(
            revenue=_float(year.sales), total_income=_float(year.income), high_tech_income=_float(year.high_tech_income),
            high_tech_share=_ratio(year.high_tech_income, year.income), rd_expense=_float(rd_total),
            rd_ratio=_ratio(rd_total, year.sales), net_assets=_float(year.net_assets),
            total_assets=_float(year.total_assets), conversions=year.conversions,
            staff=None if staff is None else float(staff[0]), st_staff=None if staff is None else float(staff[1]),
            st_share=None if staff is None else _ratio(staff[1], staff[0]),
        )
        sales = [y.sales for y in sorted(profile.years, key=lambda y: y.year)
                 if y.year < profile.assessed_on.year][-3:]
        if sales and all(s is not None for s in sales):
            rate, _note = growth_rate(sales)
            record["revenue_growth"] = _float(rate)
    record["ip_class_i"] = sum(1 for ip in profile.ip if ip.ip_class == "I")
    record["ip_class_ii"] = sum(1 for ip in profile.ip if ip.ip_class == "II")
    record["standards"] = profile.standards_drafted
    record["incident"] = profile.incident_in_last_year
    record["sector"] = profile.field or None
    record["district"] = district or None
    record["tier"] = tier or None
    record["registered_on"] = profile.registered_on
    if profile.registered_on is not None:
        record["age_years"] = (profile.assessed_on - profile.registered_on).days / 365
    record["growth_score"] = growth_score
    held = dict(certificates or {})
    if "hnte" not in held and profile.hnte_certificate is not None:
        issued = profile.hnte_certificate.issued_on
        held["hnte"] = (issued, certificate_valid_until(issued))
    for name in ("hnte", "tech_sme", "specialised"):
        record[name] = held.get(name)
    return record
