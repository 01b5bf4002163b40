"""Excel round trip of indicator values: department template → fill → upload → dry run → confirm."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch, ImportStatus
from sciencecity.plans import services
from sciencecity.plans.choices import ValueSource, ValueStatus
from sciencecity.plans.importers import value_importer, value_template
from sciencecity.plans.models import ObservedValue, RoundSubmission

YEAR = 2025
KCJ_CODES = ["2", "4", "5", "6", "10"]  # the indicators 光明区科技创新局 owns in the bundled setup


def read_sheet(content: bytes, sheet: str = "数据") -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook[sheet].iter_rows(values_only=True) if any(c is not None for c in row)]


def fill_template(content: bytes, values: dict[str, object], notes: dict[str, str] | None = None,
                  extra_rows: list[list] | None = None) -> bytes:
    """Fill the Value (and Note) column of a downloaded template, as a department would in Excel."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["数据"]
    headers = [c.value for c in sheet[1]]
    code_col = next(i for i, h in enumerate(headers, start=1) if h and h.startswith("指标编码"))
    value_col = next(i for i, h in enumerate(headers, start=1) if h and h.startswith("数值"))
    note_col = next(i for i, h in enumerate(headers, start=1) if h and h.startswith("备注"))
    for row in range(2, sheet.max_row + 1):
        code = sheet.cell(row=row, column=code_col).value
        if code in values:
            sheet.cell(row=row, column=value_col, value=values[code])
        if notes and code in notes:
            sheet.cell(row=row, column=note_col, value=notes[code])
    last = max(r for r in range(1, sheet.max_row + 1) if sheet.cell(row=r, column=code_col).value is not None)
    for offset, extra in enumerate(extra_rows or [], start=1):
        for column, value in enumerate(extra, start=1):
            sheet.cell(row=last + offset, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def rnd(plan, plan_bureau):
    return services.round_open(actor=plan_bureau, plan=plan, year=YEAR, deadline=dt.date(2026, 3, 31))


def upload(client, rnd, department, content: bytes, name: str = "values.xlsx"):
    """Upload in English, so that the stored report's messages can be compared exactly."""
    return client.post(reverse("plans:round_upload", args=[rnd.pk, department.pk]),
                       {"file": SimpleUploadedFile(name, content)}, HTTP_ACCEPT_LANGUAGE="en")


def latest_batch() -> ImportBatch:
    return ImportBatch.objects.order_by("-id").first()


def report_lines(batch: ImportBatch) -> list[tuple]:
    return [(r["row"], r["status"], r["key"], r["code"]) for r in batch.report["results"]]


def values_of(plan, year: int = YEAR) -> dict[str, tuple]:
    return {v.indicator.code: (v.value, v.source, v.status, v.note)
            for v in ObservedValue.objects.filter(indicator__plan=plan, year=year).select_related("indicator")}


def test_template_has_instructions_protected_prefilled_rows_and_number_validation(rnd, kcj):
    content = value_template(value_importer(rnd, kcj))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames[:2] == ["说明", "数据"]
    guide_text = "\n".join(str(c.value) for row in workbook["说明"].iter_rows() for c in row if c.value)
    assert "光明区科技创新局" in guide_text and str(YEAR) in guide_text
    for phrase in ("已审核的数值被锁定", "Approved values are locked", "单位", "in the unit of its row",
                   "截止日期：2026-03-31", "Deadline: 2026-03-31"):
        assert phrase in guide_text
    assert "clears that value" not in guide_text  # the generic note does not hold here: blank keeps the value
    data = workbook["数据"]
    assert [c.value for c in data[1]] == ["指标编码* / Indicator code", "指标名称 / Indicator name", "单位 / Unit",
                                          "年份* / Year", "状态 / Status", "数值 / Value", "备注 / Note"]
    rows = read_sheet(content)[1:]
    assert [r[0] for r in rows] == KCJ_CODES
    assert all(r[3] == YEAR for r in rows)
    assert rows[0][1] == "基础研发经费占R&D比重" and rows[0][2] == "%"
    assert data.protection.sheet is True
    assert data["A1"].protection.locked and data["A2"].protection.locked and data["D2"].protection.locked
    assert not data["F2"].protection.locked and not data["G2"].protection.locked
    assert data["F7"].protection.locked  # no row beyond the department's indicators
    validations = data.data_validations.dataValidation
    assert [(v.type, str(v.sqref)) for v in validations] == [("decimal", "F2:F6")]


def test_round_trip_dry_run_confirm_and_reupload(client, login, rnd, kcj, kcj_officer, plan):
    login(kcj_officer)
    response = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=kcj_officer).count() == 1
    filled = fill_template(response.content, {"2": 8.5, "4": 120, "5": "2,150"}, notes={"4": "统计年报"})

    response = upload(client, rnd, kcj, filled)
    batch = latest_batch()
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:round_upload_detail", args=[batch.pk])
    assert batch.status == ImportStatus.DRY_RUN and batch.kind == f"plan_values:{rnd.pk}:{kcj.pk}"
    assert report_lines(batch) == [(2, "created", "2", ""), (3, "created", "4", ""), (4, "created", "5", ""),
                                   (5, "unchanged", "6", ""), (6, "unchanged", "10", "")]
    assert values_of(plan) == {}  # the dry run wrote nothing
    page = client.get(response["Location"])
    assert page.status_code == 200 and b'data-testid="import-confirm"' in page.content

    response = client.post(reverse("plans:round_upload_detail", args=[batch.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:round_detail", args=[rnd.pk]) + f"#department-{kcj.pk}"
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CONFIRMED
    assert values_of(plan) == {"2": (8.5, ValueSource.EXCEL, ValueStatus.DRAFT, ""),
                               "4": (120.0, ValueSource.EXCEL, ValueStatus.DRAFT, "统计年报"),
                               "5": (2150.0, ValueSource.EXCEL, ValueStatus.DRAFT, "")}
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, object_type__contains="importbatch").count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type__contains="observedvalue",
                                     actor=kcj_officer).count() == 3

    upload(client, rnd, kcj, filled)
    again = latest_batch()
    assert again.pk != batch.pk
    assert [line[1] for line in report_lines(again)] == ["unchanged"] * 5
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 5)

    # the downloaded template now carries the stored values; changing one reports it as updated
    current = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).content
    assert [r[5] for r in read_sheet(current)[1:]] == [8.5, 120, 2150, None, None]
    upload(client, rnd, kcj, fill_template(current, {"2": 8.7}))
    changed = latest_batch()
    assert report_lines(changed)[0] == (2, "updated", "2", "")
    assert changed.report["results"][0]["changes"] == {"value": [8.5, 8.7]}


def test_bad_rows_are_reported_per_row_and_nothing_is_written(client, login, rnd, kcj, kcj_officer, plan,
                                                               plan_bureau):
    # indicator 6 already approved (locked) at 40; the file tries to change it
    services.indicator_value_set(actor=plan_bureau, indicator=plan.indicators.get(code="6"), year=YEAR, value=40)
    ObservedValue.objects.filter(indicator__code="6").update(status=ValueStatus.APPROVED)
    login(kcj_officer)
    template = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).content
    filled = fill_template(template, {"2": "about eight", "4": 99, "6": 41},
                           extra_rows=[["99", "不存在的指标", "", YEAR, "", 5], ["1", "全社会研发支出占GDP比重", "%", YEAR, "", 7.1]])
    upload(client, rnd, kcj, filled)
    batch = latest_batch()
    assert batch.status == ImportStatus.REJECTED
    results = batch.report["results"]
    errors = [(r["row"], r["field"], r["code"]) for r in results if r["status"] == "error"]
    assert errors == [(2, "Value", "invalid_number"), (5, "Value", "value_locked"),
                      (7, "Indicator code", "unknown_reference"), (8, "Indicator code", "not_owned_by_department")]
    messages = {r["row"]: r["message"] for r in results if r["status"] == "error"}
    assert messages == {
        2: "Row 2, Value: “about eight” is not a number.",
        5: "Row 5, Value: the 2025 value of “技术合同成交金额” (40) is approved and locked; ask the S&T bureau to "
           "re-open it with a reason before changing it to 41.",
        7: "Row 7, Indicator code: no indicator of this plan matches “99”.",
        8: "Row 8, Indicator code: the indicator “1” (全社会研发支出占GDP比重) is reported by 光明区统计局, not by "
           "光明区科技创新局.",
    }
    assert batch.error_count == 4
    page = client.get(reverse("plans:round_upload_detail", args=[batch.pk]))
    assert b'data-testid="import-confirm"' not in page.content and b'data-testid="nothing-written"' in page.content
    assert client.post(reverse("plans:round_upload_detail", args=[batch.pk])).status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.REJECTED
    assert values_of(plan) == {"6": (40.0, ValueSource.MANUAL, ValueStatus.APPROVED, "")}


def test_wrong_year_is_a_row_error(client, login, rnd, kcj, kcj_officer, plan):
    login(kcj_officer)
    template = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).content
    workbook = openpyxl.load_workbook(io.BytesIO(fill_template(template, {"2": 8})))
    workbook["数据"]["D2"] = 2024
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(client, rnd, kcj, buffer.getvalue())
    errors = [(r["row"], r["code"]) for r in latest_batch().report["results"] if r["status"] == "error"]
    assert errors == [(2, "wrong_year")]
    assert values_of(plan) == {}


@pytest.mark.parametrize(("name", "content", "code"), [
    ("values.xls", b"\xd0\xcf\x11\xe0 old excel", "unsupported_file_type"),
    ("values.xlsx", b"not a zip at all", "file_not_readable"),
    ("values.csv", "名称,地址\n甲,乙\n".encode(), "missing_header"),
])
def test_wrong_files_get_a_file_level_message_and_write_nothing(client, login, rnd, kcj, kcj_officer, plan,
                                                                name, content, code):
    login(kcj_officer)
    upload(client, rnd, kcj, content, name=name)
    batch = latest_batch()
    assert batch.status == ImportStatus.REJECTED
    assert [(r["row"], r["code"]) for r in batch.report["results"] if r["status"] == "error"] == [(None, code)]
    page = client.get(reverse("plans:round_upload_detail", args=[batch.pk]))
    assert b'data-testid="file-issue"' in page.content and b'data-testid="import-confirm"' not in page.content
    assert values_of(plan) == {}


def test_csv_with_the_template_headers_is_accepted(client, login, rnd, kcj, kcj_officer, plan):
    login(kcj_officer)
    csv = "指标编码* / Indicator code,年份* / Year,数值 / Value\n2,2025,8.1\n10,2025,\n".encode("utf-8-sig")
    upload(client, rnd, kcj, csv, name="values.csv")
    batch = latest_batch()
    assert report_lines(batch) == [(2, "created", "2", ""), (3, "unchanged", "10", "")]


def test_upload_refused_while_submitted_and_confirm_of_an_old_dry_run_too(client, login, rnd, kcj, kcj_officer,
                                                                          plan):
    login(kcj_officer)
    template = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).content
    upload(client, rnd, kcj, fill_template(template, {"2": 8}))
    batch = latest_batch()
    services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
    page = client.get(reverse("plans:round_upload", args=[rnd.pk, kcj.pk]))
    assert b'data-testid="upload-refused"' in page.content and b'data-testid="import-upload"' not in page.content
    count = ImportBatch.objects.count()
    upload(client, rnd, kcj, fill_template(template, {"2": 9}))
    assert ImportBatch.objects.count() == count
    client.post(reverse("plans:round_upload_detail", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRY_RUN
    assert values_of(plan) == {}


def test_approved_values_refuse_a_changed_upload_but_accept_the_same_file(client, login, rnd, kcj, kcj_officer,
                                                                         plan, plan_bureau):
    login(kcj_officer)
    template = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).content
    filled = fill_template(template, {"2": 8, "4": 100})
    upload(client, rnd, kcj, filled)
    client.post(reverse("plans:round_upload_detail", args=[latest_batch().pk]))
    services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
    services.submission_approve(actor=plan_bureau, submission=RoundSubmission.objects.get(round=rnd, department=kcj))

    upload(client, rnd, kcj, filled)
    assert [line[1] for line in report_lines(latest_batch())] == ["unchanged"] * 5
    template = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).content
    assert [r[4] for r in read_sheet(template)[1:]] == ["已审核，锁定 / Approved, locked"] * 2 + [None] * 3
    upload(client, rnd, kcj, fill_template(template, {"2": 9}))
    batch = latest_batch()
    assert batch.status == ImportStatus.REJECTED
    assert [(r["row"], r["code"]) for r in batch.report["results"] if r["status"] == "error"] == [(2, "value_locked")]
    assert values_of(plan)["2"] == (8.0, ValueSource.EXCEL, ValueStatus.APPROVED, "")


def test_upload_touches_only_changed_rows_of_its_department(client, login, rnd, kcj, kcj_officer, plan):
    """Issue 11 obs. 2: re-uploading a template whose pre-filled rows were left as they are reports them
    unchanged (not "updated 20.3 → 20.3") and keeps their status and synthetic badge; other departments'
    submitted values are untouched."""
    from sciencecity.registry.models import Organisation

    tjj = Organisation.objects.get(code="GOV-TJJ")
    tjj_indicator = plan.indicators.filter(owner_department=tjj).first()
    for code, value in (("2", 20.3), ("4", 1.1 + 2.2)):  # 3.3000000000000003 stored
        ObservedValue.objects.create(indicator=plan.indicators.get(code=code), year=YEAR, value=value,
                                     source=ValueSource.MANUAL, status=ValueStatus.SUBMITTED, is_synthetic=True,
                                     note="合成数据 synthetic")
    ObservedValue.objects.create(indicator=tjj_indicator, year=YEAR, value=55.5, source=ValueSource.MANUAL,
                                 status=ValueStatus.SUBMITTED, is_synthetic=True)
    login(kcj_officer)
    template = client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).content
    filled = fill_template(template, {"4": "3.3", "5": 12})
    upload(client, rnd, kcj, filled)
    batch = latest_batch()
    assert report_lines(batch) == [(2, "unchanged", "2", ""), (3, "unchanged", "4", ""), (4, "created", "5", ""),
                                   (5, "unchanged", "6", ""), (6, "unchanged", "10", "")]
    client.post(reverse("plans:round_upload_detail", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CONFIRMED
    stored = {v.indicator.code: (v.value, v.source, v.status, v.is_synthetic)
              for v in ObservedValue.objects.filter(indicator__plan=plan, year=YEAR).select_related("indicator")}
    assert stored == {"2": (20.3, ValueSource.MANUAL, ValueStatus.SUBMITTED, True),
                      "4": (1.1 + 2.2, ValueSource.MANUAL, ValueStatus.SUBMITTED, True),
                      "5": (12.0, ValueSource.EXCEL, ValueStatus.DRAFT, False),
                      tjj_indicator.code: (55.5, ValueSource.MANUAL, ValueStatus.SUBMITTED, True)}
