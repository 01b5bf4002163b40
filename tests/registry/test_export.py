"""Export of the registry: same columns as the import template, filters, audit, streaming speed."""

from __future__ import annotations

import datetime as dt
import io
import time

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from sciencecity.accounts.choices import Role
from sciencecity.core.importing import apply, dry_run
from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.registry.importers import OrganisationImporter, PersonImporter
from sciencecity.registry.models import Affiliation, Organisation, Sector
from sciencecity.registry.services import organisation_search_text
from tests.conftest import make_organisation, make_person, make_user
from tests.registry.import_helpers import credit_code, org_rows, snapshot_counts, xlsx_bytes


@pytest.fixture
def officer_client(client, bureau, reauthenticate):
    """The bureau officer, logged in and re-authenticated (exports need sudo mode)."""
    client.force_login(bureau)
    return reauthenticate(bureau)


@pytest.fixture
def registry(bureau):
    """Organisations and people with every exported field set, including tricky values."""
    with translation.override("en"):
        apply(OrganisationImporter(), content=xlsx_bytes(org_rows()), file_name="seed.xlsx", actor=bureau)
    org = Organisation.objects.get(code="IMP-001")
    org.description = "第一行\n第二行, with a comma; and \"quotes\""
    org.keywords = "=SUM(A1)"
    org.website = "https://example.cn/a?b=1"
    org.save()
    person = make_person(code="P-1", name="张三", categories=["researcher", "expert"], expertise=["机器视觉", "传感器"],
                         title="研究员", email="z@example.org", phone="+86 755 1234")
    Affiliation.objects.create(person=person, organisation=org, position="主任", is_primary=True)
    make_person(code="P-2", name="李四")
    return org


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("export_format", ["xlsx", "csv"])
def test_organisation_export_reimports_unchanged(officer_client, bureau, registry, export_format):
    response = officer_client.get(reverse("registry:organisation_export"), {"format": export_format})
    assert response.status_code == 200
    content = _body(response)
    before = snapshot_counts()
    with translation.override("en"):
        report = dry_run(OrganisationImporter(), content=content, file_name=f"export.{export_format}", actor=bureau)
    assert not report.has_errors, report.results
    statuses = {r.key: r.status for r in report.results}
    assert statuses == {code: "unchanged" for code in Organisation.objects.values_list("code", flat=True)}
    assert snapshot_counts() == before


@pytest.mark.parametrize("export_format", ["xlsx", "csv"])
def test_person_export_reimports_unchanged(officer_client, bureau, registry, export_format):
    content = _body(officer_client.get(reverse("registry:person_export"), {"format": export_format}))
    with translation.override("en"):
        report = dry_run(PersonImporter(), content=content, file_name=f"people.{export_format}", actor=bureau)
    assert [(r.key, r.status) for r in report.results] == [("P-1", "unchanged"), ("P-2", "unchanged")]


def test_xlsx_export_has_the_template_headers_and_values(officer_client, registry):
    response = officer_client.get(reverse("registry:organisation_export"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"organisations-{dt.date.today():%Y%m%d}.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(_body(response))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == [c.header_text() for c in OrganisationImporter().columns]
    first = dict(zip(rows[0], next(r for r in rows if r[0] == "IMP-001"), strict=True))
    assert first["编码 / Code"] == "IMP-001"
    assert first["统一社会信用代码 / Unified social credit code"] == credit_code("MA5G00001")
    assert first["成立日期 / Founded on"] == dt.datetime(2019, 6, 18)
    assert first["领域 / Sectors"] == "HT-1; IND-AI"
    assert first["关键词 / Keywords"] == "'=SUM(A1)"  # never a live formula
    assert sheet["A2"].data_type == "s"


def test_export_filters_and_audit(officer_client, bureau, registry):
    response = officer_client.get(reverse("registry:organisation_export"),
                                  {"format": "csv", "kind": "laboratory", "q": "光明", "page": "2"})
    text = _body(response).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("IMP-002,")
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert event.actor == bureau and event.object_type == "registry.organisation"
    assert event.changes == {"filters": {"q": "光明", "kind": "laboratory"}, "format": "csv", "rows": 1}


def test_person_export_filters(officer_client, registry):
    text = _body(officer_client.get(reverse("registry:person_export"),
                                    {"format": "csv", "category": "expert"})).decode("utf-8-sig")
    assert [line.split(",")[0] for line in text.strip().splitlines()[1:]] == ["P-1"]


def test_department_officer_may_export(client, reauthenticate, registry):
    officer = make_user(Role.DEPARTMENT_OFFICER, make_organisation(kind="government_department"))
    client.force_login(officer)
    response = client.get(reverse("registry:organisation_export"), {"format": "csv"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauthenticate"))
    reauthenticate(officer)
    response = client.get(reverse("registry:organisation_export"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_unknown_format_is_a_bad_request(officer_client):
    assert officer_client.get(reverse("registry:organisation_export"), {"format": "pdf"}).status_code == 400
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("export_format", ["xlsx", "csv"])
def test_twenty_thousand_rows_export_in_a_few_seconds(officer_client, db, export_format):
    sector = Sector.objects.get(code="IND-AI")
    orgs = []
    for n in range(20_000):
        org = Organisation(code=f"BULK-{n:05d}", name=f"批量机构{n}", kind="enterprise", district="光明区",
                           description="描述" * 10, founded_on=dt.date(2020, 1, 1))
        org.search_text = organisation_search_text(org)
        orgs.append(org)
    Organisation.objects.bulk_create(orgs, batch_size=2000)
    through = Organisation.sectors.through
    through.objects.bulk_create([through(organisation_id=pk, sector_id=sector.pk)
                                 for pk in Organisation.objects.values_list("pk", flat=True)[:5000]])
    started = time.process_time()  # CPU time: other processes on the machine do not make it flaky
    response = officer_client.get(reverse("registry:organisation_export"), {"format": export_format})
    content = _body(response)
    elapsed = time.process_time() - started
    assert response.status_code == 200
    if export_format == "csv":
        assert content.decode("utf-8-sig").count("\n") == 1 + Organisation.objects.count() == 20_002
    print(f"export of 20,000 rows as {export_format}: {elapsed:.2f} s")
    assert elapsed < 8, f"export of 20,000 rows took {elapsed:.1f} s"
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert event.changes["rows"] == 20_001  # and the bureau itself
