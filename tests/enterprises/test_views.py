"""The enterprise pages render for their users, in both languages, and refuse everyone else."""

import pytest

from sciencecity.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


def test_own_pages_render(client, login, member, filled):
    login(member)
    for url in ("/enterprises/", "/enterprises/my/", "/enterprises/my/edit/", "/enterprises/my/years/new/",
                "/enterprises/my/ip/new/", "/enterprises/my/incidents/new/", "/enterprises/my/assessment/",
                "/enterprises/my/tech-sme/", "/enterprises/import/"):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
    page = client.get("/enterprises/my/assessment/").content.decode()
    assert 'data-testid="verdict"' in page and 'data-testid="condition-H5"' in page


def test_bureau_pages_render(client, login, bureau, filled):
    login(bureau)
    for url in ("/enterprises/", "/enterprises/pool/", "/enterprises/tiers/", "/enterprises/tiers/history/",
                f"/enterprises/e/{filled.code}/", f"/enterprises/e/{filled.code}/assessment/"):
        assert client.get(url, follow=True).status_code == 200, url
    assert AuditEvent.objects.filter(action=AuditAction.FINANCIALS_VIEW, object_id=str(filled.pk)).count() == 2
