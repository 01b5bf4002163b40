"""The downloadable import templates: instructions sheet, protected header, drop-down lists."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from sciencecity.core.excel import TEMPLATE_DATA_ROWS, template_workbook
from sciencecity.core.importing import apply, choice_labels
from sciencecity.registry.choices import Level, OrganisationKind, OrganisationStatus
from sciencecity.registry.importers import OrganisationImporter, PersonImporter
from sciencecity.registry.models import Organisation
from tests.registry.import_helpers import snapshot_counts


def load(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def test_organisation_template_sheets_protection_and_validations(db):
    workbook = load(template_workbook(OrganisationImporter()))
    assert workbook.sheetnames == ["说明", "机构", "选项"]
    assert workbook.active.title == "机构"
    data = workbook["机构"]
    headers = [c.value for c in data[1]]
    assert headers[:4] == ["编码 / Code", "名称* / Name", "英文名称 / English name", "类型* / Kind"]
    assert "统一社会信用代码 / Unified social credit code" in headers
    assert all(c.font.bold for c in data[1])
    assert data.freeze_panes == "A2"
    assert data.protection.sheet is True
    assert all(c.protection.locked for c in data[1])
    assert not data.cell(row=2, column=1).protection.locked
    assert not data.cell(row=TEMPLATE_DATA_ROWS, column=len(headers)).protection.locked
    assert data.max_row == TEMPLATE_DATA_ROWS and data.cell(row=2, column=1).value is None  # no example data

    lists = workbook["选项"]
    assert lists.sheet_state == "hidden"
    validations = {str(v.sqref): v for v in data.data_validations.dataValidation}
    kind_col, level_col, status_col = (openpyxl.utils.get_column_letter(headers.index(h) + 1)
                                       for h in ("类型* / Kind", "级别 / Level", "状态 / Status"))
    assert set(validations) == {f"{kind_col}2:{kind_col}{TEMPLATE_DATA_ROWS}",
                                f"{level_col}2:{level_col}{TEMPLATE_DATA_ROWS}",
                                f"{status_col}2:{status_col}{TEMPLATE_DATA_ROWS}"}
    for col, choices in ((kind_col, OrganisationKind), (level_col, Level), (status_col, OrganisationStatus)):
        validation = validations[f"{col}2:{col}{TEMPLATE_DATA_ROWS}"]
        assert validation.type == "list"
        sheet_ref, cells = validation.formula1.split("!")
        first, last = cells.replace("$", "").split(":")
        values = [c.value for c in lists[first:last] for c in c]
        assert values == choice_labels(choices.choices, "zh-hans")

    guide = workbook["说明"]
    text = "\n".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    assert "YYYY-MM-DD" in text and "Required" in text and "统一社会信用代码" in text
    rows = [[c.value for c in row] for row in guide.iter_rows()]
    header_row = next(i for i, r in enumerate(rows) if r[0] == "名称* / Name" or r[1] == "名称* / Name")
    example = rows[header_row + 1]
    assert example[headers.index("名称* / Name")] == "深圳市光明示例科技有限公司"


def test_template_example_row_is_importable(bureau):
    """The example row, pasted into the data sheet, imports cleanly (its credit code is made valid)."""
    workbook = load(template_workbook(OrganisationImporter()))
    guide = [[c.value for c in row] for row in workbook["说明"].iter_rows()]
    index = next(i for i, r in enumerate(guide) if r and r[1] == "名称* / Name")
    headers, example = guide[index], guide[index + 1]
    example[headers.index("统一社会信用代码 / Unified social credit code")] = ""
    data = workbook["机构"]
    for column, value in enumerate(example, start=1):
        data.cell(row=2, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with translation.override("en"):
        report = apply(OrganisationImporter(), content=buffer.getvalue(), file_name="t.xlsx", actor=bureau)
    assert report.counts["created"] == 1, report.results
    assert Organisation.objects.get(code="ORG-GM-0001").level == "municipal"


def test_empty_template_imports_as_empty_file(bureau):
    before = snapshot_counts()
    with translation.override("en"):
        from sciencecity.core.importing import dry_run

        report = dry_run(OrganisationImporter(), content=template_workbook(OrganisationImporter()),
                         file_name="t.xlsx", actor=bureau)
    assert [r.code for r in report.results] == ["empty_file"]
    assert snapshot_counts() == before


def test_person_template(db):
    workbook = load(template_workbook(PersonImporter()))
    assert workbook.sheetnames == ["说明", "人员", "选项"]
    headers = [c.value for c in workbook["人员"][1]]
    assert headers[0] == "编码* / Code" and "所在机构 / Organisation" in headers


@pytest.mark.parametrize("kind", ["organisations", "people"])
def test_template_download(client, bureau, kind):
    client.force_login(bureau)
    response = client.get(reverse("registry:import_template", args=[kind]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"{kind}-template.xlsx" in response["Content-Disposition"]
    assert "说明" in load(response.content).sheetnames


def test_template_unknown_kind_is_404(client, bureau):
    client.force_login(bureau)
    assert client.get(reverse("registry:import_template", args=["planets"])).status_code == 404
