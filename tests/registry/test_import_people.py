"""Import of people: created, affiliated, matched on code, references to organisations."""

from __future__ import annotations

import pytest
from django.utils import translation

from sciencecity.core.importing import apply, dry_run
from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.registry.importers import PersonImporter
from sciencecity.registry.models import Affiliation, Person
from tests.conftest import make_organisation
from tests.registry.import_helpers import PERSON_HEADERS, credit_code, snapshot_counts, xlsx_bytes


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def orgs(db):
    return {
        "lab": make_organisation(code="LAB-1", name="光明实验室", kind="laboratory"),
        "company": make_organisation(code="CO-1", name="示例公司", credit_code=credit_code("MA5G00002")),
    }


def people_rows():
    return [
        PERSON_HEADERS,
        ["P-1", "张三", "researcher; Expert", "研究员", "zhang@example.org", "机器视觉、传感器", "LAB-1", "首席科学家"],
        ["P-2", "李四", "", "", "", "", credit_code("MA5G00002"), "工程师"],
        ["P-3", "王五", "entrepreneur", "", "", "", "光明实验室", ""],
    ]


def run(rows, actor, commit=False):
    return (apply if commit else dry_run)(PersonImporter(), content=xlsx_bytes(rows, sheet="人员"),
                                         file_name="people.xlsx", actor=actor)


def test_people_are_created_with_affiliations(bureau, orgs):
    before = snapshot_counts()
    assert run(people_rows(), bureau).counts["created"] == 3
    assert snapshot_counts() == before
    report = run(people_rows(), bureau, commit=True)
    assert [r.status for r in report.results] == ["created"] * 3
    zhang = Person.objects.get(code="P-1")
    assert zhang.categories == ["researcher", "expert"] and zhang.expertise == ["机器视觉", "传感器"]
    assert (zhang.title, zhang.email) == ("研究员", "zhang@example.org")
    [aff] = zhang.affiliations.all()
    assert (aff.organisation, aff.position, aff.is_primary) == (orgs["lab"], "首席科学家", True)
    assert Affiliation.objects.get(person__code="P-2").organisation == orgs["company"]
    assert Affiliation.objects.get(person__code="P-3").organisation == orgs["lab"]
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="registry.affiliation").count() == 3


def test_people_reimport_is_unchanged_and_a_new_affiliation_is_an_update(bureau, orgs):
    run(people_rows(), bureau, commit=True)
    before = snapshot_counts()
    assert [r.status for r in run(people_rows(), bureau, commit=True).results] == ["unchanged"] * 3
    assert snapshot_counts() == before
    rows = people_rows()
    rows[2][6] = "LAB-1"
    rows[1][3] = "高级研究员"
    report = run(rows, bureau, commit=True)
    by_row = {r.row: r for r in report.results}
    assert by_row[2].changes == {"title": ["研究员", "高级研究员"]}
    assert by_row[3].status == "updated" and list(by_row[3].changes) == ["affiliation"]
    assert Affiliation.objects.filter(person__code="P-2").count() == 2


def test_unknown_and_ambiguous_organisation_and_bad_email(bureau, orgs):
    make_organisation(code="DUP-1", name="同名机构")
    make_organisation(code="DUP-2", name="同名机构")
    rows = people_rows()
    rows[1][6] = "不存在的机构"
    rows[2][6] = "同名机构"
    rows[3][4] = "not-an-email"
    rows[3][2] = "astronaut"
    before = snapshot_counts()
    report = run(rows, bureau)
    found = [(r.row, r.code, r.field) for r in report.results if r.is_error]
    assert found == [(2, "unknown_reference", "Organisation"), (3, "ambiguous_reference", "Organisation"),
                     (4, "invalid_choice", "Categories")]
    assert "不存在的机构" in report.results[0].message
    assert "DUP-1" in report.results[1].message and "DUP-2" in report.results[1].message
    rows[3][2] = ""
    report = run(rows, bureau)
    assert [(r.row, r.code, r.field) for r in report.results if r.row == 4] == [(4, "invalid_value", "Email")]
    assert snapshot_counts() == before


def test_person_code_is_required(bureau, orgs):
    rows = people_rows()
    rows[1][0] = ""
    [error] = [r for r in run(rows, bureau).results if r.is_error]
    assert (error.row, error.code, error.field) == (2, "required", "Code")
    assert error.message == "Row 2, Code: a value is required."
