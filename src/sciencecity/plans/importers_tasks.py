"""Excel decomposition of the plan's tasks (任务分解): lead and supporting departments, deadline,
expected deliverables and weight of every task of the current plan.

Built on the generic framework (:mod:`sciencecity.core.importing`, :mod:`sciencecity.core.excel`):
the template lists every task with its code, chapter, section and title (read-only, protected) and
the current decomposition (editable); upload → dry run with a per-row report → atomic confirm.
Every row is written through :func:`sciencecity.plans.services.task_update`, so each change is
audited. Tasks are matched on their code; an import never creates or deletes a task.
"""

from __future__ import annotations

import decimal
import io
import re
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core.excel import template_workbook
from sciencecity.core.importing import (
    CellProblem,
    Column,
    Importer,
    ImportError,
    ImportErrorCode,
    RowStatus,
    cell_text,
    list_parser,
    normalise_label,
    parse_date,
    parse_decimal,
    register,
    register_import_errors,
    text_parser,
)
from sciencecity.core.models import ImportBatch
from sciencecity.plans import selectors
from sciencecity.plans.models import Plan, Task
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

KIND = "plans.tasks"
#: Supporting departments are separated by 、 or ; (names may contain commas).
DEPARTMENT_SEPARATORS = re.compile(r"[;；、\n]+")
#: Read-only, pre-filled columns of the template (ignored on import, except the code).
READ_ONLY_COLUMNS = ("code", "chapter", "section", "title")
#: The decomposition fields, in the order of task_update's audit.
DECOMPOSITION_FIELDS = ("lead_department", "supporting_departments", "deadline", "deliverables", "weight")
DEFAULT_WEIGHT = decimal.Decimal("1.00")
CENT = decimal.Decimal("0.01")


class TaskImportError(ImportErrorCode):
    """Row problems specific to task decomposition (codes added to core's import-error space)."""

    NEGATIVE_WEIGHT = "negative_weight"


TASK_MESSAGES = {
    TaskImportError.NEGATIVE_WEIGHT: gettext_lazy("the weight is %(value)s; a weight is zero or more."),
}
register_import_errors(TaskImportError, TASK_MESSAGES)


def parse_weight(value: Any) -> decimal.Decimal:
    number = parse_decimal(value)
    if number < 0:
        raise CellProblem(TaskImportError.NEGATIVE_WEIGHT, value=cell_text(value))
    # Two decimals as stored, so that an unchanged weight compares equal; more decimals fail validation.
    return number.quantize(CENT) if number == number.quantize(CENT) else number


def government_departments():
    return Organisation.objects.filter(kind=OrganisationKind.GOVERNMENT_DEPARTMENT).order_by("name")


def _columns(department_names: list[str]) -> list[Column]:
    return [
        Column("code", ["任务编码", "Task code", "编码", "code"], required=True, parser=text_parser(20),
               help=gettext_lazy("Pre-filled: identifies the task. Do not change it."), example="3.1.1", width=10),
        Column("chapter", ["章", "Chapter"], parser=text_parser(),
               help=gettext_lazy("Pre-filled, for reading only."), example="三、建设世界一流科学城", width=24),
        Column("section", ["节", "Section"], parser=text_parser(),
               help=gettext_lazy("Pre-filled, for reading only."), example="（一）布局重大科技基础设施", width=24),
        Column("title", ["任务", "Task", "任务名称", "title"], parser=text_parser(),
               help=gettext_lazy("Pre-filled, for reading only."), example="建设合成生物研究重大科技基础设施", width=40),
        Column("lead_department", ["牵头部门", "Lead department", "牵头单位"], parser=text_parser(300),
               choices=[(name, name) for name in department_names],
               help=gettext_lazy("The government department that leads the task: pick it from the list. Blank "
                                 "means no lead department yet."), example="光明区科技创新局", width=26),
        Column("supporting_departments", ["配合部门", "Supporting departments", "配合单位"],
               parser=list_parser(DEPARTMENT_SEPARATORS, 300),
               help=gettext_lazy("Names of government departments separated by 、 or ;."),
               example="光明区发展和改革局、光明区工业和信息化局", width=36),
        Column("deadline", ["完成时限", "Deadline", "截止日期"], parser=parse_date, is_text=False,
               help=gettext_lazy("Date as YYYY-MM-DD."), example="2025-12-31", width=12),
        Column("deliverables", ["预期成果", "Expected deliverables", "成果", "deliverables"], parser=text_parser(),
               default="", help=gettext_lazy("What the task delivers (buildings, platforms, policies, figures)."),
               example="建成并投入运行", width=40),
        Column("weight", ["权重", "Weight"], parser=parse_weight, is_text=False, default=DEFAULT_WEIGHT,
               help=gettext_lazy("Weight of the task in the progress of its section and chapter: a number of zero "
                                 "or more (blank means 1)."), example="1", width=8),
    ]


@register
class TaskImporter(Importer):
    """The decomposition of every task of the current plan (bureau officers only)."""

    kind = KIND
    label = gettext_lazy("Task decomposition")
    data_sheet = "任务"
    unique_columns = ("code",)
    list_url_name = "plans:task_list"
    upload_url_name = "plans:task_upload"

    def __init__(self) -> None:
        self.plan: Plan | None = selectors.current_plan()
        self.departments = list(government_departments())
        self.columns = _columns([d.name for d in self.departments])
        self.tasks: dict[str, Task] = {}
        self.lookup: dict[str, list[Organisation]] = {}

    permission = "plans.manage"

    def plan_tasks(self):
        if self.plan is None:
            return Task.objects.none()
        return self.plan.tasks.select_related("chapter", "section", "lead_department").prefetch_related(
            "supporting_departments")

    def begin(self) -> None:
        self.tasks = {normalise_label(t.code): t for t in self.plan_tasks()}
        self.lookup = {}
        for department in self.departments:
            for name in {department.name, department.code}:
                if name:
                    self.lookup.setdefault(normalise_label(name), []).append(department)

    def department(self, name: str, field: str) -> Organisation:
        found = self.lookup.get(normalise_label(name), [])
        if not found:
            raise CellProblem(ImportError.UNKNOWN_REFERENCE, field=field, value=name,
                              target=_("government department"))
        if len(found) > 1:
            raise CellProblem(ImportError.AMBIGUOUS_REFERENCE, field=field, value=name,
                              target=_("government departments"), matches=", ".join(d.code or d.name for d in found))
        return found[0]

    def check_row(self, values: dict[str, Any]) -> None:
        task = self.tasks.get(normalise_label(values["code"]))
        if task is None:
            raise CellProblem(ImportError.UNKNOWN_REFERENCE, field="code", value=values["code"],
                              target=_("task of the current plan"))
        values["task"] = task
        if "lead_department" in values:
            name = values["lead_department"]
            values["lead_department"] = self.department(name, "lead_department") if name else None
        if "supporting_departments" in values:
            values["supporting_departments"] = [self.department(name, "supporting_departments")
                                                for name in values["supporting_departments"] or []]

    def apply_row(self, values: dict[str, Any], *, actor: User | None) -> tuple[RowStatus, dict[str, Any]]:
        from sciencecity.plans.services import task_update

        data = {key: values[key] for key in DECOMPOSITION_FIELDS if key in values}
        changes = task_update(actor=actor, task=values["task"], data=data, reason=_("Spreadsheet import"))
        if not changes:
            return RowStatus.UNCHANGED, {}
        return RowStatus.UPDATED, self.readable(changes)

    def readable(self, changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Department ids as names, lists joined with 、, in the column order."""
        names = {d.pk: d.name for d in self.departments}
        readable: dict[str, list[Any]] = {}
        for key in DECOMPOSITION_FIELDS:
            if key not in changes:
                continue
            old, new = changes[key]
            if key == "lead_department":
                old, new = names.get(old, old), names.get(new, new)
            elif key == "supporting_departments":
                old, new = ("、".join(names.get(pk, str(pk)) for pk in ids or []) or None for ids in (old, new))
            readable[key] = [old, new]
        return readable


def batches():
    return ImportBatch.objects.filter(kind=KIND).defer("content")


# --- the template -------------------------------------------------------------------------------
#: Task-specific notes at the top of the instructions sheet: (Chinese, English).
INSTRUCTIONS = (
    ("本表用于分解规划“%(plan)s”的全部%(count)s项任务：为每项任务填写牵头部门、配合部门、完成时限、预期成果和权重。",
     "This workbook decomposes all %(count)s tasks of the plan “%(plan)s”: fill in the lead department, supporting "
     "departments, deadline, expected deliverables and weight of each task."),
    ("任务编码、章、节和任务名称已预先填好并受保护：请勿增加、删除或调整行。牵头部门从下拉列表中选择；配合部门填写部门全称，"
     "用“、”或“;”分隔。",
     "Task code, chapter, section and task title are pre-filled and protected: do not add, remove or reorder rows. "
     "Pick the lead department from the drop-down list; write the full names of the supporting departments "
     "separated by 、 or ;."),
    ("在任务列表页面上传本文件后，系统先逐行试运行检查（未变、更新或错误），确认后才写入；所有行一起写入，或都不写入。",
     "Upload the file on the task list page. You first get a dry-run report of every row (unchanged, updated or "
     "error) and must confirm it; all rows are written together, or none."),
)


def _row(task: Task) -> dict[str, Any]:
    return {
        "code": task.code, "chapter": f"{task.chapter.label}、{task.chapter.title}",
        "section": str(task.section) if task.section_id else None, "title": task.title,
        "lead_department": task.lead_department.name if task.lead_department_id else None,
        "supporting_departments": "、".join(sorted(d.name for d in task.supporting_departments.all())) or None,
        "deadline": task.deadline, "deliverables": task.deliverables or None, "weight": float(task.weight),
    }


def task_template(importer: TaskImporter) -> bytes:
    """The template: the generic layout with every task pre-filled, read-only columns protected."""
    import openpyxl
    from openpyxl.styles import Alignment, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    tasks = list(importer.plan_tasks())
    workbook = openpyxl.load_workbook(io.BytesIO(template_workbook(importer)))
    guide = workbook.worksheets[0]
    params = {"plan": importer.plan.title if importer.plan else "—", "count": len(tasks)}
    guide.insert_rows(2, len(INSTRUCTIONS))
    for offset, (zh, en) in enumerate(INSTRUCTIONS):
        cell = guide.cell(row=2 + offset, column=1, value=f"{zh % params}\n{en % params}")
        cell.alignment = Alignment(wrap_text=True, vertical="top")

    data = workbook[importer.data_sheet]
    keys = [c.key for c in importer.columns]
    locked, unlocked = Protection(locked=True), Protection(locked=False)
    grey = PatternFill("solid", fgColor="F2F2F2")
    for row in data.iter_rows(min_row=2, max_row=data.max_row, max_col=len(keys)):
        for cell in row:
            cell.protection = locked
    for number, task in enumerate(tasks, start=2):
        values = _row(task)
        for index, key in enumerate(keys, start=1):
            cell = data.cell(row=number, column=index, value=values[key])
            editable = key not in READ_ONLY_COLUMNS
            cell.protection = unlocked if editable else locked
            if not editable:
                cell.fill = grey
    if tasks:
        last = len(tasks) + 1
        letter = {key: openpyxl.utils.get_column_letter(index) for index, key in enumerate(keys, start=1)}
        deadline = DataValidation(
            type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
            allow_blank=True, showErrorMessage=True, errorTitle="完成时限 / Deadline",
            error="请填写日期，格式 YYYY-MM-DD。\nEnter a date as YYYY-MM-DD.")
        deadline.add(f"{letter['deadline']}2:{letter['deadline']}{last}")
        weight = DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True, showErrorMessage=True,
            errorTitle="权重 / Weight", error="权重为不小于0的数字。\nThe weight is a number of zero or more.")
        weight.add(f"{letter['weight']}2:{letter['weight']}{last}")
        data.add_data_validation(deadline)
        data.add_data_validation(weight)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
