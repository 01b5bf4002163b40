"""The shared search backends (SEARCH_BACKEND = tantivy | postgres) answer like the memory index.

tantivy runs on every database; the PostgreSQL full-text backend only where the suite runs on
PostgreSQL (``.ci/run`` runs the suite there too) and is skipped on SQLite.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from sciencecity.core.models import Job
from sciencecity.transfer.models import Achievement
from sciencecity.transfer.services import listings, matching, search_backends
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _postgres_only(name: str):
    if name == "postgres" and connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL full-text backend runs where the suite runs on PostgreSQL (.ci/run)")


@pytest.fixture(params=["tantivy", "postgres"])
def backend(request, settings, tmp_path):
    _postgres_only(request.param)
    settings.SEARCH_BACKEND = request.param
    settings.SEARCH_INDEX_DIR = str(tmp_path / "search")
    settings.TRANSFER_INDEX_STALENESS_SECONDS = 0
    matching.reset()
    yield request.param
    matching.reset()


QUERIES = [("achievements", "锂电池负极"), ("achievements", "缺陷检测 相机"), ("achievements", "电池"),
           ("demands", "硅碳负极材料"), ("achievements", "深度学习")]


def _memory(kind, query, **kwargs):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_backends, "active", lambda _kind: False)
        matching.reset()
        results = matching.search(query, kind=kind, restrict_visibility=False, **kwargs)
        matching.reset()
        return results


@pytest.mark.parametrize(("kind", "query"), QUERIES)
def test_same_ranking_and_explanations_as_the_memory_index(market, backend, kind, query):
    memory = _memory(kind, query)
    shared = matching.search(query, kind=kind, restrict_visibility=False)
    assert [r.id for r in shared] == [r.id for r in memory]
    assert memory  # every query finds something
    for a, b in zip(shared, memory, strict=True):
        assert set(a.shared_terms) == set(b.shared_terms)  # ordered by contribution: idf of the hits shown
        assert a.title_html == b.title_html and a.snippet_html == b.snippet_html
        assert a.score == pytest.approx(b.score, rel=0.08)  # tantivy keeps document lengths in one byte
    assert matching._INDEXES == {}  # no per-process index was built


def test_search_page_and_api_with_the_backend(client, market, backend):
    page = client.get(reverse("transfer:search"), {"q": "负极材料", "kind": "achievements"}).content.decode()
    assert "高能量密度" in page and "<mark>负极材料</mark>" in page and "机器视觉" not in page
    api = client.get("/api/transfer/search", {"q": "负极材料", "kind": "achievements"}).json()
    assert api[0]["id"] == market["battery"].pk
    assert "负极材料" in api[0]["shared_terms"]
    filtered = client.get("/api/transfer/search", {"q": "负极材料", "kind": "achievements", "sector": "IND-AI"}).json()
    assert filtered == []
    page = client.get(reverse("transfer:search"), {"q": "负极材料", "kind": "achievements", "sector": "IND-AI"},
                      ).content.decode()
    assert "1 removed by “field”" in page  # the empty result explained: the filter removed the battery
    assert matching._INDEXES == {}


def test_demand_matches_filters_and_removal_counts(market, backend, university):
    user = make_user("enterprise_user", market["enterprise"])
    results = matching.matches_for_demand(market["demand"], user=user)["achievements"]
    assert [r.id for r in results] == [market["battery"].pk]  # TRL ≥ 5, licence, the battery field
    best = results[0]
    assert "TRL 6 meets the minimum 5" in best.reasons
    assert "Transfer modes: Licence (许可)" in best.reasons
    removals = matching.demand_removals(market["demand"], user=user)
    assert removals.get("trl", 0) >= 1 and removals.get("modes", 0) >= 1
    relaxed = matching.matches_for_demand(market["demand"], user=user, relax=["trl", "modes"])["achievements"]
    assert market["separator"].pk in [r.id for r in relaxed]
    demands = matching.matches_for_achievement(market["battery"], user=None)["demands"]
    assert [r.id for r in demands] == [market["demand"].pk]
    excluded = matching.ranked("achievements", "负极材料", restrict_visibility=False, constraints=matching.Constraints(
        exclude_organisations=frozenset({university.pk})))
    assert excluded == []


def test_a_change_is_visible_after_the_reindex_job(market, backend):
    assert matching.search("钙钛矿", kind="achievements", restrict_visibility=False) == []
    jobs_before = Job.objects.filter(kind=search_backends.REINDEX_KIND).count()
    listings.achievement_update_unchecked(actor=None, achievement=market["vision"],
                                          data={"title": "钙钛矿太阳能电池", "abstract": "高效钙钛矿叠层电池。"})
    assert Job.objects.filter(kind=search_backends.REINDEX_KIND).count() > jobs_before  # the write queued the job
    assert [r.id for r in matching.search("钙钛矿", kind="achievements", restrict_visibility=False)] == [
        market["vision"].pk]
    assert matching.search("缺陷检测", kind="achievements", restrict_visibility=False) == []  # old text gone
    listings.achievement_close_unchecked(actor=None, achievement=market["vision"])
    assert matching.search("钙钛矿", kind="achievements", restrict_visibility=False) == []


def test_a_write_that_bypassed_the_services_is_caught_up(market, backend):
    """An import or another machine's write: the reader sees the table moved and queues a catch-up."""
    from django.utils import timezone

    matching.search("电池", kind="achievements", restrict_visibility=False)
    Achievement.objects.filter(pk=market["vision"].pk).update(title="量子点显示材料", abstract="量子点。",
                                                              updated_at=timezone.now())
    assert [r.id for r in matching.search("量子点", kind="achievements", restrict_visibility=False)] == [
        market["vision"].pk]
    Achievement.objects.filter(pk=market["separator"].pk).delete()  # fewer rows: a full rebuild
    assert market["separator"].pk not in [r.id for r in matching.search("电池", kind="achievements",
                                                                        restrict_visibility=False)]


@pytest.mark.parametrize("query", ['"', ":", "(", "*", "\x00", 'title:"负极" AND (x OR *', "\\", "'", "负极'; DROP",
                                   "负极:材料", "-电池", "电池^9", "a" * 300])
def test_malformed_queries_never_crash(market, backend, query):
    results = matching.search(query, kind="achievements", restrict_visibility=False)
    assert isinstance(results, list)


def test_api_with_query_syntax_characters(client, market, backend):
    response = client.get("/api/transfer/search", {"q": '负极:"材料 (*', "kind": "achievements"})
    assert response.status_code == 200
    assert response.json()[0]["id"] == market["battery"].pk


def test_postgres_backend_on_sqlite_is_refused_by_check(settings):
    if connection.vendor == "postgresql":
        pytest.skip("on PostgreSQL the backend is allowed")
    settings.SEARCH_BACKEND = "postgres"
    errors = search_backends.check_backend()
    assert [e.id for e in errors] == ["transfer.E102"]
    settings.SEARCH_BACKEND = "elastic"
    assert [e.id for e in search_backends.check_backend()] == ["transfer.E101"]


def test_reindex_command_builds_the_shared_index(market, backend):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("transfer", "reindex", "--full", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and '"full": true' in lines[0]
    assert search_backends.state("achievements")["rows_behind"] == 0
    assert [r.id for r in matching.search("硅碳", kind="achievements", restrict_visibility=False)] == [
        market["battery"].pk]


@pytest.mark.django_db(transaction=False)
def test_postgres_lexemes_with_quotes_and_backslashes_round_trip():
    """Terms are written as tsvector / tsquery text: a quote or a backslash inside one is escaped."""
    _postgres_only("postgres")
    from sciencecity.engines.text.index import QueryTerm
    from sciencecity.engines.text.tantivy_index import IndexedDoc, Restriction

    store = search_backends.PostgresBackend()
    odd = ["o'neil", "back\\slash", "a:b", "x|y", "(z)", "电池"]
    store.write("achievements", [IndexedDoc(1, odd + ["电池"]), IndexedDoc(2, ["电池", "材料", "m1", "m2", "m3", "m4", "m5"])], (), full=True,
                stamp=(2, None))
    for term in odd:
        assert store.search("achievements", [QueryTerm(term, 1.0)], 10, Restriction())[0][0] == 1
    hits = store.search("achievements", [QueryTerm("电池", 1.0)], 10, Restriction())
    assert [pk for pk, _s in hits] == [1, 2]  # same length: tf 2 beats tf 1 (the tf read back from ts_rank)
