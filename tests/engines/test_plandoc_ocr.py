"""Tables given as images: read by OCR (offline, RapidOCR), marked as OCR with a confidence per cell.

The images are drawn here with Pillow from known values, so every cell can be compared. Without
the picture (an upload of the text alone) or without an OCR package, the table is reported as not
read — never dropped silently.
"""

from __future__ import annotations

import io

import docx
import pytest

from sciencecity.engines.plandoc import ocr, parse_bytes, parse_file
from tests.engines.plan_documents import table_image

pytestmark = pytest.mark.skipif(not ocr.available(), reason="rapidocr-onnxruntime is not installed")

ROWS = [
    ["类别", "序号", "指标", "单位", "2020年", "2025年目标值", "属性"],
    ["创新投入", "1", "全社会研发经费投入强度", "%", "2.4", "≥3.0", "预期性"],
    ["", "2", "高新技术企业数量", "家", "2150", "3500", "预期性"],
    ["创新产出", "3", "技术合同成交额", "亿元", "180", "300左右", "预期性"],
    ["", "4", "单位地区生产总值能耗降低", "%", "—", "〔13.5〕", "约束性"],
]


@pytest.fixture(scope="module")
def image() -> bytes:
    return table_image(ROWS, merge_first_column=True)


@pytest.fixture(scope="module")
def read(image):
    return ocr.read_table_image(image)


def same_brackets(text: str) -> str:
    """〔13.5〕 and [13.5] mean the same (a five-year total) and the recogniser may give either."""
    return text.replace("〔", "[").replace("〕", "]")


def test_every_cell_of_a_drawn_table_is_read_back(read):
    assert read.method == "grid"
    assert [[same_brackets(cell.text) for cell in row] for row in read.rows] == [
        [same_brackets(text) for text in row] for row in ROWS
    ]
    assert all(0.0 <= cell.confidence <= 1.0 for row in read.rows for cell in row)
    # a lone dash is the hardest glyph; everything else is read with high confidence
    assert min(cell.confidence for row in read.rows for cell in row if cell.text not in ("", "—")) >= 0.85
    # the merged 类别 cell is read once, the rows it spans are empty
    assert [row[0].text for row in read.rows] == ["类别", "创新投入", "", "创新产出", ""]


def plan_markdown(image_link: str) -> str:
    return (
        "# 某市科技创新规划\n\n## 一、发展目标\n\n到2025年，主要指标见表1。\n\n表1 主要指标\n\n"
        f"![表1]({image_link})\n\n## 二、重点任务\n\n1.建设实验室。推动实验室建设。\n"
    )


def test_markdown_copy_with_its_image_folder(tmp_path, image):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "table1.png").write_bytes(image)
    path = tmp_path / "plan.md"
    path.write_text(plan_markdown("images/table1.png"), encoding="utf-8")
    doc = parse_file(path)
    assert [(i.number, i.name, i.unit, i.comparator, i.target_value, i.category) for i in doc.indicators] == [
        (1, "全社会研发经费投入强度", "%", "ge", 3.0, "创新投入"),
        (2, "高新技术企业数量", "家", "eq", 3500.0, "创新投入"),
        (3, "技术合同成交额", "亿元", "approx", 300.0, "创新产出"),
        (4, "单位地区生产总值能耗降低", "%", "eq", 13.5, "创新产出"),
    ]
    assert all(i.ocr_confidence is not None and 0 < i.ocr_confidence <= 1 for i in doc.indicators)
    assert doc.indicators[3].cumulative
    (table,) = doc.ocr_tables
    assert table.caption == "表1 主要指标" and table.kind == "table" and not table.reviewed
    assert [[same_brackets(cell["text"]) for cell in row] for row in table.rows] == [
        [same_brackets(text) for text in row] for row in ROWS
    ]
    assert table.image_bytes == image
    warning = next(w for w in doc.warnings if w.code == "table_read_by_ocr")
    assert "review the cells before storing" in warning.message
    assert "table_image_only" not in doc.warning_codes()


def test_the_officers_corrections_replace_the_ocr_cells(tmp_path, image):
    (tmp_path / "table1.png").write_bytes(image)
    path = tmp_path / "plan.md"
    path.write_text(plan_markdown("table1.png"), encoding="utf-8")
    corrected = [list(row) for row in ROWS]
    corrected[2][5] = "3600"
    doc = parse_file(path, ocr_overrides={0: corrected})
    assert doc.indicators[1].target_value == 3600.0
    assert doc.ocr_tables[0].reviewed
    assert "table_read_by_ocr" not in doc.warning_codes()
    assert any(n.code == "ocr_reviewed" for n in doc.notes)


def test_picture_embedded_in_word(image):
    document = docx.Document()
    document.add_heading("一、发展目标", level=1)
    document.add_paragraph("表1 主要指标")
    document.add_picture(io.BytesIO(image))
    document.add_heading("二、重点任务", level=1)
    document.add_paragraph("1.建设实验室。推动实验室建设。")
    buffer = io.BytesIO()
    document.save(buffer)
    doc = parse_bytes(buffer.getvalue(), "plan.docx")
    assert [i.name for i in doc.indicators] == [row[2] for row in ROWS[1:]]
    assert doc.ocr_tables[0].image_name.startswith("word/media/")


def test_upload_without_the_pictures_reports_each_table_as_not_read():
    doc = parse_bytes(plan_markdown("images/table1.png").encode("utf-8"), "plan.md")
    (warning,) = [w for w in doc.warnings if w.code == "table_image_only"]
    assert "表1 主要指标: given as an image; its content was not read (the picture is not in the upload" in warning.message
    assert doc.indicators == [] and doc.ocr_tables == []


def test_links_outside_the_documents_folder_are_not_opened(tmp_path, image):
    (tmp_path / "secret.png").write_bytes(image)
    (tmp_path / "plans").mkdir()
    path = tmp_path / "plans" / "plan.md"
    path.write_text(plan_markdown("../secret.png"), encoding="utf-8")
    doc = parse_file(path)
    assert doc.indicators == []
    assert "table_image_only" in doc.warning_codes()


def _zip(files: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_saved_page_with_its_pictures_uploaded_as_one_zip(image):
    page = (
        "<html><body><h1>某市科技创新规划</h1><h2>一、发展目标</h2><p>表1 主要指标</p>"
        "<p><img src='plan_files/table1.png'></p><h2>二、重点任务</h2><p>1.建设实验室。推动实验室建设。</p>"
        "<p><img src='../../outside.png'></p></body></html>"
    )
    data = _zip({"saved/plan.html": page.encode("utf-8"), "saved/plan_files/table1.png": image,
                 "outside.png": image, "saved/plan_files/style.css": b"p{}"})
    doc = parse_bytes(data, "plan.zip")
    assert [i.name for i in doc.indicators] == [row[2] for row in ROWS[1:]]
    assert doc.notes[0].code == "archive_read"
    assert "read saved/plan.html (4 files in the archive, 1 picture(s) found)" in doc.notes[0].message
    # a link that leaves the archive is not followed
    assert "image_not_read" in doc.warning_codes()
