"""plandoc on the seed plan (光明区科技创新“十四五”规划, a Word document saved as .txt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sciencecity.engines.plandoc import PlanDocument, parse_file, parse_text

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "guangming_st_plan_2021.txt"


@pytest.fixture(scope="module")
def seed() -> PlanDocument:
    return parse_file(SEED)


def test_seed_counts(seed):
    counts = seed.counts()
    assert counts["chapters"] == 8
    assert counts["sections"] == 28
    assert counts["tasks"] == 54
    assert counts["goals"] == 5
    assert counts["strategies"] == 5
    assert counts["measures"] == 6
    assert counts["indicators"] == 10
    assert counts["boxes"] == 15
    assert counts["box_items"] == 68
    assert counts["unnumbered_boxes"] == 2
    assert counts["unnumbered_box_items"] == 2


def test_seed_title_falls_back_to_the_indicator_table_caption(seed):
    # the seed has no title line; the caption 表1 光明区“十四五”科技创新发展主要指标 names the plan
    assert seed.title == "光明区“十四五”科技创新发展规划"


def test_seed_chapters_and_sections(seed):
    assert [c.label for c in seed.chapters] == list("一二三四五六七八")
    assert [c.number for c in seed.chapters] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [c.title for c in seed.chapters][:3] == [
        "发展基础与面临形势",
        "总体思路",
        "建设大湾区综合性国家科学中心先行启动区",
    ]
    assert seed.chapters[7].title == "保障措施"
    assert [len(c.sections) for c in seed.chapters] == [2, 3, 4, 3, 4, 3, 3, 6]
    assert [s.title for s in seed.chapters[1].sections] == ["指导思想", "发展目标", "发展策略"]
    assert seed.chapters[0].line == 5
    assert seed.chapters[0].sections[0].line == 6
    assert seed.chapters[2].intro_text.startswith("把握光明科学城“快马加鞭”的建设机遇")
    assert seed.chapters[2].sections[0].intro_text.startswith("围绕信息、生命、材料三大领域")
    assert seed.preface.startswith("“十三五”时期是光明区")


def test_seed_tasks_only_in_chapters_three_to_seven(seed):
    per_chapter = [sum(len(s.tasks) for s in c.sections) + len(c.tasks) for c in seed.chapters]
    assert per_chapter == [0, 0, 14, 9, 13, 8, 10, 0]
    first = seed.chapters[2].sections[0].tasks[0]
    assert first.number == 1
    assert first.title == "推动集中布局重大科技基础设施"
    assert first.text.startswith("推动符合综合性国家科学中心发展方向的重大科技基础设施集中布局光明科学城。")
    assert first.line == 107
    # numbering restarts per section and never picks up box items (专栏 items are numbered too)
    for chapter in seed.chapters:
        for section in chapter.sections:
            assert [t.number for t in section.tasks] == list(range(1, len(section.tasks) + 1))
    last = seed.chapters[6].sections[2].tasks[-1]
    assert last.title == "强化科技型企业间接融资支持"
    assert "由科发集团负责建设" not in last.text  # that line is an (unnumbered) box, not task text


def test_seed_goals_strategies_measures(seed):
    assert [g.title for g in seed.goals] == [
        "重大科技设施集中承载区",
        "高端源头创新资源集聚区",
        "深圳科研经济发展引擎区",
        "战略性新兴产业重要策源区",
        "粤港澳科技创新合作示范区",
    ]
    assert seed.goals[0].text.startswith("建成使用深圳超级计算中心二期")
    assert seed.goals[0].line == 23
    assert seed.strategies[0].title == "以光明科学城为依托，大规模汇聚源头科技创新机构"
    assert [s.line for s in seed.strategies] == [98, 99, 100, 101, 102]
    assert [m.title for m in seed.measures] == [
        "加强组织保障",
        "加强制度保障",
        "加强人才保障",
        "加强资金保障",
        "加强空间保障",
        "加强监测评估",
    ]
    assert seed.measures[0].text.startswith("充分发挥区科技产业发展领导小组统筹作用")


EXPECTED_INDICATORS = [
    # number, name, unit, value, comparator, raw target
    (1, "全社会研发支出占GDP比重", "%", 6.0, "eq", "6.0"),
    (2, "基础研发经费占R&D比重", "%", 20.0, "eq", "20%"),
    (3, "每万人发明专利拥有量", "件", 136.0, "eq", "136"),
    (4, "市级及以上创新载体数量", "个", 180.0, "eq", "180"),
    (5, "国家级高新技术企业", "家", 2100.0, "eq", "2100"),
    (6, "技术合同成交金额", "亿元", 8.5, "eq", "8.5"),
    (7, "战略性新兴产业增加值占GDP比重", "%", 45.0, "gt", ">45.0"),
    (8, "每万名就业人员中研发人员", "人•年", 800.0, "gt", ">800"),
    (9, "新引进科研机构数量", "家", 20.0, "gt", ">20"),
    (10, "区级以上众创空间和孵化器", "个", 40.0, "gt", ">40"),
]


def test_seed_indicator_table(seed):
    got = [(i.number, i.name, i.unit, i.target_value, i.comparator, i.target_text) for i in seed.indicators]
    assert got == EXPECTED_INDICATORS
    for indicator in seed.indicators:
        assert indicator.target_year == 2025
        assert indicator.attribute == "预期性"
        assert indicator.direction == "higher"
        assert indicator.table_number == 1
        assert indicator.table_title == "光明区“十四五”科技创新发展主要指标"
        assert indicator.target_low is None and indicator.target_high is None
    assert seed.indicators[0].line == 36
    assert seed.indicators[6].line == 72  # the name cell broken across lines 72–73
    assert "table 1 row 8 cell 2" in seed.indicators[6].location


def test_seed_baselines(seed):
    by_key = {(b.indicator_number, b.year): b for b in seed.baselines}
    assert by_key[(1, 2020)].value == 7.9
    assert by_key[(1, 2015)].value == 3.13
    assert by_key[(1, 2020)].unit == "%"
    assert by_key[(1, 2020)].sentence.startswith("全社会研发支出占GDP比重由2015年的3.13%提高至2020年的7.9%")
    assert by_key[(1, 2020)].line == 9
    assert by_key[(3, 2020)].value == 100
    assert by_key[(3, 2015)].value == 36.5
    assert by_key[(4, 2020)].value == 100
    assert by_key[(4, 2020)].sentence.startswith("截至2020年底，建成市级以上创新载体100个")
    assert by_key[(5, 2020)].value == 1486
    assert by_key[(5, 2020)].sentence.startswith("国家高新技术企业达到1486家")
    assert by_key[(5, 2020)].line == 10
    # nothing is linked to indicators that the text never mentions
    assert {b.indicator_number for b in seed.baselines} <= {1, 3, 4, 5, 7}


def test_seed_commitments(seed):
    by_text = {c.text: c for c in seed.commitments}
    facilities = by_text["在建和运营重大科技基础设施10个以上"]
    assert (facilities.value, facilities.unit, facilities.comparator) == (10, "个", "ge")
    assert facilities.indicator_number is None
    assert facilities.year == 2025
    assert facilities.line == 23
    hnte = by_text["国家级高新技术企业达到2100家左右"]
    assert (hnte.value, hnte.unit, hnte.comparator, hnte.indicator_number) == (2100, "家", "approx", 5)
    researchers = by_text["每万名就业人员中研发人员超过800人•年"]
    assert (researchers.value, researchers.unit, researchers.comparator, researchers.indicator_number) == (
        800,
        "人•年",
        "gt",
        8,
    )
    services = by_text["科技服务业占服务业比重达到11%左右"]
    assert services.indicator_number is None and services.comparator == "approx"
    assert by_text["每万人发明专利拥有量达到136件"].indicator_number == 3
    assert by_text["全社会研发支出占GDP比重达到6.0%以上"].indicator_number == 1
    # past facts from the 发展基础 section are baselines, never commitments
    assert not any("1486" in c.text or "100个" in c.text for c in seed.commitments)


def test_seed_warnings(seed):
    codes = seed.warning_codes()
    assert codes.count("target_below_baseline") == 1
    warning = next(w for w in seed.warnings if w.code == "target_below_baseline")
    assert "全社会研发支出占GDP比重" in warning.message
    assert "7.9" in warning.message and "2020" in warning.message
    assert warning.line == 36
    # the text agrees with the table everywhere else
    assert "commitment_conflicts_with_table" not in codes
    assert codes == ["target_below_baseline"]


def test_seed_boxes(seed):
    numbered = [b for b in seed.boxes if b.number is not None]
    assert [b.number for b in numbered] == list(range(1, 16))
    assert [len(b.items) for b in numbered] == [10, 7, 3, 2, 10, 5, 1, 13, 4, 3, 1, 1, 2, 2, 4]
    box1 = numbered[0]
    assert box1.title == "重大科技基础设施建设重点专项"
    assert (box1.chapter_number, box1.section_number, box1.line) == (3, 1, 108)
    assert [g.title for g in box1.groups] == ["应用支撑型", "前瞻引领型", "民生改善型"]
    assert [len(g.items) for g in box1.groups] == [4, 4, 2]
    assert [i.number for i in box1.items] == list(range(1, 11))
    assert box1.items[0].title == "深圳中能同步辐射光源"
    assert box1.items[0].text.startswith("建设中能同步辐射衍射极限光源")
    assert box1.items[0].line == 111
    box8 = numbered[7]
    assert [g.title for g in box8.groups] == [
        "中山大学•深圳内设平台或研究中心建设专项",
        "中国科学院深圳理工大学内设平台或研究中心建设专项",
    ]
    assert [len(g.items) for g in box8.groups] == [7, 6]
    box7 = numbered[6]
    assert [(i.number, i.title) for i in box7.items] == [(None, "光明科学城中科院基地")]
    unnumbered = [b for b in seed.boxes if b.number is None]
    assert [(b.chapter_number, b.section_number, b.line) for b in unnumbered] == [(7, 2, 332), (7, 3, 340)]
    assert [b.items[0].title for b in unnumbered] == ["光明科学城综合性创新服务平台", "科技金融在线服务平台"]
    assert unnumbered[1].items[0].text.startswith("由科发集团负责建设")


def test_seed_to_dict_is_json_ready(seed):
    data = seed.to_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert json.loads(text)["counts"]["tasks"] == 54
    chapter = data["chapters"][2]
    assert chapter["number"] == 3 and chapter["label"] == "三" and chapter["line"] == 103
    task = chapter["sections"][0]["tasks"][0]
    assert set(task) >= {"number", "title", "text", "line"}
    assert "paragraphs" not in task
    box = data["boxes"][0]
    assert box["groups"][0]["items"][0]["title"] == "深圳中能同步辐射光源"
    for key in ("goals", "strategies", "measures", "indicators", "baselines", "commitments", "warnings"):
        assert data[key], key


def test_parse_text_gives_the_same_as_parse_file(seed):
    again = parse_text(SEED.read_text(encoding="utf-8"), source_name="seed.txt")
    assert again.counts() == seed.counts()
    assert again.source_name == "seed.txt"


def test_gb18030_encoded_text_is_read(tmp_path, seed):
    path = tmp_path / "plan.txt"
    path.write_bytes(SEED.read_text(encoding="utf-8").encode("gb18030"))
    doc = parse_file(path)
    assert doc.counts() == seed.counts()
