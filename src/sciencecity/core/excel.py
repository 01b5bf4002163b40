"""Excel and CSV helpers shared by every import and export.

* :func:`template_workbook` builds the downloadable import template of an
  :class:`~sciencecity.core.importing.Importer`: an instructions sheet (说明, Chinese and English,
  with an example row), a data sheet whose bold, frozen header row is protected while the data
  cells are unlocked, and drop-down lists for the columns that have choices.
* :func:`xlsx_export` and :func:`csv_export` write rows with the same headers as the template, so an
  export re-imports unchanged. The .xlsx is written with openpyxl's write-only mode (constant
  memory); the CSV is generated line by line for a streaming response.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from django.utils import translation
from django.utils.translation import gettext as _

from sciencecity.core.importing import FORMULA_PREFIXES, Column, Importer, choice_labels, parse_date

TEMPLATE_DATA_ROWS = 1000
INSTRUCTIONS_SHEET = "说明"
CHOICES_SHEET = "选项"
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"


def safe_cell(value: Any) -> Any:
    """Keep spreadsheet programs from running a cell as a formula (CSV/formula injection).

    A leading ``'`` is added before ``= + - @``; the importer removes it again, so the round trip
    is exact.
    """
    if isinstance(value, str) and value and value[0] in FORMULA_PREFIXES:
        return "'" + value
    return value


def bilingual(text: Any) -> tuple[str, str]:
    """A translatable text in Chinese and in English."""
    with translation.override("zh-hans"):
        zh = str(text)
    with translation.override("en"):
        en = str(text)
    return zh, en


def _both(text: Any) -> str:
    zh, en = bilingual(text)
    return zh if zh == en else f"{zh}\n{en}"


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _instruction_rows(importer: Importer) -> list[tuple[Any, ...]]:
    notes = [
        _both(_("Fill in the data sheet “%(sheet)s”: one row per record, starting at row 2. Do not change the "
                "header row.") % {"sheet": importer.data_sheet}),
        _both(_("Columns marked * are required. A blank cell in a column that is present clears that value; "
                "leave a column out to keep the stored values.")),
        _both(_("Dates: YYYY-MM-DD (for example 2021-03-15). Lists: separate items with ; (semicolon).")),
        _both(_("Importing the same file twice changes nothing: rows are matched on their key and reported "
                "as unchanged.")),
        _both(_("Upload the file (or a CSV in UTF-8 or GB18030 with the same headers); you will see a dry-run "
                "report first and confirm it to write the data.")),
    ]
    return [(note,) for note in notes]


def _allowed(column: Column) -> str:
    if not column.choices:
        return ""
    zh = choice_labels(column.choices, "zh-hans")
    en = choice_labels(column.choices, "en")
    return "\n".join(z if z == e else f"{z} ({e})" for z, e in zip(zh, en, strict=True))


def template_workbook(importer: Importer) -> bytes:
    """The .xlsx import template of ``importer`` as bytes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    columns = list(importer.columns)

    workbook = Workbook()
    guide = workbook.active
    guide.title = INSTRUCTIONS_SHEET
    zh_title, en_title = bilingual(importer.label)
    guide.append([f"{zh_title} 导入模板说明 / {en_title}: import template instructions"])
    guide["A1"].font = Font(bold=True, size=14)
    for row in _instruction_rows(importer):
        guide.append(row)
    guide.append([])
    guide.append(["列名 Column", "英文 English", "必填 Required", "说明 Description", "允许值 Allowed values",
                  "示例 Example"])
    for cell in guide[guide.max_row]:
        cell.font = bold
        cell.fill = header_fill
    for column in columns:
        guide.append([column.zh, column.en, "是 Yes" if column.required else "否 No", _both(column.help) if column.help
                      else "", _allowed(column), column.example])
    guide.append([])
    guide.append(["示例行 Example row (copy it to the data sheet, starting at row 2)"])
    guide[guide.max_row][0].font = bold
    guide.append([c.header_text() for c in columns])
    for cell in guide[guide.max_row]:
        cell.font = bold
    guide.append([c.example for c in columns])
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    for letter, width in zip("ABCDEF", (22, 24, 12, 60, 36, 28), strict=True):
        guide.column_dimensions[letter].width = width

    data = workbook.create_sheet(importer.data_sheet)
    data.append([c.header_text() for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = data.cell(row=1, column=index)
        cell.font = bold
        cell.fill = header_fill
        if column.help:
            cell.comment = Comment(_both(column.help), "sciencecity", width=300, height=120)
        data.column_dimensions[column_letter(index)].width = column.width
    unlocked = Protection(locked=False)
    for row in data.iter_rows(min_row=2, max_row=TEMPLATE_DATA_ROWS, max_col=len(columns)):
        for column, cell in zip(columns, row, strict=True):
            cell.protection = unlocked
            if column.is_text:
                cell.number_format = TEXT_FORMAT
            elif column.parser is parse_date:
                cell.number_format = DATE_FORMAT
    data.freeze_panes = "A2"
    data.protection.sheet = True
    data.protection.formatColumns = False
    data.protection.formatRows = False
    data.protection.autoFilter = False
    data.protection.sort = False

    lists = workbook.create_sheet(CHOICES_SHEET)
    list_index = 0
    for index, column in enumerate(columns, start=1):
        if not column.choices:
            continue
        list_index += 1
        letter = column_letter(list_index)
        labels = choice_labels(column.choices, "zh-hans")
        lists.cell(row=1, column=list_index, value=column.zh).font = bold
        for row, label in enumerate(labels, start=2):
            lists.cell(row=row, column=list_index, value=label)
        validation = DataValidation(
            type="list", formula1=f"'{CHOICES_SHEET}'!${letter}$2:${letter}${len(labels) + 1}", allow_blank=True,
            showErrorMessage=True, errorTitle=column.zh, error=_both(column.help) if column.help else column.zh,
        )
        validation.add(f"{column_letter(index)}2:{column_letter(index)}{TEMPLATE_DATA_ROWS}")
        data.add_data_validation(validation)
    lists.protection.sheet = True
    lists.sheet_state = "hidden"

    workbook.active = workbook.index(data)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return safe_cell(value)


def xlsx_export(sheet_title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    """Write rows to a write-only workbook; returns a file positioned at its start (spills to disk)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[column_letter(index)].width = column.width
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header_text())
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    target = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - returned to the caller
    workbook.save(target)
    target.seek(0)
    return target


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value  # openpyxl stores a date with a date format
    if value is None or value == "" or value == []:
        return None  # an empty cell is not written at all
    return _plain(value)


def csv_export(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """CSV lines (UTF-8 with BOM, so that Excel shows Chinese correctly) for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow([c.header_text() for c in columns])
    yield b"\xef\xbb\xbf" + flush()
    for count, row in enumerate(rows, start=1):
        writer.writerow([v.isoformat() if isinstance(v, dt.date) else _plain(v) for v in row])
        if count % 500 == 0:
            yield flush()
    yield flush()
