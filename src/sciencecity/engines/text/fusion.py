"""Hybrid ranking: lexical (BM25 + synonyms) and dense scores fused with learned weights (混合排序).

For one query every listing gets two normalised scores:

* ``lexical`` — BM25 (with synonym expansion) divided by the query's best BM25, in [0, 1]
  (0 when the listing shares no term);
* ``dense`` — the cosine with the query as a z-score over the collection
  (``(cos - mean) / std``): backends put cosines in very different bands (e5 0.80–0.94, USE
  0.1–0.6), the z-score puts them on one scale and a weight learned for one collection carries
  to another.

The fused score is ``dense_weight · dense + lexical_weight · lexical``. The weights are not set by
hand: :func:`fit_fusion` grid-searches the ratio on the *tune* split of the labelled sets
(maximising MRR, ties to nDCG@10) and ``bench/matching.py --fit`` writes the result with its
provenance to ``data/fusion_weights.json``, one entry per model; :func:`load_fusion` reads it. A
model without learned weights is not fused (ranking stays lexical).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

WEIGHTS_FILE = Path(__file__).resolve().parent / "data" / "fusion_weights.json"
GRID = tuple(sorted({0.0, *(round(0.05 * 1.25**i, 4) for i in range(30))}))
"""Candidate lexical weights (dense weight 1): 0 (dense only) and a geometric ladder up to ≈32."""


@dataclass(frozen=True, slots=True)
class Fusion:
    """Weights of the two normalised scores, and where they come from."""

    dense_weight: float
    lexical_weight: float
    model: str = ""
    provenance: dict = field(default_factory=dict)


def lexical_norm(scores: np.ndarray) -> np.ndarray:
    """BM25 scores over all rows → [0, 1] by the query's best score."""
    scores = np.asarray(scores, np.float64)
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def dense_norm(cosines: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Cosines over all rows → z-scores over the rows that have a vector (others 0: the mean)."""
    cosines = np.asarray(cosines, np.float64)
    values = cosines if present is None else cosines[present]
    if len(values) < 2:
        return np.zeros_like(cosines)
    mean, std = float(values.mean()), float(values.std())
    out = (cosines - mean) / (std if std > 1e-9 else 1.0)
    if present is not None:
        out[~present] = 0.0
    return out


def fuse(lexical: np.ndarray, dense: np.ndarray, fusion: Fusion, present: np.ndarray | None = None) -> np.ndarray:
    """Fused scores of all rows from raw BM25 scores and raw cosines."""
    return fuse_normalised(lexical_norm(lexical), dense_norm(dense, present), fusion)


def fuse_normalised(lexical01: np.ndarray, dense_z: np.ndarray, fusion: Fusion) -> np.ndarray:
    """Fused scores from already normalised scores (lexical in [0, 1], dense as z-scores)."""
    return fusion.dense_weight * dense_z + fusion.lexical_weight * lexical01


@dataclass(frozen=True, slots=True)
class TuneQuery:
    """One labelled query for fitting: raw scores of every document and which are relevant."""

    lexical: np.ndarray
    dense: np.ndarray
    relevant: np.ndarray  # bool per document


def ranking_metrics(scores: np.ndarray, relevant: np.ndarray, k: int = 10) -> tuple[float, float, float]:
    """(reciprocal rank, recall@k, nDCG@k) of one query; ties broken by position."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    hits = relevant[order]
    positions = np.flatnonzero(hits)
    reciprocal = 1.0 / (positions[0] + 1) if len(positions) else 0.0
    n_relevant = int(relevant.sum())
    recall = float(hits[:k].sum()) / n_relevant if n_relevant else 0.0
    gains = hits[:k] / np.log2(np.arange(2, min(k, len(hits)) + 2))
    ideal = (1.0 / np.log2(np.arange(2, min(k, n_relevant) + 2))).sum()
    ndcg = float(gains.sum() / ideal) if ideal else 0.0
    return reciprocal, recall, ndcg


def evaluate_fusion(queries: Sequence[TuneQuery], fusion: Fusion, k: int = 10) -> dict[str, float]:
    """Mean MRR, recall@k and nDCG@k of ``fusion`` over labelled queries."""
    rows = [ranking_metrics(fuse(q.lexical, q.dense, fusion), q.relevant, k) for q in queries]
    n = max(len(rows), 1)
    return {
        "mrr": sum(r[0] for r in rows) / n,
        "recall_at_10": sum(r[1] for r in rows) / n,
        "ndcg_at_10": sum(r[2] for r in rows) / n,
    }


def fit_fusion(queries: Sequence[TuneQuery], *, model: str = "", provenance: dict | None = None) -> Fusion:
    """The lexical weight (dense weight 1) of ``GRID`` with the best mean MRR on ``queries``
    (ties: higher nDCG@10, then the smaller weight)."""
    if not queries:
        raise ValueError("no tuning queries")
    best: tuple[float, float, float] | None = None
    chosen = 0.0
    for weight in GRID:
        figures = evaluate_fusion(queries, Fusion(1.0, weight))
        key = (round(figures["mrr"], 9), round(figures["ndcg_at_10"], 9), -weight)
        if best is None or key > best:
            best, chosen = key, weight
    assert best is not None
    info = dict(provenance or {})
    info.update(tune_queries=len(queries), tune_mrr=round(best[0], 4), tune_ndcg_at_10=round(best[1], 4),
                method="grid search of the lexical weight (dense weight 1) maximising MRR on the tune split",
                grid=[GRID[0], GRID[-1], len(GRID)])
    return Fusion(1.0, chosen, model, info)


def load_fusion(model: str, path: Path = WEIGHTS_FILE) -> Fusion | None:
    """Learned weights for ``model`` (``name==version``), or ``None`` when none were fitted for it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get("models", {}).get(model)
    if not entry:
        return None
    return Fusion(float(entry["dense_weight"]), float(entry["lexical_weight"]), model, entry.get("provenance", {}))


def save_fusion(fusion: Fusion, path: Path = WEIGHTS_FILE) -> None:
    """Write (or replace) the entry of ``fusion.model`` in the weights file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data.setdefault("about", "Fusion weights learned by bench/matching.py --fit on the tune splits; see engines/text/fusion.py")
    entry = asdict(fusion)
    entry.pop("model")
    data.setdefault("models", {})[fusion.model] = entry
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
