"""Helpers for the import/export tests: spreadsheets built in memory, valid credit codes, counters."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from sciencecity.core.models import AuditEvent
from sciencecity.registry.models import Affiliation, Organisation, Person
from sciencecity.registry.validators import credit_code_check_character

ORG_HEADERS = ["编码", "名称", "英文名称", "类型", "级别", "状态", "统一社会信用代码", "成立日期", "地址", "所在区",
               "领域", "别名"]
PERSON_HEADERS = ["编码", "姓名", "类别", "职称", "邮箱", "专长", "所在机构", "职务"]


def credit_code(body: str, prefix: str = "91440300") -> str:
    """A valid credit code: ``prefix`` + ``body`` (17 characters together) + its check character."""
    first17 = prefix + body
    assert len(first17) == 17
    return first17 + credit_code_check_character(first17)


def xlsx_bytes(rows: list[list[Any]], sheet: str = "机构", extra_sheets: dict[str, list[list[Any]]] | None = None) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for name, other in (extra_sheets or {}).items():
        extra = workbook.create_sheet(name, 0)
        for row in other:
            extra.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def org_rows() -> list[list[Any]]:
    """Three good organisations: an enterprise with a credit code, a lab (labels in English), a park."""
    return [
        ORG_HEADERS,
        ["IMP-001", "光明示例科技有限公司", "Guangming Example Tech", "enterprise", "municipal", "operating",
         credit_code("MA5G00001"), "2019-06-18", "光明区示例路1号", "光明区", "IND-AI; HT-1", "示例科技"],
        ["IMP-002", "光明示例实验室", "", "Laboratory", "Provincial", "Under construction", "", "2021/3/5", "",
         "光明区", "RF-INFO", ""],
        ["IMP-003", "光明示例园区", "", "science_park", "", "", "", "", "", "", "", ""],
    ]


def snapshot_counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "people": Person.objects.count(),
        "affiliations": Affiliation.objects.count(),
        "audit": AuditEvent.objects.count(),
    }
