"""Excel import of enterprise figures: dry run per row, atomic confirm, errors naming row and column."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch
from sciencecity.enterprises.models import FiscalYear

pytestmark = pytest.mark.django_db

HEADERS = ["企业编码", "年度", "主营业务收入", "其他业务收入", "职工总数（月平均）", "科技人员数（月平均）"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def workbook(rows) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("figures.xlsx", data.getvalue())


def _upload(client, rows):
    client.cookies["django_language"] = "en"
    response = client.post("/enterprises/import/", {"file": workbook(rows)})
    assert response.status_code == 302
    return ImportBatch.objects.latest("id")


def test_dry_run_then_confirm_writes_every_row_audited(client, login, member, enterprise):
    login(member)
    batch = _upload(client, [["ENT-1", 2024, 4000, 0, 80, 10], ["ENT-1", 2025, 4900, 100, 100, 15]])
    assert batch.status == "dry_run" and batch.created_count == 2
    assert not FiscalYear.objects.exists()  # a dry run writes nothing
    page = client.get(f"/enterprises/import/{batch.pk}/")
    assert page.context["can_confirm"]
    assert client.post(f"/enterprises/import/{batch.pk}/").status_code == 302
    years = {fy.year: fy for fy in FiscalYear.objects.all()}
    assert years[2025].main_revenue == 4900 and years[2025].st_staff_average == 15
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, object_id=str(batch.pk)).count() == 1
    assert AuditEvent.objects.filter(object_type="enterprises.fiscalyear", action=AuditAction.CREATE).count() == 2


@pytest.mark.parametrize(("row", "column", "words"), [
    (["ENT-1", 2025, "四千九百", 100, 100, 15], "Main business revenue", "not a number"),
    (["ENT-1", 2025, 4900, 100, -5, 1], "Staff (monthly average)", "must not be negative"),
    (["ENT-1", 2025, 4900, 100, 10, 15], "S&T staff (monthly average)", "more S&T staff than staff"),
    (["ENT-OTHER", 2025, 4900, 100, 10, 1], "Enterprise code", ""),
])
def test_bad_row_is_refused_naming_row_and_column_and_nothing_is_written(client, login, member, enterprise, stranger,
                                                                      row, column, words):
    login(member)
    batch = _upload(client, [["ENT-1", 2024, 4000, 0, 80, 10], row])
    assert batch.status == "rejected" and batch.error_count == 1
    [error] = [r for r in batch.report["results"] if r["status"] == "error"]
    assert error["row"] == 3 and error["field"] == column
    assert error["message"].startswith(f"Row 3, {column}:")
    assert words.lower() in error["message"].lower()
    assert not FiscalYear.objects.exists()
    assert client.get(f"/enterprises/import/{batch.pk}/").context["can_confirm"] is False


def test_template_downloads(client, login, member):
    login(member)
    response = client.get("/enterprises/import/template.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert any("主营业务收入" in str(c.value) for sheet in book.worksheets for row in sheet.iter_rows(max_row=3)
               for c in row)
