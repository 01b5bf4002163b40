"""The self-assessments through the app: DB rows → typed profile → engine, hand-computed.

The ``filled`` enterprise (conftest): each of the three fiscal years has sales 5,000万 (4,900 + 100),
R&D internal 200 + commissioned in China 50 (counts 40) + other 10 (cap 60) = 250 counted, so the
three-year intensity is 750 ÷ 15,000 = 5.00 % exactly, on the ≤ 5,000万 band's 5 %."""

from decimal import Decimal

import pytest
from django.utils import timezone

from sciencecity.enterprises import selectors, services
from sciencecity.enterprises.models import EnterpriseProfile

pytestmark = pytest.mark.django_db


def _assess(org):
    return selectors.assessment_of(selectors.profile_of(org)).hnte


def _latest(org):
    return timezone.localdate().year - 1


def test_rd_exactly_on_the_5_percent_band_at_5000_wan_sales_passes(filled):
    h5 = _assess(filled).condition("H5")
    assert h5.status == "pass"
    assert h5.values["rd"] == 750 and h5.values["sales"] == 15000 and h5.values["rd_ratio"] == 0.05
    assert h5.values["band"] == 0.05 and h5.values["latest_sales"] == 5000


def test_one_wan_less_fails_and_one_wan_more_sales_moves_to_the_4_percent_band(filled, member):
    year = _latest(filled)
    services.fiscal_year_save(actor=member, organisation=filled, year=year - 2, data={"rd_personnel": Decimal("149")})
    h5 = _assess(filled).condition("H5")
    assert h5.status == "fail" and h5.values["rd"] == 749  # 749 ÷ 15,000 = 4.99 % < 5 %
    improvement = next(i for i in _assess(filled).improvements if i.code == "H5")
    assert improvement.amount == 1.0  # 5 % × 15,000 − 749
    # latest sales 5,001万 (> 5,000万): the band is 4 %; 749 ÷ 15,001 = 4.99 % ≥ 4 %
    services.fiscal_year_save(actor=member, organisation=filled, year=year, data={"other_revenue": Decimal("101")})
    h5 = _assess(filled).condition("H5")
    assert h5.status == "pass" and h5.values["band"] == 0.04 and h5.values["latest_sales"] == 5001


def test_sales_of_exactly_2_yi_keep_the_4_percent_band(filled, member):
    year = _latest(filled)
    services.fiscal_year_save(actor=member, organisation=filled, year=year,
                              data={"main_revenue": Decimal("19900"), "other_revenue": Decimal("100")})
    assert _assess(filled).condition("H5").values["band"] == 0.04  # 20,000万 = 2亿: inclusive
    services.fiscal_year_save(actor=member, organisation=filled, year=year, data={"other_revenue": Decimal("100.01")})
    assert _assess(filled).condition("H5").values["band"] == 0.03


def test_commissioned_abroad_counts_at_80_percent_but_not_in_the_domestic_share(filled, member):
    for year in range(_latest(filled) - 2, _latest(filled) + 1):
        services.fiscal_year_save(actor=member, organisation=filled, year=year,
                                  data={"rd_commissioned_abroad": Decimal("300")})
    h5 = _assess(filled).condition("H5")
    # per year: 250 + 80 % × 300 = 490 counted, 250 domestic; three years 1,470 and 750
    assert h5.values["rd"] == 1470
    assert h5.values["domestic_share"] == round(750 / 1470, 4)  # 51.02 % < 60 %
    assert h5.status == "fail"
    share_fix = next(i for i in _assess(filled).improvements if "China" in i.message or "境内" in i.message)
    assert share_fix.amount == 330.0  # (60 % × 1,470 − 750) ÷ 40 %


def test_st_staff_share_from_month_by_month_head_counts(filled, member):
    months = [{"start": 98, "end": 100, "st_start": 9, "st_end": 10}] * 12
    services.fiscal_year_save(actor=member, organisation=filled, year=_latest(filled), data={}, months=months)
    h4 = _assess(filled).condition("H4")
    # Σ((98 + 100) ÷ 2) ÷ 12 = 99 staff; Σ((9 + 10) ÷ 2) ÷ 12 = 9.5 S&T: 9.6 % < 10 %
    assert h4.values["staff"] == 99 and h4.values["st_staff"] == 9.5 and h4.status == "fail"
    fix = next(i for i in _assess(filled).improvements if i.code == "H4")
    assert fix.amount == 1.0  # (10 % × 99 − 9.5) ÷ 90 % = 0.44 → 1 person


def test_high_tech_share_is_of_total_income_minus_non_taxable_income(filled, member):
    year = _latest(filled)
    services.fiscal_year_save(actor=member, organisation=filled, year=year,
                              data={"high_tech_revenue": Decimal("2800"), "technical_income": Decimal("200")})
    h6 = _assess(filled).condition("H6")
    assert h6.values["total_income"] == 5000 and h6.values["share"] == 0.6 and h6.status == "pass"  # 3,000 ÷ 5,000
    services.fiscal_year_save(actor=member, organisation=filled, year=year, data={"non_taxable_income": Decimal("0")})
    h6 = _assess(filled).condition("H6")
    assert h6.values["total_income"] == 5100 and h6.status == "fail"  # 3,000 ÷ 5,100 = 58.8 %


def test_score_ranges_and_the_verdict(filled, member):
    result = _assess(filled)
    parts = {p.code: (p.min, p.max) for p in result.parts}
    # IP: advancedness 0–8, core 0–8 (experts), quantity 7–8 (a class I right), own 1–6, standards 0 → 8–30
    # conversion: 4 a year → band B 19–24; R&D management 0–20 (experts); growth: flat figures → 0
    assert parts == {"ip": (8, 30), "conversion": (19, 24), "rd_management": (0, 20), "growth": (0, 0)}
    assert (result.score_min, result.score_max) == (27, 74) and result.verdict == "possible"
    services.profile_save(actor=member, organisation=filled, data={"self_rating": {
        "ip_advancedness": "A", "ip_core_support": "A", "ip_acquisition": 6, "rd_system": 6, "rd_institution": 6,
        "conversion_incentives": 4, "talent_development": 4}})
    for year in range(_latest(filled) - 2, _latest(filled) + 1):
        services.fiscal_year_save(actor=member, organisation=filled, year=year, data={"conversions": 5})
    result = _assess(filled)
    # IP 7 + 7 + 7 + 6 = 27 to 30; conversion A 25–30; management 20; growth 0 → 72–80 ≥ 71
    assert (result.score_min, result.score_max) == (72, 80) and result.verdict == "certain"


def test_tech_sme_score_through_the_app(filled, member):
    result = selectors.assessment_of(selectors.profile_of(filled)).tech_sme
    # S&T 15 / 100 = 15 % → 8; R&D (119 caliber) 200 + 80 % × 50 + other 10 (cap 26.67) = 250:
    # of sales 250 ÷ 5,000 = 5 % → 40, of costs 250 ÷ 4,000 = 6.25 % → 0, the higher 40; one class I → 30
    assert result.parts == {"staff": 8, "rd": 40, "ip": 30} and result.score == 78
    assert result.rd_options == {"sales": 40, "costs": 0} and result.qualifies
    # S&T exactly 20 % enters the 12-point band; R&D exactly 6 % of sales the 50-point band
    services.fiscal_year_save(actor=member, organisation=filled, year=_latest(filled),
                              data={"st_staff_average": Decimal("20"), "rd_personnel": Decimal("200")})
    result = selectors.assessment_of(selectors.profile_of(filled)).tech_sme
    assert result.parts == {"staff": 12, "rd": 50, "ip": 30} and result.score == 92  # (250 + 50) ÷ 5,000 = 6 %


def test_assessment_api_has_the_format_document_shape(client, login, member, filled):
    login(member)
    body = client.get(f"/api/enterprises/profiles/{filled.code}/assessment").json()
    assert body["hnte"]["verdict"] == "possible"
    assert body["hnte"]["score"]["min"] == 27 and body["hnte"]["score"]["max"] == 74
    assert [c["code"] for c in body["hnte"]["conditions"]] == ["H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8"]
    assert set(body["tech_sme"]) >= {"qualifies", "score", "parts", "conditions", "direct_route"}
    assert EnterpriseProfile.objects.count() == 1
