"""Safe reading of uploaded Office files (.xlsx, .docx): look inside the zip before parsing it.

An .xlsx or .docx is a zip archive of XML parts. A few hundred kilobytes can unpack to gigabytes
(a "zip bomb": millions of empty rows, or one string repeated in the shared-strings part), and the
parsers would then hold a worker for minutes and use gigabytes of memory. :func:`zip_problem`
reads only the archive's central directory (no decompression) and refuses the file when

* it has more than ``UPLOAD_ZIP_MAX_MEMBERS`` parts,
* its parts unpack to more than ``UPLOAD_ZIP_MAX_UNPACKED_BYTES`` in total,
* one part larger than ``UPLOAD_ZIP_RATIO_MIN_BYTES`` unpacked is compressed more than
  ``UPLOAD_ZIP_MAX_RATIO`` times (ordinary workbooks compress 5–20 times; bombs 1,000 times), or
* the shared-strings part of a workbook unpacks to more than ``UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES``
  (openpyxl loads it whole, even in read-only mode).

The sizes the central directory declares cannot be used to slip past these checks: Python's
``zipfile`` stops each part at its declared size and fails on the checksum when the data is longer.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy

MB = 1024 * 1024

#: Defaults of the settings above (config/base.py reads them from the environment).
DEFAULT_MAX_MEMBERS = 1000
DEFAULT_MAX_UNPACKED_BYTES = 256 * MB
DEFAULT_MAX_RATIO = 100
DEFAULT_RATIO_MIN_BYTES = 1 * MB
DEFAULT_MAX_SHARED_STRINGS_BYTES = 64 * MB

SHARED_STRINGS_PART = "xl/sharedStrings.xml"

MESSAGES: dict[str, Any] = {
    "archive_too_many_members": gettext_lazy(
        "The file “%(file)s” has %(members)s parts inside; at most %(limit)s are accepted. Save it again from "
        "Excel, WPS or Word and upload the new file."
    ),
    "archive_too_large_unpacked": gettext_lazy(
        "The file “%(file)s” unpacks to %(size)s MB; at most %(limit)s MB are accepted. Split the data into "
        "several files."
    ),
    "archive_ratio": gettext_lazy(
        "The part “%(member)s” of the file “%(file)s” is compressed %(ratio)s times (at most %(limit)s times "
        "is accepted): it is mostly empty or repeated content. Delete the empty rows and columns, save the file "
        "again and upload it."
    ),
    "sheet_too_many_rows": gettext_lazy(
        "The sheet “%(member)s” of the file “%(file)s” has more than %(limit)s rows; at most %(limit)s data rows "
        "can be imported from one file. Split the data into several files (and delete empty rows at the end of "
        "the sheet)."
    ),
    "sheet_too_many_cells": gettext_lazy(
        "The sheet “%(member)s” of the file “%(file)s” has more than %(limit)s cells; at most %(limit)s can be "
        "imported from one file. Delete unused columns or split the data into several files."
    ),
    "archive_shared_strings": gettext_lazy(
        "The text table of the workbook “%(file)s” unpacks to %(size)s MB; at most %(limit)s MB are accepted. "
        "Split the data into several files."
    ),
}


@dataclass(frozen=True)
class ZipProblem:
    """Why an archive is refused: a stable ``code`` and the parameters of its message."""

    code: str
    params: dict[str, Any]

    def message(self) -> str:
        return str(MESSAGES[self.code]) % self.params


def _mb(size: int) -> str:
    """A size in MB with three significant digits (256, 1.5, 0.00098)."""
    return f"{size / MB:.3g}"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


ROW_TAGS = (b"<row", b":row ", b":row>", b":row/")
CELL_TAGS = (b"<c ", b"<c>", b"<c/", b":c ", b":c>", b":c/")
SCAN_CHUNK = 1024 * 1024


def count_rows(content: bytes) -> int:
    """The number of row tags of the largest worksheet of a workbook (0 when unreadable)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            counts = [_count_tags(archive, member, 2**62, 2**62, counts_only=True)
                      for member in archive.infolist()
                      if member.filename.lower().startswith("xl/worksheets/") and member.filename.endswith(".xml")]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
        return 0
    return max((rows for rows, _cells in counts), default=0)


def _count_tags(archive: zipfile.ZipFile, member: zipfile.ZipInfo, max_rows: int,
                max_cells: int, counts_only: bool = False) -> Any:
    """Count row and cell tags of a worksheet part while inflating it in chunks (C speed, no XML parse).

    openpyxl scans a whole sheet that lacks a ``<dimension>`` element before yielding its first row,
    so a flood of rows has to be caught before openpyxl opens the file. Returns the first limit
    exceeded as ``(code, limit)`` or None; with ``counts_only`` the counts ``(rows, cells)``.
    """
    rows = cells = 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(SCAN_CHUNK):
            window = tail + chunk
            rows += sum(window.count(tag) for tag in ROW_TAGS) - sum(tail.count(tag) for tag in ROW_TAGS)
            cells += sum(window.count(tag) for tag in CELL_TAGS) - sum(tail.count(tag) for tag in CELL_TAGS)
            if rows > max_rows:
                return "sheet_too_many_rows", max_rows
            if cells > max_cells:
                return "sheet_too_many_cells", max_cells
            tail = chunk[-8:]
    return (rows, cells) if counts_only else None


def zip_problem(content: bytes, file_name: str, *, max_rows: int | None = None,
                max_cells: int | None = None) -> ZipProblem | None:
    """The first reason to refuse the zip archive ``content``, or None.

    Reads the directory only, except with ``max_rows``/``max_cells`` (workbooks): then the worksheet
    parts are inflated once, chunk by chunk, to count their rows and cells.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None  # not a readable zip: the parser reports that in its own words
    max_members = _setting("UPLOAD_ZIP_MAX_MEMBERS", DEFAULT_MAX_MEMBERS)
    if len(members) > max_members:
        return ZipProblem("archive_too_many_members", {"file": file_name, "members": len(members),
                                                       "limit": max_members})
    max_unpacked = _setting("UPLOAD_ZIP_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES)
    total = sum(member.file_size for member in members)
    if total > max_unpacked:
        return ZipProblem("archive_too_large_unpacked", {"file": file_name, "size": _mb(total),
                                                         "limit": _mb(max_unpacked)})
    max_ratio = _setting("UPLOAD_ZIP_MAX_RATIO", DEFAULT_MAX_RATIO)
    ratio_min = _setting("UPLOAD_ZIP_RATIO_MIN_BYTES", DEFAULT_RATIO_MIN_BYTES)
    for member in members:
        if member.file_size > ratio_min and member.file_size > max_ratio * max(member.compress_size, 1):
            ratio = member.file_size // max(member.compress_size, 1)
            return ZipProblem("archive_ratio", {"file": file_name, "member": member.filename[:100],
                                                "ratio": ratio, "limit": max_ratio})
    max_shared = _setting("UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES", DEFAULT_MAX_SHARED_STRINGS_BYTES)
    for member in members:
        if member.filename.lower().endswith("sharedstrings.xml") and member.file_size > max_shared:
            return ZipProblem("archive_shared_strings", {"file": file_name, "size": _mb(member.file_size),
                                                         "limit": _mb(max_shared)})
    if max_rows is None and max_cells is None:
        return None
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for member in members:
            name = member.filename.lower()
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            try:
                found = _count_tags(archive, member, max_rows or 2**62, max_cells or 2**62)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
                return None  # unreadable: the parser reports it
            if found is not None:
                code, limit = found
                return ZipProblem(code, {"file": file_name, "member": member.filename[:100], "limit": limit})
    return None


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than ``REQUEST_MAX_BYTES`` (default 32 MB) before Django reads it.

    Django caps form fields (``DATA_UPLOAD_MAX_MEMORY_SIZE``) but streams uploaded files of any size
    to a temporary file; this stops an oversized upload at its ``Content-Length`` with 413 (the API's
    JSON error under ``/api/``). Each import and attachment also has its own, smaller limit
    (``IMPORT_MAX_BYTES``). A reverse proxy should cap the body too (``client_max_body_size``).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.http import HttpResponse, JsonResponse
        from django.utils.translation import gettext as _

        limit = int(getattr(settings, "REQUEST_MAX_BYTES", 32 * MB))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            message = _("The request is %(size)s MB; at most %(limit)s MB are accepted.") % {
                "size": _mb(length), "limit": _mb(limit)}
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "request_too_large", "message": message, "details": None}},
                                    status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
