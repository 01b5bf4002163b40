"""Tech-SME evaluation (国科发政〔2017〕115号): score bands at each boundary, both R&D options with the
higher taken, conditions and direct routes; the scoring tables are data."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from fractions import Fraction

import pytest

from sciencecity.engines.rules import techsme
from sciencecity.engines.rules.profile import Certificate, profile_from_dict

RULES = techsme.load_rule_set()


def profile(**latest):
    year = {"year": 2025, "main_revenue": 1000, "other_revenue": 0, "total_income": 1000, "non_taxable_income": 0,
            "high_tech_revenue": 700, "technical_income": 0, "rd": {"personnel": 50}, "net_assets": 500,
            "total_assets": 1500, "total_costs": 900, "staff_average": 100, "st_staff_average": 20}
    year.update(latest)
    return profile_from_dict({"id": "S", "registered_on": "2020-01-01", "assessed_on": "2026-04-01", "years": [year],
                              "ip": [{"class": "II", "acquired": "own", "granted_on": "2022-01-01"}] * 2,
                              "incident_in_last_year": False})


def test_rule_set_names_its_regulation_and_version():
    assert RULES.regulation == "《科技型中小企业评价办法》国科发政〔2017〕115号" and RULES.version == "2017"


@pytest.mark.parametrize(("share", "points"), [
    ("0.30", 20), ("0.2999", 16), ("0.25", 16), ("0.2499", 12), ("0.20", 12), ("0.1999", 8), ("0.15", 8),
    ("0.1499", 4), ("0.10", 4), ("0.0999", 0), ("0", 0),
])
def test_staff_score_bands(share, points):
    assert techsme.band_points(Fraction(share), RULES.staff_bands) == points


@pytest.mark.parametrize(("ratio", "points"), [
    ("0.06", 50), ("0.0599", 40), ("0.05", 40), ("0.0499", 30), ("0.04", 30), ("0.0399", 20), ("0.03", 20),
    ("0.0299", 10), ("0.02", 10), ("0.0199", 0),
])
def test_rd_to_sales_bands(ratio, points):
    assert techsme.band_points(Fraction(ratio), RULES.rd_sales_bands) == points


@pytest.mark.parametrize(("ratio", "points"), [
    ("0.30", 50), ("0.2999", 40), ("0.25", 40), ("0.2499", 30), ("0.20", 30), ("0.1999", 20), ("0.15", 20),
    ("0.1499", 10), ("0.10", 10), ("0.0999", 0),
])
def test_rd_to_costs_bands(ratio, points):
    assert techsme.band_points(Fraction(ratio), RULES.rd_costs_bands) == points


@pytest.mark.parametrize(("class_i", "class_ii", "points"), [
    (1, 0, 30), (0, 5, 24), (0, 4, 24), (0, 3, 18), (0, 2, 12), (0, 1, 6), (0, 0, 0)])
def test_ip_score(class_i, class_ii, points):
    assert techsme.ip_points(class_i, class_ii, RULES) == points


def test_both_rd_options_the_higher_taken():
    # R&D 50: 5 % of sales 1,000 → 40; 50 / costs 900 = 5.6 % → 0; the higher is 40
    result = techsme.evaluate(profile())
    assert result.rd_options == {"sales": 40, "costs": 0} and result.parts["rd"] == 40
    # R&D 50 of costs 160 = 31 % → 50 beats 5 % of sales
    result = techsme.evaluate(profile(total_costs=160))
    assert result.rd_options["costs"] == 50 and result.parts["rd"] == 50


def test_score_and_qualification_at_60():
    # staff 20 % → 12, R&D 40, IP 2 Ⅱ类 → 12: 64 ≥ 60
    result = techsme.evaluate(profile())
    assert result.score == 64 and result.qualifies
    # 3 % of sales → 20: 12 + 20 + 12 = 44 < 60
    result = techsme.evaluate(profile(rd={"personnel": 30}))
    assert result.score == 44 and not result.qualifies


def test_staff_score_zero_fails_even_with_a_high_score():
    result = techsme.evaluate(profile(st_staff_average=9, rd={"personnel": 80}, total_costs=200))
    assert result.parts["staff"] == 0 and result.score == 62
    t5 = next(c for c in result.conditions if c.code == "T5")
    assert t5.status == "fail" and not result.qualifies


def test_rd_uses_the_119_caliber_abroad_excluded_other_capped_at_10_percent():
    # personnel 36 + commissioned China 10 × 80 % = 44; abroad not counted; other capped at 44/9 ≈ 4.89
    year = profile(rd={"personnel": 36, "commissioned_domestic": 10, "commissioned_abroad": 100, "other": 20}).years[0]
    assert techsme.rd_expense(year, RULES) == Fraction(44) + Fraction(44, 9)


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("staff_average", 500, True), ("staff_average", 500.5, False), ("main_revenue", 20000, True),
    ("main_revenue", 20000.01, False), ("total_assets", 20000, True), ("total_assets", 20001, False)])
def test_size_limits_inclusive(field, value, ok):
    t2 = next(c for c in techsme.evaluate(profile(**{field: value})).conditions if c.code == "T2")
    assert t2.status == ("pass" if ok else "fail")


def test_direct_route_by_a_valid_hnte_certificate():
    data = profile(rd={"personnel": 0})
    assert not techsme.evaluate(data).qualifies
    certified = replace(data, hnte_certificate=Certificate("GR2023", dt.date(2023, 12, 12)))
    result = techsme.evaluate(certified)
    assert result.direct_route == "hnte_certificate" and result.qualifies
    expired = replace(data, hnte_certificate=Certificate("GR2022", dt.date(2022, 12, 12)))
    assert techsme.evaluate(expired).direct_route is None  # valid until 2025-12-11


def test_a_newer_rule_set_replaces_the_tables_without_code(tmp_path):
    data = json.loads(techsme.DEFAULT_RULE_SET.read_text(encoding="utf-8"))
    data["version"] = "test"
    data["pass_score"]["min"] = 70
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    stricter = techsme.load_rule_set(path)
    result = techsme.evaluate(profile(), stricter)
    assert result.score == 64 and not result.qualifies
