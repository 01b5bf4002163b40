"""PDF plans (typeset here with reportlab and the vendored CJK font) give the clean tree.

The PDFs carry what published ones carry: a running page header, page numbers, a 目录 page with
page numbers, paragraphs wrapped over several lines and over page breaks, ruled tables (one of
them running over two pages with its header row repeated). Broken PDFs give one clear error.
"""

from __future__ import annotations

import pytest

from sciencecity.engines.plandoc import PlanParseError, parse_bytes, parse_file
from tests.engines.plan_documents import build_pdf, image_only_pdf, items
from tests.engines.test_plandoc_structure import BODY, FIXTURE, HEADINGS, tree


@pytest.fixture(scope="module")
def clean() -> dict:
    return tree(parse_file(FIXTURE))


@pytest.fixture(scope="module")
def plan_pdf() -> bytes:
    return build_pdf(items(BODY))


def test_multi_part_plan_as_pdf_gives_the_clean_tree(clean, plan_pdf):
    doc = parse_bytes(plan_pdf, "plan.pdf")
    assert doc.source_format == "pdf"
    assert tree(doc) == clean
    notes = {n.code: n.message for n in doc.notes}
    assert notes["pdf_read"].startswith("3 pages read")
    assert "2 ruled table(s)" in notes["pdf_read"]


def test_page_headers_and_numbers_are_removed(plan_pdf):
    doc = parse_bytes(plan_pdf, "plan.pdf")
    notes = {n.code: n.message for n in doc.notes}
    assert notes["page_furniture_removed"] == "3 running header/footer line(s) and 3 page number(s) removed"
    texts = [doc.preface] + [c.intro_text for c in doc.chapters] + [t.text for t in doc.tasks]
    texts += [s.intro_text for s in doc.sections]
    assert not any("- 2 -" in t or "- 3 -" in t for t in texts)
    # the header repeats the title; the title itself (first page, larger) is kept as the title
    assert doc.title == "青山市科技创新发展“十四五”规划"


def test_pdf_with_a_contents_page_and_a_long_wrapped_text(clean):
    contents = [("heading", 2, "目录")] + [
        ("paragraph", f"{heading}{'.' * 20}{page}") for page, heading in enumerate(HEADINGS, 2)
    ]
    long_paragraph = "规划实施坚持系统观念，统筹发展和安全，" * 30 + "确保各项任务落地见效。"
    body = items(BODY)
    position = next(k for k, item in enumerate(body) if item[0] == "heading" and item[2] == "第七章 健全监测评估")
    body.insert(position + 2, ("paragraph", long_paragraph))
    data = build_pdf(contents + body)
    doc = parse_bytes(data, "plan.pdf")
    expected = dict(clean)
    result = tree(doc)
    assert result["chapters"] == expected["chapters"]
    assert result["indicators"] == expected["indicators"]
    assert result["boxes"] == expected["boxes"]
    assert [n.code for n in doc.notes if n.code == "toc_skipped"] == ["toc_skipped"]
    # the wrapped paragraph is one paragraph again, with nothing lost or doubled
    assert long_paragraph in doc.chapters[6].intro_text.split("\n")


def test_a_table_running_over_two_pages_is_one_table():
    header = ["序号", "指标", "单位", "2020年基期值", "2025年目标值", "指标属性"]
    rows = [[str(k), f"第{k}项测试指标", "个", str(k), str(k * 2), "预期性"] for k in range(1, 71)]
    plan = [
        ("heading", 1, "某市科技创新规划"),
        ("heading", 2, "一、发展目标"),
        ("paragraph", "到2025年，主要指标见表1。"),
        ("paragraph", "表1 主要指标"),
        ("table", [header, *rows]),
        ("heading", 2, "二、重点任务"),
        ("paragraph", "1.建设实验室。推动实验室建设。"),
    ]
    doc = parse_bytes(build_pdf(plan, header="某市科技创新规划"), "long-table.pdf")
    assert [(i.number, i.name, i.target_value) for i in doc.indicators] == [
        (k, f"第{k}项测试指标", float(k * 2)) for k in range(1, 71)
    ]
    assert [c.title for c in doc.chapters] == ["发展目标", "重点任务"]


def test_encrypted_pdf_is_one_clear_error(plan_pdf):
    data = build_pdf(items(BODY), encrypt="secret")
    with pytest.raises(PlanParseError) as error:
        parse_bytes(data, "locked.pdf")
    assert str(error.value) == (
        "locked.pdf: page 1: the PDF is encrypted (password-protected); save an unprotected copy and upload that"
    )


def test_scanned_pdf_without_text_is_one_clear_error():
    with pytest.raises(PlanParseError, match=r"^scan\.pdf: page 1: the PDF has no text layer \(2 page\(s\) of images"):
        parse_bytes(image_only_pdf(2), "scan.pdf")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^empty\.pdf: line 1: the file is empty$"),
        (b"PK\x03\x04 not really", r"^empty\.pdf: byte 0: not a PDF file \(no %PDF header\)$"),
        (b"%PDF-1.7\n1 0 obj <<>> garbage", r"^empty\.pdf: byte 0: not a readable PDF"),
    ],
)
def test_empty_or_broken_pdf(data, message):
    with pytest.raises(PlanParseError, match=message):
        parse_bytes(data, "empty.pdf")
