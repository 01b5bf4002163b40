"""The growth score's published formula, and the policy-field record of a profile (hand-computed)."""

import datetime as dt
from fractions import Fraction

import pytest

from sciencecity.engines.rules import fields, lang
from sciencecity.engines.rules.growth import COMPONENTS, growth_score
from sciencecity.engines.rules.profile import (
    Certificate,
    EnterpriseProfile,
    FiscalYear,
    IntellectualProperty,
    RDExpense,
)


def _year(year, sales, net_assets=None, rd=None, staff=None, st=None):
    return FiscalYear(year=year, main_revenue=Fraction(sales), other_revenue=Fraction(0),
                      net_assets=None if net_assets is None else Fraction(net_assets),
                      rd=None if rd is None else RDExpense(personnel=Fraction(rd)),
                      staff_average=None if staff is None else Fraction(staff),
                      st_staff_average=None if st is None else Fraction(st))


def _profile(*years, ip=()):
    return EnterpriseProfile(id="E1", assessed_on=dt.date(2026, 6, 1), years=tuple(years), ip=tuple(ip))


def _points(score, code):
    return next(c for c in score.components if c.component.code == code)


def test_weights_add_up_to_100():
    assert sum(c.weight for c in COMPONENTS) == 100


def test_steady_growth_and_each_component():
    # sales 100 → 110 → 121: ½(1.1 + 1.1) − 1 = 10 % → 10/50 of 30 = 6 points
    # net assets 200 → 300 → 450: ½(1.5 + 1.5) − 1 = 50 % → full 15 points
    # R&D 6.05 / 121 = 5 % → half of 25 = 12.5; S&T 9 / 60 = 15 % → half of 15 = 7.5
    # IP: 2 class I + 4 class II = 3 → 3/5 of 15 = 9
    score = growth_score(_profile(
        _year(2023, 100, 200), _year(2024, 110, 300), _year(2025, 121, 450, rd="6.05", staff=60, st=9),
        ip=[IntellectualProperty("I")] * 2 + [IntellectualProperty("II")] * 4))
    assert _points(score, "sales_growth").value == Fraction(1, 10)
    assert _points(score, "sales_growth").points == 6
    assert _points(score, "net_asset_growth").points == 15
    assert _points(score, "rd_intensity").points == Fraction(25, 2)
    assert _points(score, "st_share").points == Fraction(15, 2)
    assert _points(score, "ip").points == 9
    assert score.total == 6 + 15 + Fraction(25, 2) + Fraction(15, 2) + 9 == 50
    assert score.total_points == 50.0


def test_zero_first_year_counts_the_last_two_years():
    # sales 0 → 100 → 130: v3 / v2 − 1 = 30 % → 30/50 × 30 = 18 points, with a note
    score = growth_score(_profile(_year(2023, 0), _year(2024, 100), _year(2025, 130)))
    sales = _points(score, "sales_growth")
    assert sales.value == Fraction(3, 10)
    assert sales.points == 18
    assert "first year is zero" in sales.note


def test_negative_growth_scores_zero():
    # 200 → 150 → 100: ½(0.75 + 0.6667) − 1 = −29.17 % → 0 points, the rate still shown
    sales = _points(growth_score(_profile(_year(2023, 200), _year(2024, 150), _year(2025, 100))), "sales_growth")
    assert sales.value == Fraction(1, 2) * (Fraction(3, 4) + Fraction(2, 3)) - 1
    assert sales.points == 0
    assert sales.share == 0


def test_growth_above_full_marks_is_capped_and_missing_data_scores_zero():
    score = growth_score(_profile(_year(2024, 100), _year(2025, 300)))  # two years: 200 %
    assert _points(score, "sales_growth").points == 30
    assert _points(score, "net_asset_growth").value is None
    assert _points(score, "net_asset_growth").points == 0
    assert _points(score, "net_asset_growth").note == "missing data"
    assert _points(score, "rd_intensity").value is None
    assert growth_score(_profile()).total == 0


def test_policy_record_of_a_profile():
    profile = EnterpriseProfile(
        id="E1", assessed_on=dt.date(2026, 6, 1), registered_on=dt.date(2016, 6, 1), field="电子信息",
        years=(_year(2024, 1000), FiscalYear(year=2025, main_revenue=Fraction(1100), other_revenue=Fraction(100),
                                             total_income=Fraction(1300), non_taxable_income=Fraction(100),
                                             high_tech_revenue=Fraction(700), technical_income=Fraction(140),
                                             rd=RDExpense(personnel=Fraction(60)), staff_average=Fraction(50),
                                             st_staff_average=Fraction(10))),
        ip=(IntellectualProperty("I"), IntellectualProperty("II"), IntellectualProperty("II")),
        hnte_certificate=Certificate("GR2024", dt.date(2024, 12, 1)), incident_in_last_year=False)
    record = fields.policy_record(profile, district="光明", tier="瞪羚")
    assert record["revenue"] == 1200
    assert record["total_income"] == 1200  # 1300 − 100 not taxable
    assert record["high_tech_share"] == pytest.approx(840 / 1200)
    assert record["rd_ratio"] == pytest.approx(60 / 1200)
    assert record["st_share"] == pytest.approx(0.2)
    assert record["revenue_growth"] == pytest.approx(0.2)
    assert (record["ip_class_i"], record["ip_class_ii"]) == (1, 2)
    assert record["hnte"] == (dt.date(2024, 12, 1), dt.date(2027, 11, 30))
    assert record["tech_sme"] is None
    assert record["age_years"] == pytest.approx(3652 / 365)
    rule = lang.parse_rule('revenue >= 1000 and has_cert("hnte") and district == "光明" and not incident',
                           fields.SCHEMA)
    assert lang.evaluate(rule, record, dt.date(2026, 6, 1)) is True
    assert set(record) == set(fields.SCHEMA)
