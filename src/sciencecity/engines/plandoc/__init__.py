"""Parser for Chinese government five-year plans (规划文本解析).

Reads .txt/.md, .docx, .html and .pdf; every format is first turned into blocks (paragraphs with
their source location, tables as rows of cells) and one tree builder turns blocks into a
:class:`PlanDocument`: chapters → sections → tasks, goals, strategies, safeguard measures, the
indicator table(s), 专栏 boxes, baselines and commitments read from the text, and warnings.

    >>> from sciencecity.engines.plandoc import parse_file
    >>> doc = parse_file("plan.docx")
    >>> doc.counts()["chapters"]

Pure Python, no Django.
"""

from __future__ import annotations

import io
from pathlib import Path

from .blocks import BlockDocument, attach_images, decode_bytes, read_docx, read_html, read_text
from .model import (
    Baseline,
    Box,
    BoxGroup,
    BoxItem,
    Chapter,
    Commitment,
    Indicator,
    Note,
    OcrTable,
    Paragraph,
    Part,
    PlanDocument,
    PlanParseError,
    Section,
    Statement,
    Task,
    Warning,
)
from .tree import build_tree

TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")
DOCX_SUFFIXES = (".docx",)
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
PDF_SUFFIXES = (".pdf",)
SUPPORTED = ".txt, .md, .docx, .html, .htm or .pdf, or a .zip of a page with its pictures"


def parse_text(text: str, source_name: str = "document.txt") -> PlanDocument:
    """Parse plain text (or Markdown when ``source_name`` ends in .md)."""
    return build_tree(read_text(text, source_name))


def parse_docx(source: str | Path | bytes | io.BytesIO, source_name: str | None = None) -> PlanDocument:
    """Parse a Word .docx (path, bytes or BytesIO)."""
    return build_tree(read_docx(source, source_name))


def parse_html(source: str | Path | bytes, source_name: str | None = None) -> PlanDocument:
    """Parse an HTML page: a path, the page's bytes, or markup text (a string starting with ``<``)."""
    return build_tree(read_html(source, source_name))


def parse_pdf(source: str | Path | bytes, source_name: str | None = None) -> PlanDocument:
    """Parse a PDF with a text layer (path or bytes)."""
    from .pdf import read_pdf

    if isinstance(source, bytes):
        return build_tree(read_pdf(source, source_name or "document.pdf"))
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanParseError(f"cannot read the file ({exc.strerror})", source=str(path)) from exc
    return build_tree(read_pdf(data, source_name or path.name))


def read_blocks(data: bytes, source_name: str) -> BlockDocument:
    """The blocks of uploaded content, dispatching on the suffix of ``source_name``."""
    suffix = Path(source_name).suffix.lower()
    if not data or not data.strip():
        raise PlanParseError("the file is empty", source=source_name, line=1)
    if suffix in PDF_SUFFIXES:
        from .pdf import read_pdf

        return read_pdf(data, source_name)
    if suffix == ".doc":
        raise PlanParseError(
            "an old Word .doc file: save it as .docx (Word: File → Save As → Word Document) and upload that",
            source=source_name,
        )
    if suffix in DOCX_SUFFIXES:
        return read_docx(data, source_name)
    if suffix in HTML_SUFFIXES:
        return read_html(data, source_name)
    if suffix in TEXT_SUFFIXES or not suffix:
        return read_text(decode_bytes(data, source_name), source_name)
    raise PlanParseError(f"unsupported file type “{suffix}” (use {SUPPORTED})", source=source_name)


ARCHIVE_MAX_MEMBERS = 5000
ARCHIVE_MAX_BYTES = 200 * 1024 * 1024
_DOCUMENT_PRIORITY = {".html": 0, ".htm": 0, ".xhtml": 0, ".shtml": 0, ".md": 0, ".markdown": 0,
                      ".docx": 1, ".pdf": 1, ".txt": 2, ".text": 2}


def _read_archive(data: bytes, source_name: str) -> BlockDocument:
    """A .zip holding a saved page or a Markdown copy with its pictures: the document, images attached."""
    import posixpath
    import zipfile

    if not data:
        raise PlanParseError("the file is empty", source=source_name, line=1)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PlanParseError("not a readable .zip archive", source=source_name, location="byte 0") from exc
    if len(members) > ARCHIVE_MAX_MEMBERS or sum(i.file_size for i in members) > ARCHIVE_MAX_BYTES:
        raise PlanParseError(
            f"the .zip archive is too large (at most {ARCHIVE_MAX_MEMBERS} files and "
            f"{ARCHIVE_MAX_BYTES // 1048576} MB unpacked)",
            source=source_name,
        )
    documents = [
        info
        for info in members
        if Path(info.filename).suffix.lower() in _DOCUMENT_PRIORITY and not Path(info.filename).name.startswith(".")
        and "__MACOSX" not in info.filename
    ]
    if not documents:
        raise PlanParseError(f"the .zip archive holds no plan document ({SUPPORTED})", source=source_name)
    main = min(documents, key=lambda i: (_DOCUMENT_PRIORITY[Path(i.filename).suffix.lower()], -i.file_size))
    try:
        files = {info.filename: archive.read(info) for info in members}
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:  # damaged or encrypted members
        raise PlanParseError(f"cannot unpack the .zip archive ({exc})", source=source_name) from exc
    inner_name = main.filename
    block_doc = read_blocks(files[inner_name], inner_name)
    attach_images(block_doc, None, archive=files, archive_dir=posixpath.dirname(inner_name))
    pictures = sum(1 for b in block_doc.blocks if b.kind == "image" and b.image_data is not None)
    block_doc.notes.insert(
        0,
        (
            "archive_read",
            f"{source_name}: read {inner_name} ({len(members)} files in the archive, {pictures} picture(s) found)",
            None,
            "",
        ),
    )
    block_doc.source_name = source_name
    return block_doc


def parse_bytes(
    data: bytes,
    source_name: str,
    *,
    base_dir: str | Path | None = None,
    ocr_overrides: dict[int, list[list[str]]] | None = None,
) -> PlanDocument:
    """Parse uploaded content, dispatching on the suffix of ``source_name``.

    ``base_dir`` is the folder the document was saved in: pictures it links to (a Markdown or HTML
    copy with its images) are read from there, never from outside it. ``ocr_overrides`` replaces
    the cells of the N-th table read from an image by an officer's corrections.
    """
    if Path(source_name).suffix.lower() == ".zip":
        block_doc = _read_archive(data, source_name)
    else:
        block_doc = read_blocks(data, source_name)
        attach_images(block_doc, base_dir)
    if ocr_overrides:
        block_doc.ocr_overrides = dict(ocr_overrides)
    return build_tree(block_doc)


def parse_file(path: str | Path, *, ocr_overrides: dict[int, list[list[str]]] | None = None) -> PlanDocument:
    """Parse a file, dispatching on its suffix: .txt .md .docx .html .htm .pdf; linked images are read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanParseError(f"cannot read the file ({exc.strerror})", source=str(path)) from exc
    return parse_bytes(data, path.name, base_dir=path.parent, ocr_overrides=ocr_overrides)


__all__ = [
    "Baseline",
    "BlockDocument",
    "Box",
    "BoxGroup",
    "BoxItem",
    "Chapter",
    "Commitment",
    "Indicator",
    "Note",
    "OcrTable",
    "Paragraph",
    "Part",
    "PlanDocument",
    "PlanParseError",
    "Section",
    "Statement",
    "Task",
    "Warning",
    "parse_bytes",
    "parse_docx",
    "parse_file",
    "parse_html",
    "parse_pdf",
    "read_blocks",
    "parse_text",
]
