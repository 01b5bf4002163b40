"""Bulk import of achievements and demands: CSV, JSONL and Excel; dry run; per-row errors; atomic."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.utils import translation

from sciencecity.core.importing import ImportRejected
from sciencecity.core.models import AuditEvent
from sciencecity.transfer import importers
from sciencecity.transfer.models import Achievement, TechDemand
from sciencecity.transfer.services import matching
from tests.conftest import make_organisation

pytestmark = pytest.mark.django_db

ACHIEVEMENT_CSV = """code,owner,title,abstract,sectors,trl,modes,keywords
A-1,UNI-1,硅碳负极材料,锂离子电池硅碳负极材料,IND-BATTERY,6,licence; assignment,负极
A-2,UNI-1,机器视觉检测,表面缺陷检测相机,IND-AI; HT-1,7,许可,视觉
"""


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def owners(db):
    return make_organisation(code="UNI-1", kind="university"), make_organisation(code="ENT-1")


def _run(text: str, *, kind: str, dry: bool = False, name: str = "listings.csv"):
    return importers.import_listings(content=text.encode(), file_name=name, kind=kind, actor=None, dry=dry)


def _errors(report):
    return [(r.row, r.field, r.code) for r in report.results if r.status == "error"]


def test_csv_import_creates_then_leaves_unchanged(owners):
    report = _run(ACHIEVEMENT_CSV, kind="achievements")
    assert report.counts["created"] == 2 and not report.has_errors
    first = Achievement.objects.get(code="A-1")
    assert (first.owner, first.trl, first.modes) == (owners[0], 6, ["licence", "assignment"])
    assert sorted(Achievement.objects.get(code="A-2").sectors.values_list("code", flat=True)) == ["HT-1", "IND-AI"]
    assert AuditEvent.objects.filter(object_type="transfer.achievement", action="create").count() == 2
    again = _run(ACHIEVEMENT_CSV, kind="achievements")
    assert again.counts["unchanged"] == 2
    assert [r.id for r in matching.search("负极", restrict_visibility=False)] == [first.pk]


def test_dry_run_writes_nothing(owners):
    report = _run(ACHIEVEMENT_CSV, kind="achievements", dry=True)
    assert report.counts["created"] == 2
    assert Achievement.objects.count() == 0


def test_bad_demand_rows_are_reported_per_row_and_nothing_is_written(owners):
    text = ("code,enterprise,title,public_summary,sectors,budget_min,budget_max\n"
            "D-1,ENT-1,,寻找负极材料,IND-BATTERY,10,20\n"
            "D-2,ENT-1,传感器,土壤传感器,NOPE-9,,\n"
            "D-3,ENT-1,涂料,散热涂料,,-5,10\n"
            "D-4,ENT-1,好需求,完全正确的一行,,,\n"
            "D-4,ENT-1,重复,编号重复,,,\n")
    with pytest.raises(ImportRejected) as rejected:
        _run(text, kind="demands")
    assert _errors(rejected.value.report) == [
        (2, "Title", "required"), (3, "Fields", "unknown_reference"), (4, "Budget from", "invalid_value"),
        (6, "Code", "duplicate_in_file"),
    ]
    messages = [r.message for r in rejected.value.report.results if r.status == "error"]
    assert messages[0] == "Row 2, Title: a value is required."
    assert messages[1] == "Row 3, Fields: no field matches “NOPE-9”."
    assert messages[2] == "Row 4, Budget from: “-5”: an amount cannot be negative."
    assert messages[3] == ("Row 6, Code: “D-4” already appears in row 5; each value of this column may appear "
                           "only once in a file.")
    assert TechDemand.objects.count() == 0
    assert not AuditEvent.objects.filter(object_type="transfer.techdemand").exists()


def test_jsonl_import_numbers_lines(owners):
    lines = [
        {"code": "D-1", "organisation": "ENT-1", "title": "负极", "public_summary": "负极材料", "modes": ["licence"],
         "confidential": True, "description": "详细"},
        {"code": "D-2", "organisation": "ENT-X", "title": "x", "public_summary": "y"},
    ]
    content = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
    report = _run(content, kind="demands", dry=True, name="demands.jsonl")
    assert _errors(report) == [(3, "Enterprise", "unknown_reference")]
    assert importers.line_number("demands.jsonl", 3) == 2
    lines.pop()
    _run("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), kind="demands", name="demands.jsonl")
    demand = TechDemand.objects.get()
    assert (demand.confidential, demand.modes, demand.description) == (True, ["licence"], "详细")


def test_excel_import(owners):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "成果"
    rows = [line.split(",") for line in ACHIEVEMENT_CSV.strip().splitlines()]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = importers.import_listings(content=buffer.getvalue(), file_name="a.xlsx", kind="achievements",
                                       actor=None, dry=False)
    assert report.counts["created"] == 2
    assert Achievement.objects.get(code="A-2").modes == ["licence"]
