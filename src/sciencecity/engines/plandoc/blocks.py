"""Readers: .txt/.md, .docx and .html → one common intermediate form (a list of blocks).

A block is a paragraph (one line of running text with its source position), a table (rows of
cells, each cell a list of paragraphs) or an image. The tree builder only ever sees blocks, so
the three formats give the same tree.

The .txt reader understands the layout Word produces when a document is saved as plain text:
every table cell starts a line with a tab, further paragraphs of the same cell follow without
the tab, a blank line ends a row and two blank lines (or a blank line followed by untabbed
text) end the table. When nearly every line starts with a tab the tabs are plain indentation
and are not read as tables. Markdown pipe tables are read as tables too.
"""

from __future__ import annotations

import codecs
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .model import Paragraph, PlanParseError

PARAGRAPH = "paragraph"
TABLE = "table"
IMAGE = "image"


@dataclass
class Block:
    """One unit of the intermediate form."""

    kind: str
    text: str = ""
    line: int | None = None
    location: str = ""
    rows: list[list[list[Paragraph]]] = field(default_factory=list)
    style_level: int | None = None
    table_index: int | None = None
    has_image: bool = False
    image_data: bytes | None = field(default=None, repr=False)  # the picture of an IMAGE block, if at hand

    def cell_texts(self) -> list[list[str]]:
        """Rows of cells, each cell's paragraphs joined without a separator."""
        return [["".join(p.text for p in cell) for cell in row] for row in self.rows]

    def all_paragraphs(self) -> list[Paragraph]:
        return [p for row in self.rows for cell in row for p in cell]


@dataclass
class BlockDocument:
    """The blocks of one source plus what the reader learnt about it."""

    blocks: list[Block]
    source_name: str
    source_format: str
    title_hint: str = ""
    notes: list[tuple[str, str, int | None, str]] = field(default_factory=list)
    #: what the reader could only guess (code, message, line, location): shown as warnings
    warnings: list[tuple[str, str, int | None, str]] = field(default_factory=list)
    #: corrected cells of OCR tables by their order in the document (from the review page)
    ocr_overrides: dict[int, list[list[str]]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Text cleaning shared by all readers

_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CJK = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")


def clean_text(text: str) -> str:
    """Remove export artefacts and normalise spaces; keeps the characters otherwise."""
    text = _BOOKMARK.sub("", text)
    text = _ZERO_WIDTH.sub("", text)
    text = text.replace("\u00a0", " ").replace("\u3000", " ").replace("\t", " ")
    text = re.sub(r"[ ]{2,}", " ", text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    return text.strip()


# ---------------------------------------------------------------------------------------------
# Pictures referenced by the document

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
MAX_IMAGE_BYTES = 20 * 1024 * 1024


def attach_images(
    block_doc: BlockDocument,
    base_dir: str | Path | None,
    *,
    archive: dict[str, bytes] | None = None,
    archive_dir: str = "",
) -> None:
    """Load the pictures that IMAGE blocks refer to: ``data:`` URIs, files next to the document, or
    files of the same .zip upload.

    Only files inside ``base_dir`` (the folder of the document being read) or inside the archive
    are opened; an upload of the document alone gets ``data:`` URIs only.
    """
    import base64
    import posixpath
    from urllib.parse import unquote, urlparse

    base = Path(base_dir).resolve() if base_dir else None
    lowered = {name.lower(): name for name in archive} if archive else {}
    for block in block_doc.blocks:
        if block.kind != IMAGE or block.image_data is not None or not block.text:
            continue
        ref = block.text.strip()
        if ref.startswith("data:image/") and ";base64," in ref[:60]:
            try:
                block.image_data = base64.b64decode(ref.split(",", 1)[1], validate=False)
            except ValueError:
                block.image_data = None
            block.text = "data: URI"
            continue
        parsed = urlparse(ref)
        if parsed.scheme not in ("", "file") or parsed.netloc:
            continue
        if archive is not None:
            name = posixpath.normpath(posixpath.join(archive_dir, unquote(parsed.path).lstrip("/")))
            if name.startswith("../") or name == ".." or posixpath.splitext(name)[1].lower() not in _IMAGE_SUFFIXES:
                continue
            name = name if name in archive else lowered.get(name.lower(), "")
            if name:
                block.image_data = archive[name]
            continue
        if base is None:
            continue
        path = (base / unquote(parsed.path).lstrip("/")).resolve()
        if not path.is_relative_to(base) or path.suffix.lower() not in _IMAGE_SUFFIXES:
            continue
        try:
            if path.is_file() and path.stat().st_size <= MAX_IMAGE_BYTES:
                block.image_data = path.read_bytes()
        except OSError:
            block.image_data = None


# ---------------------------------------------------------------------------------------------
# Decoding


def decode_bytes(data: bytes, source: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM or GB18030; raise PlanParseError."""
    if not data or not data.strip():
        raise PlanParseError("the file is empty", source=source, line=1)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PlanParseError(
                f"cannot decode UTF-16 text ({exc.reason})", source=source, line=_line_of(data, exc.start)
            ) from exc
    if b"\x00" in data:
        position = data.index(b"\x00")
        raise PlanParseError(
            "binary data (NUL byte), not a text file", source=source, line=_line_of(data, position)
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        prefix = data[: utf8_error.start].decode("utf-8")
        # GB18030 byte pairs are often valid 2-byte UTF-8 by accident, but hardly ever CJK
        looks_utf8 = sum(1 for ch in prefix if "\u3000" <= ch <= "\u9fff") >= 3
        if not looks_utf8:
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError as gb_error:
                error = gb_error if gb_error.start > utf8_error.start else utf8_error
        else:
            error = utf8_error
        line = _line_of(data, error.start)
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        bad = data[error.start : error.start + 4].hex(" ")
        raise PlanParseError(
            f"column {column}: cannot decode bytes {bad} as UTF-8 or GB18030", source=source, line=line
        ) from error


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


# ---------------------------------------------------------------------------------------------
# Plain text and Markdown

_TAB_CELL = re.compile(r"^[ \u3000]*\t")
_TOC_HEADING = re.compile(r"^\s*\[bookmark:\s*_Toc")
_STRUCTURAL_HEADING = re.compile(r"^\s*第[一二三四五六七八九十百零〇两\d]+[篇章节]")
_IMAGE_LINE = re.compile(
    r"^\s*(?:!\[[^\]]*\]\([^)]*\)|\[(?:image|picture|img|图片|图像|图)[^\]]*\]|<img\b[^>]*>)\s*$",
    re.IGNORECASE,
)
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|>)\s+")


_FRONT_MATTER_OPEN = re.compile(r"^(---|\+\+\+)\s*$")
_FRONT_MATTER_TITLE = re.compile(r"^\s*title\s*[:=]\s*[\"']?(.*?)[\"']?\s*$", re.IGNORECASE)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$(?![\s\S]))", re.DOTALL)
_HTML_DROP = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?(?:</\1\s*>|$(?![\s\S]))", re.DOTALL | re.IGNORECASE)
_HTML_BREAK = re.compile(
    r"</?(?:br|p|div|li|ul|ol|details|summary|section|article|header|footer|nav|aside|tr|table|tbody|thead|"
    r"dl|dt|dd|blockquote|center|figure|figcaption|hr|pre|h[1-6])\b[^>]*>",
    re.IGNORECASE,
)
_HTML_HEADING_OPEN = re.compile(r"<h([1-6])\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>")
_HTML_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)[^>]*>", re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
_MD_LINK = re.compile(r"(?<!!)\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_MD_AUTOLINK = re.compile(r"<(?:https?|mailto):[^>]*>")
_MD_TOC_MARKER = re.compile(r"^\s*(?:\[TOC\]|\[\[_?TOC_?\]\]|\{:toc\}|\$\{toc\})\s*$", re.IGNORECASE)
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_MD_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_MD_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def _blank_keeping_lines(match: re.Match) -> str:
    return "\n" * match.group(0).count("\n")


def _strip_front_matter(lines: list[str]) -> tuple[int, str]:
    """YAML (``---``) or TOML (``+++``) front matter at the top: (lines to skip, its title)."""
    first = next((k for k, line in enumerate(lines) if line.strip()), None)
    if first is None or first > 2:
        return 0, ""
    match = _FRONT_MATTER_OPEN.match(lines[first])
    if not match:
        return 0, ""
    fence = match.group(1)
    for k in range(first + 1, min(len(lines), first + 80)):
        if lines[k].strip() in (fence, "...") and k > first + 1:
            title = ""
            for line in lines[first + 1 : k]:
                found = _FRONT_MATTER_TITLE.match(line)
                if found:
                    title = found.group(1).strip()
                    break
            body = lines[first + 1 : k]
            if all((":" in line or "=" in line or line.startswith((" ", "-", "\t")) or not line.strip()) for line in body):
                return k + 1, title
            return 0, ""
    return 0, ""


def _markdown_inline(text: str) -> str:
    """Links → their text, HTML tags and entities removed, emphasis removed."""
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_AUTOLINK.sub("", text)
    if "<" in text:
        text = _HTML_TAG.sub("", text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    text = re.sub(r"(?<![*\w])\*([^*\n]+)\*(?!\*)", r"\1", text)
    return text.replace("\\", "")


def read_text(text: str, source_name: str = "document.txt", *, markdown: bool | None = None) -> BlockDocument:
    """Split plain text (or Markdown) into blocks."""
    if markdown is None:
        markdown = source_name.lower().endswith((".md", ".markdown"))
    if not text.strip():
        raise PlanParseError("the file is empty", source=source_name, line=1)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    notes: list[tuple[str, str, int | None, str]] = []
    title_hint = ""
    if markdown:
        # comments and scripts go, keeping the line count so that locations stay true
        text = _HTML_COMMENT.sub(_blank_keeping_lines, text)
        text = _HTML_DROP.sub(_blank_keeping_lines, text)
    lines = text.split("\n")
    skip_to = 0
    if markdown or lines[0].strip() in ("---", "+++"):
        skip_to, title_hint = _strip_front_matter(lines)
        if skip_to:
            notes.append(
                ("front_matter_skipped", f"lines 1–{skip_to}: front matter skipped", 1, f"lines 1–{skip_to}")
            )
            markdown = True
    tables_from_tabs = _tabs_mark_tables(lines[skip_to:])
    blocks: list[Block] = []
    table_count = 0
    i = skip_to
    n = len(lines)
    in_fence = False
    while i < n:
        raw = lines[i]
        if markdown and _MD_FENCE.match(raw):
            in_fence = not in_fence
            i += 1
            continue
        if not raw.strip():
            i += 1
            continue
        if markdown and not in_fence:
            if _MD_TOC_MARKER.match(raw) or _MD_REFERENCE.match(raw) or _MD_RULE.match(raw):
                i += 1
                continue
            if _MD_SETEXT.match(raw) and blocks and blocks[-1].kind == PARAGRAPH and blocks[-1].line == i:
                blocks[-1].style_level = 1 if raw.strip().startswith("=") else 2
                i += 1
                continue
        if _MD_TABLE_ROW.match(raw) and (
            markdown or (i + 1 < n and _MD_TABLE_RULE.match(lines[i + 1]) and "|" in lines[i + 1])
        ):
            table_count += 1
            block, i = _read_pipe_table(lines, i, table_count)
            blocks.append(block)
            continue
        if markdown and re.search(r"<table\b", raw, re.IGNORECASE):
            block_list, i = _read_html_table_fragment(lines, i, source_name, table_count)
            table_count += sum(1 for b in block_list if b.kind == TABLE)
            blocks.extend(block_list)
            continue
        if tables_from_tabs and _TAB_CELL.match(raw) and not _STRUCTURAL_HEADING.match(raw):
            table_count += 1
            block, i = _read_tab_table(lines, i, table_count)
            if block.rows:
                blocks.append(block)
            continue
        if _IMAGE_LINE.match(raw):
            src = _MD_IMAGE.search(raw) or _HTML_IMG.search(raw)
            target = (src.group(2) if src and src.re is _MD_IMAGE else src.group(1)) if src else raw.strip()
            blocks.append(Block(IMAGE, text=target, line=i + 1, location=f"line {i + 1}"))
            i += 1
            continue
        if markdown:
            blocks.extend(_markdown_line(raw, i + 1))
        else:
            content = clean_text(raw)
            if content:
                blocks.append(Block(PARAGRAPH, text=content, line=i + 1, location=f"line {i + 1}"))
        i += 1
    return BlockDocument(blocks, source_name, "md" if markdown else "txt", title_hint=title_hint, notes=notes)


def _markdown_line(raw: str, line: int) -> list[Block]:
    """One Markdown source line: a heading, a list item, a paragraph or HTML that breaks into several."""
    result: list[Block] = []
    style_level = None
    content = raw
    heading = _MD_HEADING.match(content)
    if heading:
        style_level = len(heading.group(1))
        content = heading.group(2)
    pieces = [content]
    if "<" in content and _HTML_BREAK.search(content):
        marked = _HTML_HEADING_OPEN.sub(lambda m: f"\n\x01{m.group(1)}", content)
        pieces = _HTML_BREAK.sub("\n", marked).split("\n")
    for piece in pieces:
        level = style_level
        if piece.startswith("\x01"):
            level = int(piece[1])
            piece = piece[2:]
        for image in list(_MD_IMAGE.finditer(piece)) + list(_HTML_IMG.finditer(piece)):
            target = image.group(2) if image.re is _MD_IMAGE else image.group(1)
            result.append(Block(IMAGE, text=target, line=line, location=f"line {line}"))
        piece = _MD_IMAGE.sub("", piece)
        piece = _MD_LIST.sub("", piece)
        piece = re.sub(r"^\s*\d{1,3}[.)]\s+(?=\[)", "", piece)  # "1. [第一章 …](#…)" in a numbered list of links
        piece = clean_text(_markdown_inline(piece))
        if piece:
            result.append(Block(PARAGRAPH, text=piece, line=line, location=f"line {line}", style_level=level))
    return result


def _read_html_table_fragment(
    lines: list[str], start: int, source_name: str, table_count: int
) -> tuple[list[Block], int]:
    """An HTML ``<table>`` inside Markdown: read up to its closing tag with the HTML reader."""
    depth = 0
    i = start
    while i < len(lines):
        depth += len(re.findall(r"<table\b", lines[i], re.IGNORECASE))
        depth -= len(re.findall(r"</table\s*>", lines[i], re.IGNORECASE))
        i += 1
        if depth <= 0:
            break
    fragment = "\n".join(lines[start:i])
    try:
        inner = read_html(f"<html><body>{fragment}</body></html>", source_name)
    except PlanParseError:
        return [], i
    blocks = []
    for block in inner.blocks:
        offset = (block.line or 1) - 1 + start + 1
        block.line = offset
        if block.kind == TABLE:
            table_count += 1
            block.table_index = table_count
            block.location = f"line {offset} (table {table_count})"
            for row in block.rows:
                for cell in row:
                    for paragraph in cell:
                        paragraph.line = offset
                        paragraph.location = f"line {offset} ({paragraph.location})"
        else:
            block.location = f"line {offset}"
        blocks.append(block)
    return blocks, i


def _tabs_mark_tables(lines: list[str]) -> bool:
    """Tabs mark table cells unless (nearly) every paragraph is tab-indented."""
    non_empty = [line for line in lines if line.strip()]
    if not non_empty:
        return False
    tabbed = sum(1 for line in non_empty if _TAB_CELL.match(line))
    return tabbed / len(non_empty) < 0.6


def _read_tab_table(lines: list[str], start: int, table_index: int) -> tuple[Block, int]:
    rows: list[list[list[Paragraph]]] = []
    row: list[list[Paragraph]] = []
    cell: list[Paragraph] | None = None
    i = start
    n = len(lines)
    while i < n:
        raw = lines[i]
        if not raw.strip():
            if row:
                rows.append(row)
                row, cell = [], None
            j = i
            while j < n and not lines[j].strip():
                j += 1
            if j >= n or j - i >= 2 or not _TAB_CELL.match(lines[j]):
                i = j
                break
            i = j
            continue
        if cell is not None and (_TOC_HEADING.match(raw) or _STRUCTURAL_HEADING.match(raw)):
            break
        text = clean_text(raw)
        row_number = len(rows) + 1
        if _TAB_CELL.match(raw) or cell is None:
            cell = []
            row.append(cell)
        location = f"line {i + 1} (table {table_index} row {row_number} cell {len(row)})"
        if text:
            cell.append(Paragraph(text, i + 1, location))
        i += 1
    if row:
        rows.append(row)
    return Block(
        TABLE,
        line=start + 1,
        location=f"line {start + 1} (table {table_index})",
        rows=rows,
        table_index=table_index,
    ), i


def _read_pipe_table(lines: list[str], start: int, table_index: int) -> tuple[Block, int]:
    rows: list[list[list[Paragraph]]] = []
    i = start
    while i < len(lines) and _MD_TABLE_ROW.match(lines[i]):
        raw = lines[i]
        if not _MD_TABLE_RULE.match(raw):
            parts = raw.strip().strip("|").split("|")
            row = []
            for c, part in enumerate(parts, 1):
                location = f"line {i + 1} (table {table_index} row {len(rows) + 1} cell {c})"
                pieces = re.split(r"<br\s*/?>", part, flags=re.IGNORECASE)
                cell = [Paragraph(clean_text(_MD_EMPHASIS.sub(r"\2", p)), i + 1, location) for p in pieces]
                row.append([p for p in cell if p.text])
            rows.append(row)
        i += 1
    return Block(
        TABLE,
        line=start + 1,
        location=f"line {start + 1} (table {table_index})",
        rows=rows,
        table_index=table_index,
    ), i


# ---------------------------------------------------------------------------------------------
# Word .docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(source: str | Path | bytes | io.BytesIO, source_name: str | None = None) -> BlockDocument:
    """Read paragraphs and real Word tables of a .docx in body order."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    if source_name is None:
        source_name = Path(source).name if isinstance(source, str | Path) else "document.docx"
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, io.BytesIO):
        data = source.getvalue()
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise PlanParseError(f"cannot read the file ({exc.strerror})", source=source_name) from exc
    if not data:
        raise PlanParseError("the file is empty", source=source_name, location="byte 0")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise PlanParseError(
            "not a Word .docx file (not a zip archive)", source=source_name, location="byte 0"
        )
    try:
        document = Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise PlanParseError(
            f"not a readable Word .docx file ({exc})", source=source_name, location="word/document.xml"
        ) from exc
    except Exception as exc:  # lxml syntax errors and the like inside the package
        raise PlanParseError(
            f"corrupt Word .docx file ({exc.__class__.__name__}: {exc})",
            source=source_name,
            location="word/document.xml",
        ) from exc

    reader = _DocxReader(source_name, document.part)
    reader.walk(document.element.body)
    title_hint = ""
    try:
        title_hint = (document.core_properties.title or "").strip()
    except Exception:  # pragma: no cover - core properties are optional
        title_hint = ""
    return BlockDocument(reader.blocks, source_name, "docx", title_hint=title_hint)


class _DocxReader:
    def __init__(self, source_name: str, part=None):
        self.source_name = source_name
        self.part = part
        self.blocks: list[Block] = []
        self.paragraph_index = 0
        self.table_index = 0

    def walk(self, parent) -> None:
        for child in parent.iterchildren():
            tag = child.tag
            if tag == f"{_W}p":
                self.paragraph(child)
            elif tag == f"{_W}tbl":
                self.table(child)
            elif tag == f"{_W}sdt":
                content = child.find(f"{_W}sdtContent")
                self.walk(content if content is not None else child)
            elif tag in (f"{_W}sdtContent", f"{_W}customXml", f"{_W}ins", f"{_W}smartTag"):
                self.walk(child)

    def paragraph(self, p) -> None:
        self.paragraph_index += 1
        index = self.paragraph_index
        text = _docx_paragraph_text(p)
        has_picture = _docx_has_picture(p)
        location = f"paragraph {index}"
        pieces = [clean_text(piece) for piece in text.split("\n")]
        pieces = [piece for piece in pieces if piece]
        style_level = _docx_style_level(p)
        for piece in pieces:
            self.blocks.append(
                Block(PARAGRAPH, text=piece, line=index, location=location, style_level=style_level)
            )
        textboxes = _docx_textboxes(p)
        for textbox in textboxes:
            self.textbox(textbox, index)
        if has_picture and not textboxes:
            data, name = _docx_image(p, self.part)
            self.blocks.append(Block(IMAGE, text=name, line=index, location=location, image_data=data))

    def textbox(self, textbox, anchor: int) -> None:
        """A Word text box (often how a 专栏 is drawn) becomes a one-cell table."""
        self.table_index += 1
        t = self.table_index
        location = f"paragraph {anchor} text box (table {t} row 1 cell 1)"
        cell: list[Paragraph] = []
        for p in textbox.iter(f"{_W}p"):
            for piece in _docx_paragraph_text(p).split("\n"):
                piece = clean_text(piece)
                if piece:
                    cell.append(Paragraph(piece, anchor, location))
        if cell:
            self.blocks.append(Block(TABLE, line=anchor, location=location, rows=[[cell]], table_index=t))

    def table(self, tbl) -> None:
        self.table_index += 1
        t = self.table_index
        anchor = self.paragraph_index
        rows: list[list[list[Paragraph]]] = []
        has_picture = False
        for r, tr in enumerate(tbl.iterchildren(f"{_W}tr"), 1):
            row: list[list[Paragraph]] = []
            for c, tc in enumerate(tr.iterchildren(f"{_W}tc"), 1):
                location = f"table {t} row {r} cell {c}"
                cell: list[Paragraph] = []
                for p in tc.iter(f"{_W}p"):
                    if _inside(p, (_MC_FALLBACK,), tc):
                        continue
                    if _docx_has_picture(p):
                        has_picture = True
                    for piece in _docx_paragraph_text(p).split("\n"):
                        piece = clean_text(piece)
                        if piece:
                            cell.append(Paragraph(piece, anchor, location))
                span = _docx_grid_span(tc)
                row.append(cell)
                for _ in range(span - 1):
                    row.append([])
            rows.append(row)
        has_text = any(cell for row in rows for cell in row)
        if not has_text:
            if has_picture:
                data, name = _docx_image(tbl, self.part)
                self.blocks.append(
                    Block(IMAGE, text=name, line=anchor, location=f"table {t}", table_index=t, image_data=data)
                )
            return
        self.blocks.append(
            Block(TABLE, line=anchor, location=f"table {t}", rows=rows, table_index=t, has_image=has_picture)
        )


_TEXTBOX = f"{_W}txbxContent"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _inside(node, tags: tuple[str, ...], stop) -> bool:
    parent = node.getparent()
    while parent is not None and parent is not stop:
        if parent.tag in tags:
            return True
        parent = parent.getparent()
    return False


def _docx_paragraph_text(p) -> str:
    """The paragraph's own text: text boxes anchored in it and VML fallbacks are left out."""
    parts: list[str] = []
    for node in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if _inside(node, (_TEXTBOX, _MC_FALLBACK), p):
            continue
        tag = node.tag
        if tag == f"{_W}t":
            parts.append(node.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif node.get(f"{_W}type") in (None, "textWrapping"):
            parts.append("\n")
    return "".join(parts)


def _docx_textboxes(p) -> list:
    return [box for box in p.iter(_TEXTBOX) if not _inside(box, (_MC_FALLBACK, _TEXTBOX), p)]


def _docx_has_picture(p) -> bool:
    for node in p.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.endswith("}blip") or tag.endswith("}imagedata") or tag.endswith("}object"):
            return True
    return False


_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _docx_image(node, part) -> tuple[bytes | None, str]:
    """The first picture under ``node``: its bytes (from the package) and its name."""
    if part is None:
        return None, ""
    for element in node.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.endswith("}blip"):
            rid = element.get(f"{_RELATIONSHIP}embed")
        elif tag.endswith("}imagedata"):
            rid = element.get(f"{_RELATIONSHIP}id")
        else:
            continue
        try:
            image_part = part.related_parts[rid]
        except (KeyError, AttributeError):
            continue
        blob = getattr(image_part, "blob", None)
        if blob and len(blob) <= MAX_IMAGE_BYTES:
            return blob, str(getattr(image_part, "partname", "")).lstrip("/")
    return None, ""


def _docx_grid_span(tc) -> int:
    tc_pr = tc.find(f"{_W}tcPr")
    if tc_pr is None:
        return 1
    span = tc_pr.find(f"{_W}gridSpan")
    if span is None:
        return 1
    try:
        return max(1, int(span.get(f"{_W}val", "1")))
    except ValueError:
        return 1


def _docx_style_level(p) -> int | None:
    p_pr = p.find(f"{_W}pPr")
    if p_pr is None:
        return None
    outline = p_pr.find(f"{_W}outlineLvl")
    if outline is not None:
        try:
            return int(outline.get(f"{_W}val", "9")) + 1
        except ValueError:
            pass
    style = p_pr.find(f"{_W}pStyle")
    if style is not None:
        name = (style.get(f"{_W}val") or "").lower()
        if name == "title":
            return 0
        match = re.search(r"(?:heading|标题)\s*(\d)", name)
        if match:
            return int(match.group(1))
        if re.fullmatch(r"\d", name):  # Chinese Word templates name heading styles "1", "2" ...
            return int(name)
    return None


# ---------------------------------------------------------------------------------------------
# HTML

_HTML_SKIP = {
    "script",
    "style",
    "noscript",
    "head",
    "nav",
    "footer",
    "iframe",
    "object",
    "select",
    "button",
    "input",
    "textarea",
    "svg",
    "map",
    "template",
}
_HTML_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "body",
    "html",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "center",
    "form",
    "header",
    "aside",
    "figure",
    "figcaption",
    "hr",
    "address",
    "caption",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "td",
    "th",
    "details",
    "summary",
    "menu",
    "dir",
    "fieldset",
    "legend",
    "dialog",
}
#: block elements that, found inside an inline element (an unclosed <font>, <span> or <a> that
#: swallowed the rest of a badly saved page), make it a container to walk rather than a phrase
_BLOCK_INSIDE = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "section",
                 "article", "blockquote", "details", "dl", "pre", "center"}
_WS = re.compile(r"\s+")


def _contains_block(el) -> bool:
    return any(
        isinstance(node.tag, str) and node.tag in _BLOCK_INSIDE for node in el.iterdescendants()
    )
_CHAPTER_LIKE = re.compile(r"^\s*(?:第[一二三四五六七八九十百零〇\d]+[篇章]|[一二三四五六七八九十]+、)")


def read_html(source: str | Path | bytes, source_name: str | None = None) -> BlockDocument:
    """Read a government web page: paragraphs and headings in document order, <table>s as tables."""
    import lxml.html
    from bs4 import UnicodeDammit

    if isinstance(source, str) and source.lstrip().startswith("<"):
        source = source.encode("utf-8")  # markup given as text
    if isinstance(source, bytes):
        data = source
        source_name = source_name or "document.html"
    else:
        path = Path(source)
        source_name = source_name or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PlanParseError(f"cannot read the file ({exc.strerror})", source=source_name) from exc
    if not data.strip():
        raise PlanParseError("the file is empty", source=source_name, line=1)
    dammit = UnicodeDammit(data, ["utf-8", "gb18030"], is_html=True)
    markup = dammit.unicode_markup
    if markup is None:
        decode_bytes(data, source_name)  # raises with the line of the bad bytes
        raise PlanParseError("cannot decode the page", source=source_name, line=1)
    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup)
    try:
        root = lxml.html.document_fromstring(markup)
    except Exception as exc:
        raise PlanParseError(f"cannot parse HTML ({exc})", source=source_name, line=1) from exc
    title_hint = ""
    title_el = root.find(".//title")
    if title_el is not None and title_el.text_content():
        title_hint = clean_text(title_el.text_content())
    body = root.find("body")
    if body is None:
        body = root
    reader = _HtmlReader()
    reader.walk(body)
    if not reader.blocks:
        raise PlanParseError("the page has no text", source=source_name, line=1)
    return BlockDocument(reader.blocks, source_name, "html", title_hint=title_hint)


class _HtmlReader:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.table_index = 0

    # inline text with <br> as newlines
    def _collect(self, el, out: list[str], images: list) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "br":
            out.append("\n")
            return
        if tag == "img":
            images.append(el)
            return
        if tag in _HTML_SKIP or not tag:
            return
        if el.text:
            out.append(_WS.sub(" ", el.text))
        for child in el:
            self._collect(child, out, images)
            if child.tail:
                out.append(_WS.sub(" ", child.tail))

    def _emit_text(self, pieces: list[str], line: int | None, style_level: int | None, images: list) -> None:
        text = "".join(pieces)
        emitted = False
        for piece in text.split("\n"):
            piece = clean_text(piece)
            if piece:
                self.blocks.append(
                    Block(PARAGRAPH, text=piece, line=line, location=f"line {line}", style_level=style_level)
                )
                emitted = True
        if not emitted and images:
            img_line = getattr(images[0], "sourceline", line)
            self.blocks.append(
                Block(IMAGE, text=images[0].get("src", ""), line=img_line, location=f"line {img_line}")
            )

    def walk(self, el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        style_level = int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else None
        pieces: list[str] = []
        images: list = []
        line = el.sourceline
        if el.text:
            pieces.append(_WS.sub(" ", el.text))
        for child in el:
            ctag = child.tag if isinstance(child.tag, str) else ""
            if not ctag or ctag in _HTML_SKIP:
                pass
            elif ctag == "table":
                self._emit_text(pieces, line, style_level, images)
                pieces, images = [], []
                self.table(child)
            elif ctag in _HTML_BLOCK or _contains_block(child):
                self._emit_text(pieces, line, style_level, images)
                pieces, images = [], []
                self.walk(child)
                line = child.sourceline
            else:
                if not pieces:
                    line = child.sourceline or line
                self._collect(child, pieces, images)
            if child.tail:
                pieces.append(_WS.sub(" ", child.tail))
        self._emit_text(pieces, line, style_level, images)

    def _own_rows(self, table):
        rows = []
        for tr in table.iter("tr"):
            ancestor = tr.getparent()
            while ancestor is not None and ancestor.tag != "table":
                ancestor = ancestor.getparent()
            if ancestor is table:
                rows.append(tr)
        return rows

    def _is_layout_table(self, table) -> bool:
        if table.find(".//table") is not None:
            return True
        headings = 0
        for el in table.iter("p", "h1", "h2", "h3", "h4", "div", "td"):
            text = el.text_content() if el.tag != "td" else ""
            if text and _CHAPTER_LIKE.match(text) and len(text) < 60:
                headings += 1
        return headings >= 2

    def table(self, table) -> None:
        if self._is_layout_table(table):
            self.walk(table)
            return
        caption = table.find("caption")
        if caption is not None:
            self.walk(caption)
        self.table_index += 1
        t = self.table_index
        rows: list[list[list[Paragraph]]] = []
        images = table.findall(".//img")
        for r, tr in enumerate(self._own_rows(table), 1):
            row: list[list[Paragraph]] = []
            c = 0
            for cell_el in tr:
                if not isinstance(cell_el.tag, str) or cell_el.tag not in ("td", "th"):
                    continue
                c += 1
                location = f"table {t} row {r} cell {c}"
                inner = _HtmlReader()
                inner.walk(cell_el)
                cell = [Paragraph(b.text, b.line, location) for b in inner.blocks if b.kind == PARAGRAPH]
                row.append(cell)
                try:
                    span = int(cell_el.get("colspan", "1"))
                except ValueError:
                    span = 1
                for _ in range(max(0, min(span, 20) - 1)):
                    row.append([])
            rows.append(row)
        has_text = any(cell for row in rows for cell in row)
        line = table.sourceline
        if not has_text:
            if images:
                self.blocks.append(
                    Block(
                        IMAGE,
                        text=images[0].get("src", ""),
                        line=line,
                        location=f"line {line} (table {t})",
                        table_index=t,
                    )
                )
            return
        self.blocks.append(
            Block(
                TABLE,
                line=line,
                location=f"line {line} (table {t})",
                rows=rows,
                table_index=t,
                has_image=bool(images),
            )
        )
