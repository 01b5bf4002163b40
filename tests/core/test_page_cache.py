"""Cached page blocks ({% pagecache %}) and the data versions that make them stale.

A block is served from the cache until an audited write of what it shows; it is never served to
another user, nor in another language; a rolled-back write leaves the caches alone.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sciencecity.accounts.choices import Role
from sciencecity.core import data_versions
from sciencecity.registry import services
from sciencecity.registry.models import Organisation
from tests.conftest import make_organisation, make_user

pytestmark = pytest.mark.django_db

LIST = "/registry/organisations/"


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 120


def test_block_is_cached_until_an_audited_write_of_what_it_shows(client, bureau):
    organisation = make_organisation(name="缓存测试机构甲")
    client.force_login(bureau)
    assert "缓存测试机构甲" in client.get(LIST).content.decode()
    # a change that bypasses the services (no audit) is not seen: the block came from the cache
    Organisation.objects.filter(pk=organisation.pk).update(name="绕过服务的改名")
    assert "缓存测试机构甲" in client.get(LIST).content.decode()
    services.organisation_update(actor=bureau, organisation=organisation, data={"name": "经服务改名的机构"})
    page = client.get(LIST).content.decode()
    assert "经服务改名的机构" in page and "缓存测试机构甲" not in page


def test_write_of_another_kind_keeps_the_block(client, bureau):
    make_organisation(name="另一类写入")
    client.force_login(bureau)
    client.get(LIST)
    before = data_versions.key("registry.organisation", "registry.sector")
    data_versions.bump("transfer.techdemand")
    assert data_versions.key("registry.organisation", "registry.sector") == before


def test_cached_block_makes_no_query_for_the_rows(client, bureau):
    make_organisation(name="查询计数")
    client.force_login(bureau)
    client.get(LIST)
    with CaptureQueriesContext(connection) as cached:
        response = client.get(LIST)
    assert response.status_code == 200 and "查询计数" in response.content.decode()
    tables = " ".join(q["sql"] for q in cached.captured_queries)
    assert "registry_organisation" not in tables  # neither the count nor the page of rows
    assert "core_dataversion" in tables  # one read of the versions instead


def test_another_user_never_gets_the_first_users_block(client, bureau):
    member_organisation = make_organisation(name="企业用户所在机构")
    member = make_user(Role.ENTERPRISE_USER, member_organisation, username="cache_member")
    client.force_login(bureau)
    officer_page = client.get(LIST).content.decode()
    assert 'data-testid="organisation-create"' in officer_page  # the bureau may create organisations
    client.force_login(member)
    member_page = client.get(LIST).content.decode()
    assert 'data-testid="organisation-create"' not in member_page


def test_language_is_part_of_the_key(client, bureau):
    client.force_login(bureau)
    chinese = client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "New organisation" in english and "New organisation" not in chinese


def test_query_string_is_part_of_the_key(client, bureau):
    make_organisation(name="甲乙丙机构")
    make_organisation(name="丁戊己机构")
    client.force_login(bureau)
    assert "丁戊己机构" in client.get(LIST).content.decode()
    filtered = client.get(LIST + "?q=甲乙丙").content.decode()
    assert "甲乙丙机构" in filtered and "丁戊己机构" not in filtered


def test_rolled_back_write_raises_no_version():
    before = data_versions.versions().get("registry.organisation", 0)
    with pytest.raises(RuntimeError), transaction.atomic():
        data_versions.bump("registry.organisation")
        raise RuntimeError("rolled back")
    assert data_versions.versions().get("registry.organisation", 0) == before
    data_versions.bump("registry.organisation")
    data_versions.bump("registry.organisation")
    assert data_versions.versions()["registry.organisation"] == before + 2


def test_cache_off(client, bureau, settings):
    settings.PAGE_CACHE_SECONDS = 0
    organisation = make_organisation(name="不缓存")
    client.force_login(bureau)
    client.get(LIST)
    Organisation.objects.filter(pk=organisation.pk).update(name="直接改名")
    assert "直接改名" in client.get(LIST).content.decode()


def test_bulk_import_of_demands_empties_the_demand_list(client, bureau):
    """A bulk import is audited once under the importer's kind (``transfer.demand``), not the model label."""
    from sciencecity.core.audit import audit_record
    from sciencecity.core.models import AuditAction
    from sciencecity.transfer.models import TechDemand
    from tests.transfer.conftest import make_demand

    demand = make_demand(make_organisation(), title="导入前的需求")
    client.force_login(bureau)
    assert "导入前的需求" in client.get("/transfer/demands/").content.decode()
    TechDemand.objects.filter(pk=demand.pk).update(title="导入后的需求")  # as a bulk import writes rows
    assert "导入前的需求" in client.get("/transfer/demands/").content.decode()  # cached
    audit_record(action=AuditAction.IMPORT, actor=bureau, object_type="transfer.demand", object_repr="demands.xlsx")
    assert "导入后的需求" in client.get("/transfer/demands/").content.decode()


def test_a_role_granted_or_revoked_changes_the_block_at_once(client, bureau):
    """The block is keyed by the user's roles as read on this request, not only by the user: a role
    revoked or granted shows on the next page, not after PAGE_CACHE_SECONDS."""
    client.force_login(bureau)
    assert 'data-testid="organisation-create"' in client.get(LIST).content.decode()
    grant = bureau.memberships.get()
    organisation = grant.organisation
    grant.delete()
    bureau.memberships.create(role=Role.ENTERPRISE_USER, organisation=organisation)
    assert 'data-testid="organisation-create"' not in client.get(LIST).content.decode()
    bureau.memberships.create(role=Role.BUREAU_OFFICER, organisation=organisation)
    assert 'data-testid="organisation-create"' in client.get(LIST).content.decode()


def _kpis(page: str) -> list[str]:
    return re.findall(r'class="kpi-value">([^<]*)<', page)


def test_home_page_statistics_are_cached_until_an_audited_write(client, bureau):
    """The home page's registry and incubation blocks (HomeWidget.shows) come from the cache: no count of
    organisations or start-ups on a warm request; a new organisation shows on the next request."""
    make_organisation(name="首页统计甲")
    client.force_login(bureau)
    before = _kpis(client.get("/").content.decode())
    assert before
    with CaptureQueriesContext(connection) as warm:
        assert _kpis(client.get("/").content.decode()) == before
    tables = " ".join(q["sql"] for q in warm.captured_queries)
    assert "registry_organisation" not in tables and "transfer_startup" not in tables
    Organisation.objects.create(name="绕过服务的新机构", kind="enterprise")  # not audited: not seen yet
    assert _kpis(client.get("/").content.decode()) == before
    services.organisation_create(actor=bureau, data={"name": "首页统计乙", "kind": "enterprise"})
    after = _kpis(client.get("/").content.decode())
    assert after[0] == str(Organisation.objects.count()) and after != before
