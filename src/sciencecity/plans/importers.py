"""Excel import of indicator values: one department's values for one reporting round.

Built on the generic framework (:mod:`sciencecity.core.importing`, :mod:`sciencecity.core.excel`):
upload → dry run with a per-row report → atomic confirm. Every row is written through
:func:`sciencecity.plans.services.indicator_value_set` (``source="excel"``), so each change is
audited, and locked (approved) values refuse.

An import is bound to a round (its year) and a department (the owner of the rows). The generic
:class:`~sciencecity.core.models.ImportBatch` only records a ``kind``, so the binding is spelt in
the kind, ``plan_values:<round id>:<department id>``; :func:`value_importer` registers one importer
class per kind, which lets :func:`~sciencecity.core.importing.import_batch_confirm` rebuild it.
"""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core.excel import template_workbook
from sciencecity.core.importing import (
    IMPORTERS,
    CellProblem,
    Column,
    Importer,
    ImportError,
    ImportErrorCode,
    RowStatus,
    cell_text,
    normalise_label,
    parse_decimal,
    register,
    register_import_errors,
    text_parser,
)
from sciencecity.core.models import ImportBatch
from sciencecity.plans.choices import RoundStatus, SubmissionStatus, ValueSource, ValueStatus
from sciencecity.plans.models import DISTRICT_SCOPE, Indicator, ObservedValue, ReportingRound
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

KIND_PREFIX = "plan_values"
KIND_PATTERN = re.compile(rf"^{KIND_PREFIX}:(\d+):(\d+)$")
NUMBER_LIMIT = 10**15


class ValueImportError(ImportErrorCode):
    """Row problems specific to indicator values (codes added to core's import-error space)."""

    NOT_OWNED = "not_owned_by_department"
    VALUE_LOCKED = "value_locked"
    WRONG_YEAR = "wrong_year"
    INVALID_YEAR = "invalid_year"


VALUE_MESSAGES = {
    ValueImportError.NOT_OWNED: gettext_lazy(
        "the indicator “%(value)s” (%(name)s) is reported by %(owner)s, not by %(department)s."),
    ValueImportError.VALUE_LOCKED: gettext_lazy(
        "the %(year)s value of “%(name)s” (%(current)s) is approved and locked; ask the S&T bureau to re-open it "
        "with a reason before changing it to %(value)s."),
    ValueImportError.WRONG_YEAR: gettext_lazy(
        "the year is %(value)s but this reporting round collects the values of %(year)s."),
    ValueImportError.INVALID_YEAR: gettext_lazy("“%(value)s” is not a year."),
}
register_import_errors(ValueImportError, VALUE_MESSAGES)


def parse_year(value: Any) -> int:
    text = cell_text(value)
    try:
        number = parse_decimal(value)
    except CellProblem:
        raise CellProblem(ValueImportError.INVALID_YEAR, value=text) from None
    if number != number.to_integral_value() or not 1900 <= number <= 2200:
        raise CellProblem(ValueImportError.INVALID_YEAR, value=text)
    return int(number)


def parse_value(value: Any) -> float:
    number = parse_decimal(value)
    if abs(number) >= NUMBER_LIMIT:
        raise CellProblem(ImportError.INVALID_NUMBER, value=cell_text(value))
    return float(number)


def same_number(stored: float, entered: float | None) -> bool:
    """Equal to the precision a value is stored with (a float: 15 significant digits)."""
    return entered is not None and math.isclose(stored, entered, rel_tol=1e-12, abs_tol=1e-12)


def _max(name: str) -> int:
    return ObservedValue._meta.get_field(name).max_length


#: Read-only, pre-filled columns of the template (ignored on import, except code and year).
READ_ONLY_COLUMNS = ("code", "name", "unit", "year", "status")


class IndicatorValueImporter(Importer):
    """The values of the indicators one department owns, for the year of one reporting round."""

    kind = KIND_PREFIX
    label = gettext_lazy("Indicator values")
    data_sheet = "数据"
    unique_columns = ("code",)
    list_url_name = "plans:round_list"
    upload_url_name = "plans:round_upload"
    round_id: int = 0
    department_id: int = 0

    columns = (
        Column("code", ["指标编码", "Indicator code", "编码", "code"], required=True, parser=text_parser(20),
               help=gettext_lazy("Pre-filled: identifies the indicator. Do not change it."), example="IND-01", width=14),
        Column("name", ["指标名称", "Indicator name", "指标"], parser=text_parser(),
               help=gettext_lazy("Pre-filled, for reading only."), example="全社会研发支出占GDP比重", width=36),
        Column("unit", ["单位", "Unit"], parser=text_parser(),
               help=gettext_lazy("Pre-filled: enter the value in this unit."), example="%", width=10),
        Column("year", ["年份", "Year"], required=True, parser=parse_year, is_text=False,
               help=gettext_lazy("Pre-filled: the year of the reporting round."), example="2025", width=8),
        Column("status", ["状态", "Status"], parser=text_parser(),
               help=gettext_lazy("Pre-filled: status of the stored value (approved values are locked)."),
               example="草稿", width=14),
        Column("value", ["数值", "Value", "实际值", "值"], parser=parse_value, is_text=False,
               help=gettext_lazy("The observed value as a plain number in the indicator's unit; blank leaves the "
                                 "stored value unchanged."), example="7.9", width=14),
        Column("note", ["备注", "Note", "说明"], parser=text_parser(_max("note")),
               help=gettext_lazy("Optional: source of the figure or a remark."), example="统计年鉴 2025", width=40),
    )

    def __init__(self) -> None:
        self.round = ReportingRound.objects.select_related("plan").get(pk=self.round_id)
        self.department = Organisation.objects.get(pk=self.department_id)
        self.indicators: dict[str, Indicator] = {}
        self.current: dict[int, ObservedValue] = {}

    permission = "plans.report_for_department"

    def permission_object(self) -> Organisation:
        return self.department

    def refusal(self) -> str:
        """Why values cannot be uploaded for this round and department now ("" when they can)."""
        if self.round.status != RoundStatus.OPEN:
            return _("The %(year)s reporting round is closed.") % {"year": self.round.year}
        submission = self.round.submissions.filter(department=self.department).first()
        if submission is not None and submission.status == SubmissionStatus.SUBMITTED:
            return _("%(department)s has submitted its %(year)s values; they cannot be changed until the bureau "
                     "approves them or returns them for revision.") % {
                "department": self.department.name, "year": self.round.year}
        return ""

    def department_indicators(self):
        return self.round.plan.indicators.filter(owner_department=self.department).order_by("number")

    def begin(self) -> None:
        indicators = self.round.plan.indicators.select_related("owner_department")
        self.indicators = {normalise_label(i.code): i for i in indicators}
        self.current = {v.indicator_id: v for v in ObservedValue.objects.filter(
            indicator__plan=self.round.plan, year=self.round.year, scope=DISTRICT_SCOPE)}

    def check_row(self, values: dict[str, Any]) -> None:
        code = values["code"]
        indicator = self.indicators.get(normalise_label(code))
        if indicator is None:
            raise CellProblem(ImportError.UNKNOWN_REFERENCE, field="code", value=code,
                              target=_("indicator of this plan"))
        if indicator.owner_department_id != self.department.pk:
            owner = indicator.owner_department.name if indicator.owner_department else "—"
            raise CellProblem(ValueImportError.NOT_OWNED, field="code", value=code, name=indicator.name,
                              owner=owner, department=self.department.name)
        if values["year"] != self.round.year:
            raise CellProblem(ValueImportError.WRONG_YEAR, field="year", value=values["year"], year=self.round.year)
        current = self.current.get(indicator.pk)
        value = values.get("value")
        if current is not None and current.locked and value is not None and not self._same(current, values):
            raise CellProblem(ValueImportError.VALUE_LOCKED, field="value", year=self.round.year, name=indicator.name,
                              current=f"{current.value:g}", value=f"{value:g}")
        values["indicator"] = indicator

    @staticmethod
    def _same(current: ObservedValue, values: dict[str, Any]) -> bool:
        """The row repeats the stored value (numerically, to the float precision it is stored with) and note."""
        return (same_number(current.value, values["value"])
                and current.note == (values.get("note") or current.note))

    def apply_row(self, values: dict[str, Any], *, actor: User | None) -> tuple[RowStatus, dict[str, Any]]:
        from sciencecity.plans.services import indicator_value_set

        indicator: Indicator = values["indicator"]
        value = values.get("value")
        current = self.current.get(indicator.pk)
        if value is None or (current is not None and self._same(current, values)):
            # a pre-filled row left as it was: no write, so its status and synthetic badge stay
            return RowStatus.UNCHANGED, {}
        note = values["note"] if values.get("note") is not None else (current.note if current else "")
        before = (current.value, current.note) if current else (None, None)
        _obj, changed = indicator_value_set(actor=actor, indicator=indicator, year=self.round.year, value=value,
                                            source=ValueSource.EXCEL, note=note or "")
        if not changed:
            return RowStatus.UNCHANGED, {}
        changes = {"value": [before[0], value]}
        if (before[1] or "") != (note or ""):
            changes["note"] = [before[1], note]
        return (RowStatus.UPDATED if current else RowStatus.CREATED), changes


def kind_for(rnd: ReportingRound, department: Organisation) -> str:
    return f"{KIND_PREFIX}:{rnd.pk}:{department.pk}"


def _importer_class(kind: str) -> type[IndicatorValueImporter] | None:
    match = KIND_PATTERN.match(kind)
    if match is None:
        return None
    cls = IMPORTERS.get(kind)
    if cls is None:
        cls = register(type("BoundIndicatorValueImporter", (IndicatorValueImporter,), {
            "kind": kind, "round_id": int(match.group(1)), "department_id": int(match.group(2))}))
    return cls


def value_importer(rnd: ReportingRound, department: Organisation) -> IndicatorValueImporter:
    """The importer of ``department``'s values for ``rnd`` (registered so that a confirm can rebuild it)."""
    return _importer_class(kind_for(rnd, department))()


def importer_for_batch(batch: ImportBatch) -> IndicatorValueImporter | None:
    cls = _importer_class(batch.kind)
    if cls is None:
        return None
    try:
        return cls()
    except (ReportingRound.DoesNotExist, Organisation.DoesNotExist):
        return None


def round_batches(rnd: ReportingRound, department: Organisation):
    return ImportBatch.objects.filter(kind=kind_for(rnd, department)).defer("content")


# --- the department's template ------------------------------------------------------------------
#: The instructions sheet is always bilingual, whatever the language of the page: (Chinese, English).
INSTRUCTIONS = (
    ("本表用于填报%(department)s负责的规划指标“%(plan)s”%(year)s年度数值。截止日期：%(deadline)s。",
     "This workbook collects the %(year)s values of the indicators that %(department)s reports in the plan "
     "“%(plan)s”. Deadline: %(deadline)s."),
    ("只填写“%(sheet)s”工作表中的“数值”和“备注”两列。指标编码、名称、单位、年份和状态已预先填好并受保护：请勿增加、删除或调整行。",
     "Fill in only the columns “Value” and “Note” of the sheet “%(sheet)s”. Indicator code, name, unit, year and "
     "status are pre-filled and protected: do not add, remove or reorder rows."),
    ("数值按该行“单位”列所示单位填写纯数字（例如 7.9%% 填 7.9，1,200 个填 1200）。数值留空表示不修改已存数值。",
     "Enter each value as a plain number in the unit of its row (for example 7.9 for 7.9 %% or 1200 for 1,200). "
     "A blank value leaves the stored value unchanged."),
    ("已审核的数值被锁定，不能修改。如需更正，请科技创新局说明理由后重新开放。",
     "Approved values are locked and cannot be changed. To correct one, ask the S&T bureau to re-open it with a "
     "reason."),
    ("在填报轮次页面上传本文件后，系统先逐行试运行检查（新增、更新、未变或错误），确认后才写入；所有行一起写入，或都不写入。"
     "重复上传同一文件不会产生任何变化。",
     "Upload the file on the reporting round page. You first get a dry-run report of every row (created, updated, "
     "unchanged or error) and must confirm it; all rows are written together, or none. Uploading the same file "
     "again changes nothing."),
)
STATUS_TEXT = {
    ValueStatus.DRAFT: "草稿 / Draft",
    ValueStatus.SUBMITTED: "已提交 / Submitted",
    ValueStatus.APPROVED: "已审核，锁定 / Approved, locked",
}


def value_template(importer: IndicatorValueImporter) -> bytes:
    """The department's template: the generic layout, with its indicators pre-filled and protected."""
    import openpyxl
    from openpyxl.styles import Alignment, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    rnd, department = importer.round, importer.department
    workbook = openpyxl.load_workbook(io.BytesIO(template_workbook(importer)))
    guide = workbook.worksheets[0]
    first_blank = next(row for row in range(2, guide.max_row + 2) if guide.cell(row=row, column=1).value is None)
    guide.delete_rows(2, first_blank - 2)
    params = {"year": rnd.year, "department": department.name, "plan": rnd.plan.title,
              "deadline": rnd.deadline.isoformat(), "sheet": importer.data_sheet}
    guide.insert_rows(2, len(INSTRUCTIONS))
    for offset, (zh, en) in enumerate(INSTRUCTIONS):
        cell = guide.cell(row=2 + offset, column=1, value=f"{zh % params}\n{en % params}")
        cell.alignment = Alignment(wrap_text=True, vertical="top")

    data = workbook[importer.data_sheet]
    data.data_validations.dataValidation = []
    keys = [c.key for c in importer.columns]
    locked, unlocked = Protection(locked=True), Protection(locked=False)
    grey = PatternFill("solid", fgColor="F2F2F2")
    values = {v.indicator_id: v for v in ObservedValue.objects.filter(
        indicator__in=importer.department_indicators(), year=rnd.year, scope=DISTRICT_SCOPE)}
    indicators = list(importer.department_indicators())
    for row in data.iter_rows(min_row=2, max_row=data.max_row, max_col=len(keys)):
        for cell in row:
            cell.protection = locked
    for number, indicator in enumerate(indicators, start=2):
        current = values.get(indicator.pk)
        row = {"code": indicator.code, "name": indicator.name, "unit": indicator.unit, "year": rnd.year,
               "status": STATUS_TEXT[current.status] if current else None, "value": current.value if current else None,
               "note": current.note if current else None}
        for index, key in enumerate(keys, start=1):
            cell = data.cell(row=number, column=index, value=row[key] or None if key != "value" else row[key])
            editable = key not in READ_ONLY_COLUMNS and not (current is not None and current.locked)
            cell.protection = unlocked if editable else locked
            if not editable:
                cell.fill = grey
    if indicators:
        value_letter = openpyxl.utils.get_column_letter(keys.index("value") + 1)
        validation = DataValidation(
            type="decimal", operator="between", formula1=str(-NUMBER_LIMIT), formula2=str(NUMBER_LIMIT),
            allow_blank=True, showErrorMessage=True, errorTitle="数值 / Value",
            error="请按指标单位填写数字。\nEnter a plain number in the indicator's unit.")
        validation.add(f"{value_letter}2:{value_letter}{len(indicators) + 1}")
        data.add_data_validation(validation)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
