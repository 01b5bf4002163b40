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
