"""High-tech enterprise self-assessment: the rule arithmetic pinned with hand-computed cases
(办法 国科发火〔2016〕32号, 指引 国科发火〔2016〕195号)."""

from __future__ import annotations

import copy
import datetime as dt
from fractions import Fraction

import pytest

from sciencecity.engines.rules import hnte
from sciencecity.engines.rules.profile import ProfileError, profile_from_dict

F = Fraction


def year(y: int, sales: float = 4000, rd: float = 200, rd_items: dict | None = None, **extra) -> dict:
    data = {"year": y, "main_revenue": sales, "other_revenue": 0, "total_income": sales, "non_taxable_income": 0,
            "high_tech_revenue": sales * 0.8, "technical_income": 0, "rd": rd_items or {"personnel": rd},
            "net_assets": 1000, "total_assets": 2000, "total_costs": sales * 0.8,
            "staff_average": 100, "st_staff_average": 20, "conversions": 5}
    data.update(extra)
    return data


def base(**overrides) -> dict:
    data = {"id": "T", "name": "测试", "registered_on": "2015-01-01", "assessed_on": "2026-06-30",
            "years": [year(2023), year(2024), year(2025)],
            "ip": [{"class": "I", "kind": "invention_patent", "acquired": "own", "granted_on": "2021-05-10"}],
            "standards_drafted": 1, "incident_in_last_year": False, "field": "电子信息"}
    data.update(overrides)
    return data


def assess(data: dict) -> hnte.HnteAssessment:
    return hnte.assess(profile_from_dict(data))


def with_latest(**fields) -> dict:
    data = base()
    data["years"][2].update(fields)
    return data


# --- H5: R&D bands by the latest year's sales, boundaries inclusive ------------------------------

@pytest.mark.parametrize(("sales", "band"), [
    (0, F(5, 100)), (4999.99, F(5, 100)), (5000, F(5, 100)), (5000.01, F(4, 100)),
    (19999.99, F(4, 100)), (20000, F(4, 100)), (20000.01, F(3, 100)), (1_000_000, F(3, 100)),
])
def test_rd_band_boundaries_at_5000_wan_and_2_yi_exactly(sales, band):
    assert hnte.rd_band(F(str(sales))) == band


@pytest.mark.parametrize(("sales", "rd", "status"), [
    (5000, 250, "pass"),       # 5 % exactly of 5,000万 → the 5 % band is met
    (5000, 249.99, "fail"),
    (5000.01, 200.0004, "pass"),  # just above 5,000万 → 4 % band: 4 % of 5,000.01 = 200.0004
    (5000.01, 200.0003, "fail"),
    (20000, 800, "pass"),      # 2亿 exactly is still the 4 % band
    (20000, 799.99, "fail"),
    (20000.01, 600.0003, "pass"),  # above 2亿 → 3 %
    (20000.01, 600.0002, "fail"),
])
def test_h5_at_and_around_each_band(sales, rd, status):
    # three identical years, so the three-year ratio is the one-year ratio
    data = base(years=[year(y, sales=sales, rd=rd) for y in (2023, 2024, 2025)])
    h5 = assess(data).condition("H5")
    assert h5.status == status, h5


def test_h5_three_year_total_and_improvement_amount():
    # R&D 150 + 180 + 250 = 580 over sales 3,000 + 4,000 + 5,000 = 12,000 → 4.833 %; latest 5,000 → 5 % band
    data = base(years=[year(2023, 3000, 150), year(2024, 4000, 180), year(2025, 5000, 250)])
    result = assess(data)
    h5 = result.condition("H5")
    assert h5.status == "fail"
    assert h5.values["rd_ratio"] == 0.0483 and h5.values["band"] == 0.05
    assert result.improvements[0].amount == pytest.approx(20.0)   # 600 − 580
    assert result.improvements[0].message.startswith("Raise R&D by 20万元")


def test_commissioned_r_and_d_counts_at_80_percent():
    # internal 100 + 80 % × 100 commissioned in China = 180 → 180 / 4,000 = 4.5 %
    years = [year(y, 4000, 0, rd_items={"personnel": 100, "commissioned_domestic": 100}) for y in (2023, 2024, 2025)]
    h5 = assess(base(years=years)).condition("H5")
    assert h5.values["rd"] == 540 and h5.values["rd_ratio"] == 0.045 and h5.values["domestic_share"] == 1.0
    assert h5.status == "fail"  # 4.5 % < 5 % (sales 4,000 ≤ 5,000万)


def test_commissioned_abroad_is_left_out_of_the_domestic_share():
    # internal 150, abroad 150 → counted 150 + 120 = 270 (6.75 % of 4,000), domestic 150 → 55.6 % < 60 %
    years = [year(y, 4000, 0, rd_items={"personnel": 150, "commissioned_abroad": 150}) for y in (2023, 2024, 2025)]
    result = assess(base(years=years))
    h5 = result.condition("H5")
    assert h5.status == "fail"
    assert h5.values["rd_ratio"] == 0.0675 and h5.values["domestic_share"] == 0.5556
    # (60 % × 810 − 450) ÷ 40 % = 90万元 more R&D in China
    improvement = next(i for i in result.improvements if "domestic" in i.message)
    assert improvement.amount == pytest.approx(90.0)


def test_domestic_share_exactly_60_percent_passes():
    # internal 120, abroad 100 → 120 + 80 = 200; domestic 120 / 200 = 60 %
    years = [year(y, 4000, 0, rd_items={"personnel": 120, "commissioned_abroad": 100}) for y in (2023, 2024, 2025)]
    assert assess(base(years=years)).condition("H5").status == "pass"


def test_other_expenses_above_20_percent_are_capped_and_a_pass_only_with_them_is_review():
    # internal 160, other 80: cap = 160 × 20/80 = 40 → counted 200 = 5 % of 4,000 (pass)
    years = [year(y, 4000, 0, rd_items={"personnel": 160, "other": 80}) for y in (2023, 2024, 2025)]
    h5 = assess(base(years=years)).condition("H5")
    assert h5.status == "pass" and h5.values["other_excess"] == 120.0
    # internal 150, other 60: counted 150 + 37.5 = 187.5 (4.69 %) but 210 uncapped (5.25 %) → review
    years = [year(y, 4000, 0, rd_items={"personnel": 150, "other": 60}) for y in (2023, 2024, 2025)]
    assert assess(base(years=years)).condition("H5").status == "review"


def test_younger_firm_uses_its_actual_period_and_missing_years_are_unknown():
    data = base(registered_on="2024-03-01", years=[year(2024), year(2025)])
    h5 = assess(data).condition("H5")
    assert h5.status == "pass" and h5.values["years"] == [2024, 2025]
    data = base(years=[year(2024), year(2025)])  # registered 2015: 2023 is missing
    assert assess(data).condition("H5").status == "unknown"


# --- H4: S&T staff share by monthly averages -------------------------------------------------------

def test_st_staff_share_uses_monthly_averages():
    months = ([{"start": 100, "end": 110, "st_start": 10, "st_end": 12}] * 6
              + [{"start": 110, "end": 120, "st_start": 10, "st_end": 10}] * 6)
    data = with_latest(staff_monthly=months)
    del data["years"][2]["staff_average"], data["years"][2]["st_staff_average"]
    result = assess(data)
    h4 = result.condition("H4")
    # staff (105 × 6 + 115 × 6) ÷ 12 = 110; S&T (11 × 6 + 10 × 6) ÷ 12 = 10.5 → 9.55 % < 10 %
    assert h4.values["staff"] == 110 and h4.values["st_staff"] == 10.5 and h4.status == "fail"
    # (10 % × 110 − 10.5) ÷ 90 % = 0.56 → one more S&T person
    assert next(i for i in result.improvements if i.code == "H4").amount == 1


@pytest.mark.parametrize(("st", "status"), [(10, "pass"), (9.99, "fail")])
def test_st_staff_exactly_10_percent_passes(st, status):
    assert assess(with_latest(staff_average=100, st_staff_average=st)).condition("H4").status == status


# --- H6: 总收入 = 收入总额 − 不征税收入 ----------------------------------------------------------------

@pytest.mark.parametrize(("high_tech", "status"), [(540, "pass"), (539.99, "fail")])
def test_high_tech_share_of_total_income_minus_non_taxable(high_tech, status):
    # 总收入 = 1,000 − 100 = 900; 60 % of 900 = 540 (without the subtraction 540 would be 54 %)
    data = with_latest(total_income=1000, non_taxable_income=100, high_tech_revenue=high_tech - 40,
                       technical_income=40)
    h6 = assess(data).condition("H6")
    assert h6.values["total_income"] == 900 and h6.status == status


def test_high_tech_improvement_amount():
    # h = 400, income 900: (540 − 400) ÷ 40 % = 350
    result = assess(with_latest(total_income=1000, non_taxable_income=100, high_tech_revenue=400, technical_income=0))
    assert next(i for i in result.improvements if i.code == "H6").amount == pytest.approx(350.0)


# --- H1, H2, H3, H8 -------------------------------------------------------------------------------

@pytest.mark.parametrize(("registered", "status"), [("2025-06-30", "pass"), ("2025-07-01", "fail")])
def test_registered_365_days_before(registered, status):
    # 2025-06-30 → 2026-06-30 is 365 days
    data = base(registered_on=registered, years=[year(2025)])
    assert assess(data).condition("H1").status == status


def test_ip_must_be_granted_before_the_application():
    data = base(ip=[{"class": "II", "acquired": "own", "granted_on": "2026-07-01"}])
    result = assess(data)
    assert result.condition("H2").status == "fail" and result.verdict == "not_yet"
    assert result.improvements[0].blocking


def test_missing_field_and_incidents_are_unknown_not_guessed():
    data = base(field=None, incident_in_last_year=None)
    result = assess(data)
    assert result.condition("H3").status == "unknown" and result.condition("H8").status == "unknown"
    assert result.verdict == "possible"


# --- growth (指引 三(七)4) ------------------------------------------------------------------------

def test_growth_formula():
    # ½ × (1,200/1,000 + 1,500/1,200) − 1 = ½ × (1.2 + 1.25) − 1 = 0.225
    assert hnte.growth_rate([F(1000), F(1200), F(1500)]) == (F(225, 1000), "")


def test_growth_with_a_zero_first_year_uses_the_last_two_and_is_flagged():
    assert hnte.growth_rate([F(0), F(1000), F(1400)]) == (F(4, 10), "first_year_zero")
    data = base(years=[year(2023, sales=0), year(2024, sales=1000), year(2025, sales=1400)])
    growth = assess(data).part("growth")
    item = next(i for i in growth.items if i.code == "sales_growth")
    assert (item.min, item.max) == (9, 10) and growth.review  # 40 % ≥ 35 % → A, flagged as an interpretation


def test_growth_second_year_zero_scores_zero():
    assert hnte.growth_rate([F(100), F(0), F(100)]) == (None, "zero_second")


def test_negative_growth_scores_zero():
    rate, _ = hnte.growth_rate([F(1000), F(800), F(600)])
    assert rate == F(1, 2) * (F(8, 10) + F(6, 8)) - 1 == F(-225, 1000)
    assert hnte.growth_points(rate) == (0, 0, "F", False)


@pytest.mark.parametrize(("rate", "points"), [
    ("0.35", (9, 10, "A", False)), ("0.3499", (7, 8, "B", False)), ("0.25", (7, 8, "B", False)),
    ("0.15", (5, 6, "C", False)), ("0.1499", (3, 4, "D", False)), ("0.05", (1, 4, "D/E", True)),
    ("0.0501", (3, 4, "D", False)), ("0.0001", (1, 2, "E", False)), ("0", (0, 0, "F", False)),
])
def test_growth_bands_and_the_5_percent_review(rate, points):
    assert hnte.growth_points(F(rate)) == points


def test_two_year_firm_growth_over_its_actual_period():
    assert hnte.growth_rate([F(1000), F(1300)]) == (F(3, 10), "")


# --- conversion bands (指引 三(七)2) ----------------------------------------------------------------

@pytest.mark.parametrize(("counts", "points"), [
    ([5, 5, 5], (25, 30)), ([4, 5, 6], (25, 30)), ([4, 4, 5], (19, 24)), ([3, 3, 3], (13, 18)),
    ([2, 2, 3], (7, 12)), ([1, 1, 1], (1, 6)), ([0, 0, 2], (0, 6)), ([0, 0, 0], (0, 0)),
])
def test_conversion_bands_by_annual_average(counts, points):
    years = [year(y, conversions=c) for y, c in zip((2023, 2024, 2025), counts, strict=True)]
    part = assess(base(years=years)).part("conversion")
    assert (part.min, part.max) == points
    assert part.review == (counts == [0, 0, 2])  # an average of 2/3 lies between bands E and F


# --- score range → verdict ------------------------------------------------------------------------

def test_score_range_to_verdict():
    rated = {"ip_advancedness": "A", "ip_core_support": "A", "ip_acquisition": 6, "rd_system": 6,
             "rd_institution": 6, "conversion_incentives": 4, "talent_development": 4}
    # IP: 7–8 + 7–8 + 7–8 + 6 + 1–2 → 28–32 capped to 28–30; conversion 25–30; R&D mgmt 20; growth 0
    certain = assess(base(self_rating=rated))
    assert (certain.score_min, certain.score_max) == (73, 80)
    assert certain.verdict == "certain"
    # without self-ratings the expert items span their scales: 42 + … ≥ 71 only possibly
    possible = assess(base())
    assert possible.score_min < 71 <= possible.score_max and possible.verdict == "possible"
    assert possible.condition("H7").status == "review"
    # a failing hard condition → not yet, whatever the score
    failing = assess(base(self_rating=rated, incident_in_last_year=True))
    assert failing.verdict == "not_yet"
    # maximum below 71 → not yet
    low = base(ip=[], years=[year(y, conversions=0) for y in (2023, 2024, 2025)], standards_drafted=0)
    result = assess(low)
    assert result.score_max < 71 and result.verdict == "not_yet"


def test_ip_bonus_never_lifts_the_part_above_30():
    rated = {"ip_advancedness": 8, "ip_core_support": 8, "ip_acquisition": 6}
    part = assess(base(self_rating=rated, standards_drafted=2)).part("ip")
    assert (part.min, part.max) == (30, 30)  # 8 + 8 + 7–8 + 6 + 1–2 = 30–32 → 30


def test_improvements_put_blocking_ones_first_then_by_points():
    data = base(years=[year(2023, 3000, 100), year(2024, 4000, 100), year(2025, 5000, 100, conversions=0)],
                ip=[{"class": "II", "acquired": "own", "granted_on": "2020-01-01"}], standards_drafted=0)
    result = assess(data)
    codes = [i.code for i in result.improvements]
    assert codes[0] == "H5"
    assert codes.index("ip_quantity") < codes.index("standards")
    assert all(i.blocking for i in result.improvements[:1])


# --- certificate lifecycle -------------------------------------------------------------------------

def test_certificate_validity_and_reminders():
    issued = dt.date(2023, 12, 12)
    assert hnte.certificate_valid_until(issued) == dt.date(2026, 12, 11)
    assert hnte.certificate_valid_on(issued, dt.date(2026, 12, 11))
    assert not hnte.certificate_valid_on(issued, dt.date(2026, 12, 12))
    assert hnte.annual_report_deadlines(issued) == [(2023, dt.date(2024, 5, 31)), (2024, dt.date(2025, 5, 31)),
                                                    (2025, dt.date(2026, 5, 31))]
    codes = [r.code for r in hnte.certificate_reminders(issued, dt.date(2026, 5, 1), reported_years=frozenset({2023}))]
    assert codes == ["annual_report_overdue", "annual_report_due"]
    codes = [r.code for r in hnte.certificate_reminders(issued, dt.date(2026, 7, 1))]
    assert codes == ["annual_report_overdue"] * 3 + ["cancellation_risk", "expiring"]
    reminders = hnte.certificate_reminders(issued, dt.date(2027, 1, 5), reported_years=frozenset({2023, 2024, 2025}))
    assert [r.code for r in reminders] == ["expired"]
    assert hnte.certificate_valid_until(dt.date(2024, 2, 29)) == dt.date(2027, 2, 28)


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d["years"][0].update(staff_average=-1), "years[0].staff_average"),
    (lambda d: d["years"][1].update(main_revenue="很多"), "years[1].main_revenue"),
    (lambda d: d["years"][2]["rd"].update(travel=1), "years[2].rd.travel"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d["years"][0].update(year=2026), "years[0].year"),
    (lambda d: d["ip"][0].update({"class": "III"}), "ip[0].class"),
    (lambda d: d.update(assessed_on="2026-13-01"), "assessed_on"),
    (lambda d: d["years"][2].update(st_staff_average=101), "years[2].st_staff_average"),
])
def test_bad_profile_names_the_field(mutate, field):
    data = copy.deepcopy(base())
    mutate(data)
    with pytest.raises(ProfileError) as error:
        profile_from_dict(data)
    assert error.value.field == field and error.value.enterprise.startswith("T")
