"""Financial figures: the enterprise's own users and the S&T bureau only; each officer read audited."""

import pytest

from sciencecity.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def who(member, stranger, bureau, sysadmin):
    return {"own": member, "other": stranger, "officer": bureau, "admin": sysadmin}


@pytest.mark.parametrize(("role", "api", "web"), [
    ("anonymous", 401, 302),
    ("other", 403, 403),
    ("own", 200, 200),
    ("officer", 200, 200),
    ("admin", 403, 403),
])
def test_profile_read_matrix(client, login, who, filled, role, api, web):
    if role != "anonymous":
        login(who[role])
    assert client.get(f"/api/enterprises/profiles/{filled.code}").status_code == api
    assert client.get(f"/api/enterprises/profiles/{filled.code}/assessment").status_code == api
    assert client.get(f"/enterprises/e/{filled.code}/").status_code == web
    assert client.get(f"/enterprises/e/{filled.code}/assessment/").status_code == web
    reads = AuditEvent.objects.filter(action=AuditAction.FINANCIALS_VIEW, object_id=str(filled.pk))
    assert reads.count() == (4 if role == "officer" else 0)  # the enterprise's own reads are not audited
    if role == "officer":
        assert set(reads.values_list("actor_username", flat=True)) == {"officer"}
        assert sorted(e.changes["via"] for e in reads) == ["api", "api", "web", "web"]


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("other", 403), ("own", 200), ("officer", 200),
                                              ("admin", 403)])
def test_profile_write_matrix(client, login, who, filled, role, status):
    if role != "anonymous":
        login(who[role])
    response = client.put(f"/api/enterprises/profiles/{filled.code}/years/2020",
                          {"main_revenue": 10, "staff_average": 5}, content_type="application/json")
    assert response.status_code == status
    assert filled.enterprise_profile.fiscal_years.filter(year=2020).exists() == (status == 200)


def test_unknown_enterprise_is_404(client, login, bureau):
    login(bureau)
    assert client.get("/api/enterprises/profiles/NOPE").status_code == 404


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("other", 403), ("own", 403), ("officer", 200),
                                              ("admin", 403)])
def test_bureau_tier_lists(client, login, who, role, status):
    if role != "anonymous":
        login(who[role])
    assert client.get("/api/enterprises/tiers/reserve/members").status_code == status
