"""N+1 guards: every list page and list API makes as many queries for many rows as for a few.

Each case renders the list once with a few rows and once with four times as many; the second must make
exactly the number of queries of the first (``django_assert_num_queries``). A row-proportional query
(a lookup per row in a template or a schema resolver) fails here before it shows in production.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_person, make_user
from tests.programmes.conftest import make_application, make_call, make_expert
from tests.transfer.conftest import make_achievement, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """The guards are about rendering: a cached block (filled by the warm-up) would hide a query per row."""
    settings.PAGE_CACHE_SECONDS = 0
_seq = itertools.count(1)


def _organisations(n):
    for _ in range(n):
        organisation = make_organisation()
        make_person(name=f"人员{next(_seq)}").affiliations.create(organisation=organisation)


def _people(n):
    for _ in range(n):
        make_expert(f"专家{next(_seq)}", expertise=["锂电池"])


def _achievements(n):
    owner = make_organisation(kind="university")
    for _ in range(n):
        make_achievement(owner, keywords="锂电池, 电解质", sectors=[])


def _demands(n):
    owner = make_organisation()
    for _ in range(n):
        make_demand(owner, keywords="锂电池")


def _calls(n):
    for _ in range(n):
        call = make_call(state="open")
        make_application(call, make_organisation())


def _applications(n):
    call = make_call(code=f"QC{next(_seq):03d}")
    for _ in range(n):
        make_application(call, make_organisation())


CASES = [
    ("/registry/organisations/", _organisations),
    ("/registry/people/", _people),
    ("/transfer/achievements/", _achievements),
    ("/transfer/demands/", _demands),
    ("/programmes/calls/", _calls),
    ("/programmes/applications/", _applications),
    ("/api/registry/organisations?page_size=100", _organisations),
    ("/api/registry/people?page_size=100", _people),
    ("/api/transfer/achievements?page_size=100", _achievements),
    ("/api/transfer/demands?page_size=100", _demands),
    ("/api/programmes/calls?page_size=100&state=open", _calls),
    ("/api/programmes/applications?page_size=100", _applications),
]


@pytest.mark.parametrize(("path", "make_rows"), CASES, ids=[path for path, _make in CASES])
def test_list_queries_do_not_grow_with_rows(path, make_rows, client, bureau, django_assert_num_queries):
    user = make_user(Role.BUREAU_OFFICER, bureau.memberships.first().organisation)
    client.force_login(user)
    make_rows(3)
    client.get(path)  # warm: sessions, content types, caches
    with CaptureQueriesContext(connection) as few:
        first = client.get(path)
    assert first.status_code == 200, first.content[:500]
    make_rows(9)
    with django_assert_num_queries(len(few.captured_queries)):
        many = client.get(path)
    assert many.status_code == 200
    assert len(many.content) > len(first.content)  # the extra rows are on the page
