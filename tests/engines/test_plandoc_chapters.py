"""A 第X篇/第X章/第X节 plan (Markdown, written for these tests) gives the expected tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from sciencecity.engines.plandoc import PlanDocument, parse_file, parse_text

FIXTURE = Path(__file__).parent / "fixtures" / "qingshan_plan.md"


@pytest.fixture(scope="module")
def plan() -> PlanDocument:
    return parse_file(FIXTURE)


def test_title_parts_chapters_sections(plan):
    assert plan.title == "青山市科技创新发展“十四五”规划"
    assert plan.source_format == "md"
    assert [(p.number, p.title) for p in plan.parts] == [(1, "总体要求"), (2, "主要任务"), (3, "保障措施")]
    assert [(c.number, c.title, c.part_number) for c in plan.chapters] == [
        (1, "发展基础与面临形势", 1),
        (2, "总体思路和发展目标", 1),
        (3, "强化战略科技力量", 2),
        (4, "优化创新生态", 2),
        (5, "加强组织领导", 3),
        (6, "强化要素保障", 3),
        (7, "健全监测评估", 3),
    ]
    assert [[s.title for s in c.sections] for c in plan.chapters[:3]] == [
        ["发展基础", "面临形势"],
        ["指导思想", "发展目标", "发展策略"],
        ["建设重大创新平台", "提升企业创新能力"],
    ]
    assert plan.preface.startswith("“十四五”时期是青山市")
    assert plan.counts() | {} == {
        **plan.counts(),
        "parts": 3,
        "chapters": 7,
        "sections": 7,
        "tasks": 7,
        "goals": 3,
        "strategies": 3,
        "measures": 3,
        "indicators": 8,
        "boxes": 1,
        "unnumbered_boxes": 0,
        "box_items": 3,
    }


def test_tasks_under_sections_and_directly_under_a_chapter(plan):
    platforms = plan.chapters[2].sections[0]
    assert [(t.number, t.title) for t in platforms.tasks] == [
        (1, "建设青山实验室"),
        (2, "布局重大科技基础设施"),
    ]
    # the deeper （一）/（二） level stays inside the task text
    assert platforms.tasks[1].text.splitlines() == [
        "积极争取国家和省重大科技基础设施落地，谋划建设先进光源预研平台。",
        "（一）前期研究。开展设施科学目标和技术路线论证。",
        "（二）建设实施。推动设施按期开工建设。",
    ]
    ecosystem = plan.chapters[3]
    assert ecosystem.sections == []
    assert [(t.number, t.title) for t in ecosystem.tasks] == [
        (1, "深化科技体制改革"),
        (2, "加强知识产权保护"),
    ]


def test_goals_strategies_and_measures_from_a_part(plan):
    assert [g.title for g in plan.goals] == ["创新投入大幅增加", "创新主体不断壮大", "绿色发展成效明显"]
    assert [s.title for s in plan.strategies] == ["坚持创新驱动", "坚持开放协同", "坚持人才引领"]
    assert [m.title for m in plan.measures] == ["加强组织领导", "强化要素保障", "健全监测评估"]
    assert plan.measures[0].text == "成立市科技创新工作领导小组，统筹推进规划实施中的重大事项。"


def test_indicator_table_with_constraints_ranges_and_baseline_column(plan):
    rows = [
        (
            i.number,
            i.category,
            i.name,
            i.unit,
            i.target_value,
            i.target_low,
            i.target_high,
            i.comparator,
            i.attribute,
            i.direction,
            i.change,
        )
        for i in plan.indicators
    ]
    assert rows == [
        (1, "创新投入", "全社会研发经费投入强度", "%", 3.0, None, None, "ge", "预期性", "higher", ""),
        (2, "创新投入", "基础研究经费占研发经费比重", "%", None, 6.0, 8.0, "range", "预期性", "higher", ""),
        (3, "创新产出", "每万人口高价值发明专利拥有量", "件", 12.0, None, None, "eq", "预期性", "higher", ""),
        (4, "创新产出", "高新技术企业数量", "家", 3500.0, None, None, "eq", "预期性", "higher", ""),
        (5, "创新产出", "技术合同成交额", "亿元", 300.0, None, None, "approx", "预期性", "higher", ""),
        (
            6,
            "绿色发展",
            "单位地区生产总值能耗降低",
            "%",
            13.5,
            None,
            None,
            "eq",
            "约束性",
            "lower",
            "decrease",
        ),
        (
            7,
            "绿色发展",
            "单位地区生产总值二氧化碳排放",
            "吨/万元",
            0.45,
            None,
            None,
            "le",
            "约束性",
            "lower",
            "",
        ),
        (
            8,
            "绿色发展",
            "细颗粒物（PM2.5）年均浓度",
            "微克/立方米",
            30.0,
            None,
            None,
            "lt",
            "约束性",
            "lower",
            "",
        ),
    ]
    assert {i.target_year for i in plan.indicators} == {2025}
    assert {i.table_number for i in plan.indicators} == {1}
    assert plan.indicators[0].table_title == "青山市“十四五”科技创新主要指标"


def test_baselines_from_text_and_from_the_baseline_column(plan):
    got = {(b.indicator_number, b.year): b.value for b in plan.baselines}
    assert got == {
        (1, 2020): 2.4,  # text: 2020年，全社会研发经费投入强度达到2.4%（not the 0.6 个百分点 change）
        (2, 2020): 4.5,  # table column 2020年基期值
        (3, 2015): 3.1,
        (3, 2020): 6.2,
        (4, 2020): 2150,  # 截至2020年底 … 高新技术企业达到2150家
        (5, 2020): 180,  # 发展基础 section, no year → the base year
        (7, 2020): 0.42,
        (8, 2020): 32,
    }


def test_commitments_and_consistency_warnings(plan):
    by_text = {c.text: c for c in plan.commitments}
    assert by_text["高新技术企业达到3000家"].indicator_number == 4
    assert by_text["新建省级以上新型研发机构15家以上"].indicator_number is None
    rng = by_text["基础研究经费占研发经费比重达到6%—8%"]
    assert (rng.value, rng.value_high, rng.comparator, rng.indicator_number) == (6, 8, "range", 2)
    carbon = by_text["单位地区生产总值二氧化碳排放控制在0.45吨/万元以内"]
    assert (carbon.value, carbon.unit, carbon.comparator, carbon.indicator_number) == (
        0.45,
        "吨/万元",
        "le",
        7,
    )
    assert by_text["力争到2025年建成研究中心5个以上"].year == 2025
    codes = plan.warning_codes()
    assert sorted(codes) == ["commitment_conflicts_with_table", "target_above_baseline"]
    conflict = next(w for w in plan.warnings if w.code == "commitment_conflicts_with_table")
    assert "3000" in conflict.message and "3500" in conflict.message
    above = next(w for w in plan.warnings if w.code == "target_above_baseline")
    assert "二氧化碳" in above.message and above.line == plan.indicators[6].line


def test_box_with_groups(plan):
    (box,) = plan.boxes
    assert (box.number, box.title, box.chapter_number, box.section_number) == (
        1,
        "重大创新平台建设工程",
        3,
        1,
    )
    assert [(g.title, [(i.number, i.title) for i in g.items]) for g in box.groups] == [
        ("实验室类", [(1, "青山实验室"), (2, "青山生物医药研究院")]),
        ("基础设施类", [(3, "先进光源预研平台")]),
    ]
    assert box.items[0].text == "建设先进材料、生命健康两个研究部，引进高水平研究团队20个。"


def test_chapter_style_plan_as_plain_text_with_word_tables():
    text = "\n".join(
        [
            "某省数字经济发展规划",
            "第一章 发展目标",
            "到2025年，数字经济核心产业增加值占GDP比重达到10%左右。",
            "表1 主要指标",
            "\t序号",
            "\t指标",
            "\t单位",
            "\t2025年",
            "\t属性",
            "",
            "\t1",
            "\t数字经济核心产业增加值占GDP比重",
            "\t%",
            "\t10",
            "\t预期性",
            "",
            "\t2",
            "\t数据中心平均电能利用效率",
            "\t—",
            "\t≤1.3",
            "\t约束性",
            "",
            "",
            "第二章 主要任务",
            "第一节 夯实数字基础设施",
            "一、建设5G网络。累计建成5G基站10万个以上。",
            "二、建设数据中心。",
            "第二节 培育数字产业",
            "一、发展软件产业。",
            "第三章 保障措施",
            "一、加强组织领导。",
            "二、强化资金保障。",
        ]
    )
    doc = parse_text(text, source_name="digital.txt")
    assert doc.title == "某省数字经济发展规划"
    assert [c.title for c in doc.chapters] == ["发展目标", "主要任务", "保障措施"]
    assert [[s.title for s in c.sections] for c in doc.chapters] == [
        [],
        ["夯实数字基础设施", "培育数字产业"],
        [],
    ]
    assert [t.title for t in doc.tasks] == [
        "建设5G网络",
        "建设数据中心",
        "发展软件产业",
        "加强组织领导",
        "强化资金保障",
    ]
    assert [m.title for m in doc.measures] == ["加强组织领导", "强化资金保障"]
    pue = doc.indicator(2)
    assert (pue.target_value, pue.comparator, pue.attribute, pue.direction, pue.target_year) == (
        1.3,
        "le",
        "约束性",
        "lower",
        2025,
    )
    base_station = next(c for c in doc.commitments if "5G基站" in c.text)
    assert (base_station.value, base_station.unit, base_station.comparator) == (10, "万个", "ge")
    share = next(c for c in doc.commitments if c.indicator_number == 1)
    assert share.comparator == "approx"
