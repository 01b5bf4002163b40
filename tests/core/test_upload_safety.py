"""Uploaded Office files cannot exhaust a worker: zip bombs, shared-string bombs, row floods, odd CSV.

The bombs are real files built here with zipfile (a deflated sheet of millions of empty rows, one
string repeated millions of times). Each must be refused with a clear error, fast, with a small
peak of Python memory (tracemalloc) and without writing anything.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from sciencecity.core.importing import dry_run
from sciencecity.core.models import ImportBatch, ImportStatus
from sciencecity.registry.importers import OrganisationImporter
from tests.registry.import_helpers import ORG_HEADERS, csv_bytes, org_rows, snapshot_counts, xlsx_bytes

SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\x90\x8d\xe7\xa7\xb0</t></is></c>'
              b'<c r="B1" t="inlineStr"><is><t>\xe7\xb1\xbb\xe5\x9e\x8b</t></is></c></row>')
SHEET_TAIL = b"</sheetData></worksheet>"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def replace_member(workbook: bytes, name: str, chunks: Callable[[], Iterator[bytes]]) -> bytes:
    """``workbook`` with the part ``name`` replaced by the streamed ``chunks`` (deflated)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == name:
                continue
            target.writestr(info, source.read(info.filename))
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w", force_zip64=True) as member:
            for chunk in chunks():
                member.write(chunk)
    return target_buffer.getvalue()


def empty_rows(count: int, numbered: bool = False) -> Callable[[], Iterator[bytes]]:
    """A sheet of a header and ``count`` empty rows, numbered as Excel writes them or not (then they
    compress a thousand times)."""
    def chunks() -> Iterator[bytes]:
        yield SHEET_HEAD
        for first in range(2, 2 + count, 10_000):
            numbers = range(first, min(first + 10_000, 2 + count))
            yield b"".join(b'<row r="%d"/>' % n for n in numbers) if numbered else b"<row/>" * len(numbers)
        yield SHEET_TAIL
    return chunks


def zip_bomb(rows: int = 3_000_000, numbered: bool = False) -> bytes:
    """A workbook whose data sheet holds ``rows`` empty-but-present rows (tens of MB unpacked)."""
    return replace_member(xlsx_bytes(org_rows()), SHEET, empty_rows(rows, numbered))


def measured(function: Callable[[], object]) -> tuple[object, float, int]:
    """``function()``, its duration in seconds and its peak of Python memory in bytes."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = function()
    finally:
        elapsed = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, elapsed, peak


def file_errors(report):
    return [(r.code, r.message) for r in report.results if r.row is None and r.is_error]


def test_zip_bomb_workbook_is_refused_before_parsing(bureau):
    content = zip_bomb()
    assert len(content) < 1_000_000  # a few hundred kB on the wire ...
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(content)).infolist()) > 15_000_000  # ... tens of MB
    before = snapshot_counts()
    report, elapsed, peak = measured(lambda: dry_run(OrganisationImporter(), content=content, file_name="bomb.xlsx",
                                                     actor=bureau))
    [(code, message)] = file_errors(report)
    assert code == "archive_ratio"
    assert "xl/worksheets/sheet1.xml" in message and "at most 100 times" in message
    assert elapsed < 2.0
    assert peak < 10 * 1024 * 1024
    assert snapshot_counts() == before


def test_shared_strings_bomb_is_refused_before_parsing(bureau):
    def chunks() -> Iterator[bytes]:
        yield (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main" count="4000000" uniqueCount="4000000">')
        for _ in range(400):
            yield b"<si><t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</t></si>" * 10_000
        yield b"</sst>"

    workbook = xlsx_bytes([*org_rows(), ["X-1", "共享字符串", "", "enterprise"]])
    content = replace_member(workbook, "xl/sharedStrings.xml", chunks)
    assert len(content) < 1_000_000
    report, elapsed, peak = measured(lambda: dry_run(OrganisationImporter(), content=content, file_name="sst.xlsx",
                                                     actor=bureau))
    [(code, message)] = file_errors(report)
    assert code == "archive_ratio" and "xl/sharedStrings.xml" in message
    assert elapsed < 2.0 and peak < 10 * 1024 * 1024


def test_shared_strings_over_their_own_cap_are_refused(bureau, settings):
    settings.UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES = 1024
    workbook = replace_member(xlsx_bytes(org_rows()), "xl/sharedStrings.xml",
                              lambda: iter([b"<sst>" + b"<si><t>%d</t></si>" % 10**40 * 100 + b"</sst>"]))
    report = dry_run(OrganisationImporter(), content=workbook, file_name="s.xlsx", actor=bureau)
    [(code, message)] = file_errors(report)
    assert code == "archive_shared_strings" and "at most 0.000977 MB" in message


def test_unpacked_total_and_member_count_are_capped(bureau, settings):
    content = xlsx_bytes(org_rows())
    settings.UPLOAD_ZIP_MAX_UNPACKED_BYTES = 10_000
    [(code, _message)] = file_errors(dry_run(OrganisationImporter(), content=content, file_name="a.xlsx",
                                             actor=bureau))
    assert code == "archive_too_large_unpacked"
    settings.UPLOAD_ZIP_MAX_UNPACKED_BYTES = 256 * 1024 * 1024
    settings.UPLOAD_ZIP_MAX_MEMBERS = 3
    [(code, message)] = file_errors(dry_run(OrganisationImporter(), content=content, file_name="a.xlsx",
                                            actor=bureau))
    assert code == "archive_too_many_members" and "at most 3 are accepted" in message


def test_numbered_empty_rows_under_the_ratio_are_counted_before_parsing(bureau):
    """3 M rows numbered as Excel writes them compress only ~6 times: the row count stops them, before
    openpyxl (which scans a sheet without <dimension> in full before its first row)."""
    content = zip_bomb(numbered=True)
    assert max(i.file_size / i.compress_size for i in zipfile.ZipFile(io.BytesIO(content)).infolist()) < 100
    report, elapsed, peak = measured(lambda: dry_run(OrganisationImporter(), content=content, file_name="bomb.xlsx",
                                                     actor=bureau))
    [(code, message)] = file_errors(report)
    assert code == "too_many_rows" and "more than 200000 rows" in message
    assert elapsed < 5.0
    assert peak < 10 * 1024 * 1024


def test_cells_are_capped_too(bureau, settings):
    settings.IMPORT_MAX_CELLS = 20
    content = xlsx_bytes([ORG_HEADERS] + [[f"C-{i}", f"机构{i}", "", "enterprise"] for i in range(10)])
    [(code, message)] = file_errors(dry_run(OrganisationImporter(), content=content, file_name="c.xlsx",
                                            actor=bureau))
    assert code == "sheet_too_many_cells" and "more than 20 cells" in message


def test_empty_rows_that_pass_the_ratio_check_stop_at_the_row_cap(bureau, settings):
    """The streaming reader is the last line: with the ratio check off, 3 M empty rows stop at the cap."""
    settings.UPLOAD_ZIP_MAX_RATIO = 10_000_000
    settings.IMPORT_MAX_ROWS = 50_000
    content = zip_bomb()
    report, elapsed, peak = measured(lambda: dry_run(OrganisationImporter(), content=content, file_name="bomb.xlsx",
                                                     actor=bureau))
    [(code, message)] = file_errors(report)
    assert code == "too_many_rows"
    assert "more than 50000 rows" in message
    assert elapsed < 5.0
    assert peak < 10 * 1024 * 1024


def test_a_row_number_far_below_does_not_make_the_reader_walk_to_it(bureau):
    def chunks() -> Iterator[bytes]:
        yield SHEET_HEAD + b'<row r="2"/><row r="999999999"/>' + SHEET_TAIL

    content = replace_member(xlsx_bytes(org_rows()), SHEET, chunks)
    report, elapsed, _peak = measured(lambda: dry_run(OrganisationImporter(), content=content, file_name="g.xlsx",
                                                      actor=bureau))
    assert [code for code, _m in file_errors(report)] == ["too_many_rows"]
    assert elapsed < 10.0


def test_real_rows_over_the_cap_are_refused_with_the_limit_named(bureau, settings):
    settings.IMPORT_MAX_ROWS = 100
    rows = [ORG_HEADERS] + [[f"R-{i}", f"机构{i}", "", "enterprise"] for i in range(101)]
    for content, name in ((xlsx_bytes(rows), "r.xlsx"), (csv_bytes(rows), "r.csv")):
        [(code, message)] = file_errors(dry_run(OrganisationImporter(), content=content, file_name=name,
                                                actor=bureau))
        assert code == "too_many_rows" and "more than 100 rows" in message
    exactly = rows[:101]  # the header and 100 data rows are accepted
    assert not dry_run(OrganisationImporter(), content=xlsx_bytes(exactly), file_name="ok.xlsx",
                       actor=bureau).has_errors


def test_csv_with_a_huge_field_is_a_clear_error_not_a_crash(bureau):
    content = ("编码,名称,类型\nA-1," + "长" * 200_000 + ",enterprise\n").encode("utf-8")
    [(code, message)] = file_errors(dry_run(OrganisationImporter(), content=content, file_name="big.csv",
                                            actor=bureau))
    assert code == "csv_malformed" and "big.csv" in message


def test_bomb_upload_through_the_page_is_rejected_not_a_server_error(client, bureau):
    client.force_login(bureau)
    upload = io.BytesIO(zip_bomb(1_000_000))
    upload.name = "bomb.xlsx"
    response = client.post("/registry/organisations/import/", {"file": upload})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.REJECTED
    assert [r["code"] for r in batch.report["results"]] == ["archive_ratio"]


def test_docx_bomb_plan_document_is_refused(bureau):
    from sciencecity.plans.services import plan_import

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            member.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                         b"<w:body>")
            for _ in range(300):
                member.write(b"<w:p/>" * 20_000)
            member.write(b"</w:body></w:document>")
    start = time.perf_counter()
    with pytest.raises(ValidationError) as raised:
        plan_import(actor=bureau, content=docx.getvalue(), filename="plan.docx", dry_run=True)
    assert time.perf_counter() - start < 2.0
    assert "word/document.xml" in str(raised.value.message_dict["file"])


def test_an_oversized_request_body_is_refused_before_it_is_read(client, settings, db):
    settings.REQUEST_MAX_BYTES = 1024
    body = b"x" * 2048
    api = client.generic("POST", "/api/registry/imports/organisations", body,
                         content_type="application/octet-stream")
    assert api.status_code == 413 and api.json()["error"]["code"] == "request_too_large"
    page = client.generic("POST", "/registry/organisations/import/", body, content_type="application/octet-stream")
    assert page.status_code == 413 and "at most 0.000977 MB" in page.content.decode()
    assert client.get("/healthz").status_code == 200
