"""Import pages: upload → dry-run report → confirm, and the permission matrix of the import and export pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch, ImportStatus
from sciencecity.registry.models import Organisation
from tests.conftest import make_organisation, make_user
from tests.registry.import_helpers import org_rows, snapshot_counts, xlsx_bytes


@pytest.fixture
def officer_client(client, bureau):
    client.force_login(bureau)
    client.cookies["django_language"] = "en"
    return client


def upload(client, content: bytes, name: str = "orgs.xlsx", url_name: str = "registry:organisation_import"):
    return client.post(reverse(url_name), {"file": SimpleUploadedFile(name, content)})


def test_upload_page_links_the_template(officer_client):
    response = officer_client.get(reverse("registry:organisation_import"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("registry:import_template", args=["organisations"]) in html
    assert 'data-testid="import-upload"' in html and 'type="file"' in html


def test_upload_dry_run_then_confirm(officer_client, bureau):
    before = snapshot_counts()
    response = upload(officer_client, xlsx_bytes(org_rows()))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("registry:import_batch_detail",
                                                                           args=[batch.pk])
    assert snapshot_counts() == before  # the dry run wrote nothing
    page = officer_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="count-created">3<' in html and 'data-testid="import-confirm"' in html
    assert "IMP-002" in html

    response = officer_client.post(reverse("registry:import_batch_detail", args=[batch.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("registry:organisation_list")
    assert Organisation.objects.filter(code__startswith="IMP-").count() == 3
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CONFIRMED
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, actor=bureau).count() == 1
    follow = officer_client.get(response["Location"])
    assert "Import confirmed: 3 created, 0 updated, 0 unchanged." in follow.content.decode()

    # The same file again: every row unchanged, and nothing is written on confirm but the import event.
    upload(officer_client, xlsx_bytes(org_rows()))
    again = ImportBatch.objects.order_by("-pk").first()
    assert (again.unchanged_count, again.created_count, again.updated_count) == (3, 0, 0)
    before = snapshot_counts()
    officer_client.post(reverse("registry:import_batch_detail", args=[again.pk]))
    after = snapshot_counts()
    assert after == {**before, "audit": before["audit"] + 1}
    assert AuditEvent.objects.order_by("-pk").first().action == AuditAction.IMPORT


def test_report_with_errors_has_no_confirm_and_confirm_is_refused(officer_client):
    rows = org_rows()
    rows[2][3] = "宇宙飞船"
    upload(officer_client, xlsx_bytes(rows))
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.REJECTED
    html = officer_client.get(reverse("registry:import_batch_detail", args=[batch.pk])).content.decode()
    assert 'data-testid="import-confirm"' not in html
    assert 'class="row-error"' in html and "宇宙飞船" in html and "invalid_choice" in html
    before = snapshot_counts()
    response = officer_client.post(reverse("registry:import_batch_detail", args=[batch.pk]), follow=True)
    assert "Only an import whose dry run has no errors can be confirmed." in response.content.decode()
    assert snapshot_counts() == before


def test_non_excel_file_shows_a_file_level_message(officer_client):
    before = snapshot_counts()
    response = upload(officer_client, b"just some text, not a workbook", name="organisations.xlsx")
    html = officer_client.get(response["Location"]).content.decode()
    assert "is not a valid Excel .xlsx workbook" in html and 'data-testid="file-issue"' in html
    assert 'data-testid="import-confirm"' not in html
    assert snapshot_counts() == before


def test_file_too_large_is_a_form_error(officer_client, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    response = upload(officer_client, b"x" * (1024 * 1024 + 200 * 1024), name="big.csv")
    assert response.status_code == 200
    assert "The file is 1.2 MB; files of at most 1 MB can be imported." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_people_upload_and_confirm(officer_client):
    make_organisation(code="LAB-1", name="光明实验室", kind="laboratory")
    rows = [["编码", "姓名", "所在机构", "职务"], ["P-9", "赵六", "LAB-1", "主任"]]
    response = upload(officer_client, xlsx_bytes(rows, sheet="人员"), url_name="registry:person_import")
    batch = ImportBatch.objects.get()
    assert batch.kind == "registry.person" and batch.created_count == 1
    response = officer_client.post(response["Location"])
    assert response["Location"] == reverse("registry:person_list")


def test_another_officers_batch_is_not_found(client, officer_client):
    upload(officer_client, xlsx_bytes(org_rows()))
    batch = ImportBatch.objects.get()
    colleague = make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department"))
    client.force_login(colleague)
    assert client.get(reverse("registry:import_batch_detail", args=[batch.pk])).status_code == 404
    assert client.post(reverse("registry:import_batch_detail", args=[batch.pk])).status_code == 404
    assert not Organisation.objects.filter(code__startswith="IMP-").exists()


# --- permission matrix
ACTORS = ["anonymous", "enterprise", "department", "bureau", "sysadmin", "secadmin", "auditadmin"]


@pytest.fixture
def actors(db):
    return {
        "anonymous": None,
        "enterprise": make_user(Role.ENTERPRISE_USER),
        "department": make_user(Role.DEPARTMENT_OFFICER, make_organisation(kind="government_department")),
        "bureau": make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department")),
        "sysadmin": make_user(Role.SYSTEM_ADMIN),
        "secadmin": make_user(Role.SECURITY_ADMIN),
        "auditadmin": make_user(Role.AUDIT_ADMIN),
    }


IMPORT_EXPECTED = {"anonymous": 302, "enterprise": 403, "department": 403, "bureau": 200, "sysadmin": 403,
                   "secadmin": 403, "auditadmin": 403}
EXPORT_EXPECTED = {**IMPORT_EXPECTED, "department": 200}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("url_name", "args"), [
    ("registry:organisation_import", []), ("registry:person_import", []),
    ("registry:import_template", ["organisations"]), ("registry:import_template", ["people"]),
])
def test_import_pages_permission_matrix(client, actors, actor, url_name, args):
    if actors[actor]:
        client.force_login(actors[actor])
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == IMPORT_EXPECTED[actor]
    if actor == "anonymous":
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("actor", ACTORS)
def test_import_upload_and_batch_permission_matrix(client, actors, actor):
    batch = ImportBatch.objects.create(kind="registry.organisation", file_name="a.xlsx", sha256="0" * 64,
                                       content=xlsx_bytes(org_rows()), uploaded_by=actors["bureau"],
                                       report={"results": []})
    if actors[actor]:
        client.force_login(actors[actor])
    before = snapshot_counts()
    response = upload(client, xlsx_bytes(org_rows()))
    expected = {200: 302}.get(IMPORT_EXPECTED[actor], IMPORT_EXPECTED[actor])
    assert response.status_code == expected
    detail = client.post(reverse("registry:import_batch_detail", args=[batch.pk]))
    assert detail.status_code == (302 if actor in ("anonymous", "bureau") else 403)
    if actor != "bureau":
        assert snapshot_counts() == before
        assert ImportBatch.objects.count() == 1


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url_name", ["registry:organisation_export", "registry:person_export"])
def test_export_permission_matrix(client, reauthenticate, actors, actor, url_name):
    if actors[actor]:
        client.force_login(actors[actor])
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    response = client.get(reverse(url_name), {"format": "csv"})
    if EXPORT_EXPECTED[actor] == 200:  # allowed: after a fresh re-authentication (sudo mode)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauthenticate"))
        reauthenticate(actors[actor])
        response = client.get(reverse(url_name), {"format": "csv"})
    assert response.status_code == EXPORT_EXPECTED[actor]
    exported = AuditEvent.objects.filter(action=AuditAction.EXPORT).count() - before
    assert exported == (1 if EXPORT_EXPECTED[actor] == 200 else 0)
