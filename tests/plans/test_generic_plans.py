"""Nothing assumes one district or one period: a plan of another city and period imports correctly."""

from __future__ import annotations

import datetime as dt

import pytest

from sciencecity.accounts.choices import Role
from sciencecity.engines.plandoc import parse_text
from sciencecity.plans import services, sources
from sciencecity.plans.models import Plan
from sciencecity.registry.indicator_sources import (
    carriers_municipal_or_higher,
    high_tech_enterprises,
    new_research_institutions,
)
from sciencecity.registry.models import Certification, Organisation
from tests.conftest import make_organisation, make_user

OTHER_PLAN = """滨江区科技创新“十五五”规划

规划期为2026—2030年，展望到2035年。

一、发展基础

“十四五”期间，全区创新能力持续提升。

二、主要任务

（一）建设创新平台

1.建设滨江实验室。推动实验室建设。

三、保障措施

（一）加强组织领导

加强领导。
"""


@pytest.mark.parametrize(
    ("text", "period", "source"),
    [
        (OTHER_PLAN, (2026, 2030), "“2026—2030年” (line 3)"),
        ("某市科技创新规划（2023—2027年）\n\n一、总则\n\n正文。\n\n二、任务\n\n正文。\n", (2023, 2027), "in the title"),
        ("某县“十三五”科技创新规划\n\n一、总则\n\n正文。\n\n二、任务\n\n正文。\n", (2016, 2020), "“十三五” in the title"),
    ],
)
def test_plan_period_comes_from_the_document(text, period, source):
    doc = parse_text(text)
    assert (doc.period_start, doc.period_end) == period
    note = next(n for n in doc.notes if n.code == "plan_period")
    assert source in note.message


def test_without_a_period_the_parse_says_so():
    doc = parse_text("某市科技创新规划\n\n一、总则\n\n正文。\n\n二、任务\n\n正文。\n")
    assert (doc.period_start, doc.period_end) == (None, None)
    assert any(n.code == "plan_period" and "not found" in n.message for n in doc.notes)


def test_import_stores_the_document_period_or_the_one_given(db):
    result = services.plan_import(actor=None, content=OTHER_PLAN.encode(), filename="binjiang.txt")
    assert (result.plan.start_year, result.plan.target_year) == (2026, 2030)
    other = OTHER_PLAN.replace("滨江区", "江北区").encode()
    result = services.plan_import(actor=None, content=other, filename="jiangbei.txt", period=(2027, 2031))
    assert (result.plan.start_year, result.plan.target_year) == (2027, 2031)


def test_a_wrong_period_is_refused_and_writes_nothing(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.plan_import(actor=None, content=OTHER_PLAN.encode(), filename="x.txt", period=(2030, 2026))
    assert Plan.objects.count() == 0


def test_new_institutions_are_counted_from_the_plan_start_year(db):
    for year in (2025, 2026, 2028):
        make_organisation(kind="new_rd_institution", founded_on=dt.date(year, 6, 1))
    assert new_research_institutions(2028, "district", plan_start=2026)[0] == 2.0
    assert new_research_institutions(2028, "district", plan_start=2021)[0] == 3.0
    value, provenance = new_research_institutions(2028, "district", plan_start=2026)
    assert provenance == "资源库：2026-01-01 至 2028-12-31 新成立的实验室、新型研发机构、科研院所"  # names, not codes
    from django.utils import translation

    with translation.override("en"):
        english = new_research_institutions(2028, "district", plan_start=2026)[1]
    assert english == "registry: Laboratory, New-type R&D institution, Research institute founded 2026-01-01–2028-12-31"
    source = sources.get("registry.new_institutions")
    assert sources.compute(source, year=2028, scope="district", plan_start=2026)[0] == 2.0


def test_sources_respect_the_scope(db):
    make_organisation(kind="new_rd_institution", founded_on=dt.date(2026, 6, 1), district="滨江区")
    make_organisation(kind="new_rd_institution", founded_on=dt.date(2026, 6, 1), district="江北区")
    make_organisation(kind="laboratory", level="municipal", district="滨江区")
    enterprise = make_organisation(district="滨江区")
    Certification.objects.create(organisation=enterprise, kind="hnte", number="GR1",
                                 issued_on=dt.date(2025, 1, 1), expires_on=dt.date(2027, 12, 31))
    assert new_research_institutions(2026, "district", plan_start=2026)[0] == 2.0
    value, provenance = new_research_institutions(2026, "滨江区", plan_start=2026)
    assert value == 1.0 and "（滨江区）" in provenance
    assert new_research_institutions(2026, "海港区", plan_start=2026)[0] == 0.0
    assert carriers_municipal_or_higher(2026, "滨江区")[0] == carriers_municipal_or_higher(2026, "district")[0] == 1.0
    assert carriers_municipal_or_higher(2026, "江北区")[0] == 0.0
    assert high_tech_enterprises(2026, "滨江区")[0] == 1.0
    assert high_tech_enterprises(2026, "江北区")[0] == 0.0


def test_departments_take_the_district_of_the_importing_organisation(db):
    bureau = make_organisation(kind="government_department", level="district", district="滨江区",
                               name="滨江区科技局", code="BJ-KJJ")
    officer = make_user(Role.BUREAU_OFFICER, bureau)
    plan = services.plan_import(actor=officer, content=OTHER_PLAN.encode(), filename="binjiang.txt").plan
    setup = {"departments": [["BJ-TJJ", "滨江区统计局", "Binjiang Statistics Bureau"]]}
    services.plan_setup_apply(actor=officer, plan=plan, setup=setup)
    assert Organisation.objects.get(code="BJ-TJJ").district == "滨江区"
