"""A fast, streaming reader of the cell values of an .xlsx workbook (lxml ``iterparse``).

openpyxl's read-only mode builds a descriptor-checked object per cell and, for a sheet without a
``<dimension>`` element, parses the whole sheet once before yielding the first row: about 1 s per
10,000 cells on the shared machines, which made a 5,000-row import take most of its time reading.
This reader returns the same values as ``openpyxl.load_workbook(read_only=True, data_only=True)``
(shared and inline strings, numbers as int or float, booleans, dates from date-formatted numbers,
cached formula results) at lxml speed, with constant memory per row. Anything it does not
understand raises :class:`UnsupportedWorkbook`, and the caller falls back to openpyxl.

The archive has been inspected by :mod:`sciencecity.core.uploads` before (sizes, ratio, rows).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
#: Built-in number formats that are dates or times (ECMA-376 §18.8.30, plus the CJK date formats).
BUILTIN_DATE_FORMATS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
                                  45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58})


class UnsupportedWorkbook(Exception):
    """The workbook uses something this reader does not handle; read it with openpyxl instead."""


@dataclass
class Sheet:
    title: str
    part: str


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class Workbook:
    """An opened workbook: its sheets in order and a row iterator per sheet."""

    def __init__(self, content: bytes) -> None:
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(content))
            self.epoch = None
            self.sheets = self._sheets()
            self.shared = self._shared_strings()
            self.date_styles = self._date_styles()
        except UnsupportedWorkbook:
            raise
        except Exception as exc:  # a damaged part: let openpyxl have its say
            raise UnsupportedWorkbook(str(exc)) from exc

    def close(self) -> None:
        self.archive.close()

    def _xml(self, name: str) -> etree._Element | None:
        try:
            data = self.archive.read(name)
        except KeyError:
            return None
        return etree.fromstring(data, _parser())

    def _sheets(self) -> list[Sheet]:
        workbook = self._xml("xl/workbook.xml")
        rels = self._xml("xl/_rels/workbook.xml.rels")
        if workbook is None or rels is None:
            raise UnsupportedWorkbook("no xl/workbook.xml")
        targets = {rel.get("Id"): rel.get("Target", "") for rel in rels if _local(rel.tag) == "Relationship"}
        sheets = []
        for element in workbook.iter():
            if _local(element.tag) == "workbookPr" and element.get("date1904") in ("1", "true"):
                from openpyxl.utils.datetime import CALENDAR_MAC_1904

                self.epoch = CALENDAR_MAC_1904
            if _local(element.tag) != "sheet":
                continue
            rel_id = element.get(f"{{{REL_NS}}}id") or element.get(f"{{{STRICT_REL_NS}}}id")
            target = targets.get(rel_id, "")
            if not target:
                raise UnsupportedWorkbook("sheet without a target")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if part in self.archive.namelist():
                sheets.append(Sheet(title=element.get("name", ""), part=part))
        return sheets

    def _shared_strings(self) -> list[str]:
        names = {n.lower(): n for n in self.archive.namelist()}
        name = names.get("xl/sharedstrings.xml")
        if name is None:
            return []
        strings: list[str] = []
        with self.archive.open(name) as stream:
            for _event, element in etree.iterparse(stream, events=("end",), tag="{*}si", resolve_entities=False,
                                                   no_network=True, huge_tree=False):
                strings.append(_text_of(element))
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
        return strings

    def _date_styles(self) -> set[int]:
        from openpyxl.styles.numbers import is_date_format

        styles = self._xml("xl/styles.xml")
        if styles is None:
            return set()
        custom: dict[int, str] = {}
        dates: set[int] = set()
        for element in styles.iter():
            if _local(element.tag) == "numFmt":
                custom[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
        cell_xfs = next((e for e in styles.iter() if _local(e.tag) == "cellXfs"), None)
        if cell_xfs is None:
            return dates
        for index, xf in enumerate(x for x in cell_xfs if _local(x.tag) == "xf"):
            number_format = int(xf.get("numFmtId", "0"))
            if number_format in BUILTIN_DATE_FORMATS or (
                    number_format in custom and is_date_format(custom[number_format])):
                dates.add(index)
        return dates

    def rows(self, sheet: Sheet) -> Iterator[list[Any]]:
        """The rows of ``sheet`` from row 1, empty rows as ``[]`` (row numbers stay those of Excel)."""
        from openpyxl.utils.cell import column_index_from_string
        from openpyxl.utils.datetime import from_excel

        expected = 1
        columns: dict[str, int] = {}
        with self.archive.open(sheet.part) as stream:
            for _event, row in etree.iterparse(stream, events=("end",), tag="{*}row", resolve_entities=False,
                                               no_network=True, huge_tree=False):
                number = int(row.get("r") or expected)
                while expected < number:
                    yield []
                    expected += 1
                expected = number + 1
                namespace = row.tag[: row.tag.index("}") + 1] if row.tag.startswith("{") else ""
                cell_tag, value_tag, inline_tag = f"{namespace}c", f"{namespace}v", f"{namespace}is"
                values: list[Any] = []
                for cell in row:
                    if cell.tag != cell_tag:
                        continue
                    ref = cell.get("r")
                    if ref:
                        letters = ref.rstrip("0123456789")
                        column = columns.get(letters)
                        if column is None:
                            column = columns[letters] = column_index_from_string(letters) if letters else 0
                        column = column or len(values) + 1
                    else:
                        column = len(values) + 1
                    while len(values) < column - 1:
                        values.append(None)
                    values.append(self._value(cell, value_tag, inline_tag, from_excel))
                yield values
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]

    def _value(self, cell: etree._Element, value_tag: str, inline_tag: str, from_excel: Any) -> Any:
        kind = cell.get("t", "n")
        raw = None
        for child in cell:
            if child.tag == value_tag:
                raw = child.text
            elif child.tag == inline_tag:
                return _text_of(child)
        if raw is None:
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind in ("str", "e", "inlineStr"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return dt.datetime.fromisoformat(raw.strip())
        try:
            number: Any = int(raw) if raw.lstrip("-").isdigit() else float(raw)
        except ValueError:
            raise UnsupportedWorkbook(f"not a number: {raw[:20]!r}") from None
        style = cell.get("s")
        if style is not None and int(style) in self.date_styles:
            try:
                return from_excel(number, self.epoch) if self.epoch else from_excel(number)
            except (ValueError, OverflowError):
                return number
        return number


def _text_of(element: etree._Element) -> str:
    """The text of a rich or plain string item, without phonetic runs (``rPh``)."""
    if len(element) == 1 and _local(element[0].tag) == "t":  # the common plain string
        return element[0].text or ""
    parts: list[str] = []
    for node in element.iter():
        if _local(node.tag) == "t" and node.text and _local(node.getparent().tag) != "rPh":
            parts.append(node.text)
    return "".join(parts)
