"""A scanned PDF (pages of pictures, no text layer): read page by page by OCR when an offline OCR
package is installed (a bounded number of pages), with a warning to check the text; otherwise one
clear error that says what to upload instead."""

from __future__ import annotations

import pytest

from sciencecity.engines.plandoc import PlanParseError, ocr, parse_bytes, pdf
from tests.engines.plan_documents import scanned_pdf

PAGES = [
    ["青山区科技创新规划", "第一章 发展基础", "1.创新基础扎实。", "第二章 重点任务", "1.建设青山实验室。"],
    ["2.培育高新技术企业。实施高新技术企业倍增计划，完善梯次培育体系，推动科技型中小",
     "企业成长为高新技术企业。", "第三章 保障措施", "1.加强组织领导。"],
]
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="rapidocr-onnxruntime is not installed")


@needs_ocr
def test_scanned_pdf_is_read_by_ocr_page_by_page():
    doc = parse_bytes(scanned_pdf(PAGES), "scan.pdf")
    assert doc.title == "青山区科技创新规划"
    assert [(c.number, c.title) for c in doc.chapters] == [(1, "发展基础"), (2, "重点任务"), (3, "保障措施")]
    assert [[t.title for t in c.tasks] for c in doc.chapters] == [
        ["创新基础扎实"], ["建设青山实验室", "培育高新技术企业"], ["加强组织领导"]]
    # a paragraph wrapped over two printed lines is one paragraph again
    assert doc.chapters[1].tasks[1].text.endswith("推动科技型中小企业成长为高新技术企业。")
    assert doc.source_format == "pdf"
    assert any(n.code == "pdf_read_by_ocr" and n.message.startswith("2 scanned page(s) read by OCR")
               for n in doc.notes)
    warning = next(w for w in doc.warnings if w.code == "pdf_text_from_ocr")
    assert "check headings, numbers and names" in warning.message


def test_without_ocr_a_scanned_pdf_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(PlanParseError) as error:
        parse_bytes(scanned_pdf(PAGES), "scan.pdf")
    assert str(error.value) == (
        "scan.pdf: page 1: the PDF has no text layer (2 page(s) of images, probably scanned); no OCR package is "
        "installed (rapidocr-onnxruntime) to read it — upload the Word, HTML or text version of the plan, "
        "or a PDF with text")


@needs_ocr
def test_too_many_scanned_pages_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(pdf, "SCANNED_PDF_MAX_PAGES", 1)
    with pytest.raises(PlanParseError, match=r"OCR reads at most 1 scanned pages"):
        parse_bytes(scanned_pdf(PAGES), "scan.pdf")


@needs_ocr
def test_scanned_pdf_import_stores_the_plan_and_says_it_was_ocr(db):
    from sciencecity.plans import services
    from sciencecity.plans.models import Chapter

    result = services.plan_import(actor=None, content=scanned_pdf(PAGES), filename="scan.pdf")
    assert Chapter.objects.filter(plan=result.plan).count() == 3
    assert any(w["code"] == "pdf_text_from_ocr" for w in result.warnings) or result.plan.warnings.filter(
        code="pdf_text_from_ocr").exists()


@pytest.mark.parametrize("points, scale", [((595, 842), 2.0), ((14_400, 14_400), 2.0), ((1_000, 14_400), 200 / 72)])
def test_a_page_is_never_rendered_past_the_pixel_cap(points, scale):
    """A PDF page may declare up to 14,400 points a side: rendered at 2× that is 830 million pixels (11 GB
    and minutes of OCR in one web worker, measured). An ordinary page keeps its scale; a huge one is
    rendered smaller so it holds at most ``RENDER_MAX_PIXELS``."""
    import io

    import pypdfium2 as pdfium
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=points)
    drawing.rect(10, 10, 100, 100, fill=1)
    drawing.showPage()
    drawing.save()
    document = pdfium.PdfDocument(buffer.getvalue())
    try:
        page = document[0]
        used = pdf.render_scale(page, scale)
        if points == (595, 842):
            assert used == scale
        image = page.render(scale=used).to_pil()
        page.close()
    finally:
        document.close()
    assert image.width * image.height <= pdf.RENDER_MAX_PIXELS
    assert image.width * image.height >= pdf.RENDER_MAX_PIXELS * 0.97 or used == scale


def test_a_picture_declaring_a_huge_canvas_is_refused_before_decoding():
    """A 10,000 × 8,000 one-bit PNG is a few KB on disk and 80 million pixels decoded (under Pillow's own
    error limit): OCR refuses it, naming its size, without decoding it."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (10_000, 8_000)).save(buffer, format="PNG")
    with pytest.raises(ocr.PictureTooLarge, match="10000 × 8000 pixels"):
        ocr.read_table_image(buffer.getvalue())
