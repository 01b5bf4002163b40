"""Target values, comparators, direction, fuzzy names and heading recognition."""

from __future__ import annotations

import pytest

from sciencecity.engines.plandoc import parse_text
from sciencecity.engines.plandoc.indicators import (
    find_mentions,
    infer_direction,
    match_indicator,
    name_similarity,
    parse_target,
)
from sciencecity.engines.plandoc.model import Indicator
from sciencecity.engines.plandoc.tree import classify_heading


@pytest.mark.parametrize(
    "text, value, low, high, comparator, percent, change",
    [
        ("6.0", 6.0, None, None, "eq", False, ""),
        ("20%", 20.0, None, None, "eq", True, ""),
        (">45.0", 45.0, None, None, "gt", False, ""),
        ("＞800", 800.0, None, None, "gt", False, ""),
        ("≥3.0", 3.0, None, None, "ge", False, ""),
        ("≤0.45", 0.45, None, None, "le", False, ""),
        ("<30", 30.0, None, None, "lt", False, ""),
        ("2100左右", 2100.0, None, None, "approx", False, ""),
        ("约11%", 11.0, None, None, "approx", True, ""),
        ("10以上", 10.0, None, None, "ge", False, ""),
        ("5.5以内", 5.5, None, None, "le", False, ""),
        ("1-2", None, 1.0, 2.0, "range", False, ""),
        ("6%～8%", None, 6.0, 8.0, "range", True, ""),
        ("下降13.5%", 13.5, None, None, "eq", True, "decrease"),
        ("完成省下达任务", None, None, None, "eq", False, ""),
        ("", None, None, None, "eq", False, ""),
    ],
)
def test_parse_target(text, value, low, high, comparator, percent, change):
    q = parse_target(text)
    assert (q.value, q.low, q.high, q.comparator, q.percent, q.change) == (
        value,
        low,
        high,
        comparator,
        percent,
        change,
    )


def test_cumulative_marker():
    q = parse_target("〔5〕")
    assert q.cumulative and q.value == 5.0


@pytest.mark.parametrize(
    "name, target, comparator, direction",
    [
        ("全社会研发支出占GDP比重", "6.0", "eq", "higher"),
        ("单位GDP能耗", "0.3", "eq", "lower"),
        ("主要污染物排放总量减少", "", "eq", "lower"),
        ("单位地区生产总值能耗降低", "13.5", "eq", "lower"),
        ("城镇调查失业率", "5.5", "eq", "lower"),
        ("数据中心电能利用效率", "≤1.3", "le", "lower"),
        ("国家级高新技术企业", "2100", "eq", "higher"),
    ],
)
def test_direction(name, target, comparator, direction):
    assert infer_direction(name, target, comparator) == direction


def test_fuzzy_indicator_names():
    assert name_similarity("国家级高新技术企业", "国家级高新技术企业") == 1.0
    assert name_similarity("国家高新技术企业", "国家级高新技术企业") >= 0.75
    assert name_similarity("市级以上创新载体", "市级及以上创新载体数量") == 1.0
    assert name_similarity("科技服务业占服务业比重", "全社会研发支出占GDP比重") < 0.5
    indicators = [
        Indicator(1, "全社会研发支出占GDP比重", "%"),
        Indicator(5, "国家级高新技术企业", "家"),
        Indicator(8, "每万名就业人员中研发人员", "人•年"),
    ]
    assert match_indicator("国家高新技术企业", indicators, "家").number == 5
    assert match_indicator("每万名就业人员中研发人员", indicators, "人·年").number == 8
    assert match_indicator("在建和运营重大科技基础设施", indicators, "个") is None
    assert match_indicator("国家高新技术企业", indicators, "%") is None  # units must agree


def test_mentions_carry_years_and_subjects():
    text = "截至2020年底，建成市级以上创新载体100个，其中国家级5个。全社会研发支出占GDP比重由2015年的3.13%提高至2020年的7.9%。"
    got = [(m.subject, m.value, m.unit, m.year) for m in find_mentions(text)]
    assert got == [
        ("市级以上创新载体", 100.0, "个", 2020),
        ("国家级", 5.0, "个", 2020),
        ("全社会研发支出占GDP比重", 3.13, "%", 2015),
        ("全社会研发支出占GDP比重", 7.9, "%", 2020),
    ]
    # dates, chapter numbers and model names are not quantities
    assert find_mentions("2021年1月主体封顶，第8.5代液晶面板，3GeV光源，专栏3所列项目。") == []


@pytest.mark.parametrize(
    "text, kind, number, rest",
    [
        ("第三篇 主要任务", "part", 3, "主要任务"),
        ("第十二章 加强规划实施", "chapter_zh", 12, "加强规划实施"),
        ("第二节 发展目标", "section_zh", 2, "发展目标"),
        ("三、建设大湾区综合性国家科学中心先行启动区", "cn", 3, "建设大湾区综合性国家科学中心先行启动区"),
        ("（十一）加强监测评估", "paren_cn", 11, "加强监测评估"),
        ("(二)发展目标", "paren_cn", 2, "发展目标"),
        ("10.精准医学影像大设施。建设…", "num", 10, "精准医学影像大设施。建设…"),
        ("2、加强组织领导", "num", 2, "加强组织领导"),
        ("（3）建设平台", "paren_num", 3, "建设平台"),
    ],
)
def test_heading_kinds(text, kind, number, rest):
    heading = classify_heading(text)
    assert (heading.kind, heading.number, heading.text) == (kind, number, rest)


@pytest.mark.parametrize("text", ["一是创新载体数量偏少。", "3.13%的增长", "2021年1月主体封顶", "十四五时期"])
def test_not_headings(text):
    assert classify_heading(text) is None


def test_tab_indented_text_is_not_read_as_a_table():
    text = "\n".join(
        [
            "\t一、发展目标",
            "\t到2025年，研发投入强度达到3%。",
            "\t二、重点任务",
            "\t1.建设实验室。推进建设。",
            "\t2.建设研究院。推进建设。",
        ]
    )
    doc = parse_text(text)
    assert [c.title for c in doc.chapters] == ["发展目标", "重点任务"]
    assert [t.title for t in doc.tasks] == ["建设实验室", "建设研究院"]
    assert doc.boxes == []
