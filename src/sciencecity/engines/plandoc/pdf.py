"""PDF reader: the text layer and ruled tables of a published plan → blocks.

Text comes from PDFium (pypdfium2, which pdfplumber installs): fast enough for a 200-page plan.
pdfplumber (pdfminer.six underneath) opens the file first, so that encrypted and damaged files
fail with a clear message, and its table finder runs on the pages that draw ruled lines. A PDF
has lines, not paragraphs: lines are joined into
paragraphs by their geometry (a first-line indent, a short last line, a larger gap), running page
headers and footers and page numbers are removed, and ruled tables found by pdfplumber's table
finder become table blocks (a table continued on the next page is joined, a repeated header row
dropped). Large pictures become image blocks so that a table or 专栏 given as an image is reported.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from statistics import median

from .blocks import IMAGE, PARAGRAPH, TABLE, Block, BlockDocument, clean_text
from .model import Paragraph, PlanParseError

_PAGE_NUMBER = re.compile(
    r"^[\s\-—–－·•]*(?:第\s*)?[0-9０-９ivxlcIVXLC]{1,5}(?:\s*页)?(?:\s*[/／]\s*\d{1,5})?(?:\s*共\s*\d+\s*页)?[\s\-—–－·•]*$"
)
_ITEM_START = re.compile(r"^(?:\d{1,3}\s*[.．、]|[（(][一二三四五六七八九十\d]{1,3}[）)]|[①-⑳]|[一二三四五六七八九十]{1,3}、|——)")
_LATIN_END = re.compile(r"[A-Za-z0-9,;:]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9(]")
_MIN_TEXT_CHARS = 20


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int
    index: int  # line number on the page, from 1


def _open(data: bytes, source_name: str):
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pdf.pages  # noqa: B018 - forces the document to be read, which is where encryption fails
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise PlanParseError(
            "the PDF is encrypted (password-protected); save an unprotected copy and upload that",
            source=source_name,
            location="page 1",
        ) from exc
    except PdfminerException as exc:
        inner = exc.args[0] if exc.args else exc
        if isinstance(inner, PDFPasswordIncorrect | PDFEncryptionError) or "password" in str(inner).lower():
            raise PlanParseError(
                "the PDF is encrypted (password-protected); save an unprotected copy and upload that",
                source=source_name,
                location="page 1",
            ) from exc
        raise PlanParseError(f"not a readable PDF ({inner})", source=source_name, location="byte 0") from exc
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise PlanParseError(f"not a readable PDF ({exc})", source=source_name, location="byte 0") from exc
    return pdf


def read_pdf(data: bytes, source_name: str = "document.pdf") -> BlockDocument:
    """Read a PDF's text layer and ruled tables; raise PlanParseError for what cannot be read."""
    if not data or not data.strip():
        raise PlanParseError("the file is empty", source=source_name, location="byte 0")
    if b"%PDF-" not in data[:1024]:
        raise PlanParseError("not a PDF file (no %PDF header)", source=source_name, location="byte 0")
    pdf = _open(data, source_name)
    try:
        return _Reader(pdf, source_name, data).read()
    except PlanParseError:
        raise
    except Exception as exc:  # a damaged page stream: say so, never crash the caller
        raise PlanParseError(
            f"damaged PDF ({exc.__class__.__name__}: {exc})", source=source_name, location="page 1"
        ) from exc
    finally:
        pdf.close()


#: a scanned PDF is read by OCR page by page only up to this many pages (about 2–4 s a page)
SCANNED_PDF_MAX_PAGES = 30
#: The most pixels a page (or a picture's page) is rendered to for OCR. An A4 page at 2× is 2 million, at
#: 200 dpi 3.9 million (A3: 7.8); a hostile PDF may declare a 14,400-point page (the format's limit), which at 2×
#: is 830 million pixels: 11 GB and minutes in one worker. Larger pages are rendered at a lower scale.
RENDER_MAX_PIXELS = 12_000_000


def render_scale(page, wanted: float) -> float:
    """``wanted``, lowered so that the rendered page holds at most :data:`RENDER_MAX_PIXELS` pixels."""
    width, height = page.get_size()
    area = max(width, 1.0) * max(height, 1.0) * wanted * wanted
    # 0.995: the renderer rounds each side up to whole pixels
    return wanted if area <= RENDER_MAX_PIXELS else 0.995 * wanted * (RENDER_MAX_PIXELS / area) ** 0.5


def read_scanned_pdf(data: bytes, source_name: str, page_count: int) -> BlockDocument:
    """A PDF without a text layer: each page rendered and read by OCR into lines, then parsed as text.

    Only with an offline OCR package and at most :data:`SCANNED_PDF_MAX_PAGES` pages; otherwise one
    clear error saying what to upload instead. The result carries a warning: every line was read
    from a picture and must be checked.
    """
    from . import ocr
    from .blocks import read_text

    scanned = f"the PDF has no text layer ({page_count} page(s) of images, probably scanned)"
    instead = "upload the Word, HTML or text version of the plan, or a PDF with text"
    if not ocr.available():
        raise PlanParseError(f"{scanned}; {ocr.unavailable_reason()} to read it — {instead}",
                             source=source_name, location="page 1")
    if page_count > SCANNED_PDF_MAX_PAGES:
        raise PlanParseError(f"{scanned}; OCR reads at most {SCANNED_PDF_MAX_PAGES} scanned pages — {instead}",
                             source=source_name, location="page 1")
    import time

    import pypdfium2 as pdfium

    start = time.perf_counter()
    paragraphs: list[str] = []
    confidences: list[float] = []
    document = pdfium.PdfDocument(data)
    try:
        for number in range(len(document)):
            page = document[number]
            picture = page.render(scale=render_scale(page, 2)).to_pil()
            lines = ocr.read_page_lines(picture)
            if not lines:
                continue
            left = min(line.box[0] for line in lines)
            # the right edge of full lines: the widest line, but at least 70% of the page (a page of
            # short lines — headings, list items — has no full line to continue)
            right = max(max(line.box[2] for line in lines), int(picture.width * 0.7))
            char = sorted(line.box[3] - line.box[1] for line in lines)[len(lines) // 2]
            previous = None
            for line in lines:
                confidences.append(line.confidence)
                # a line that starts at the left margin after a full line continues its paragraph
                continues = (previous is not None and previous.box[2] >= right - 2 * char
                             and line.box[0] <= left + char / 2)
                if continues:
                    paragraphs[-1] += line.text
                else:
                    paragraphs.append(line.text)
                previous = line
    finally:
        document.close()
    if not paragraphs:
        raise PlanParseError(f"{scanned}; OCR found no text on its pages — {instead}",
                             source=source_name, location="page 1")
    seconds = time.perf_counter() - start
    block_doc = read_text("\n\n".join(paragraphs), source_name.rsplit(".", 1)[0] + ".txt")
    block_doc.source_name, block_doc.source_format = source_name, "pdf"
    low = sum(1 for c in confidences if c < 0.9)
    block_doc.notes.insert(0, ("pdf_read_by_ocr", f"{page_count} scanned page(s) read by OCR ({ocr.engine_name()}, "
                                                  f"{seconds:.1f} s)", 1, "page 1"))
    block_doc.warnings.append((
        "pdf_text_from_ocr",
        f"the PDF has no text layer: its text was read from the page images by OCR ({len(confidences)} lines, "
        f"{low} below 0.9 confidence); check headings, numbers and names against the document",
        1, "page 1"))
    return block_doc


class _Reader:
    def __init__(self, pdf, source_name: str, data: bytes):
        self.pdf = pdf
        self.data = data
        self.source_name = source_name
        self.table_index = 0

    def read(self) -> BlockDocument:
        """Text from PDFium (fast, C++); pdfplumber's table finder only on pages that draw ruled lines."""
        import pypdfium2 as pdfium

        pages = self.pdf.pages
        fast = pdfium.PdfDocument(self.data)
        page_lines: list[list[_Line]] = []
        page_tables: list[list[tuple[float, list[list[str | None]]]]] = []
        page_images: list[list[tuple[float, float, bytes | None]]] = []
        total_chars = 0
        try:
            for number in range(1, len(fast) + 1):
                page = fast[number - 1]
                width, height = page.get_width(), page.get_height()
                textpage = page.get_textpage()
                total_chars += textpage.count_chars()
                lines = _pdfium_lines(textpage, height, number)
                rules, pictures = _pdfium_drawings(page, height, width)
                tables: list[tuple[float, list[list[str | None]]]] = []
                boxes = []
                if rules >= 4 and number - 1 < len(pages):
                    try:
                        found = pages[number - 1].find_tables()
                    except Exception:  # the table finder can fail on odd drawings; the text still counts
                        found = []
                    for table in found:
                        rows = table.extract()
                        if rows and max(len(r) for r in rows) >= 1:
                            tables.append((table.bbox[1], rows))
                            boxes.append(table.bbox)
                if boxes:
                    lines = [
                        line
                        for line in lines
                        if not any(
                            b[1] - 1 <= (line.top + line.bottom) / 2 <= b[3] + 1 and b[0] - 1 <= line.x0 <= b[2] + 1
                            for b in boxes
                        )
                    ]
                page_lines.append(lines)
                page_tables.append(tables)
                page_images.append([(top, bottom, self.render(page, box)) for top, bottom, box in pictures])
        finally:
            fast.close()
        if total_chars < _MIN_TEXT_CHARS:
            return read_scanned_pdf(self.data, self.source_name, len(pages))
        removed_furniture, removed_numbers = self.remove_furniture(page_lines)
        blocks = self.to_blocks(page_lines, page_tables, page_images)
        notes = [
            (
                "pdf_read",
                f"{len(pages)} pages read from the PDF text layer; {self.table_index} ruled table(s) found",
                1,
                "page 1",
            )
        ]
        if removed_furniture or removed_numbers:
            notes.append(
                (
                    "page_furniture_removed",
                    f"{removed_furniture} running header/footer line(s) and {removed_numbers} page number(s) removed",
                    1,
                    "page 1",
                )
            )
        title = ""
        try:
            title = str((self.pdf.metadata or {}).get("Title") or "").strip()
        except Exception:  # pragma: no cover - metadata is optional
            title = ""
        return BlockDocument(blocks, self.source_name, "pdf", title_hint=title, notes=notes)

    @staticmethod
    def render(page, box: tuple[float, float, float, float]) -> bytes | None:
        """A picture's area of the page as PNG (for OCR), when an OCR package is installed."""
        from . import ocr

        if not ocr.available():
            return None
        try:
            scale = render_scale(page, 200 / 72)
            image = page.render(scale=scale).to_pil()
            left, top, right, bottom = (round(v * scale) for v in box)
            picture = image.crop((max(0, left), max(0, top), min(image.width, right), min(image.height, bottom)))
            buffer = io.BytesIO()
            picture.convert("RGB").save(buffer, format="PNG")
            return buffer.getvalue()
        except Exception:  # rendering can fail on odd images: the image is then reported as not read
            return None

    # -- page furniture -------------------------------------------------------------------------
    @staticmethod
    def remove_furniture(page_lines: list[list[_Line]]) -> tuple[int, int]:
        """Drop running headers/footers (repeated at the top or bottom of pages) and page numbers."""

        def key(line: _Line) -> tuple[str, int]:
            # the same text (numbers aside) at the same height on the page
            return re.sub(r"[0-9０-９]+", "#", line.text.replace(" ", "")), round(line.top / 4)

        edge_counts: Counter[tuple[str, int]] = Counter()
        for lines in page_lines:
            ordered = sorted(lines, key=lambda line: line.top)
            edge_counts.update({key(line) for line in ordered[:2] + ordered[-2:]})
        pages = len(page_lines)
        repeated = {k for k, c in edge_counts.items() if pages >= 3 and c >= max(3, pages * 0.5)}
        furniture = numbers = 0
        for p, lines in enumerate(page_lines):
            ordered = sorted(lines, key=lambda line: line.top)
            edge_ids = {id(line) for line in ordered[:2] + ordered[-2:]}
            keep = []
            for line in lines:
                if id(line) in edge_ids and _PAGE_NUMBER.match(line.text.strip()):
                    numbers += 1
                    continue
                if id(line) in edge_ids and key(line) in repeated:
                    furniture += 1
                    continue
                keep.append(line)
            page_lines[p] = keep
        return furniture, numbers

    # -- lines → paragraphs ---------------------------------------------------------------------
    def to_blocks(self, page_lines, page_tables, page_images) -> list[Block]:
        all_lines = [line for lines in page_lines for line in lines]
        if all_lines:
            size = median(line.bottom - line.top for line in all_lines) or 10.0
            # the body's left edge: the leftmost x that many lines share (first lines are indented,
            # and in a plan of short paragraphs they can outnumber the wrapped lines)
            lefts = Counter(round(line.x0) for line in all_lines)
            common = [x for x, c in lefts.items() if c >= max(2, len(all_lines) * 0.05)]
            left = min(common) if common else lefts.most_common(1)[0][0]
            rights = sorted(line.x1 for line in all_lines)
            right = rights[int(len(rights) * 0.9)]
        else:
            size, left, right = 10.0, 0.0, 0.0
        gaps = []
        for lines in page_lines:
            for a, b in zip(lines, lines[1:], strict=False):
                if b.top > a.top:
                    gaps.append(b.top - a.top)
        spacing = median(gaps) if gaps else size * 1.5

        blocks: list[Block] = []
        pending_table: Block | None = None
        for p, lines in enumerate(page_lines):
            items: list[tuple[float, str, object]] = [(line.top, "line", line) for line in lines]
            items += [(top, "table", rows) for top, rows in page_tables[p]]
            items += [(image[0], "image", image) for image in page_images[p]]
            items.sort(key=lambda item: item[0])
            paragraph: list[_Line] = []
            for position, (_top, kind, item) in enumerate(items):
                if kind == "line":
                    line = item
                    if paragraph and self.starts_paragraph(paragraph[-1], line, left, right, size, spacing):
                        self.emit(blocks, paragraph)
                        paragraph = []
                    if pending_table is not None and not paragraph:
                        blocks.append(pending_table)
                        pending_table = None
                    paragraph.append(line)
                    continue
                if paragraph:
                    self.emit(blocks, paragraph)
                    paragraph = []
                if kind == "image":
                    if pending_table is not None:
                        blocks.append(pending_table)
                        pending_table = None
                    blocks.append(
                        Block(IMAGE, text=f"page {p + 1} picture", line=p + 1, location=f"page {p + 1} (image)",
                              image_data=item[2])
                    )
                    continue
                rows = item
                first_on_page = position == 0
                if pending_table is not None and first_on_page and self.continues(pending_table, rows):
                    self.extend_table(pending_table, rows, p + 1)
                else:
                    if pending_table is not None:
                        blocks.append(pending_table)
                    pending_table = self.table_block(rows, p + 1)
            if paragraph:
                self.emit(blocks, paragraph)
            # a table that ends the page may continue on the next one: keep it pending
            if pending_table is not None and items and items[-1][1] != "table":
                blocks.append(pending_table)
                pending_table = None
        if pending_table is not None:
            blocks.append(pending_table)
        return blocks

    @staticmethod
    def starts_paragraph(previous: _Line, line: _Line, left: float, right: float, size: float, spacing: float) -> bool:
        if line.page != previous.page:
            # a paragraph runs on over a page break unless the new page starts indented
            return line.x0 > left + size * 0.8 or previous.x1 < right - size * 1.5
        if line.top - previous.top > spacing * 1.45:
            return True
        if line.x0 > left + size * 0.8:
            return True  # first-line indent, or a centred heading
        if previous.x1 < right - size * 1.5:
            return True  # the previous line ended short: end of its paragraph
        if previous.x0 > left + size * 4 and previous.x1 < right - size * 4:
            return True  # the previous line was centred
        return False

    def emit(self, blocks: list[Block], lines: list[_Line]) -> None:
        text = ""
        for line in lines:
            piece = line.text.strip()
            if text and _LATIN_END.search(text) and _LATIN_START.match(piece):
                text += " "
            text += piece
        text = clean_text(text)
        if not text:
            return
        first = lines[0]
        blocks.append(
            Block(PARAGRAPH, text=text, line=first.page, location=f"page {first.page} line {first.index}")
        )

    # -- tables ---------------------------------------------------------------------------------
    def table_block(self, rows: list[list[str | None]], page: int) -> Block:
        self.table_index += 1
        t = self.table_index
        block = Block(TABLE, line=page, location=f"page {page} (table {t})", rows=[], table_index=t)
        self.extend_table(block, rows, page)
        return block

    @staticmethod
    def continues(block: Block, rows: list[list[str | None]]) -> bool:
        width = max(len(r) for r in block.rows) if block.rows else 0
        return bool(rows) and max(len(r) for r in rows) == width

    def extend_table(self, block: Block, rows: list[list[str | None]], page: int) -> None:
        t = block.table_index
        if block.rows and rows:
            header = ["".join(p.text for p in cell) for cell in block.rows[0]]
            first = [clean_text((c or "").replace("\n", "")) for c in rows[0]]
            if first == header:
                rows = rows[1:]  # the header row repeated on the new page
        for row in rows:
            r = len(block.rows) + 1
            cells = []
            for c, value in enumerate(row, 1):
                location = f"page {page} (table {t} row {r} cell {c})"
                cells.append([Paragraph(text, page, location) for text in _cell_paragraphs(value)])
            block.rows.append(cells)


def _pdfium_lines(textpage, height: float, page: int) -> list[_Line]:
    """Text runs of a page grouped into visual lines (top-down), from PDFium's text rectangles."""
    runs = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top)
        if text.strip():
            runs.append((left, height - top, right, height - bottom, text.replace("\r", "").replace("\n", "")))
    runs.sort(key=lambda run: (run[1], run[0]))
    grouped: list[list[tuple]] = []
    for run in runs:
        middle = (run[1] + run[3]) / 2
        for line in reversed(grouped[-4:]):
            top = min(r[1] for r in line)
            bottom = max(r[3] for r in line)
            if top - 1 <= middle <= bottom + 1:
                line.append(run)
                break
        else:
            grouped.append([run])
    lines = []
    for index, line in enumerate(sorted(grouped, key=lambda g: min(r[1] for r in g)), 1):
        line.sort(key=lambda r: r[0])
        text = ""
        for k, run in enumerate(line):
            piece = run[4]
            if k and text and not text.endswith(" ") and run[0] - line[k - 1][2] > (run[3] - run[1]) * 0.6:
                text += " "  # a visible gap between runs (table-like layouts, spaced words)
            text += piece
        lines.append(
            _Line(text.strip(), min(r[0] for r in line), max(r[2] for r in line), min(r[1] for r in line),
                  max(r[3] for r in line), page, index)
        )
    return lines


def _pdfium_drawings(page, height: float, width: float) -> tuple[int, list[tuple[float, float, tuple]]]:
    """How many thin paths (ruled lines) a page draws, and its large pictures (top, bottom, box)."""
    import pypdfium2 as pdfium

    rules = 0
    pictures = []
    for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_PATH, pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE:
            if right - left >= width * 0.3 and top - bottom >= 40:
                pictures.append((height - top, height - bottom, (left, height - top, right, height - bottom)))
        elif min(right - left, top - bottom) <= 3 or (right - left > 20 and top - bottom > 8):
            rules += 1
    return rules, pictures


def _cell_paragraphs(value: str | None) -> list[str]:
    """Lines of a cell: wrapped lines are joined, a line starting an item (1. （一） ①) starts a new one."""
    if not value:
        return []
    paragraphs: list[str] = []
    for raw in value.split("\n"):
        piece = clean_text(raw)
        if not piece:
            continue
        if paragraphs and not _ITEM_START.match(piece) and not paragraphs[-1].endswith(("。", "：", "；", ":")):
            joiner = " " if _LATIN_END.search(paragraphs[-1]) and _LATIN_START.match(piece) else ""
            paragraphs[-1] += joiner + piece
        else:
            paragraphs.append(piece)
    return paragraphs
