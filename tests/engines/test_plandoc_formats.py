"""The seed plan as .docx (real Word tables) and as .html gives the same tree as the .txt."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import docx
import pytest

from sciencecity.engines.plandoc import PlanDocument, parse_docx, parse_file, parse_html

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "guangming_st_plan_2021.txt"

_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_CHAPTER = re.compile(r"^[一二三四五六七八九十]+、")
_SECTION = re.compile(r"^（[一二三四五六七八九十]+）")


def seed_structure(text: str) -> list[tuple]:
    """Read the Word-as-text export the way a person would rebuild the Word file.

    Returns ("heading", level, text), ("paragraph", text) and ("table", rows) items, where
    rows are lists of cells and a cell is a list of paragraph strings.
    """
    lines = text.split("\n")
    items: list[tuple] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if re.match(r"^ *\t", line):
            rows: list[list[list[str]]] = [[]]
            while i < len(lines):
                line = lines[i]
                if not line.strip():
                    if rows[-1]:
                        rows.append([])
                    j = i
                    while j < len(lines) and not lines[j].strip():
                        j += 1
                    if j >= len(lines) or j - i >= 2 or not re.match(r"^ *\t", lines[j]):
                        i = j
                        break
                    i = j
                    continue
                if re.match(r"^ *\t", line):
                    rows[-1].append([line.strip()])
                else:
                    rows[-1][-1].append(line.strip())
                i += 1
            items.append(("table", [r for r in rows if r]))
            continue
        clean = _BOOKMARK.sub("", line).strip()
        if _CHAPTER.match(clean):
            items.append(("heading", 1, clean))
        elif _SECTION.match(clean):
            items.append(("heading", 2, clean))
        else:
            items.append(("paragraph", clean))
        i += 1
    return items


def build_docx(items: list[tuple]) -> bytes:
    """Headings as Heading 1/2 paragraphs, 表1 as a 5-column Word table (the broken name cell holds a
    line break), each 专栏 as a one-column Word table whose cells hold the items as paragraphs."""
    document = docx.Document()
    for item in items:
        if item[0] == "heading":
            document.add_heading(item[2], level=item[1])
        elif item[0] == "paragraph":
            document.add_paragraph(item[1])
        else:
            rows = item[1]
            ncols = max(len(r) for r in rows)
            table = document.add_table(rows=len(rows), cols=ncols)
            for r, row in enumerate(rows):
                for c, cell_paragraphs in enumerate(row):
                    cell = table.cell(r, c)
                    if ncols > 1:
                        cell.text = "\n".join(cell_paragraphs)  # one paragraph, a line break inside
                    else:
                        cell.paragraphs[0].text = cell_paragraphs[0]
                        for extra in cell_paragraphs[1:]:
                            cell.add_paragraph(extra)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build_html(items: list[tuple], charset: str = "utf-8") -> str:
    """A government-style page: site chrome around <h2>/<h3>/<p> content and <table>s."""
    out = [
        "<!DOCTYPE html>",
        f'<html><head><meta charset="{charset}"><title>光明区科技创新“十四五”规划_光明区政府在线</title>',
        "<script>var x = '一、不是标题';</script><style>p {margin: 0}</style></head>",
        "<body><nav><a href='/'>首页</a> <a href='/zwgk'>政务公开</a></nav>",
        '<div class="article"><div class="TRS_Editor">',
    ]
    for item in items:
        if item[0] == "heading":
            tag = "h2" if item[1] == 1 else "h3"
            out.append(f"<{tag}>{html.escape(item[2])}</{tag}>")
        elif item[0] == "paragraph":
            out.append(f"<p style='text-indent:2em'>{html.escape(item[1])}</p>")
        else:
            rows = item[1]
            out.append('<table border="1" cellspacing="0">')
            for row in rows:
                out.append("<tr>")
                for cell in row:
                    if len(row) > 1 or len(rows[0]) > 1:
                        out.append("<td>" + "<br/>".join(html.escape(p) for p in cell) + "</td>")
                    else:
                        out.append("<td>" + "".join(f"<p>{html.escape(p)}</p>" for p in cell) + "</td>")
                out.append("</tr>")
            out.append("</table>")
    out.append("</div></div><footer><p>主办：深圳市光明区人民政府</p></footer></body></html>")
    return "\n".join(out)


@pytest.fixture(scope="module")
def seed_items() -> list[tuple]:
    return seed_structure(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def txt_doc() -> PlanDocument:
    return parse_file(SEED)


@pytest.fixture(scope="module")
def docx_doc(seed_items, tmp_path_factory) -> PlanDocument:
    path = tmp_path_factory.mktemp("docx") / "guangming.docx"
    path.write_bytes(build_docx(seed_items))
    return parse_file(path)


@pytest.fixture(scope="module")
def html_doc(seed_items, tmp_path_factory) -> PlanDocument:
    path = tmp_path_factory.mktemp("html") / "guangming.html"
    path.write_text(build_html(seed_items), encoding="utf-8")
    return parse_file(path)


def test_the_rebuilt_documents_really_use_tables(seed_items):
    tables = [item for item in seed_items if item[0] == "table"]
    assert len(tables) == 1 + 15 + 2  # 表1, 15 boxes, 2 uncaptioned boxes
    document = docx.Document(io.BytesIO(build_docx(seed_items)))
    assert len(document.tables) == 18
    assert document.tables[0].cell(7, 1).text == "战略性新兴产业\n增加值占GDP比重"


def _indicator_rows(doc: PlanDocument) -> list[tuple]:
    return [
        (
            i.number,
            i.name,
            i.unit,
            i.target_value,
            i.comparator,
            i.target_text,
            i.target_year,
            i.attribute,
            i.direction,
            i.table_number,
        )
        for i in doc.indicators
    ]


def _box_shape(doc: PlanDocument) -> list[tuple]:
    return [
        (
            b.number,
            b.title,
            b.chapter_number,
            b.section_number,
            [(g.title, [(i.number, i.title, i.text) for i in g.items]) for g in b.groups],
        )
        for b in doc.boxes
    ]


def _tree_shape(doc: PlanDocument) -> list[tuple]:
    return [
        (
            c.number,
            c.title,
            [(s.number, s.title, [(t.number, t.title, t.text) for t in s.tasks]) for s in c.sections],
        )
        for c in doc.chapters
    ]


@pytest.mark.parametrize("fmt", ["docx", "html"])
def test_formats_agree_with_txt(fmt, txt_doc, docx_doc, html_doc):
    other = {"docx": docx_doc, "html": html_doc}[fmt]
    assert other.source_format == fmt
    assert other.counts() == txt_doc.counts()
    assert _indicator_rows(other) == _indicator_rows(txt_doc)
    assert _box_shape(other) == _box_shape(txt_doc)
    assert _tree_shape(other) == _tree_shape(txt_doc)
    assert [(g.title, g.text) for g in other.goals] == [(g.title, g.text) for g in txt_doc.goals]
    assert [s.title for s in other.strategies] == [s.title for s in txt_doc.strategies]
    assert [m.title for m in other.measures] == [m.title for m in txt_doc.measures]
    key = lambda b: (b.indicator_number, b.year, b.value)  # noqa: E731
    assert sorted(map(key, other.baselines)) == sorted(map(key, txt_doc.baselines))
    commitment = lambda c: (c.text, c.value, c.comparator, c.indicator_number)  # noqa: E731
    assert [commitment(c) for c in other.commitments] == [commitment(c) for c in txt_doc.commitments]
    assert other.warning_codes() == txt_doc.warning_codes() == ["target_below_baseline"]


def test_docx_locations(docx_doc):
    indicator = docx_doc.indicators[6]
    assert indicator.name == "战略性新兴产业增加值占GDP比重"
    assert indicator.location == "table 1 row 8 cell 2"
    assert docx_doc.chapters[0].location.startswith("paragraph ")
    assert docx_doc.chapters[0].line == 5  # 前 言 + three preface paragraphs come first
    box = docx_doc.boxes[0]
    assert box.items[0].location == "table 2 row 2 cell 1"  # row 1 is the caption
    assert box.items[4].location == "table 2 row 3 cell 1"


def test_html_lines_are_source_lines(html_doc, seed_items):
    page = build_html(seed_items).split("\n")
    chapter = html_doc.chapters[2]
    assert "三、建设大湾区综合性国家科学中心先行启动区" in page[chapter.line - 1]
    task = chapter.sections[0].tasks[0]
    assert "1.推动集中布局重大科技基础设施" in page[task.line - 1]
    assert html_doc.title == "光明区科技创新“十四五”规划"  # from <title>, site name dropped


def test_html_in_gb18030_with_meta_charset(seed_items, txt_doc):
    markup = build_html(seed_items, charset="gb2312")
    doc = parse_html(markup.encode("gb18030"), source_name="page.htm")
    assert doc.counts() == txt_doc.counts()
    assert _indicator_rows(doc) == _indicator_rows(txt_doc)


def test_docx_box_caption_as_paragraph_before_a_table():
    document = docx.Document()
    document.add_heading("一、重点任务", level=1)
    document.add_heading("（一）建设创新平台", level=2)
    document.add_paragraph("1.建设实验室。推动实验室建设。")
    document.add_paragraph("专栏1 重点实验室建设工程")
    table = document.add_table(rows=1, cols=1)
    cell = table.cell(0, 0)
    cell.paragraphs[0].text = "1.甲实验室。建设材料研究平台。"
    cell.add_paragraph("2.乙实验室。建设生命科学平台。")
    document.add_heading("二、保障措施", level=1)
    document.add_paragraph("（一）加强组织领导。成立领导小组。")
    buffer = io.BytesIO()
    document.save(buffer)
    doc = parse_docx(buffer.getvalue(), source_name="caption.docx")
    assert [(b.number, b.title, b.chapter_number, b.section_number) for b in doc.boxes] == [
        (1, "重点实验室建设工程", 1, 1)
    ]
    assert [(i.number, i.title, i.text) for i in doc.boxes[0].items] == [
        (1, "甲实验室", "建设材料研究平台。"),
        (2, "乙实验室", "建设生命科学平台。"),
    ]
    assert [t.title for t in doc.tasks] == ["建设实验室"]
    assert [m.title for m in doc.measures] == ["加强组织领导"]
    assert doc.chapters[1].sections[0].intro_text == "成立领导小组。"


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_numbered_by_word_styles_only():
    """Auto-numbered Word headings carry no 一、/（一） in their text: the heading styles are used."""
    document = docx.Document()
    document.add_heading("某区科技创新“十四五”规划", level=0)
    document.add_heading("前言", level=1)
    document.add_paragraph("本规划依据上位规划编制。")
    document.add_heading("发展基础", level=1)
    document.add_heading("主要成就", level=2)
    document.add_paragraph("截至2020年底，高新技术企业达到500家。")
    document.add_heading("总体要求", level=1)
    document.add_heading("发展目标", level=2)
    document.add_paragraph("——创新能力提升。高新技术企业达到800家以上。")
    document.add_heading("主要任务", level=1)
    document.add_heading("建设平台", level=2)
    document.add_paragraph("1.建设实验室。推进实验室建设。")
    document.add_paragraph("2.建设中心。推进中心建设。")
    document.add_heading("保障措施", level=1)
    document.add_heading("加强组织领导", level=2)
    document.add_paragraph("成立领导小组。")
    doc = parse_docx(_save(document), source_name="styles.docx")
    assert doc.title == "某区科技创新“十四五”规划"
    assert doc.preface == "本规划依据上位规划编制。"
    assert [(c.number, c.title) for c in doc.chapters] == [
        (1, "发展基础"),
        (2, "总体要求"),
        (3, "主要任务"),
        (4, "保障措施"),
    ]
    assert [(s.number, s.title) for s in doc.chapters[2].sections] == [(1, "建设平台")]
    assert [(t.number, t.title) for t in doc.tasks] == [(1, "建设实验室"), (2, "建设中心")]
    assert [g.title for g in doc.goals] == ["创新能力提升"]
    assert [m.title for m in doc.measures] == ["加强组织领导"]
    assert [(c.value, c.comparator) for c in doc.commitments] == [(800, "ge")]


def test_docx_box_drawn_as_a_text_box():
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_paragraph("一、重点任务")
    document.add_paragraph("（一）建设平台")
    document.add_paragraph("1.建设实验室。推进实验室建设。")
    anchor = document.add_paragraph("")
    lines = ["专栏1 重点实验室", "1.甲实验室。建设甲。", "2.乙实验室。建设乙。"]
    body = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in lines)
    drawing = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<w:drawing><wps:wsp><wps:txbx><w:txbxContent>{body}</w:txbxContent></wps:txbx></wps:wsp></w:drawing></w:r>"
    )
    anchor._p.append(drawing)
    document.add_paragraph("二、保障措施")
    doc = parse_docx(_save(document), source_name="textbox.docx")
    (box,) = doc.boxes
    assert (box.number, box.title, box.chapter_number, box.section_number) == (1, "重点实验室", 1, 1)
    assert [(i.number, i.title) for i in box.items] == [(1, "甲实验室"), (2, "乙实验室")]
    assert [t.title for t in doc.tasks] == ["建设实验室"]
    assert "甲实验室" not in doc.tasks[0].text
