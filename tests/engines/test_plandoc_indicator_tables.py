"""Indicator tables as published plans print them (national and provincial 十四五 style).

Category cells spanning rows, a baseline and a target column per year, a 年均/累计 column that
holds the target when the target-year cell is a dash, values in 〔〕 meaning five-year totals,
``*`` marking another base year, targets in words, sub-rows (其中…, and a second value of the row
above), and notes under the table linked to their rows.
"""

from __future__ import annotations

import pytest

from sciencecity.engines.plandoc import parse_bytes, parse_text

ROWS = [
    ("创新驱动", "全社会研发经费投入增长（%）", "6.2*", "—", ">7", "预期性"),
    ("", "每万人口高价值发明专利拥有量（件）①", "6.3", "12", "—", "预期性"),
    ("", "其中：企业高价值发明专利拥有量（件）", "4.1", "8", "—", "预期性"),
    ("经济发展", "地区生产总值增长（%）", "2.3", "—", "保持在合理区间、各年度视情提出", "预期性"),
    ("", "居民人均可支配收入增长（%）", "2.1", "—", "与经济增长基本同步", "预期性"),
    ("绿色生态", "单位地区生产总值能源消耗降低（%）", "—", "—", "〔13.5〕", "约束性"),
    ("", "森林覆盖率（%）", "23.2*", "24.1", "—", "约束性"),
    ("科技成果", "技术合同成交额（亿元）", "180", "300", "—", "预期性"),
    ("", "", "", "", "", ""),
]
NOTES = "注：①高价值发明专利指有海外同族专利的发明专利。\n\n*为2019年数据。\n\n〔〕内为五年累计数。"


def markdown_plan() -> str:
    header = "| 类别 | 指标 | 2020年 | 2025年 | 年均/累计 | 属性 |\n|---|---|---|---|---|---|\n"
    body = "".join("| " + " | ".join(row) + " |\n" for row in ROWS[:-1])
    # a second value of 技术合同成交额 on its own row (the name cell spans both rows in the original)
    body += "|  |  | 12 | 15 | — |  |\n"
    return (
        "# 某省“十四五”科技创新规划\n\n## 一、发展目标\n\n到2025年，主要指标见表1。\n\n"
        "表1 “十四五”科技创新主要指标\n\n" + header + body + "\n" + NOTES + "\n\n## 二、重点任务\n\n1.建设实验室。内容。\n"
    )


def html_plan() -> str:
    """The same table with real rowspans, as a saved government page has it."""
    spans = {0: 3, 3: 2, 5: 2, 7: 1}
    rows_html = []
    for k, row in enumerate(ROWS[:-1]):
        cells = []
        if k in spans:
            cells.append(f'<td rowspan="{spans[k]}">{row[0]}</td>')
        if k == 7:
            cells.append(f'<td rowspan="2">{row[1]}</td>')
        else:
            cells.append(f"<td>{row[1]}</td>")
        cells += [f"<td>{c}</td>" for c in row[2:]]
        rows_html.append("<tr>" + "".join(cells) + "</tr>")
    rows_html.append("<tr><td>12</td><td>15</td><td>—</td><td></td></tr>")
    notes = "".join(f"<p>{line}</p>" for line in NOTES.split("\n\n"))
    return (
        "<html><body><h1>某省“十四五”科技创新规划</h1><h2>一、发展目标</h2><p>到2025年，主要指标见表1。</p>"
        "<p>表1 “十四五”科技创新主要指标</p><table><tr><th>类别</th><th>指标</th><th>2020年</th><th>2025年</th>"
        "<th>年均/累计</th><th>属性</th></tr>" + "".join(rows_html) + "</table>" + notes
        + "<h2>二、重点任务</h2><p>1.建设实验室。内容。</p></body></html>"
    )


@pytest.fixture(params=["md", "html"])
def doc(request):
    if request.param == "md":
        return parse_bytes(markdown_plan().encode("utf-8"), "plan.md")
    return parse_bytes(html_plan().encode("utf-8"), "plan.html")


def by_name(doc, name):
    return next(i for i in doc.indicators if i.name == name)


def test_rows_categories_and_numbers(doc):
    assert [(i.number, i.name, i.unit, i.category) for i in doc.indicators] == [
        (1, "全社会研发经费投入增长", "%", "创新驱动"),
        (2, "每万人口高价值发明专利拥有量", "件", "创新驱动"),
        (3, "企业高价值发明专利拥有量", "件", "创新驱动"),
        (4, "地区生产总值增长", "%", "经济发展"),
        (5, "居民人均可支配收入增长", "%", "经济发展"),
        (6, "单位地区生产总值能源消耗降低", "%", "绿色生态"),
        (7, "森林覆盖率", "%", "绿色生态"),
        (8, "技术合同成交额", "亿元", "科技成果"),
        (9, "技术合同成交额（2）", "亿元", "科技成果"),
    ]
    assert [i.parent_number for i in doc.indicators] == [None, None, 2, None, None, None, None, None, 8]
    assert all(i.target_year == 2025 for i in doc.indicators)


def test_targets_from_the_average_or_cumulative_column(doc):
    growth = by_name(doc, "全社会研发经费投入增长")
    assert (growth.comparator, growth.target_value, growth.target_basis) == ("gt", 7.0, "annual_average")
    energy = by_name(doc, "单位地区生产总值能源消耗降低")
    assert (energy.target_value, energy.target_basis, energy.cumulative, energy.direction) == (
        13.5, "cumulative", True, "lower",
    )
    patents = by_name(doc, "每万人口高价值发明专利拥有量")
    assert (patents.target_value, patents.target_basis) == (12.0, "")


def test_targets_in_words_are_kept_as_text_without_a_warning(doc):
    gdp = by_name(doc, "地区生产总值增长")
    assert (gdp.target_text, gdp.target_value, gdp.qualitative) == ("保持在合理区间、各年度视情提出", None, True)
    income = by_name(doc, "居民人均可支配收入增长")
    assert income.qualitative and income.target_text == "与经济增长基本同步"
    assert "indicator_target_not_numeric" not in doc.warning_codes()


def test_starred_baselines_take_the_year_of_the_note(doc):
    baselines = {(b.indicator_number, b.year): b.value for b in doc.baselines if b.indicator_number in (1, 2, 7)}
    assert baselines == {(1, 2019): 6.2, (2, 2020): 6.3, (7, 2019): 23.2}


def test_notes_under_the_table_are_linked_to_their_rows(doc):
    assert by_name(doc, "每万人口高价值发明专利拥有量").footnotes == ["①高价值发明专利指有海外同族专利的发明专利。"]
    assert by_name(doc, "森林覆盖率").footnotes == ["*为2019年数据。"]
    assert by_name(doc, "全社会研发经费投入增长").footnotes == ["*为2019年数据。"]
    assert by_name(doc, "单位地区生产总值能源消耗降低").footnotes == ["〔〕内为五年累计数。"]
    assert by_name(doc, "技术合同成交额").footnotes == []


def test_second_value_row_gets_its_own_number_after_the_numbered_rows():
    text = (
        "一、发展目标\n\n表1 主要指标\n\n"
        "| 序号 | 指标 | 单位 | 2020年 | 2025年 | 属性 |\n|---|---|---|---|---|---|\n"
        "| 1 | 技术合同成交额 | 亿元 | 180 | 300 | 预期性 |\n"
        "|  |  | % | 10 | 15 |  |\n"
        "| 2 | 高新技术企业 | 家 | 100 | 200 | 预期性 |\n"
        "\n二、任务\n\n1.任务。内容。\n"
    )
    doc = parse_bytes(text.encode("utf-8"), "plan.md")
    assert [(i.number, i.name, i.unit, i.target_value, i.parent_number) for i in doc.indicators] == [
        (1, "技术合同成交额", "亿元", 300.0, None),
        (3, "技术合同成交额（%）", "%", 15.0, 1),
        (2, "高新技术企业", "家", 200.0, None),
    ]
    assert "indicator_numbering" not in doc.warning_codes()


def test_numbered_notes_under_the_table_are_not_tasks():
    text = (
        "一、发展目标\n\n表1 主要指标\n\n"
        "| 序号 | 指标 | 单位 | 2020年 | 2025年 | 属性 |\n|---|---|---|---|---|---|\n"
        "| 1 | 森林覆盖率 | % | 23.2* | 24.1 | 约束性 |\n"
        "\n注：\n\n1.带*的为2019年数据。\n\n2.数据来源于统计局。\n\n二、任务\n\n1.任务。内容。\n"
    )
    doc = parse_bytes(text.encode("utf-8"), "plan.md")
    assert [t.title for t in doc.tasks] == ["任务"]
    assert doc.indicators[0].footnotes == ["带*的为2019年数据。"]
    assert [(b.year, b.value) for b in doc.baselines if b.indicator_number == 1][:1] == [(2019, 23.2)]


def test_plain_text_table_without_notes_still_parses():
    doc = parse_text("一、目标\n\n表1 主要指标\n\n\t指标\n\t2025年目标值\n\n\t高新技术企业\n\t200\n\n\n二、任务\n")
    assert [(i.name, i.target_value) for i in doc.indicators] == [("高新技术企业", 200.0)]
