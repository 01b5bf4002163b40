"""Import of organisations: dry run, confirm, idempotency and every kind of bad input.

In each failure case nothing is written: organisations and audit events are counted before and after.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from sciencecity.core.importing import (
    ConfirmRefused,
    ImportRejected,
    apply,
    dry_run,
    import_batch_confirm,
    import_batch_create,
)
from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch, ImportStatus
from sciencecity.registry.importers import OrganisationImporter
from sciencecity.registry.models import Organisation
from tests.conftest import make_organisation
from tests.registry.import_helpers import (
    ORG_HEADERS,
    credit_code,
    csv_bytes,
    org_rows,
    snapshot_counts,
    xlsx_bytes,
)


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English (the msgids), so the translation pass cannot break these tests."""
    with translation.override("en"):
        yield


def run(content: bytes, actor, name: str = "orgs.xlsx"):
    return dry_run(OrganisationImporter(), content=content, file_name=name, actor=actor)


def errors(report):
    return [r for r in report.results if r.is_error]


def test_dry_run_reports_created_and_writes_nothing(bureau):
    before = snapshot_counts()
    report = run(xlsx_bytes(org_rows()), bureau)
    assert not report.has_errors
    assert [(r.row, r.status, r.key) for r in report.results] == [
        (2, "created", "IMP-001"), (3, "created", "IMP-002"), (4, "created", "IMP-003"),
    ]
    assert report.counts["created"] == 3
    assert snapshot_counts() == before


def test_confirm_creates_rows_with_audit_and_import_event(bureau):
    batch = import_batch_create(importer=OrganisationImporter(), file_name="orgs.xlsx",
                                content=xlsx_bytes(org_rows()), actor=bureau)
    assert batch.status == ImportStatus.DRY_RUN and batch.created_count == 3
    assert len(batch.sha256) == 64 and bytes(batch.content)[:2] == b"PK"
    before = snapshot_counts()
    report = import_batch_confirm(batch=batch, actor=bureau)
    assert report.counts["created"] == 3
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CONFIRMED and batch.confirmed_at is not None

    org = Organisation.objects.get(code="IMP-001")
    assert org.credit_code == credit_code("MA5G00001")
    assert (org.kind, org.level, org.status, org.founded_on) == ("enterprise", "municipal", "operating",
                                                                 dt.date(2019, 6, 18))
    assert sorted(org.sectors.values_list("code", flat=True)) == ["HT-1", "IND-AI"]
    assert list(org.aliases.values_list("name", flat=True)) == ["示例科技"]
    lab = Organisation.objects.get(code="IMP-002")
    assert (lab.kind, lab.level, lab.status, lab.founded_on) == ("laboratory", "provincial", "under_construction",
                                                                 dt.date(2021, 3, 5))
    park = Organisation.objects.get(code="IMP-003")
    assert (park.level, park.status, park.credit_code) == ("none", "operating", None)

    assert snapshot_counts()["organisations"] == before["organisations"] + 3
    # One audit event for the whole import (not one per row), naming every record it created.
    assert snapshot_counts()["audit"] == before["audit"] + 1
    assert not AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="registry.organisation").exists()
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.actor == bureau and event.object_id == str(batch.pk)
    assert event.changes["created"] == 3 and event.changes["updated"] == 0 and event.changes["file"] == "orgs.xlsx"
    assert event.changes["sha256"] == batch.sha256
    assert event.changes["rows"] == [[2, "created", org.pk, "IMP-001"], [3, "created", lab.pk, "IMP-002"],
                                     [4, "created", park.pk, "IMP-003"]]


def test_reimport_is_all_unchanged_and_writes_nothing(bureau):
    content = xlsx_bytes(org_rows())
    apply(OrganisationImporter(), content=content, file_name="orgs.xlsx", actor=bureau)
    before = snapshot_counts()
    report = run(content, bureau)
    assert [r.status for r in report.results] == ["unchanged"] * 3
    applied = apply(OrganisationImporter(), content=content, file_name="orgs.xlsx", actor=bureau)
    assert applied.counts["unchanged"] == 3 and applied.counts["created"] == applied.counts["updated"] == 0
    assert snapshot_counts() == before


def test_updated_row_reports_the_changed_fields(bureau):
    apply(OrganisationImporter(), content=xlsx_bytes(org_rows()), file_name="a.xlsx", actor=bureau)
    rows = org_rows()
    rows[2][4] = "national"
    rows[2][10] = "RF-INFO; IND-AI"
    rows[3][1] = "光明示例园区（更名）"
    report = apply(OrganisationImporter(), content=xlsx_bytes(rows), file_name="b.xlsx", actor=bureau)
    by_row = {r.row: r for r in report.results}
    assert by_row[2].status == "unchanged"
    assert by_row[3].status == "updated"
    assert by_row[3].changes == {"level": ["provincial", "national"], "sectors": [["RF-INFO"], ["IND-AI", "RF-INFO"]]}
    assert by_row[4].changes == {"name": ["光明示例园区", "光明示例园区（更名）"]}
    lab = Organisation.objects.get(code="IMP-002")
    assert lab.level == "national"
    assert sorted(lab.sectors.values_list("code", flat=True)) == ["IND-AI", "RF-INFO"]
    park = Organisation.objects.get(code="IMP-003")
    event = AuditEvent.objects.filter(action=AuditAction.IMPORT).latest("pk")
    assert event.actor == bureau and event.object_type == "registry.organisation"
    assert (event.changes["created"], event.changes["updated"], event.changes["unchanged"]) == (0, 2, 1)
    [lab_line, park_line] = event.changes["rows"]
    assert lab_line[:4] == [3, "updated", lab.pk, "IMP-002"] and lab_line[4]["level"] == ["provincial", "national"]
    assert park_line == [4, "updated", park.pk, "IMP-003", {"name": ["光明示例园区", "光明示例园区（更名）"]}]


def test_matching_prefers_credit_code_then_code(bureau):
    existing = make_organisation(code="OLD-7", name="旧名称", credit_code=credit_code("MA5G00001"))
    rows = org_rows()[:2]
    rows[1][0] = ""  # no code: matched on the credit code
    report = apply(OrganisationImporter(), content=xlsx_bytes(rows), file_name="a.xlsx", actor=bureau)
    assert report.results[0].status == "updated"
    existing.refresh_from_db()
    assert existing.name == "光明示例科技有限公司" and existing.code == "OLD-7"


def test_credit_code_of_another_record_with_a_different_code_is_a_conflict(bureau):
    make_organisation(code="OLD-7", credit_code=credit_code("MA5G00001"))
    before = snapshot_counts()
    report = run(xlsx_bytes(org_rows()), bureau)
    [error] = errors(report)
    assert (error.row, error.code, error.field) == (2, "key_conflict", "Code")
    assert "OLD-7" in error.message and "IMP-001" in error.message
    assert snapshot_counts() == before


def test_a_row_without_code_and_credit_code_is_an_error(bureau):
    rows = org_rows()[:2]
    rows[1][0] = ""
    rows[1][6] = ""
    [error] = errors(run(xlsx_bytes(rows), bureau))
    assert (error.row, error.code) == (2, "key_required")
    assert "Code" in error.message and "Unified social credit code" in error.message


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("91440300MA5G0000", "18"),  # wrong length
        ("91440300MA5G0000IX", "I"),  # forbidden character (I and O are not used)
        (credit_code("MA5G00001")[:17] + ("0" if credit_code("MA5G00001")[17] != "0" else "1"), "expected"),
    ],
    ids=["wrong-length", "forbidden-character", "wrong-check-character"],
)
def test_malformed_credit_codes_name_row_and_field_and_write_nothing(bureau, value, detail):
    rows = org_rows()
    rows[3][6] = value
    before = snapshot_counts()
    report = run(xlsx_bytes(rows), bureau)
    [error] = errors(report)
    assert (error.row, error.code, error.field, error.key) == (4, "invalid_credit_code", "Unified social credit code",
                                                              "IMP-003")
    assert error.message.startswith("Row 4, Unified social credit code: ")
    assert value in error.message and detail in error.message
    assert report.counts["error"] == 1 and report.counts["created"] == 2
    with pytest.raises(ImportRejected) as rejected:
        apply(OrganisationImporter(), content=xlsx_bytes(rows), file_name="x.xlsx", actor=bureau)
    assert rejected.value.report.counts["error"] == 1
    assert snapshot_counts() == before


def test_wrong_headers_name_the_missing_columns(bureau):
    rows = [["编号", "机构", "分类"], ["A", "某机构", "enterprise"]]
    before = snapshot_counts()
    report = run(xlsx_bytes(rows), bureau)
    codes = [(r.row, r.code, r.status) for r in report.results]
    assert codes == [(None, "missing_header", "error"), (None, "unknown_header", "warning")]
    missing = report.results[0].message
    assert "名称* / Name" in missing and "类型* / Kind" in missing
    assert "编号、机构、分类" in missing  # the headers that were found
    assert "编号" in report.results[1].message
    assert snapshot_counts() == before


def test_unknown_kind_names_the_value_and_the_row(bureau):
    rows = org_rows()
    rows[2][3] = "宇宙飞船"
    before = snapshot_counts()
    [error] = errors(run(xlsx_bytes(rows), bureau))
    assert (error.row, error.code, error.field) == (3, "invalid_choice", "Kind")
    assert error.message.startswith("Row 3, Kind: “宇宙飞船” is not an allowed value; use one of: ")
    assert "Enterprise" in error.message and "Laboratory" in error.message
    with pytest.raises(ImportRejected):
        apply(OrganisationImporter(), content=xlsx_bytes(rows), file_name="x.xlsx", actor=bureau)
    assert snapshot_counts() == before


def test_non_excel_file_renamed_xlsx_gets_a_file_level_message(bureau):
    before = snapshot_counts()
    report = run(b"%PDF-1.4 this is not a workbook", bureau, name="registry.xlsx")
    [issue] = report.results
    assert (issue.row, issue.code, issue.status) == (None, "file_not_readable", "error")
    assert "registry.xlsx" in issue.message and ".xlsx" in issue.message
    # A zip that is not a workbook is no better.
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert run(buffer.getvalue(), bureau).results[0].code == "file_not_readable"
    with pytest.raises(ImportRejected):
        apply(OrganisationImporter(), content=b"not a workbook", file_name="r.xlsx", actor=bureau)
    assert snapshot_counts() == before


def test_other_file_level_problems(bureau, settings):
    assert run(b"x", bureau, name="old.xls").results[0].code == "unsupported_file_type"
    assert run(xlsx_bytes([ORG_HEADERS]), bureau).results[0].code == "empty_file"
    settings.IMPORT_MAX_BYTES = 100
    [issue] = run(xlsx_bytes(org_rows()), bureau).results
    assert issue.code == "file_too_large"


def test_duplicate_keys_in_the_file(bureau):
    rows = org_rows()
    rows.append(list(rows[2]))  # IMP-002 again in row 5
    rows.append(list(rows[1]))  # same credit code (and code) as row 2, in row 6
    rows[5][0] = "IMP-009"
    before = snapshot_counts()
    report = run(xlsx_bytes(rows), bureau)
    found = [(r.row, r.code, r.field) for r in errors(report)]
    assert found == [(5, "duplicate_in_file", "Code"), (6, "duplicate_in_file", "Unified social credit code")]
    assert "already appears in row 3" in errors(report)[0].message
    assert "already appears in row 2" in errors(report)[1].message
    assert snapshot_counts() == before


def test_cell_level_problems(bureau):
    rows = org_rows()
    rows[1][7] = "2019-13-45"
    rows[2][10] = "NO-SUCH-SECTOR"
    rows[3][1] = "名" * 201
    report = run(xlsx_bytes(rows), bureau)
    assert [(r.row, r.code, r.field) for r in errors(report)] == [
        (2, "invalid_date", "Founded on"), (3, "unknown_reference", "Sectors"), (4, "too_long", "Name"),
    ]


def test_model_validation_errors_are_row_errors(bureau):
    rows = [["编码", "名称", "类型", "网站"], ["W-1", "网站错误", "enterprise", "not a url"]]
    [error] = errors(run(xlsx_bytes(rows), bureau))
    assert (error.row, error.code, error.field) == (2, "invalid_value", "Website")


def test_sectors_by_name_and_ambiguous_name(bureau):
    rows = [["编码", "名称", "类型", "领域"], ["S-1", "甲", "enterprise", "人工智能、Graphene"],
            ["S-2", "乙", "enterprise", "新材料"]]
    report = run(xlsx_bytes(rows), bureau)
    [error] = errors(report)
    assert (error.row, error.code) == (3, "ambiguous_reference")
    assert "HT-4" in error.message and "IND-MATERIAL" in error.message
    rows.pop()
    apply(OrganisationImporter(), content=xlsx_bytes(rows), file_name="s.xlsx", actor=bureau)
    assert sorted(Organisation.objects.get(code="S-1").sectors.values_list("code", flat=True)) == [
        "IND-AI", "IND-GRAPHENE"]


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8-sig", ","), ("utf-8", ";"), ("gb18030", "\t")])
def test_csv_in_utf8_bom_and_gb18030(bureau, encoding, delimiter):
    content = csv_bytes(org_rows(), encoding=encoding, delimiter=delimiter)
    report = apply(OrganisationImporter(), content=content, file_name="orgs.csv", actor=bureau)
    assert report.counts["created"] == 3 and not report.has_errors
    assert Organisation.objects.get(code="IMP-001").name == "光明示例科技有限公司"
    assert Organisation.objects.get(code="IMP-002").founded_on == dt.date(2021, 3, 5)
    assert run(content, bureau, name="orgs.csv").counts["unchanged"] == 3


def test_csv_that_is_not_text(bureau):
    [issue] = run(b"\x00\x01\x02\xff\xfe\x00", bureau, name="orgs.csv").results
    assert issue.code == "file_encoding"


def test_workbook_picks_the_sheet_with_the_headers(bureau):
    content = xlsx_bytes(org_rows(), sheet="Sheet9", extra_sheets={"封面": [["说明文字"], ["无关"]]})
    report = run(content, bureau)
    assert report.sheet == "Sheet9" and report.counts["created"] == 3


def test_confirm_is_refused_when_the_report_has_errors(bureau):
    rows = org_rows()
    rows[2][3] = "宇宙飞船"
    batch = import_batch_create(importer=OrganisationImporter(), file_name="bad.xlsx", content=xlsx_bytes(rows),
                                actor=bureau)
    assert batch.status == ImportStatus.REJECTED and batch.error_count == 1
    before = snapshot_counts()
    with pytest.raises(ConfirmRefused):
        import_batch_confirm(batch=batch, actor=bureau)
    assert snapshot_counts() == before


def test_confirm_is_atomic_when_the_data_changed_after_the_dry_run(bureau):
    batch = import_batch_create(importer=OrganisationImporter(), file_name="orgs.xlsx",
                                content=xlsx_bytes(org_rows()), actor=bureau)
    assert batch.status == ImportStatus.DRY_RUN
    make_organisation(code="SOMEONE-ELSE", credit_code=credit_code("MA5G00001"))  # row 2 now conflicts
    before = snapshot_counts()
    with pytest.raises(ImportRejected):
        import_batch_confirm(batch=batch, actor=bureau)
    assert snapshot_counts() == before
    assert not Organisation.objects.filter(code__in=["IMP-002", "IMP-003"]).exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and batch.error_count == 1
    with pytest.raises(ConfirmRefused):
        import_batch_confirm(batch=batch, actor=bureau)


def test_confirm_twice_is_refused(bureau):
    batch = import_batch_create(importer=OrganisationImporter(), file_name="orgs.xlsx",
                                content=xlsx_bytes(org_rows()), actor=bureau)
    import_batch_confirm(batch=batch, actor=bureau)
    stale = ImportBatch.objects.get(pk=batch.pk)
    stale.status = ImportStatus.DRY_RUN  # a second tab that still shows the dry run
    before = snapshot_counts()
    with pytest.raises(ConfirmRefused):
        import_batch_confirm(batch=stale, actor=bureau)
    assert snapshot_counts() == before


def test_formula_prefix_round_trip(bureau):
    rows = [["编码", "名称", "类型", "关键词"], ["F-1", "公式机构", "enterprise", "'=1+1"]]
    apply(OrganisationImporter(), content=xlsx_bytes(rows), file_name="f.xlsx", actor=bureau)
    assert Organisation.objects.get(code="F-1").keywords == "=1+1"
