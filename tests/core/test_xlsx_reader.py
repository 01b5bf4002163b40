"""The fast .xlsx reader returns the values openpyxl's read-only mode returns (it replaces it for speed)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from openpyxl import Workbook

from sciencecity.core import xlsx_reader


def openpyxl_rows(content: bytes, index: int = 0) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    sheet = workbook.worksheets[index]
    sheet.reset_dimensions()
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def fast_rows(content: bytes, index: int = 0) -> list[list]:
    workbook = xlsx_reader.Workbook(content)
    try:
        return list(workbook.rows(workbook.sheets[index]))
    finally:
        workbook.close()


def trimmed(rows: list[list]) -> list[list]:
    result = []
    for row in rows:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        result.append(row)
    return result


def test_values_match_openpyxl_for_every_cell_kind():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "机构"
    sheet.append(["编码", "名称", "日期", "整数", "小数", "真假", "公式", "大数"])
    sheet.append(["A-1", "光明 科技", dt.date(2021, 3, 5), 42, 3.25, True, "=1+1", 12345678901234])
    sheet.append(["A-2", None, dt.datetime(2020, 1, 2, 13, 30), -7, 1e-5, False, None, 0])
    sheet["C3"].number_format = "yyyy年m月d日"
    sheet.append([])
    sheet.append([None, None, None, "tail"])
    sheet["B7"] = "after a gap"
    other = workbook.create_sheet("第二页")
    other.append(["x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    assert trimmed(fast_rows(content)) == trimmed(openpyxl_rows(content))
    rows = fast_rows(content)
    assert rows[1][2] == dt.datetime(2021, 3, 5) and rows[2][2] == dt.datetime(2020, 1, 2, 13, 30)
    assert rows[1][3] == 42 and isinstance(rows[1][3], int) and rows[1][5] is True
    assert [s.title for s in xlsx_reader.Workbook(content).sheets] == ["机构", "第二页"]


def _with_shared_strings(content: bytes) -> bytes:
    """Rewrite sheet 1 to use a shared-strings part with a rich-text item and a phonetic run, as Excel does."""
    source = zipfile.ZipFile(io.BytesIO(content))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (f'<worksheet xmlns="{main}"><dimension ref="A1:B2"/><sheetData>'
             '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
             '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="0"><v>1.5E3</v></c></row>'
             '</sheetData></worksheet>')
    shared = (f'<sst xmlns="{main}" count="3" uniqueCount="3"><si><t>编码</t></si>'
              '<si><r><t>名</t></r><r><rPr><b/></rPr><t>称</t></r></si>'
              '<si><t>光明</t><rPh sb="0" eb="2"><t>コウメイ</t></rPh></si></sst>')
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                                    b'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"'
                                    b"/></Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                    b'Target="sharedStrings.xml"/></Relationships>')
            archive.writestr(info, data)
        archive.writestr("xl/sharedStrings.xml", shared)
    return target.getvalue()


def test_shared_rich_and_phonetic_strings_match_openpyxl():
    workbook = Workbook()
    workbook.active.append(["placeholder"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = _with_shared_strings(buffer.getvalue())
    assert fast_rows(content) == [["编码", "名称"], ["光明", 1500.0]]
    assert trimmed(fast_rows(content)) == trimmed(openpyxl_rows(content))


def test_a_workbook_without_a_workbook_part_is_unsupported():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(xlsx_reader.UnsupportedWorkbook):
        xlsx_reader.Workbook(buffer.getvalue())


def test_entities_are_not_expanded():
    """A billion-laughs style entity in a part is not expanded (lxml resolve_entities=False)."""
    workbook = Workbook()
    workbook.active.append(["a"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    evil = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            f'<worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&c;</t></is></c>'
            '</row></sheetData></worksheet>')
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for info in source.infolist():
            data = evil.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info.filename)
            archive.writestr(info, data)
    rows = fast_rows(target.getvalue())
    assert rows[0][0] != "a" * 1000
