"""Labelled evaluation sets of bench/data/matching/ for ``bench/matching.py``: retrieval quality per
set and method (BM25 alone, BM25 + synonyms, each dense backend, the learned hybrid), the fit of
the fusion weights on the tune split, encode throughput and dense query latency.

Retrieval sets (``supply_demand_zh.json`` …): documents, queries with ``relevant`` ids, ``split``
tune/test and ``kind``. Weights are fitted on ``split == "tune"`` only; every figure printed is
on ``split == "test"``.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sciencecity.engines.text import Listing, TextIndex
from sciencecity.engines.text.ann import load_graph, save_graph
from sciencecity.engines.text.embed import available_backends, load_embedder, model_id
from sciencecity.engines.text.fusion import (
    Fusion,
    TuneQuery,
    fit_fusion,
    fuse,
    load_fusion,
    ranking_metrics,
    save_fusion,
)

DATA_DIR = Path(__file__).resolve().parent / "data" / "matching"
RETRIEVAL_FILES = ("supply_demand_zh.json", "supply_demand_en.json", "field_zh.json", "paraphrase_zh.json")
EXPERT_FILE = "reviewer_expertise_en.json"


def load_retrieval_sets(data_dir: Path) -> list[dict]:
    """The retrieval sets present in ``data_dir`` (files may appear gradually)."""
    sets = []
    for name in RETRIEVAL_FILES:
        path = data_dir / name
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            data.setdefault("name", path.stem)
            sets.append(data)
    return sets


def ranking_from_ids(ranking: Sequence[str], relevant: set[str], k: int = 10) -> tuple[float, float, float]:
    """(reciprocal rank, recall@k, nDCG@k) of a ranked id list (what ``TextIndex.search`` returns)."""
    flags = np.asarray([doc in relevant for doc in ranking], bool)
    reciprocal = 1.0 / (int(np.flatnonzero(flags)[0]) + 1) if flags.any() else 0.0
    recall = float(flags[:k].sum()) / len(relevant) if relevant else 0.0
    gains = (flags[:k] / np.log2(np.arange(2, min(k, len(flags)) + 2))).sum() if len(flags) else 0.0
    ideal = (1.0 / np.log2(np.arange(2, min(k, len(relevant)) + 2))).sum()
    return reciprocal, recall, float(gains / ideal) if ideal else 0.0


def _mean(rows: list[tuple[float, float, float]]) -> dict[str, float]:
    n = max(len(rows), 1)
    return {"recall_at_10": round(sum(r[1] for r in rows) / n, 4), "mrr": round(sum(r[0] for r in rows) / n, 4),
            "ndcg_at_10": round(sum(r[2] for r in rows) / n, 4), "queries": len(rows)}


def _listings(data: dict) -> list[Listing]:
    return [Listing(d["id"], d.get("text", ""), title=d.get("title", "")) for d in data["documents"]]


def _tune_queries(index: TextIndex, queries: list[dict]) -> list[TuneQuery]:
    out = []
    for q in queries:
        ids, lexical, dense = index.component_scores(q["text"])
        relevant = set(q["relevant"])
        out.append(TuneQuery(lexical, dense, np.asarray([i in relevant for i in ids], bool)))
    return out


def retrieval_quality(sets: list[dict], backends: Sequence[str], *, fit: bool) -> dict:
    """Per set and method, test-split figures; fits (``fit``) and saves the fusion weights first."""
    figures: dict = {"sets": {}, "fusion": {}}
    lexical_rows: dict[str, dict[str, list]] = {}
    dense_cache: dict[tuple[str, str], tuple[list[TuneQuery], list[TuneQuery], list[str]]] = {}
    for data in sets:
        name = data["name"]
        listings = _listings(data)
        test = [q for q in data["queries"] if q.get("split") == "test"]
        index = TextIndex()
        index.add_many(listings)
        rows = {}
        for method, expand in (("BM25", False), ("BM25 + synonyms", True)):
            rows[method] = [ranking_from_ids([h.id for h in index.search(q["text"], k=10, explain=False, expand=expand)],
                                             set(q["relevant"])) for q in test]
        lexical_rows[name] = rows
        for backend in backends:
            embedder = load_embedder(backend)
            if embedder is None:
                continue
            dense_index = TextIndex(embedder=embedder, fusion=Fusion(1.0, 0.0))
            started = time.perf_counter()
            dense_index.add_many(listings)
            embed_s = time.perf_counter() - started
            tune = _tune_queries(dense_index, [q for q in data["queries"] if q.get("split") == "tune"])
            dense_cache[(name, backend)] = (tune, _tune_queries(dense_index, test), [q.get("kind", "") for q in test])
            figures["sets"].setdefault(name, {})[f"embed_{backend}_s"] = round(embed_s, 1)
    for backend in backends:
        embedder = load_embedder(backend)
        if embedder is None:
            continue
        model = model_id(embedder)
        tune_all = [q for (_, b), (tune, _, _) in dense_cache.items() if b == backend for q in tune]
        fusion = load_fusion(model)
        if fit or fusion is None:
            if not tune_all:
                print(f"  {backend}: no tune queries, hybrid not fitted")
                continue
            fusion = fit_fusion(tune_all, model=model, provenance={
                "sets": sorted({n for (n, b) in dense_cache if b == backend}),
                "fitted": time.strftime("%Y-%m-%d"), "split": "tune"})
            save_fusion(fusion)
        figures["fusion"][backend] = {"model": model, "dense_weight": fusion.dense_weight,
                                      "lexical_weight": fusion.lexical_weight, "provenance": fusion.provenance}
        for (name, b), (_tune, test_queries, _kinds) in dense_cache.items():
            if b != backend:
                continue
            lexical_rows[name][f"dense {backend}"] = [ranking_metrics(q.dense, q.relevant) for q in test_queries]
            lexical_rows[name][f"hybrid {backend}"] = [ranking_metrics(fuse(q.lexical, q.dense, fusion), q.relevant)
                                                       for q in test_queries]
    print(f"{'set (test split)':<24}{'method':<28}{'n':>4}{'recall@10':>10}{'MRR':>8}{'nDCG@10':>9}{'ΔMRR vs BM25+syn':>18}")
    for data in sets:
        name = data["name"]
        base = _mean(lexical_rows[name]["BM25 + synonyms"])
        for method, rows in lexical_rows[name].items():
            m = _mean(rows)
            figures["sets"].setdefault(name, {})[method] = m
            ratio = f"{m['mrr'] / base['mrr']:.2f}×" if base["mrr"] else "–"
            print(f"{name:<24}{method:<28}{m['queries']:>4}{m['recall_at_10']:>10.3f}{m['mrr']:>8.3f}{m['ndcg_at_10']:>9.3f}{ratio:>18}")
        figures["sets"][name]["documents"] = len(data["documents"])
        figures["sets"][name]["provenance"] = data.get("provenance", "")
    return figures


def encode_throughput(backends: Sequence[str], *, n: int = 40) -> dict:
    """Documents/s at ≈200 and ≈1,200 characters per backend (passage role, batches of 16)."""
    base = "面向光明科学城的新型储能材料研究，采用固态电解质与硅碳负极提升电池能量密度和循环寿命。"
    figures: dict = {}
    for backend in backends:
        embedder = load_embedder(backend)
        if embedder is None:
            continue
        figures[backend] = {}
        for chars in (200, 1200):
            texts = [f"{i} " + (base * (chars // len(base) + 1))[:chars] for i in range(n)]
            count = n if chars == 200 else max(n // 3, 8)
            started = time.perf_counter()
            for s in range(0, count, 16):
                embedder.embed_passages(texts[s: min(s + 16, count)])
            figures[backend][f"docs_per_s_{chars}"] = round(count / (time.perf_counter() - started), 1)
        started = time.perf_counter()
        timings = []
        for i in range(20):
            t = time.perf_counter()
            embedder.embed_queries([f"寻找锂电池负极材料合作 {i}"])
            timings.append((time.perf_counter() - t) * 1000)
        figures[backend]["query_embed_ms_median"] = round(statistics.median(timings), 2)
        print(f"encode {backend:<8} {figures[backend]['docs_per_s_200']:>8.1f} docs/s @200 chars"
              f"{figures[backend]['docs_per_s_1200']:>8.1f} docs/s @1200 chars, query embed {figures[backend]['query_embed_ms_median']:.1f} ms")
    return figures


class SyntheticEmbedder:
    """Random unit query vectors (latency does not depend on meaning); the index's vectors are set
    with ``set_vectors`` under the same name."""

    name = "synthetic-unit-vectors"

    def __init__(self, dim: int, seed: int = 61) -> None:
        self.dim = dim
        self._rng = np.random.default_rng(seed)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        block = self._rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return block / np.linalg.norm(block, axis=1, keepdims=True)

    embed_passages = embed_queries


WORDS = [f"{a}{b}" for a in "材料电池芯片传感器件算法平台装备系统工艺" for b in "检测控制制备分析设计优化集成诊断"]


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[max(int(q * len(values)) - 1, 0)], 2)


class RealQueryEmbedder(SyntheticEmbedder):
    """The listings' vectors synthetic (set with ``set_vectors``), the query embedded by a real
    backend: the latency a user waits for includes encoding the query text."""

    def __init__(self, dim: int, backend) -> None:
        super().__init__(dim)
        self.backend = backend

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.backend.embed_queries(texts)


def dense_latency(sizes: Sequence[int], *, hnsw_sizes: Sequence[int] = (), dim: int = 384,
                  queries: int = 100, query_backend: str | None = None) -> list[dict]:
    """Hybrid query latency through ``TextIndex.search`` (BM25 over short synthetic listings of a
    96-word vocabulary + dense over synthetic random unit vectors, fusion weights 1 : 0.5; with
    ``query_backend`` (a backend of ``embed.load_embedder`` with ``dim``-d vectors) the query text is
    embedded by that model inside the timed search, every query text a new one, so the figure is
    what a user waits for; without it the query vector is random), exact numpy at every size, and
    for ``hnsw_sizes`` also the faiss-cpu HNSW path: graph build time, recall@10 of the graph
    against exact top 10, p50/p95. The vectors are synthetic: 2,000 random unit centroids plus
    noise (cosine ≈0.6 to their centroid), so neighbourhoods exist as in real embeddings (uniform
    random 384-d vectors have none: HNSW recall@10 on them was 0.15 at 100k); recall probes are
    perturbed listing vectors, latency queries random unit vectors. The graph goes the production
    way: built and saved to a file (``ann.save_graph``), then mapped (``load_graph``) and attached;
    its load time is measured mapped and read whole."""
    from sciencecity.engines.text.ann import (
        ANN_CANDIDATES,
        EF_CONSTRUCTION,
        EF_SEARCH,
        HNSW_M,
        HNSW_THRESHOLD,
    )
    from sciencecity.engines.text.threads import limit_blas_threads

    limit_blas_threads(1)  # as every process of the platform runs (setting BLAS_THREADS)
    rng = np.random.default_rng(16)
    centroids = rng.standard_normal((2_000, dim)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    out = []
    for size in sizes:
        vectors = np.empty((size, dim), np.float32)
        for s in range(0, size, 100_000):
            n = min(100_000, size - s)
            block = centroids[rng.integers(0, len(centroids), n)] + 0.04 * rng.standard_normal((n, dim), dtype=np.float32)
            vectors[s: s + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
        embedder = SyntheticEmbedder(dim)
        if query_backend is not None:
            from sciencecity.engines.text.embed import load_embedder

            backend = load_embedder(query_backend)
            if backend is None:
                raise SystemExit(f"dense backend {query_backend!r} is not installed")
            embedder = RealQueryEmbedder(dim, backend)
        index = TextIndex(embedder=embedder, fusion=Fusion(1.0, 0.5), embed_on_add=False, store_text=False,
                          hnsw_threshold=None)
        picks = rng.integers(0, len(WORDS), (size, 3))
        ids = [str(i) for i in range(size)]
        index.add_many([Listing(ids[i], " ".join(WORDS[j] for j in picks[i])) for i in range(size)], workers=2)
        index.set_vectors(ids, vectors, embedder.name)
        # distinct texts (an embedder caches what it has encoded): two to four words, as typed in a search box
        texts = list(dict.fromkeys(" ".join(WORDS[j] for j in rng.integers(0, len(WORDS), rng.integers(2, 5)))
                                   for _ in range(6 * queries)))[:2 * queries + 1]
        index.search(texts.pop(), explain=False)
        texts, hnsw_texts = texts[:queries], texts[queries:]
        timings = []
        for text in texts:
            t = time.perf_counter()
            index.search(text, k=10, explain=False)
            timings.append((time.perf_counter() - t) * 1000)
        row = {"vectors": size, "dim": dim, "vectors_mb": round(vectors.nbytes / 2**20),
               "query_embedding": query_backend or "none (random query vector)",
               "exact_p50_ms": round(statistics.median(timings), 2), "exact_p95_ms": _percentile(timings, 0.95)}
        line = (f"hybrid query (query embedding: {row['query_embedding']}), dense exact numpy {size:>9,} × {dim}: p50 {row['exact_p50_ms']:.1f} ms, "
                f"p95 {row['exact_p95_ms']:.1f} ms")
        if size in hnsw_sizes:
            index.hnsw_threshold, index.build_graph_on_search = 0, False
            with tempfile.TemporaryDirectory(prefix="bench-ann-") as folder:
                # what the embedding job does: build the graph, save it; then what every process does: map it
                t = time.perf_counter()
                save_graph(Path(folder), "bench", ids, vectors)
                row["hnsw_build_s"] = round(time.perf_counter() - t, 1)
                row["graph_file_mb"] = round(sum(p.stat().st_size for p in Path(folder).iterdir()) / 2**20)
                loads = {}
                for mapped in (False, True):
                    t = time.perf_counter()
                    persisted = load_graph(Path(folder), "bench", mmap=mapped)
                    assert persisted is not None
                    loads[mapped] = time.perf_counter() - t
                t = time.perf_counter()
                used = index.attach_graph(persisted)
                row.update(graph_load_mmap_s=round(loads[True], 2), graph_load_read_s=round(loads[False], 2),
                           graph_attach_s=round(time.perf_counter() - t, 2), graph_entries_used=used)
            graph = index.hnsw_graph
            assert graph is not None and graph.read_only
            probes = vectors[rng.integers(0, size, queries)] + 0.04 * rng.standard_normal((queries, dim), dtype=np.float32)
            probes /= np.linalg.norm(probes, axis=1, keepdims=True)
            overlap, graph_ms, candidate_overlap = [], [], []
            for q in probes:
                exact_top = np.argpartition(-(vectors @ q), 10)[:10]
                t = time.perf_counter()
                found = graph.search(q, 10)
                graph_ms.append((time.perf_counter() - t) * 1000)
                overlap.append(len(set(found.tolist()) & set(exact_top.tolist())) / 10)
                # what the index uses: the ANN_CANDIDATES nearest entries of the graph, re-scored exactly
                candidates = graph.search(q, ANN_CANDIDATES)
                candidate_overlap.append(len(set(candidates.tolist()) & set(exact_top.tolist())) / 10)
            timings = []
            for text in hnsw_texts:
                t = time.perf_counter()
                index.search(text, k=10, explain=False)
                timings.append((time.perf_counter() - t) * 1000)
            row.update(hnsw_recall_at_10=round(float(np.mean(overlap)), 3),
                       candidates_recall_at_10=round(float(np.mean(candidate_overlap)), 3),
                       graph_p95_ms=_percentile(graph_ms, 0.95),
                       hnsw_p50_ms=round(statistics.median(timings), 2), hnsw_p95_ms=_percentile(timings, 0.95))
            row["exact_over_hnsw_p95"] = round(row["exact_p95_ms"] / max(row["hnsw_p95_ms"], 1e-6), 1)
            line += (f"; HNSW (M={HNSW_M}, efC={EF_CONSTRUCTION}, efS={EF_SEARCH}) build+save {row['hnsw_build_s']:.0f} s, load mapped "
                     f"{row['graph_load_mmap_s']:.2f} s (read {row['graph_load_read_s']:.2f} s) + attach "
                     f"{row['graph_attach_s']:.2f} s, recall@10 vs exact "
                     f"{row['hnsw_recall_at_10']:.3f} (exact top 10 among the {ANN_CANDIDATES} candidates the "
                     f"index re-scores: {row['candidates_recall_at_10']:.3f}), graph p95 {row['graph_p95_ms']:.2f} ms, hybrid p50 "
                     f"{row['hnsw_p50_ms']:.1f} ms, p95 {row['hnsw_p95_ms']:.1f} ms "
                     f"(exact/HNSW p95 {row['exact_over_hnsw_p95']:.1f}×)")
        row["path_used"] = "hnsw" if size >= HNSW_THRESHOLD else "exact"
        out.append(row)
        print(line + f" — the index uses {row['path_used']} at this size (threshold {HNSW_THRESHOLD:,})")
        del vectors, index
    return out


def backends_here() -> list[str]:
    return available_backends()


def expert_quality(data: dict, backends: Sequence[str], *, fit: bool) -> dict:
    """Reviewer-expertise set: weighted pairwise ranking loss on the test submissions per method
    (TF-IDF, TF-IDF + synonyms — the engine today —, dense max / top-3 mean, with and without a
    recency half-life, title-only vs title + abstract, and the hybrid fitted on the tune split)."""
    from sciencecity.engines.text.affinity import (
        DENSE_PROFILES,
        affinity_scores,
        dense_affinity,
        hybrid_affinity,
        pairwise_ranking_loss,
    )
    from sciencecity.engines.text.fusion import GRID

    experts = {e["id"]: e["papers"] for e in data["experts"]}
    full = {e: [f"{p.get('title', '')}\n{p.get('abstract', '')}".strip() for p in papers] for e, papers in experts.items()}
    titles = {e: [p.get("title", "") for p in papers] for e, papers in experts.items()}
    years = {e: [p.get("year") for p in papers] for e, papers in experts.items()}
    submissions = {s["id"]: f"{s.get('title', '')}\n{s.get('abstract', '')}".strip() for s in data["submissions"]}
    split = {s["id"]: s.get("split", "test") for s in data["submissions"]}
    judgements = [(j["expert"], j["submission"], j["score"]) for j in data["judgements"]]
    tune_j = [j for j in judgements if split.get(j[1]) == "tune"]
    test_j = [j for j in judgements if split.get(j[1]) == "test"]
    figures: dict = {"experts": len(experts), "submissions": len(submissions), "judgements": len(judgements),
                     "test_judgements": len(test_j), "methods": {}}
    lexical = affinity_scores(full, submissions, synonyms=True)
    methods = {"TF-IDF": affinity_scores(full, submissions, synonyms=False), "TF-IDF + synonyms (engine)": lexical,
               "TF-IDF + synonyms, mean": affinity_scores(full, submissions, aggregate="mean")}
    for backend in backends:
        embedder = load_embedder(backend)
        if embedder is None:
            continue
        variants = {}
        for label, (agg, half) in DENSE_PROFILES.items():
            variants[label] = dense_affinity(embedder, full, submissions, years=years, half_life=half, aggregate=agg)
            methods[f"dense {backend} {label}"] = variants[label]
        methods[f"dense {backend} max, titles only"] = dense_affinity(embedder, titles, submissions)
        best_label = min(variants, key=lambda v: pairwise_ranking_loss(variants[v], tune_j) if tune_j else 0.0)
        model = f"affinity:{model_id(embedder)}"
        fusion = load_fusion(model)
        if (fit or fusion is None) and tune_j:
            losses = {w: pairwise_ranking_loss(hybrid_affinity(lexical, variants[best_label], Fusion(1.0, w)), tune_j)
                      for w in GRID}
            weight = min(losses, key=lambda w: (round(losses[w], 9), w))
            fusion = Fusion(1.0, weight, model, {
                "method": "grid search of the lexical weight (dense weight 1) minimising the weighted pairwise "
                          "ranking loss on the tune submissions", "dense_profile": best_label,
                "set": data.get("name", EXPERT_FILE), "tune_judgements": len(tune_j),
                "tune_loss": round(losses[weight], 4), "fitted": time.strftime("%Y-%m-%d")})
            save_fusion(fusion)
        if fusion is not None:
            profile = fusion.provenance.get("dense_profile", best_label)
            methods[f"hybrid {backend} ({profile})"] = hybrid_affinity(lexical, variants.get(profile, variants[best_label]), fusion)
            figures.setdefault("fusion", {})[backend] = {"lexical_weight": fusion.lexical_weight, **fusion.provenance}
    base = pairwise_ranking_loss(lexical, test_j)
    print(f"Reviewer expertise (test split: {len(test_j)} judgements, {len(experts)} experts): weighted pairwise ranking loss, lower is better")
    for name, result in methods.items():
        loss = pairwise_ranking_loss(result, test_j)
        figures["methods"][name] = round(loss, 4)
        gain = f"{(base - loss) / base:+.1%}" if base else "–"
        print(f"  {name:<48}{loss:>8.4f}   vs engine {gain}")
    return figures
