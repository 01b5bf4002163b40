"""Retrieval quality on a labelled set: recall@k and mean reciprocal rank (检索质量评估)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from .index import Listing


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    id: str
    text: str
    relevant: frozenset[str]
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Quality:
    """Averages over queries; ``per_query`` holds (query id, recall@k, reciprocal rank)."""

    recall_at_k: float
    mrr: float
    k: int
    per_query: tuple[tuple[str, float, float], ...]

    def by_kind(self, queries: Sequence[LabelledQuery]) -> dict[str, tuple[float, float, int]]:
        """(recall@k, MRR, count) per query kind."""
        kind_of = {q.id: q.kind for q in queries}
        groups: dict[str, list[tuple[float, float]]] = {}
        for query_id, recall, reciprocal in self.per_query:
            groups.setdefault(kind_of.get(query_id, ""), []).append((recall, reciprocal))
        return {
            kind: (sum(r for r, _ in rows) / len(rows), sum(m for _, m in rows) / len(rows), len(rows))
            for kind, rows in sorted(groups.items())
        }


def evaluate(
    queries: Sequence[LabelledQuery], ranked_ids: Callable[[str], Sequence[str]], *, k: int = 10
) -> Quality:
    """Score a ranking function (query text → ids, best first) against the labels."""
    rows = []
    for query in queries:
        ranking = list(ranked_ids(query.text))
        rows.append(
            (query.id, recall_at(ranking, query.relevant, k), reciprocal_rank(ranking, query.relevant))
        )
    n = max(len(rows), 1)
    return Quality(sum(r for _, r, _ in rows) / n, sum(m for _, _, m in rows) / n, k, tuple(rows))


def recall_at(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranking[:k]) & set(relevant)) / len(relevant)


def reciprocal_rank(ranking: Sequence[str], relevant: Collection[str]) -> float:
    for position, doc_id in enumerate(ranking, start=1):
        if doc_id in relevant:
            return 1.0 / position
    return 0.0


def load_labelled_set(path: str | Path) -> tuple[list[Listing], list[LabelledQuery]]:
    """Listings and labelled queries from a JSON file like ``tests/engines/fixtures/matching_set.json``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    listings = [
        Listing(
            x["id"],
            x["text"],
            title=x.get("title", ""),
            field=x.get("field", ""),
            kind=x.get("kind", ""),
            trl=x.get("trl", 0),
            modes=frozenset(x.get("modes", ())),
        )
        for x in data["listings"]
    ]
    queries = [
        LabelledQuery(q["id"], q["text"], frozenset(q["relevant"]), q.get("kind", ""))
        for q in data["queries"]
    ]
    return listings, queries
