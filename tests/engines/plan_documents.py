"""Plan documents built for tests and benchmarks: the same plan as Markdown items, PDF and more.

``items(markdown)`` reads the simple Markdown of the test fixtures into ("heading", level, text),
("paragraph", text) and ("table", rows) items; ``build_pdf(items)`` typesets them with reportlab
and the vendored CJK font, with running page headers and page numbers like a published PDF.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

FONT = Path(__file__).resolve().parents[2] / "src" / "sciencecity" / "core" / "static" / "vendor" / "fonts" / "wqy-microhei.ttc"
FONT_NAME = "PlanTestCJK"


def items(markdown: str) -> list[tuple]:
    result: list[tuple] = []
    for chunk in re.split(r"\n\s*\n", markdown.strip()):
        chunk = chunk.strip()
        if not chunk:
            continue
        heading = re.match(r"^(#+)\s*(.*)$", chunk)
        if heading and "\n" not in chunk:
            result.append(("heading", len(heading.group(1)), heading.group(2)))
        elif chunk.startswith("|"):
            rows = [r for r in chunk.split("\n") if not re.match(r"^\|[-|: ]+\|$", r.strip())]
            result.append(("table", [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]))
        else:
            result.append(("paragraph", " ".join(chunk.split("\n"))))
    return result


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT), subfontIndex=0))


def build_pdf(
    plan_items: list[tuple],
    *,
    header: str = "青山市科技创新发展“十四五”规划",
    encrypt: str | None = None,
    repeat: int = 1,
) -> bytes:
    """Typeset the items (``repeat`` times, for long documents) with page headers and numbers."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    body = ParagraphStyle("body", fontName=FONT_NAME, fontSize=11, leading=18, firstLineIndent=22, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=FONT_NAME, fontSize=9, leading=13, wordWrap="CJK")
    headings = {
        1: ParagraphStyle("h1", fontName=FONT_NAME, fontSize=16, leading=26, alignment=TA_CENTER, spaceBefore=8),
        2: ParagraphStyle("h2", fontName=FONT_NAME, fontSize=14, leading=22, alignment=TA_CENTER, spaceBefore=6),
        3: ParagraphStyle("h3", fontName=FONT_NAME, fontSize=12, leading=20, spaceBefore=4),
    }
    story = []
    for _ in range(repeat):
        for item in plan_items:
            if item[0] == "heading":
                story.append(Paragraph(item[2], headings[min(item[1], 3)]))
            elif item[0] == "paragraph":
                story.append(Paragraph(item[1], body))
            else:
                rows = [[Paragraph(c, cell) for c in row] for row in item[1]]
                width = 170 * mm
                columns = max(len(r) for r in rows)
                table = Table(rows, colWidths=[width / columns] * columns, repeatRows=1 if columns > 1 else 0)
                table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
                story.append(table)
                story.append(Spacer(1, 6))

    def furniture(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(FONT_NAME, 9)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 12 * mm, header)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"- {document.page} -")
        canvas.restoreState()

    buffer = io.BytesIO()
    kwargs = {}
    if encrypt:
        from reportlab.lib.pdfencrypt import StandardEncryption

        kwargs["encrypt"] = StandardEncryption(encrypt, ownerPassword=encrypt + "-owner", strength=128)
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=22 * mm, bottomMargin=20 * mm,
        title="", **kwargs,
    )
    document.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return buffer.getvalue()


def image_only_pdf(pages: int = 2) -> bytes:
    """A 'scanned' PDF: every page is a picture, there is no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(pages):
        image = Image.new("RGB", (600, 800), "white")
        ImageDraw.Draw(image).rectangle((50, 50 + page * 10, 550, 120), outline="black", width=3)
        pdf.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


_CN = "一二三四五六七八九十"


def _cn(n: int) -> str:
    if n <= 10:
        return _CN[n - 1]
    if n < 20:
        return "十" + _CN[n - 11]
    tens, ones = divmod(n, 10)
    return _CN[tens - 1] + "十" + (_CN[ones - 1] if ones else "")


def long_plan_markdown(pages: int = 200, *, front_matter: bool = True, toc: bool = True) -> str:
    """A generated 篇/章/节 plan of about ``pages`` A4 pages (≈ 1,600 characters a page), as Markdown.

    Front matter and a table of contents listing every heading come first, like a copy saved from
    a government site; an indicator table and 专栏 boxes sit in the body.
    """
    sentence = "围绕重点产业链部署创新链，推动关键核心技术攻关，完善成果转化机制，提升创新体系整体效能。"
    per_task = sentence * 5
    chapters_wanted = max(2, round(pages * 1600 / (3 * 4 * (len(per_task) + 20) + 400)))
    parts = max(1, chapters_wanted // 8)
    headings: list[tuple[int, str]] = []
    body: list[str] = []
    chapter = 0
    box = 0
    for part in range(1, parts + 1):
        headings.append((1, f"第{_cn(part)}篇 重点领域{part}"))
        body.append(f"# {headings[-1][1]}")
        for _ in range(chapters_wanted // parts):
            chapter += 1
            headings.append((2, f"第{_cn(chapter)}章 推进重点方向{chapter}"))
            body.append(f"## {headings[-1][1]}")
            body.append(sentence * 2)
            if chapter == 2:
                body.append("表1 主要指标")
                rows = ["| 类别 | 序号 | 指标 | 单位 | 2020年基期值 | 2025年目标值 | 指标属性 |", "|---|---|---|---|---|---|---|"]
                for k in range(1, 31):
                    rows.append(f"| {'创新投入' if k == 1 else ''} | {k} | 第{k}项指标 | 个 | {k * 10} | {k * 15} | 预期性 |")
                body.append("\n".join(rows))
            for section in range(1, 4):
                headings.append((3, f"第{_cn(section)}节 任务方向{chapter}-{section}"))
                body.append(f"### {headings[-1][1]}")
                for task in range(1, 5):
                    body.append(f"{_cn(task)}、实施专项行动{chapter}-{section}-{task}。{per_task}")
                if section == 3 and chapter % 4 == 0:
                    box += 1
                    items = "\n".join(f"| {k}.重大项目{box}-{k}。建设内容与目标。 |" for k in range(1, 6))
                    body.append(f"专栏{box} 重大工程{box}\n\n| 专栏{box} 重大工程{box} |\n|---|\n{items}")
    head = ""
    if front_matter:
        head += '---\ntitle: "示例市科技创新“十四五”规划"\ndate: 2021-10-01\n---\n\n'
    head += "# 示例市科技创新“十四五”规划\n\n规划期为2021—2025年。\n\n"
    if toc:
        head += "## 目录\n\n" + "\n".join(f"{'  ' * (level - 1)}- [{text}](#h{k})" for k, (level, text) in enumerate(headings)) + "\n\n"
    return head + "\n\n".join(body) + "\n"


def markdown_to_html(markdown: str) -> str:
    """A saved-page version of the generated Markdown: headings, paragraphs, tables, a nav and scripts."""
    import html as html_module

    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>示例市科技创新“十四五”规划</title>"
             "<script>var a=1;</script></head><body><nav><a href='/'>首页</a></nav><div class='article'>"]
    text = re.sub(r"^---\n.*?\n---\n", "", markdown, flags=re.DOTALL)
    for kind, *rest in items(text):
        if kind == "heading":
            level, value = rest
            parts.append(f"<h{level}>{html_module.escape(value)}</h{level}>")
        elif kind == "paragraph":
            value = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", rest[0])
            for line in re.split(r"\s*-\s+(?=\S)", value):
                if line.strip():
                    parts.append(f"<p>{html_module.escape(line.strip())}</p>")
        else:
            rows = rest[0]
            parts.append("<table>" + "".join(
                "<tr>" + "".join(f"<td>{html_module.escape(c)}</td>" for c in row) + "</tr>" for row in rows
            ) + "</table>")
    parts.append("</div><footer>网站标识码</footer></body></html>")
    return "".join(parts)


def build_docx(plan_items: list[tuple]) -> bytes:
    import docx

    document = docx.Document()
    for item in plan_items:
        if item[0] == "heading":
            document.add_heading(item[2], level=min(item[1], 3))
        elif item[0] == "paragraph":
            document.add_paragraph(item[1])
        else:
            rows = item[1]
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def table_image(rows: list[list[str]], *, widths: list[int] | None = None, merge_first_column: bool = False) -> bytes:
    """A ruled table drawn with Pillow and the vendored CJK font, as PNG (what a scanned table looks like).

    With ``merge_first_column`` equal consecutive first cells below the header are drawn as one
    merged cell (a 类别 spanning rows) with the text once.
    """
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 22)
    columns = max(len(r) for r in rows)
    if widths is None:
        widths = [max(90, max(int(font.getlength(r[c])) for r in rows if c < len(r)) + 30) for c in range(columns)]
    height = 48
    image = Image.new("RGB", (sum(widths) + 2, height * len(rows) + 2), "white")
    draw = ImageDraw.Draw(image)
    r = 0
    while r < len(rows):
        span = 1
        if merge_first_column and r > 0:
            while r + span < len(rows) and rows[r + span][0] == "":
                span += 1
        x = 0
        for c, value in enumerate(rows[r]):
            cell_height = height * (span if c == 0 else 1)
            draw.rectangle((x, r * height, x + widths[c], r * height + cell_height), outline="black", width=2)
            draw.text((x + 12, r * height + (cell_height - 22) // 2 - 2), value, font=font, fill="black")
            x += widths[c]
        for extra in range(1, span):
            x = widths[0]
            for c, value in enumerate(rows[r + extra][1:], 1):
                top = (r + extra) * height
                draw.rectangle((x, top, x + widths[c], top + height), outline="black", width=2)
                draw.text((x + 12, top + 11), value, font=font, fill="black")
                x += widths[c]
        r += span
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def box_image(lines: list[str], *, framed: bool = True) -> bytes:
    """A 专栏 as printed plans picture it: lines of text inside one frame (no ruling between the lines), PNG."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 22)
    width = max(int(font.getlength(line)) for line in lines) + 60
    height = 44 * len(lines) + 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    if framed:
        draw.rectangle((2, 2, width - 3, height - 3), outline="black", width=3)
    for k, line in enumerate(lines):
        draw.text((30, 20 + 44 * k), line, font=font, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """A 'scanned' plan: each page a picture of its lines of text (drawn with Pillow), no text layer."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = ImageFont.truetype(str(FONT), 26)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for lines in pages:
        image = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(image)
        for k, line in enumerate(lines):
            draw.text((100, 120 + 60 * k), line, font=font, fill="black")
        pdf.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
