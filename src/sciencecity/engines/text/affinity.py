"""Expert–submission affinity from texts (专家匹配度), Chinese and English.

Every publication and submission becomes an L2-normalised TF-IDF vector (sublinear tf, smooth
idf over publications and submissions together) over the same tokeniser as the index, with
synonym phrases of a text added at reduced weight so that 脑机接口 and BCI meet. An expert's score
for a submission aggregates the cosines with the expert's publications: ``max`` (the closest
paper, the default: better on the labelled set, see ``bench/affinity.py``) or ``mean`` (cosine
with the normalised centroid). Scores are computed as sparse matrix products, in blocks of
submissions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from .synonyms import SynonymTable
from .tokenize import Tokenizer, default_tokenizer

Aggregate = Literal["max", "mean"]


@dataclass(frozen=True, slots=True)
class AffinityResult:
    """Scores in [0, 1], one row a submission, one column an expert."""

    submission_ids: tuple[str, ...]
    expert_ids: tuple[str, ...]
    scores: np.ndarray

    def rows(self, *, top_n: int | None = None) -> Iterator[tuple[str, str, float]]:
        """``(submission_id, expert_id, score)``; with ``top_n`` only the best experts, best first."""
        for i, submission_id in enumerate(self.submission_ids):
            row = self.scores[i]
            if top_n is None:
                order = range(len(row))
            else:
                order = np.argsort(-row, kind="stable")[:top_n].tolist()
            for j in order:
                yield submission_id, self.expert_ids[j], float(row[j])


class TfidfSpace:
    """Term vectors of texts over one vocabulary (built from all texts given to ``fit``)."""

    def __init__(
        self, tokenizer: Tokenizer | None = None, synonyms: SynonymTable | None | bool = True
    ) -> None:
        self.tokenizer = tokenizer or default_tokenizer()
        if synonyms is True:
            synonyms = SynonymTable.bundled(self.tokenizer, weight=0.5)
        self.synonyms: SynonymTable | None = synonyms or None
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Raw (synonym-augmented) term counts, growing the vocabulary."""
        get = self.vocabulary.setdefault
        vocabulary = self.vocabulary
        indices: list[int] = []
        values: list[float] = []
        indptr = [0]
        for text in texts:
            terms = self.tokenizer.terms(text)
            indices.extend(get(t, len(vocabulary)) for t in terms)
            values.extend([1.0] * len(terms))
            if self.synonyms is not None:
                for expansion in self.synonyms.expand(terms):
                    indices.append(get(expansion.term, len(vocabulary)))
                    values.append(expansion.weight)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.asarray(values, np.float32), np.asarray(indices, np.int64), np.asarray(indptr, np.int64)),
            shape=(len(texts), max(len(vocabulary), 1)),
        )
        matrix.sum_duplicates()
        return matrix

    def fit_idf(self, *count_matrices: sp.csr_matrix) -> None:
        width = len(self.vocabulary)
        df = np.zeros(width)
        n = 0
        for matrix in count_matrices:
            matrix = _widen(matrix, width)
            df += np.bincount(matrix.indices, minlength=width)
            n += matrix.shape[0]
        self.idf = np.log((1 + n) / (1 + df)) + 1.0

    def weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf × idf, rows L2-normalised."""
        matrix = _widen(counts, len(self.vocabulary)).astype(np.float32)
        matrix.data = (1.0 + np.log(np.maximum(matrix.data, 1e-6))).astype(np.float32)
        matrix.data[matrix.data < 0] = 0.0
        matrix = matrix @ sp.diags(self.idf.astype(np.float32))
        return _normalize_rows(sp.csr_matrix(matrix))


@dataclass(frozen=True, slots=True)
class AffinityVectors:
    """Tokenised, weighted texts: publication rows (grouped by expert) and submission rows."""

    expert_ids: tuple[str, ...]
    submission_ids: tuple[str, ...]
    owner: np.ndarray
    papers: sp.csr_matrix
    submissions: sp.csr_matrix


def vectorise(
    expert_texts: Mapping[str, Sequence[str]],
    submission_texts: Mapping[str, str],
    *,
    tokenizer: Tokenizer | None = None,
    synonyms: SynonymTable | None | bool = True,
) -> AffinityVectors:
    """The tokenising half of ``affinity_scores``."""
    space = TfidfSpace(tokenizer, synonyms)
    expert_ids = tuple(expert_texts)
    submission_ids = tuple(submission_texts)
    publications = [text for expert_id in expert_ids for text in expert_texts[expert_id]]
    owner = np.repeat(np.arange(len(expert_ids)), [len(expert_texts[e]) for e in expert_ids])
    publication_counts = space.counts(publications)
    submission_counts = space.counts([submission_texts[s] for s in submission_ids])
    space.fit_idf(publication_counts, submission_counts)
    return AffinityVectors(
        expert_ids, submission_ids, owner, space.weigh(publication_counts), space.weigh(submission_counts)
    )


def score_vectors(
    vectors: AffinityVectors, *, aggregate: Aggregate = "max", block: int = 256
) -> AffinityResult:
    """The scoring half: cosines as sparse × dense products, aggregated per expert."""
    expert_ids, submission_ids, owner = vectors.expert_ids, vectors.submission_ids, vectors.owner
    scores = np.zeros((len(submission_ids), len(expert_ids)), np.float32)
    if not len(owner) or not submission_ids:
        return AffinityResult(submission_ids, expert_ids, scores)
    if aggregate == "mean":
        membership = sp.csr_matrix(
            (np.ones(len(owner), np.float32), (owner, np.arange(len(owner)))),
            shape=(len(expert_ids), len(owner)),
        )
        targets = _normalize_rows(sp.csr_matrix(membership @ vectors.papers))
    elif aggregate == "max":
        targets = vectors.papers
    else:
        raise ValueError(f"unknown aggregate {aggregate!r}")
    has_papers = np.flatnonzero(np.bincount(owner, minlength=len(expert_ids)))
    starts = np.searchsorted(owner, has_papers)
    for start in range(0, len(submission_ids), block):
        dense_block = vectors.submissions[start : start + block].toarray().T
        cosines = np.asarray(targets @ dense_block).T
        if aggregate == "mean":
            scores[start : start + block] = cosines
        else:
            scores[start : start + block, has_papers] = np.maximum.reduceat(cosines, starts, axis=1)
    np.clip(scores, 0.0, 1.0, out=scores)
    return AffinityResult(submission_ids, expert_ids, scores)


def affinity_scores(
    expert_texts: Mapping[str, Sequence[str]],
    submission_texts: Mapping[str, str],
    *,
    aggregate: Aggregate = "max",
    tokenizer: Tokenizer | None = None,
    synonyms: SynonymTable | None | bool = True,
    block: int = 256,
) -> AffinityResult:
    """Affinity of every expert (their publications' texts) with every submission."""
    vectors = vectorise(expert_texts, submission_texts, tokenizer=tokenizer, synonyms=synonyms)
    return score_vectors(vectors, aggregate=aggregate, block=block)


def _widen(matrix: sp.csr_matrix, width: int) -> sp.csr_matrix:
    if matrix.shape[1] == width:
        return matrix
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], width))


def _normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norms).astype(np.float32)) @ matrix)


DenseAggregate = Literal["max", "topk", "mean"]


def recency_weights(years: Sequence[int | None], *, half_life: float | None, now: int | None = None) -> np.ndarray:
    """Weight of each paper: ``0.5 ** (age / half_life)`` (1 without a half-life; a paper without a
    year counts like the expert's median year)."""
    if half_life is None or not len(years):
        return np.ones(len(years), np.float32)
    known = [y for y in years if y]
    if not known:
        return np.ones(len(years), np.float32)
    now = now if now is not None else max(known)
    median = float(np.median(known))
    ages = np.asarray([max(now - (y if y else median), 0.0) for y in years], np.float32)
    return (0.5 ** (ages / np.float32(half_life))).astype(np.float32)


def dense_affinity(
    embedder,
    expert_texts: Mapping[str, Sequence[str]],
    submission_texts: Mapping[str, str],
    *,
    years: Mapping[str, Sequence[int | None]] | None = None,
    half_life: float | None = None,
    aggregate: DenseAggregate = "max",
    top_k: int = 3,
    known: Mapping[str, np.ndarray] | None = None,
) -> AffinityResult:
    """Cosine affinity under a dense model: submissions in the query role, papers in the passage
    role, aggregated per expert by ``max`` (the closest paper), ``topk`` (the mean of the ``top_k``
    closest papers) or ``mean`` (all papers). With ``half_life`` the means are weighted by each
    paper's recency weight (``max`` ignores it: one recent paper or one old one decides alone).
    ``known`` gives passage vectors (unit rows of the same model) of paper texts computed before —
    stored ones —: only the other papers are embedded.
    Raw cosines (not clipped to [0, 1]): fuse them with :func:`hybrid_affinity` or rank by them."""
    expert_ids = tuple(expert_texts)
    submission_ids = tuple(submission_texts)
    papers = [text for e in expert_ids for text in expert_texts[e]]
    owner = np.repeat(np.arange(len(expert_ids)), [len(expert_texts[e]) for e in expert_ids])
    weights = np.concatenate(
        [recency_weights(list((years or {}).get(e, [None] * len(expert_texts[e]))), half_life=half_life)
         for e in expert_ids] or [np.zeros(0, np.float32)]
    )
    scores = np.zeros((len(submission_ids), len(expert_ids)), np.float32)
    if not papers or not submission_ids:
        return AffinityResult(submission_ids, expert_ids, scores)
    paper_vectors = _passages(embedder, papers, known or {})
    submission_vectors = embedder.embed_queries([submission_texts[s] for s in submission_ids])
    cosines = submission_vectors @ paper_vectors.T
    for j in range(len(expert_ids)):
        mine = owner == j
        own, own_weights = cosines[:, mine], weights[mine]
        if not own.shape[1]:
            continue
        if aggregate == "max":
            scores[:, j] = own.max(axis=1)
            continue
        if aggregate == "topk":
            k = min(top_k, own.shape[1])
            order = np.argsort(-own, axis=1)[:, :k]
        elif aggregate == "mean":
            order = np.tile(np.arange(own.shape[1]), (own.shape[0], 1))
        else:
            raise ValueError(f"unknown aggregate {aggregate!r}")
        chosen, chosen_weights = np.take_along_axis(own, order, axis=1), own_weights[order]
        scores[:, j] = (chosen * chosen_weights).sum(axis=1) / np.maximum(chosen_weights.sum(axis=1), 1e-9)
    return AffinityResult(submission_ids, expert_ids, scores)


def _passages(embedder, texts: Sequence[str], known: Mapping[str, np.ndarray]) -> np.ndarray:
    """Passage vectors of ``texts``: those in ``known`` as given, the others embedded (once each)."""
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    computed = dict(zip(missing, embedder.embed_passages(missing), strict=True)) if missing else {}
    return np.vstack([known[t] if t in known else computed[t] for t in texts]).astype(np.float32)


def hybrid_affinity(lexical: AffinityResult, dense: AffinityResult, fusion) -> AffinityResult:
    """Per submission, ``fusion`` (``engines.text.fusion``: z-scored dense over the experts, lexical
    over its best) of the two affinities, squashed to (0, 1) by a logistic (order unchanged)."""
    from .fusion import fuse

    if lexical.expert_ids != dense.expert_ids or lexical.submission_ids != dense.submission_ids:
        raise ValueError("the two affinities must cover the same experts and submissions in the same order")
    scores = np.zeros_like(lexical.scores)
    for i in range(len(lexical.submission_ids)):
        scores[i] = fuse(lexical.scores[i], dense.scores[i], fusion)
    return AffinityResult(lexical.submission_ids, lexical.expert_ids, (1.0 / (1.0 + np.exp(-scores))).astype(np.float32))


def pairwise_ranking_loss(result: AffinityResult, judgements: Sequence[tuple[str, str, float]]) -> float:
    """Weighted pairwise ranking loss of the reviewer-expertise literature (Stelmakh et al. 2023):
    over each expert's pairs of judged submissions with different expertise scores, the weight
    ``|s1 - s2|`` of the pairs the affinity orders wrongly (half for a tie), divided by the total
    weight. 0 is perfect, 0.5 is random."""
    row = {s: i for i, s in enumerate(result.submission_ids)}
    col = {e: j for j, e in enumerate(result.expert_ids)}
    by_expert: dict[str, list[tuple[str, float]]] = {}
    for expert, submission, score in judgements:
        if expert in col and submission in row:
            by_expert.setdefault(expert, []).append((submission, float(score)))
    lost = total = 0.0
    for expert, rated in by_expert.items():
        j = col[expert]
        for a in range(len(rated)):
            for b in range(a + 1, len(rated)):
                (s1, y1), (s2, y2) = rated[a], rated[b]
                if y1 == y2:
                    continue
                weight = abs(y1 - y2)
                p1, p2 = float(result.scores[row[s1], j]), float(result.scores[row[s2], j])
                total += weight
                if p1 == p2:
                    lost += weight / 2
                elif (p1 > p2) != (y1 > y2):
                    lost += weight
    return lost / total if total else 0.0


DENSE_PROFILES: dict[str, tuple[DenseAggregate, float | None]] = {
    "max": ("max", None),
    "top-3 mean": ("topk", None),
    "mean": ("mean", None),
    "mean, recency 5 y": ("mean", 5.0),
    "top-3 mean, recency 5 y": ("topk", 5.0),
}
"""Expert profiles compared by ``bench/matching.py`` (aggregate, recency half-life in years); the one
chosen on the tune split is stored with the learned weights as ``dense_profile``."""


def learned_hybrid_affinity(
    embedder,
    expert_texts: Mapping[str, Sequence[str]],
    submission_texts: Mapping[str, str],
    *,
    years: Mapping[str, Sequence[int | None]] | None = None,
    known: Mapping[str, np.ndarray] | None = None,
) -> AffinityResult | None:
    """TF-IDF + synonyms fused with the dense affinity by the weights and expert profile learned for
    ``embedder``'s model (``fusion_weights.json``, key ``affinity:<model>``); ``None`` when none were
    learned for it. ``known``: stored passage vectors of paper texts (see :func:`dense_affinity`)."""
    from .embed import model_id
    from .fusion import load_fusion

    fusion = load_fusion(f"affinity:{model_id(embedder)}")
    if fusion is None:
        return None
    aggregate, half_life = DENSE_PROFILES.get(fusion.provenance.get("dense_profile", "max"), ("max", None))
    dense = dense_affinity(embedder, expert_texts, submission_texts, years=years, half_life=half_life,
                           aggregate=aggregate, known=known)
    return hybrid_affinity(affinity_scores(expert_texts, submission_texts), dense, fusion)
