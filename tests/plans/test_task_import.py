"""Task decomposition by Excel: template of every task → edit → upload → dry run → confirm."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from sciencecity.core.importing import import_batch_confirm, import_batch_create
from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch, ImportStatus
from sciencecity.plans.importers_tasks import TaskImporter, task_template
from sciencecity.plans.models import Task
from sciencecity.registry.models import Organisation

HEADERS = ["任务编码* / Task code", "章 / Chapter", "节 / Section", "任务 / Task", "牵头部门 / Lead department",
           "配合部门 / Supporting departments", "完成时限 / Deadline", "预期成果 / Expected deliverables",
           "权重 / Weight"]
COLUMN = {key: index for index, key in enumerate(
    ["code", "chapter", "section", "title", "lead", "supporting", "deadline", "deliverables", "weight"], start=1)}


def download(client, user) -> bytes:
    client.force_login(user)
    response = client.get(reverse("plans:task_template"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="task-decomposition-')
    return response.content


def edit(content: bytes, cells: dict[tuple[int, str], object]) -> bytes:
    """Change cells of the 任务 sheet as a user would in Excel: {(row, column key): value}."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["任务"]
    for (row, key), value in cells.items():
        sheet.cell(row=row, column=COLUMN[key], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, name: str = "tasks.xlsx"):
    """Upload in English, so that the stored report's messages can be compared exactly."""
    return client.post(reverse("plans:task_upload"), {"file": SimpleUploadedFile(name, content)},
                       HTTP_ACCEPT_LANGUAGE="en")


def task_state(task: Task) -> tuple:
    task.refresh_from_db()
    return (task.lead_department_id, sorted(d.pk for d in task.supporting_departments.all()), task.deadline,
            task.deliverables, task.weight)


@pytest.fixture
def tasks(plan):
    return list(plan.tasks.select_related("chapter", "section", "lead_department"))


def test_template_lists_every_task_with_protected_read_only_columns_and_drop_downs(plan, plan_bureau, tasks):
    content = task_template(TaskImporter())
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["说明", "任务", "选项"]
    assert workbook.active.title == "任务"
    guide = workbook["说明"]
    first_notes = guide["A2"].value
    assert "本表用于分解规划" in first_notes and f"all {len(tasks)} tasks of the plan" in first_notes
    assert "do not add, remove or reorder rows" in guide["A3"].value

    sheet = workbook["任务"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.protection.sheet is True
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row >= len(tasks) + 1
    first = tasks[0]
    row = [c.value for c in sheet[2]]
    assert row[:5] == [first.code, f"{first.chapter.label}、{first.chapter.title}",
                       str(first.section) if first.section_id else None, first.title, first.lead_department.name]
    assert row[6] == dt.datetime(2025, 12, 31)  # the bundled default deadline
    assert row[8] == 1
    codes = [sheet.cell(row=r, column=1).value for r in range(2, len(tasks) + 2)]
    assert codes == [t.code for t in tasks]
    assert sheet.cell(row=len(tasks) + 2, column=1).value is None
    # read-only columns locked, decomposition columns unlocked, rows below the tasks locked
    for key in ("code", "chapter", "section", "title"):
        assert sheet.cell(row=2, column=COLUMN[key]).protection.locked is True
    for key in ("lead", "supporting", "deadline", "deliverables", "weight"):
        assert sheet.cell(row=2, column=COLUMN[key]).protection.locked is False
    assert sheet.cell(row=len(tasks) + 2, column=COLUMN["lead"]).protection.locked is True

    validations = {dv.type: dv for dv in sheet.data_validations.dataValidation}
    assert set(validations) == {"list", "date", "decimal"}
    assert str(validations["list"].sqref).startswith("E2:E")
    assert validations["list"].formula1.startswith("'选项'!$A$2:$A$")
    departments = sorted(Organisation.objects.filter(kind="government_department").values_list("name", flat=True))
    lists = workbook["选项"]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(row=r, column=1).value for r in range(2, len(departments) + 2)] == departments
    assert str(validations["date"].sqref) == f"G2:G{len(tasks) + 1}"
    assert str(validations["decimal"].sqref) == f"I2:I{len(tasks) + 1}"
    assert validations["decimal"].operator == "greaterThanOrEqual" and validations["decimal"].formula1 == "0"


def test_round_trip_dry_run_report_then_confirm(client, plan, plan_bureau, tasks):
    content = download(client, plan_bureau)
    first, second = tasks[0], tasks[1]
    before_second = task_state(second)
    fgj = Organisation.objects.get(code="GOV-FGJ")
    tjj = Organisation.objects.get(code="GOV-TJJ")
    czj = Organisation.objects.get(code="GOV-CZJ")
    edited = edit(content, {
        (2, "lead"): fgj.name, (2, "supporting"): f"{tjj.name}、{czj.name}", (2, "deadline"): dt.date(2024, 6, 30),
        (2, "deliverables"): "建成并投入运行", (2, "weight"): 2.5,
    })

    response = upload(client, edited)
    batch = ImportBatch.objects.get(kind="plans.tasks")
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:task_upload_detail", args=[batch.pk])
    assert batch.status == ImportStatus.DRY_RUN
    assert (batch.updated_count, batch.unchanged_count, batch.error_count, batch.created_count) == (
        1, len(tasks) - 1, 0, 0)
    results = batch.report["results"]
    assert results[0] == {
        "row": 2, "status": "updated", "key": first.code, "field": "", "code": "", "message": "",
        "changes": {
            "lead_department": [first.lead_department.name, fgj.name],
            "supporting_departments": ["、".join(d.name for d in first.supporting_departments.all()
                                                 .order_by("pk")), f"{tjj.name}、{czj.name}"],
            "deadline": ["2025-12-31", "2024-06-30"],
            "deliverables": ["", "建成并投入运行"],
            "weight": ["1.00", "2.50"],
        },
    }
    assert [r["status"] for r in results[1:]] == ["unchanged"] * (len(tasks) - 1)
    # a dry run writes nothing
    first.refresh_from_db()
    assert first.lead_department.code != "GOV-FGJ" and first.weight == Decimal("1.00")
    assert not AuditEvent.objects.filter(object_type="plans.task", action=AuditAction.UPDATE).exists()

    page = client.get(reverse("plans:task_upload_detail", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'data-testid="import-confirm"' in html
    assert "<strong>Lead department</strong>: " in html and "<strong>Weight</strong>: 1.00 → 2.50" in html

    response = client.post(reverse("plans:task_upload_detail", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == reverse("plans:task_list")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CONFIRMED
    assert task_state(first) == (fgj.pk, sorted([tjj.pk, czj.pk]), dt.date(2024, 6, 30), "建成并投入运行",
                                 Decimal("2.50"))
    assert task_state(second) == before_second
    event = AuditEvent.objects.get(object_type="plans.task", action=AuditAction.UPDATE)
    assert event.object_id == str(first.pk)
    assert event.actor_id == plan_bureau.pk
    assert event.reason == "Spreadsheet import"
    assert event.changes["weight"] == ["1.00", "2.50"]
    assert event.changes["lead_department"][1] == fgj.pk
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, object_type="core.importbatch").count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="plans.tasks").count() == 1

    # the same file again changes nothing
    upload(client, edited)
    again = ImportBatch.objects.filter(kind="plans.tasks").latest("pk")
    assert (again.updated_count, again.unchanged_count, again.error_count) == (0, len(tasks), 0)


def test_bad_rows_get_per_row_errors_and_nothing_is_written(client, plan, plan_bureau, tasks):
    content = download(client, plan_bureau)
    states = {t.pk: task_state(t) for t in tasks}
    edited = edit(content, {
        (2, "lead"): "不存在局", (3, "supporting"): "光明区统计局；火星局", (4, "deadline"): "2025-13-45",
        (5, "weight"): -1, (6, "code"): "99.9", (7, "deliverables"): "只改这一行",
    })
    upload(client, edited)
    batch = ImportBatch.objects.get(kind="plans.tasks")
    assert batch.status == ImportStatus.REJECTED
    errors = [(r["row"], r["field"], r["code"], r["message"]) for r in batch.report["results"]
              if r["status"] == "error"]
    assert errors == [
        (2, "Lead department", "unknown_reference",
         "Row 2, Lead department: no government department matches “不存在局”."),
        (3, "Supporting departments", "unknown_reference",
         "Row 3, Supporting departments: no government department matches “火星局”."),
        (4, "Deadline", "invalid_date",
         "Row 4, Deadline: “2025-13-45” is not a date; write dates as YYYY-MM-DD, e.g. 2021-03-15."),
        (5, "Weight", "negative_weight", "Row 5, Weight: the weight is -1; a weight is zero or more."),
        (6, "Task code", "unknown_reference", "Row 6, Task code: no task of the current plan matches “99.9”."),
    ]
    assert batch.error_count == 5
    assert [r["status"] for r in batch.report["results"] if r["row"] == 7] == ["updated"]
    assert {t.pk: task_state(t) for t in tasks} == states

    page = client.get(reverse("plans:task_upload_detail", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-testid="nothing-written"' in page.content.decode()
    assert 'data-testid="import-confirm"' not in page.content.decode()
    response = client.post(reverse("plans:task_upload_detail", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert {t.pk: task_state(t) for t in tasks} == states
    assert not AuditEvent.objects.filter(object_type="plans.task").exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.REJECTED


def test_confirm_is_atomic_when_the_data_changed_since_the_dry_run(plan, plan_bureau, tasks):
    importer = TaskImporter()
    edited = edit(task_template(importer), {(2, "weight"): 3, (3, "lead"): "光明区统计局"})
    with translation.override("en"):
        batch = import_batch_create(importer=importer, file_name="tasks.xlsx", content=edited, actor=plan_bureau)
    assert batch.status == ImportStatus.DRY_RUN and batch.updated_count == 2
    Organisation.objects.filter(code="GOV-TJJ").update(kind="enterprise")  # no longer a department
    states = {t.pk: task_state(t) for t in tasks}
    from sciencecity.core.importing import ImportRejected

    with translation.override("en"), pytest.raises(ImportRejected):
        import_batch_confirm(batch=batch, actor=plan_bureau)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert {t.pk: task_state(t) for t in tasks} == states


ACTORS = ["anonymous", "enterprise", "department", "bureau", "sysadmin", "secadmin", "auditadmin"]
BUREAU = {"anonymous": "login", "enterprise": 403, "department": 403, "bureau": 200,
          "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_task_excel_pages_permission_matrix(client, plan, plan_bureau, actors, actor):
    importer = TaskImporter()
    batch = import_batch_create(importer=importer, file_name="t.xlsx", content=task_template(importer),
                                actor=plan_bureau)
    if actors[actor]:
        client.force_login(actors[actor])
    for url in (reverse("plans:task_template"), reverse("plans:task_upload"),
                reverse("plans:task_upload_detail", args=[batch.pk])):
        response = client.get(url)
        got = "login" if response.status_code == 302 and "/accounts/login/" in response["Location"] else \
            response.status_code
        assert got == BUREAU[actor], url
    response = client.post(reverse("plans:task_upload_detail", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == (ImportStatus.CONFIRMED if actor == "bureau" else ImportStatus.DRY_RUN)
    task_list = client.get(reverse("plans:task_list")).content.decode() if actors[actor] else ""
    assert ('data-testid="task-template"' in task_list) == (actor == "bureau")
