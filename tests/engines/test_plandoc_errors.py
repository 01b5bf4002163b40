"""Image-only tables and boxes give warnings; broken input gives PlanParseError naming file and line."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from sciencecity.engines.plandoc import PlanParseError, parse_docx, parse_file, parse_html, parse_text

PLAN = """一、发展目标
（一）主要目标
到2025年，创新能力显著提升（参见表1和表2）。
——创新投入持续增加。全社会研发投入强度达到3%。
表1 主要指标
\t序号
\t指标
\t单位
\t2025年目标值
\t指标属性

\t1
\t全社会研发投入强度
\t%
\t3
\t预期性


表2 重大项目表
二、重点任务
（一）建设创新平台
1.建设实验室。推动实验室建设。
专栏1 重点实验室建设工程
2.建设研究院。推动研究院建设。
"""


def test_captions_without_a_table_or_box_are_warnings_not_crashes():
    doc = parse_text(PLAN, source_name="plan.txt")
    assert len(doc.indicators) == 1
    warnings = {w.code: w for w in doc.warnings}
    assert warnings["table_image_only"].line == 19
    assert "表2 重大项目表" in warnings["table_image_only"].message
    assert warnings["box_image_only"].line == 23
    assert doc.boxes == []
    # the caption is not swallowed into the text and the tree goes on
    assert [t.title for t in doc.tasks] == ["建设实验室", "建设研究院"]
    assert "专栏1" not in doc.tasks[0].text
    # 表2 is referenced and exists (as an image): no "referenced but missing" warning for it
    assert "table_referenced_missing" not in warnings


def test_reference_to_a_table_that_is_nowhere():
    doc = parse_text(
        "一、发展目标\n到2025年，主要指标见表3。\n二、重点任务\n1.建设实验室。\n", source_name="x.txt"
    )
    (warning,) = [w for w in doc.warnings if w.code == "table_referenced_missing"]
    assert "表3" in warning.message and warning.line == 2


def test_html_image_inside_a_table_and_image_box():
    page = """<html><body>
<h2>一、发展目标</h2>
<h3>（一）主要目标</h3>
<p>到2025年，创新能力显著提升。</p>
<p>表1 主要指标</p>
<table><tr><td><img src="table1.png"></td></tr></table>
<h2>二、重点任务</h2>
<h3>（一）建设创新平台</h3>
<p>1.建设实验室。推动实验室建设。</p>
<p>专栏1 重点实验室建设工程</p>
<p><img src="box1.jpg"></p>
<p>2.建设研究院。推动研究院建设。</p>
<table><tr><td>专栏2 重大平台</td></tr><tr><td><img src="box2.png"></td></tr></table>
</body></html>"""
    doc = parse_html(page, source_name="page.html")  # markup given as text
    codes = doc.warning_codes()
    assert codes.count("table_image_only") == 1
    assert codes.count("box_image_only") == 2
    table_warning = next(w for w in doc.warnings if w.code == "table_image_only")
    assert table_warning.line == 5  # the caption's source line
    assert doc.indicators == []
    assert [t.title for t in doc.tasks] == ["建设实验室", "建设研究院"]
    assert [(b.number, b.items) for b in doc.boxes] == [(2, [])]


def test_docx_picture_in_place_of_a_table(tmp_path):
    from docx.shared import Inches

    png = _tiny_png()
    document = docx.Document()
    document.add_paragraph("一、发展目标")
    document.add_paragraph("表1 主要指标")
    document.add_picture(io.BytesIO(png), width=Inches(1))
    document.add_paragraph("二、重点任务")
    document.add_paragraph("1.建设实验室。推动实验室建设。")
    path = tmp_path / "picture.docx"
    document.save(path)
    doc = parse_file(path)
    (warning,) = [w for w in doc.warnings if w.code == "table_image_only"]
    assert warning.location == "paragraph 2"
    assert [c.title for c in doc.chapters] == ["发展目标", "重点任务"]


def _tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


# --- broken input ------------------------------------------------------------------------------


def test_invalid_bytes_name_the_file_and_line(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(
        "一、发展目标\n（一）主要目标\n".encode() + b"\xff\xfe\xfa\x80 bad\n" + "二、任务\n".encode()
    )
    with pytest.raises(PlanParseError) as caught:
        parse_file(path)
    message = str(caught.value)
    assert message.startswith("broken.txt: line 3:")
    assert "UTF-8" in message and "GB18030" in message
    assert caught.value.line == 3
    assert caught.value.source == "broken.txt"


def test_invalid_bytes_in_a_gb18030_file(tmp_path):
    path = tmp_path / "gb.txt"
    path.write_bytes("一、发展目标\n（一）主要目标\n到2025年。\n".encode("gb18030") + b"\x81\x20x\n")
    with pytest.raises(PlanParseError, match=r"^gb\.txt: line 4: "):
        parse_file(path)


def test_renamed_non_zip_docx(tmp_path):
    path = tmp_path / "plan.docx"
    path.write_text("一、发展目标\n这不是 Word 文件。\n", encoding="utf-8")
    with pytest.raises(PlanParseError, match=r"^plan\.docx: byte 0: not a Word \.docx file"):
        parse_file(path)


def test_zip_that_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(PlanParseError, match=r"^fake\.docx: .*not a readable Word \.docx"):
        parse_docx(buffer.getvalue(), source_name="fake.docx")


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.docx", "empty.html"])
def test_empty_files(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(PlanParseError) as caught:
        parse_file(path)
    assert str(caught.value).startswith(f"{name}: ")
    assert "empty" in str(caught.value)


def test_blank_text_and_unsupported_suffix(tmp_path):
    with pytest.raises(PlanParseError, match=r"^blank\.txt: line 1: the file is empty"):
        parse_text(" \n\n\t\n", source_name="blank.txt")
    path = tmp_path / "plan.rtf"
    path.write_bytes(b"{\\rtf1 text}")
    with pytest.raises(PlanParseError, match=r"^plan\.rtf: unsupported file type “\.rtf” \(use .*\.pdf.*\)"):
        parse_file(path)
    # a PDF is read now; a truncated one is one clear error
    path = tmp_path / "plan.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(PlanParseError, match=r"^plan\.pdf: byte 0: not a readable PDF"):
        parse_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(PlanParseError, match="cannot read the file"):
        parse_file(tmp_path / "nope.txt")


def test_text_without_headings_is_a_warning():
    doc = parse_text("这是一段没有任何标题的文字。\n第二段文字。\n", source_name="plain.txt")
    assert doc.chapters == []
    assert doc.warning_codes() == ["no_chapters"]
    assert doc.title == "plain"


def test_zip_uploads_without_a_document_or_broken():
    from sciencecity.engines.plandoc import parse_bytes

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("images/a.png", b"x")
    with pytest.raises(PlanParseError, match=r"^pages\.zip: the \.zip archive holds no plan document"):
        parse_bytes(buffer.getvalue(), "pages.zip")
    with pytest.raises(PlanParseError, match=r"^broken\.zip: byte 0: not a readable \.zip archive"):
        parse_bytes(b"PK\x03\x04 broken", "broken.zip")
