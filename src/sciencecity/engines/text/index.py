"""Incremental inverted index with BM25 ranking, metadata filters and explanations (倒排索引).

Documents (``Listing``) are added, updated and removed by id without a rebuild. Postings live in
immutable segments (numpy arrays: document rows, term frequencies and precomputed BM25 term
impacts, grouped by term); new documents wait in a small buffer that is sealed into a segment on
the next query, and many segments are merged into one. A removed document is masked out at once
and its postings are dropped at the next merge. A bulk build tokenises in worker processes.

A query is tokenised like a document, expanded with the synonym table (expanded terms
down-weighted), scored term-at-a-time with ``np.bincount`` over the postings, filtered by a
predicate over metadata arrays (field, kind, TRL range, transfer modes) and cut with
``np.argpartition``. Every hit can explain itself: shared terms with their surface forms and
contributions, synonyms used, filters satisfied.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from .ann import ANN_CANDIDATES, HNSW_THRESHOLD, HnswGraph, PersistedGraph, faiss_available, vector_digests
from .embed import Embedder, model_id, normalise
from .explain import Explanation, TermMatch, closest_sentences
from .feedback import FeedbackProfile, rerank
from .fusion import Fusion, dense_norm, fuse, fuse_normalised, lexical_norm, load_fusion
from .synonyms import SynonymTable
from .tokenize import BIGRAM_PREFIX, Tokenizer, default_tokenizer

K1 = 1.2
B = 0.75
BIGRAM_WEIGHT = 0.3
"""Query weight of a character-bigram term relative to a word term."""

MIN_CJK_TERM_CHARS = 2
"""A Chinese term shorter than this (a lone character jieba left over: 高, 线, 产) says too little
to make a match on its own: when the query has a longer term, a hit must share at least one
(硅 + 碳 still rank 硅碳负极 first, but 高 + 线 alone match nothing); a query made only of single
characters (锂) matches on them."""


MIN_DENSE_Z = 2.0
"""In a dense search a listing that shares no (meaningful) term with the query is a match only when
its cosine is this many standard deviations above the collection's mean for the query: without a
floor every listing would be "matched" by meaning. A collection of n listings cannot hold a z-score
above √(n-1), so a small one uses ½·√(n-1) when that is lower."""


def meaningful(term: str) -> bool:
    """Whether a term can make a match on its own (see ``MIN_CJK_TERM_CHARS``)."""
    word = term.removeprefix(BIGRAM_PREFIX)
    return len(word) >= MIN_CJK_TERM_CHARS or word.isascii()



@dataclass(frozen=True, slots=True)
class Listing:
    """A text to match: an achievement (成果) or a demand (需求), an expert profile, a call topic."""

    id: str
    text: str
    title: str = ""
    field: str = ""
    kind: str = ""
    trl: int = 0
    modes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Filter:
    """Constraints a hit must satisfy; ``None`` means no constraint. ``modes`` matches any of them."""

    fields: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    modes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked result."""

    id: str
    score: float
    explanation: Explanation | None = None


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """A term of an analysed query with its weight; ``synonym_of`` names the phrase it expands."""

    term: str
    weight: float
    synonym_of: str | None = None


@dataclass(slots=True)
class _Segment:
    terms: np.ndarray  # sorted global term ids present in the segment
    start: np.ndarray  # posting range of each of ``terms``
    end: np.ndarray
    docs: np.ndarray  # int32 document rows, ascending within a term
    tf: np.ndarray  # uint16 term frequency
    impact: np.ndarray  # float32 BM25 tf part, computed with ``avgdl``
    avgdl: float = 0.0

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.terms, self.start, self.end, self.docs, self.tf, self.impact))

    def ordered_postings(self) -> tuple[np.ndarray, np.ndarray]:
        """(term id per posting, posting positions), grouped by term in ascending order."""
        lengths = self.end - self.start
        total = int(lengths.sum())
        shift = self.start - (np.cumsum(lengths) - lengths)
        positions = np.repeat(shift, lengths) + np.arange(total, dtype=np.int64)
        return np.repeat(self.terms, lengths), positions


@dataclass(slots=True)
class _Chunk:
    """Postings of consecutive documents in a chunk-local vocabulary (what a worker returns)."""

    vocabulary: list[str]
    indptr: np.ndarray
    docs: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray


class _TermIds(dict):
    """Raw segmenter token → chunk-local term id (-1 to drop), one dictionary lookup per token."""

    def __init__(self, tokenizer: Tokenizer, vocabulary: dict[str, int]) -> None:
        super().__init__()
        self._terms = tokenizer.term_of_token
        self._vocabulary = vocabulary

    def __missing__(self, token: str) -> int:
        term = self._terms(token)
        value = self._vocabulary.setdefault(term, len(self._vocabulary)) if term else -1
        self[token] = value
        return value


def chunk_postings(tokenizer: Tokenizer, titles: Sequence[str], texts: Sequence[str]) -> _Chunk:
    """Tokenise consecutive documents; title terms count twice (a light BM25F).

    The fast path maps segmenter tokens straight to term ids and drops stop tokens with numpy;
    it gives the same terms as ``Tokenizer.terms`` (the bigram option takes the plain path).
    """
    vocabulary: dict[str, int] = {}
    ids: list[int] = []
    raw_lengths = array("i")
    if tokenizer.bigrams:
        get = vocabulary.setdefault
        for title, text in zip(titles, texts, strict=True):
            title_terms = tokenizer.terms(title) if title else []
            terms = title_terms + title_terms + tokenizer.terms(text)
            ids.extend([get(term, len(vocabulary)) for term in terms])
            raw_lengths.append(len(terms))
    else:
        lookup = _TermIds(tokenizer, vocabulary).__getitem__
        segment = tokenizer.segment
        for title, text in zip(titles, texts, strict=True):
            raw = segment(text)
            if title:
                title_raw = segment(title)
                raw = title_raw + title_raw + raw
            ids += map(lookup, raw)
            raw_lengths.append(len(raw))
    id_array = np.fromiter(ids, np.int32, len(ids))
    raw_length_array = (
        np.frombuffer(raw_lengths, dtype=np.int32) if len(raw_lengths) else np.zeros(0, np.int32)
    )
    n_docs = max(len(raw_length_array), 1)
    doc_local = np.repeat(np.arange(len(raw_length_array), dtype=np.int64), raw_length_array)
    kept = id_array >= 0
    id_array, doc_local = id_array[kept], doc_local[kept]
    length_array = np.bincount(doc_local, minlength=len(raw_length_array)).astype(np.int32)
    by_term = sp.csc_matrix(
        (np.ones(len(id_array), np.int32), (doc_local, id_array)), shape=(n_docs, max(len(vocabulary), 1))
    )
    by_term.sort_indices()
    return _Chunk(
        list(vocabulary),
        by_term.indptr[: len(vocabulary) + 1].astype(np.int64),
        by_term.indices.astype(np.int32),
        np.minimum(by_term.data, 65535).astype(np.uint16),
        length_array,
    )


_BULK: tuple[Tokenizer, Sequence[str], Sequence[str]] | None = None


def _bulk_chunk(bounds: tuple[int, int]) -> _Chunk:
    assert _BULK is not None
    tokenizer, titles, texts = _BULK
    start, end = bounds
    return chunk_postings(tokenizer, titles[start:end], texts[start:end])


def _bm25_impact(tf: np.ndarray, doc_length: np.ndarray, avgdl: float) -> np.ndarray:
    tf = tf.astype(np.float32)
    norm = np.float32(K1) * (np.float32(1 - B) + np.float32(B) * doc_length / np.float32(avgdl))
    return (tf * np.float32(K1 + 1) / (tf + norm)).astype(np.float32)


@dataclass(slots=True)
class _Columns:
    """Per-row metadata arrays, grown geometrically."""

    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    length: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    field_code: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    kind_code: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    trl: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    modes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def reserve(self, rows: int) -> None:
        if rows <= len(self.alive):
            return
        capacity = max(rows, 2 * len(self.alive), 1024)
        for name in ("alive", "length", "field_code", "kind_code", "trl", "modes"):
            old = getattr(self, name)
            new = np.zeros(capacity, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def nbytes(self) -> int:
        return sum(
            getattr(self, n).nbytes for n in ("alive", "length", "field_code", "kind_code", "trl", "modes")
        )


class TextIndex:
    """BM25 index over listings; see the module docstring.

    ``store_text`` keeps titles and texts for explanations (surface forms, places) and feedback;
    ``embedder`` adds a dense score fused with BM25 by ``fusion`` (default: the weights learned for
    the embedder's model, ``fusion.load_fusion``; none learned → lexical ranking). Vectors are
    computed on ``add`` when ``embed_on_add`` (else given with ``set_vectors``: a background job
    computes and persists them); a listing without a vector gets the mean dense score. The first
    ``explain_meaning`` hits of an explained dense search carry the closest sentence pair.

    Past ``hnsw_threshold`` vectors dense search goes through an HNSW graph (``engines.text.ann``):
    one given with ``attach_graph`` (built and saved off the request path), or, when
    ``build_graph_on_search``, one built by the first search. Vectors the graph lacks are searched
    exactly beside it; with no graph and ``build_graph_on_search`` false the search is exact.
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer | None = None,
        synonyms: SynonymTable | None | bool = True,
        store_text: bool = True,
        embedder: Embedder | None = None,
        fusion: Fusion | None = None,
        embed_on_add: bool = True,
        explain_meaning: int = 5,
        min_dense_z: float = MIN_DENSE_Z,
        buffer_limit: int = 20_000,
        max_segments: int = 32,
        hnsw_threshold: int | None = HNSW_THRESHOLD,
        build_graph_on_search: bool = True,
    ) -> None:
        self.tokenizer = tokenizer or default_tokenizer()
        if synonyms is True:
            synonyms = SynonymTable.bundled(self.tokenizer)
        self.synonyms: SynonymTable | None = synonyms or None
        self.store_text = store_text
        self.embedder = embedder
        self.model = model_id(embedder) if embedder is not None else ""
        self.fusion = fusion if fusion is not None or embedder is None else load_fusion(self.model)
        self.embed_on_add = embed_on_add
        self.explain_meaning = explain_meaning
        self.min_dense_z = min_dense_z
        self.buffer_limit = buffer_limit
        self.max_segments = max_segments
        self._vocabulary: dict[str, int] = {}
        self._row_of: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._columns = _Columns()
        self._field_codes: dict[str, int] = {"": 0}
        self._kind_codes: dict[str, int] = {"": 0}
        self._mode_bits: dict[str, int] = {}
        self._texts: dict[int, tuple[str, str]] = {}
        self._segments: list[_Segment] = []
        self._buffer: list[tuple[int, np.ndarray, np.ndarray]] = []
        self._alive_count = 0
        self._dead_count = 0
        self._total_length = 0.0
        self._vectors = np.zeros((0, 0), np.float32)
        self._has_vector = np.zeros(0, bool)
        self.hnsw_threshold = hnsw_threshold if faiss_available() else None
        self.build_graph_on_search = build_graph_on_search
        self._graph: HnswGraph | None = None
        self._covered = np.zeros(0, bool)  # rows whose current vector is in the graph
        self.graph_fingerprint: str | None = None
        """The fingerprint of the persisted graph given to ``attach_graph`` (None: none or built here)."""
        self._sample: np.ndarray | None = None
        self._sample_vectors = np.zeros((0, 0), np.float32)

    # ----------------------------------------------------------------- writes
    def __len__(self) -> int:
        return self._alive_count

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row_of

    def add(self, listing: Listing) -> None:
        """Add a listing, replacing the one with the same id if any (an update)."""
        self.add_many([listing], workers=1)

    def update(self, listing: Listing) -> None:
        """Replace the listing with this id (same as ``add``)."""
        self.add(listing)

    def remove(self, doc_id: str) -> bool:
        """Drop a listing; True if it was there."""
        row = self._row_of.pop(doc_id, None)
        if row is None:
            return False
        columns = self._columns
        columns.alive[row] = False
        self._alive_count -= 1
        self._dead_count += 1
        self._total_length -= float(columns.length[row])
        self._ids[row] = None
        self._texts.pop(row, None)
        if row < len(self._has_vector):
            self._has_vector[row] = False
        return True

    def add_many(
        self, listings: Iterable[Listing], *, workers: int | None = None, chunk_size: int = 50_000
    ) -> None:
        """Add (or replace) many listings; large batches are tokenised by ``workers`` processes."""
        listings = list(listings)
        if not listings:
            return
        kept = self._unchanged_vectors(listings)
        rows = self._allocate(listings)
        if len(listings) < 2_000:
            self._add_to_buffer(listings, rows)
        else:
            self._add_bulk(listings, rows[0], workers=workers, chunk_size=chunk_size)
        if kept:
            self._put_vectors([self._row_of[i] for i in kept], np.vstack(list(kept.values())))
        if self.embedder is not None and self.embed_on_add:
            pending = [(x, r) for x, r in zip(listings, rows, strict=True) if x.id not in kept]
            if pending:
                self._add_vectors([x for x, _ in pending], [r for _, r in pending])

    def _unchanged_vectors(self, listings: list[Listing]) -> dict[str, np.ndarray]:
        """Vectors of listings re-added with the same title and text (kept, not recomputed)."""
        kept = {}
        for listing in listings:
            row = self._row_of.get(listing.id)
            if (row is not None and row < len(self._has_vector) and self._has_vector[row]
                    and self._texts.get(row) == (listing.title, listing.text)):
                kept[listing.id] = self._vectors[row].copy()
        return kept

    def _allocate(self, listings: list[Listing]) -> list[int]:
        columns = self._columns
        first = len(self._ids)
        columns.reserve(first + len(listings))
        rows = list(range(first, first + len(listings)))
        field_codes, kind_codes = self._field_codes, self._kind_codes
        for row, listing in zip(rows, listings, strict=True):
            if listing.id in self._row_of:
                self.remove(listing.id)
            self._row_of[listing.id] = row
            self._ids.append(listing.id)
            columns.field_code[row] = field_codes.setdefault(listing.field, len(field_codes))
            columns.kind_code[row] = kind_codes.setdefault(listing.kind, len(kind_codes))
            columns.trl[row] = listing.trl
            if listing.modes:
                columns.modes[row] = self._mode_mask(listing.modes, create=True)
            if self.store_text:
                self._texts[row] = (listing.title, listing.text)
        columns.alive[first : first + len(listings)] = True
        self._alive_count += len(listings)
        return rows

    def _mode_mask(self, modes: Iterable[str], *, create: bool) -> int:
        mask = 0
        for mode in modes:
            bit = self._mode_bits.get(mode)
            if bit is None:
                if not create:
                    continue
                if len(self._mode_bits) >= 63:
                    raise ValueError("at most 63 distinct transfer modes")
                bit = self._mode_bits[mode] = len(self._mode_bits)
            mask |= 1 << bit
        return mask

    def _term_ids(self, terms: Iterable[str]) -> list[int]:
        get = self._vocabulary.setdefault
        vocabulary = self._vocabulary
        return [get(term, len(vocabulary)) for term in terms]

    def _add_to_buffer(self, listings: list[Listing], rows: list[int]) -> None:
        chunk = chunk_postings(self.tokenizer, [x.title for x in listings], [x.text for x in listings])
        global_ids = np.asarray(self._term_ids(chunk.vocabulary), dtype=np.int64)
        self._set_lengths(rows[0], chunk.lengths)
        term_of_posting = np.repeat(global_ids, np.diff(chunk.indptr))
        docs = chunk.docs.astype(np.int64) + rows[0]
        order = np.argsort(docs, kind="stable")
        docs, term_of_posting, tf = docs[order], term_of_posting[order], chunk.tf[order]
        bounds = np.searchsorted(docs, np.asarray(rows + [rows[-1] + 1]))
        for i, row in enumerate(rows):
            s, e = bounds[i], bounds[i + 1]
            self._buffer.append((row, term_of_posting[s:e], tf[s:e]))
        if len(self._buffer) >= self.buffer_limit:
            self._seal()

    def _set_lengths(self, first_row: int, lengths: np.ndarray) -> None:
        self._columns.length[first_row : first_row + len(lengths)] = lengths
        self._total_length += float(lengths.sum())

    def _add_bulk(
        self, listings: list[Listing], first_row: int, *, workers: int | None, chunk_size: int
    ) -> None:
        global _BULK
        titles = [x.title for x in listings]
        texts = [x.text for x in listings]
        bounds = [(s, min(s + chunk_size, len(listings))) for s in range(0, len(listings), chunk_size)]
        workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        use_pool = workers > 1 and len(bounds) > 1 and "fork" in multiprocessing.get_all_start_methods()
        self._seal()
        _BULK = (self.tokenizer, titles, texts)
        try:
            if use_pool:
                # ended by close() + join() (each child reads its stop sentinel and exits), not by the
                # context manager's terminate(): a child forked from a process that handles SIGTERM (a job
                # worker) survives the SIGTERM of terminate() and waited on the task queue for ever
                pool = multiprocessing.get_context("fork").Pool(workers, initializer=_default_sigterm)
                try:
                    for (start, _), chunk in zip(bounds, pool.imap(_bulk_chunk, bounds), strict=True):
                        self._segment_from_chunk(chunk, first_row + start)
                    pool.close()
                    pool.join()
                except BaseException:
                    pool.terminate()  # the children start with SIGTERM's default action: they end
                    raise
            else:
                for start, end in bounds:
                    self._segment_from_chunk(_bulk_chunk((start, end)), first_row + start)
        finally:
            _BULK = None
        self._refresh_impacts(force=True)
        self._maybe_merge()

    def _segment_from_chunk(self, chunk: _Chunk, first_row: int) -> None:
        self._set_lengths(first_row, chunk.lengths)
        global_ids = np.asarray(self._term_ids(chunk.vocabulary), dtype=np.int64)
        order = np.argsort(global_ids)
        segment = _Segment(
            terms=global_ids[order],
            start=chunk.indptr[:-1][order],
            end=chunk.indptr[1:][order],
            docs=chunk.docs + np.int32(first_row),
            tf=chunk.tf,
            impact=np.zeros(len(chunk.docs), np.float32),
        )
        self._segments.append(segment)

    def _seal(self) -> None:
        """Turn the buffer of recent documents into a segment."""
        if not self._buffer:
            return
        rows = np.concatenate([np.full(len(t), r, np.int32) for r, t, _ in self._buffer])
        terms = np.concatenate([t for _, t, _ in self._buffer])
        tf = np.concatenate([f for _, _, f in self._buffer])
        self._buffer = []
        order = np.lexsort((rows, terms))
        self._segments.append(self._segment_from_sorted(terms[order], rows[order], tf[order]))
        self._maybe_merge()

    def _segment_from_sorted(self, terms: np.ndarray, docs: np.ndarray, tf: np.ndarray) -> _Segment:
        unique_terms, starts = np.unique(terms, return_index=True)
        ends = np.append(starts[1:], len(terms))
        segment = _Segment(
            unique_terms.astype(np.int64), starts, ends, docs.astype(np.int32), tf, np.zeros(0)
        )
        self._compute_impacts(segment)
        return segment

    def _maybe_merge(self) -> None:
        if len(self._segments) > self.max_segments:
            self.merge()

    def merge(self) -> None:
        """Merge all segments into one and drop the postings of removed documents."""
        self._seal_buffer_only()
        if not self._segments:
            return
        parts = [segment.ordered_postings() for segment in self._segments]
        terms = np.concatenate([t for t, _ in parts])
        docs = np.concatenate([s.docs[p] for s, (_, p) in zip(self._segments, parts, strict=True)])
        tf = np.concatenate([s.tf[p] for s, (_, p) in zip(self._segments, parts, strict=True)])
        keep = self._columns.alive[docs]
        terms, docs, tf = terms[keep], docs[keep], tf[keep]
        order = np.lexsort((docs, terms))
        self._segments = [self._segment_from_sorted(terms[order], docs[order], tf[order])]
        self._dead_count = 0

    def _seal_buffer_only(self) -> None:
        if self._buffer:
            segments_before = self.max_segments
            self.max_segments = 1 << 30
            try:
                self._seal()
            finally:
                self.max_segments = segments_before

    @property
    def avgdl(self) -> float:
        return self._total_length / self._alive_count if self._alive_count else 1.0

    def _compute_impacts(self, segment: _Segment) -> None:
        avgdl = self.avgdl
        segment.impact = _bm25_impact(segment.tf, self._columns.length[segment.docs], avgdl)
        segment.avgdl = avgdl

    def _refresh_impacts(self, *, force: bool = False) -> None:
        """Recompute impacts of segments whose average document length drifted by over 5 %."""
        avgdl = self.avgdl
        for segment in self._segments:
            if force or abs(segment.avgdl - avgdl) > 0.05 * avgdl:
                self._compute_impacts(segment)

    def _add_vectors(self, listings: list[Listing], rows: list[int]) -> None:
        assert self.embedder is not None
        self._put_vectors(rows, self.embedder.embed_passages([passage_text(x) for x in listings]))

    def _put_vectors(self, rows: Sequence[int], vectors: np.ndarray) -> None:
        vectors = normalise(vectors)
        needed = max(rows) + 1
        if self._vectors.shape[1] != vectors.shape[1]:
            self._vectors = np.zeros((0, vectors.shape[1]), np.float32)
            self._has_vector = np.zeros(0, bool)
            self._graph, self._covered, self.graph_fingerprint = None, np.zeros(0, bool), None
        if self._vectors.shape[0] < needed:
            capacity = max(needed, 2 * self._vectors.shape[0])
            grown = np.zeros((capacity, vectors.shape[1]), np.float32)
            grown[: self._vectors.shape[0]] = self._vectors
            self._vectors = grown
            flags = np.zeros(capacity, bool)
            flags[: len(self._has_vector)] = self._has_vector
            self._has_vector = flags
            covered = np.zeros(capacity, bool)
            covered[: len(self._covered)] = self._covered
            self._covered = covered
        rows = list(rows)
        if self._graph is not None:  # a row whose vector changes leaves the graph (its entry is stale)
            changed = [n for n, r in enumerate(rows) if self._covered[r] and not np.array_equal(self._vectors[r], vectors[n])]
            self._covered[[rows[n] for n in changed]] = False
        self._vectors[rows] = vectors
        self._has_vector[rows] = True
        self._sample = None

    def set_vectors(self, ids: Sequence[str], vectors: np.ndarray, model: str) -> int:
        """Give precomputed (persisted) passage vectors of listings already added; returns how many
        were used. ``model`` must be this index's embedder's ``name==version``: vectors of another
        model are refused (ValueError) rather than compared with the wrong queries."""
        if model != self.model:
            raise ValueError(f"vectors of model {model!r} given to an index embedding with {self.model!r}")
        pairs = [(self._row_of[i], n) for n, i in enumerate(ids) if i in self._row_of]
        if not pairs:
            return 0
        self._put_vectors([r for r, _ in pairs], np.asarray(vectors)[[n for _, n in pairs]])
        return len(pairs)

    def uses_hnsw(self) -> bool:
        """Whether dense search goes through the HNSW graph (``hnsw_threshold`` vectors or more)."""
        return self.hnsw_threshold is not None and self.vector_count() >= self.hnsw_threshold

    @property
    def hnsw_graph(self) -> HnswGraph | None:
        """The HNSW graph: attached (``attach_graph``) or built (``build_graph``, or the first search
        past the threshold when ``build_graph_on_search``)."""
        return self._graph

    def side_rows(self) -> np.ndarray:
        """Alive rows with a vector that the graph does not hold (searched exactly beside it)."""
        n = min(len(self._ids), len(self._has_vector))
        return np.flatnonzero(self._has_vector[:n] & self._columns.alive[:n] & ~self._covered[:n])

    def build_graph(self) -> None:
        """Build the HNSW graph now, or add to it the vectors it lacks; a graph mapped from its file
        (read-only) is replaced by one built here."""
        if self._graph is None or self._graph.read_only:
            n = min(len(self._ids), len(self._has_vector))
            rows = np.flatnonzero(self._has_vector[:n] & self._columns.alive[:n])
            self._graph = HnswGraph(self._vectors.shape[1])
            self._covered[:] = False
            self.graph_fingerprint = None
        else:
            rows = self.side_rows()
        for start in range(0, len(rows), 100_000):
            part = rows[start: start + 100_000]
            self._graph.add(part, self._vectors[part])
        self._covered[rows] = True

    def attach_graph(self, persisted: PersistedGraph) -> int:
        """Search through a graph built elsewhere (``ann.load_graph``): each of its entries is used when
        its id is a listing here whose vector has the same digest, the others are masked; the rows
        it lacks are searched exactly. Returns how many entries are used."""
        width = len(self._has_vector)
        rows = np.fromiter((self._row_of.get(i, -1) for i in persisted.ids), np.int64, len(persisted.ids))
        usable = (rows >= 0) & (rows < width)
        usable[usable] = self._has_vector[rows[usable]]
        if self._vectors.shape[1:] != (persisted.graph.dim,):
            usable[:] = False
        else:
            usable[usable] = vector_digests(self._vectors, rows[usable]) == persisted.digests[usable]
        rows[~usable] = -1
        persisted.graph.map_rows(rows)
        self._graph = persisted.graph
        self._covered = np.zeros(width, bool)
        self._covered[rows[usable]] = True
        self.graph_fingerprint = persisted.fingerprint
        return int(usable.sum())

    def _cosine_moments(self, query_vector: np.ndarray) -> tuple[float, float]:
        """Mean and standard deviation of the query's cosine over the collection, from a fixed
        random sample of 4,096 rows with a vector (what the z-score of ``dense_norm`` needs)."""
        if self._sample is None:
            have = np.flatnonzero(self._has_vector[: len(self._ids)] & self._columns.alive[: len(self._ids)])
            rng = np.random.default_rng(len(have))
            self._sample = have if len(have) <= 4096 else np.sort(rng.choice(have, 4096, replace=False))
            # the sample's vectors side by side: gathering 4,096 rows scattered over a 1.5 GB matrix on
            # every query cost more than the product itself
            self._sample_vectors = np.ascontiguousarray(self._vectors[self._sample])
        values = self._sample_vectors @ query_vector
        return float(values.mean()), float(values.std())

    def missing_vectors(self) -> list[str]:
        """Ids of listings that have no vector yet (what a re-embedding job computes)."""
        alive = np.flatnonzero(self._columns.alive[: len(self._ids)])
        have = self._has_vector[alive[alive < len(self._has_vector)]]
        flags = np.zeros(len(alive), bool)
        flags[: len(have)] = have
        return [self._ids[r] or "" for r in alive[~flags].tolist()]

    def vector_count(self) -> int:
        return int(self._has_vector[: len(self._ids)].sum())

    def component_scores(self, query: str, *, expand: bool = True) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(ids of alive rows, raw BM25 per row, raw cosine per row) — what fusion weights are fitted on."""
        self._seal()
        self._refresh_impacts()
        query_terms = [q for q in self.analyze_query(query, expand=expand) if q.term in self._vocabulary]
        n_rows = len(self._ids)
        candidates, scores = self._score_sparse(self._gather(query_terms), n_rows)
        lexical = np.zeros(n_rows)
        lexical[candidates] = scores
        dense = self._dense_cosines(query, n_rows)
        alive = np.flatnonzero(self._columns.alive[:n_rows])
        return [self._ids[r] or "" for r in alive.tolist()], lexical[alive], dense[alive]

    def _dense_cosines(self, query: str, n_rows: int) -> np.ndarray:
        if self.embedder is None or not len(self._vectors):
            return np.zeros(n_rows)
        query_vector = normalise(self.embedder.embed_queries([query]))[0]
        dense = np.zeros(n_rows, np.float32)
        width = min(n_rows, len(self._vectors))
        dense[:width] = self._vectors[:width] @ query_vector
        return dense

    # ------------------------------------------------------------------ reads
    def analyze_query(self, query: str, *, expand: bool = True) -> list[QueryTerm]:
        """Terms of the query with weights, synonyms added when ``expand``."""
        return analyze_query(self.tokenizer, self.synonyms if expand else None, query)

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        filter: Filter | None = None,
        explain: bool = True,
        expand: bool = True,
        profile: FeedbackProfile | None = None,
    ) -> list[Hit]:
        """Top ``k`` listings for ``query`` that satisfy ``filter``, best first."""
        self._seal()
        self._refresh_impacts()
        analysed = self.analyze_query(query, expand=expand)
        needs_word = any(meaningful(q.term) for q in analysed)
        query_terms = [q for q in analysed if q.term in self._vocabulary]
        n_rows = len(self._ids)
        postings = self._gather(query_terms)
        depth = k if profile is None else max(5 * k, 50)
        total = sum(len(docs) for slices, _ in postings for docs, _ in slices)
        dense_path = self.embedder is not None and self.fusion is not None and bool(self.vector_count())
        if total * 8 < n_rows or dense_path:
            candidates, candidate_scores = self._score_sparse(postings, n_rows)
            keep = None
        else:
            scores = np.zeros(n_rows, np.float32)
            for slices, weight in postings:
                factor = np.float32(weight)
                for docs, impacts in slices:
                    scores[docs] += impacts * factor
            mask = self._row_mask(filter, n_rows)
            if mask is not None:
                np.multiply(scores, mask, out=scores)
            candidates = _candidates_for_top(scores, depth)
            candidate_scores = scores[candidates].astype(np.float64)
            keep = np.ones(len(candidates), bool)
        dense_scores = None
        lexical_match = None
        if dense_path:
            lexical_match = self._meaningful_overlap(candidates, query_terms, postings) if needs_word else None
            lexical_rows = candidates
            candidates, candidate_scores, dense_scores, dense_z = self._fuse_dense(
                query, candidates, candidate_scores, filter, depth)
            _, shares = _sorted_lookup(lexical_rows[lexical_match] if lexical_match is not None else lexical_rows,
                                       candidates)
            floor = min(self.min_dense_z, 0.5 * math.sqrt(max(self._alive_count - 1, 0)))
            keep = self._filter_mask(candidates, filter) & (shares | (dense_z >= floor))
        if keep is None:
            keep = self._filter_mask(candidates, filter)
        if needs_word and not dense_path:
            keep &= self._meaningful_overlap(candidates, query_terms, postings)
        candidates, candidate_scores = candidates[keep], candidate_scores[keep]
        if dense_scores is not None:
            dense_scores = dense_scores[keep]
        top = _top_k(candidate_scores, depth)
        rows, scores = candidates[top], candidate_scores[top]
        dense_of_row = (
            dict(zip(rows.tolist(), dense_scores[top].tolist(), strict=True))
            if dense_scores is not None
            else {}
        )
        factors: dict[int, float] = {}
        if profile is not None:
            ids = [self._ids[r] or "" for r in rows.tolist()]
            doc_terms = {i: self.row_terms(r) for i, r in zip(ids, rows.tolist(), strict=True)}
            trls = {i: int(self._columns.trl[r]) for i, r in zip(ids, rows.tolist(), strict=True)}
            reranked = rerank(list(zip(ids, scores.tolist(), strict=True)), profile, doc_terms, trls)[:k]
            base = dict(zip(ids, scores.tolist(), strict=True))
            factors = {self._row_of[i]: (s / base[i] if base[i] else 1.0) for i, s in reranked}
            rows = np.asarray([self._row_of[i] for i, _ in reranked], dtype=np.int64)
            scores = np.asarray([s for _, s in reranked])
        contributions = _contributions(postings, rows) if explain else None
        hits = []
        for i, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True)):
            explanation = None
            if contributions is not None:
                explanation = self._explain(
                    row, query_terms, contributions[i], filter, dense_of_row.get(row), factors.get(row, 1.0)
                )
                if dense_path and i < self.explain_meaning and row in self._texts:
                    title, text = self._texts[row]
                    explanation = replace(explanation, meaning=closest_sentences(self.embedder, query, title, text))
            hits.append(Hit(self._ids[row] or "", float(score), explanation))
        return hits

    @staticmethod
    def _meaningful_overlap(
        candidates: np.ndarray,
        query_terms: list[QueryTerm],
        postings: list[tuple[list[tuple[np.ndarray, np.ndarray]], float]],
    ) -> np.ndarray:
        """Candidates sharing a term of at least ``MIN_CJK_TERM_CHARS`` characters with the query."""
        kept = [p for q, p in zip(query_terms, postings, strict=True) if meaningful(q.term)]
        if len(kept) == len(query_terms):
            return np.ones(len(candidates), bool)
        docs = [d for slices, _w in kept for d, _i in slices]
        if not docs:
            return np.zeros(len(candidates), bool)
        return np.isin(candidates, np.concatenate(docs))

    def _score_sparse(
        self, postings: list[tuple[list[tuple[np.ndarray, np.ndarray]], float]], n_rows: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores of the documents that hold a query term, for short posting lists (or dense fusion)."""
        parts = [(docs, impacts * np.float32(w)) for slices, w in postings for docs, impacts in slices]
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0)
        all_docs = np.concatenate([d for d, _ in parts])
        all_weights = np.concatenate([w for _, w in parts])
        if len(all_docs) * 8 < n_rows:
            candidates, inverse = np.unique(all_docs, return_inverse=True)
            return candidates, np.bincount(inverse, weights=all_weights)
        scores = np.bincount(all_docs, weights=all_weights, minlength=n_rows)
        candidates = np.flatnonzero(scores)
        return candidates, scores[candidates]

    def _row_mask(self, flt: Filter | None, n_rows: int) -> np.ndarray | None:
        """Filter and liveness over all rows (None when every row qualifies)."""
        if flt is None and not self._dead_count:
            return None
        return self._filter_mask(slice(0, n_rows), flt)

    def _gather(
        self, query_terms: list[QueryTerm]
    ) -> list[tuple[list[tuple[np.ndarray, np.ndarray]], float]]:
        """Per query term: its posting slices (rows ascending, impacts), one a segment, and weight × idf."""
        if not query_terms:
            return []
        ids = np.asarray([self._vocabulary[q.term] for q in query_terms], dtype=np.int64)
        doc_parts: list[list[np.ndarray]] = [[] for _ in query_terms]
        impact_parts: list[list[np.ndarray]] = [[] for _ in query_terms]
        for segment in self._segments:
            if not len(segment.terms):
                continue
            positions, found = _sorted_lookup(segment.terms, ids)
            for j in np.flatnonzero(found).tolist():
                s, e = int(segment.start[positions[j]]), int(segment.end[positions[j]])
                doc_parts[j].append(segment.docs[s:e])
                impact_parts[j].append(segment.impact[s:e])
        n = max(self._alive_count, 1)
        alive = self._columns.alive
        out = []
        for q, docs_list, impact_list in zip(query_terms, doc_parts, impact_parts, strict=True):
            if self._dead_count:
                df = sum(int(np.count_nonzero(alive[docs])) for docs in docs_list)
            else:
                df = sum(len(docs) for docs in docs_list)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            out.append((list(zip(docs_list, impact_list, strict=True)), q.weight * idf))
        return out

    def _fuse_dense(
        self, query: str, candidates: np.ndarray, scores: np.ndarray, flt: Filter | None = None, depth: int = 10
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Learned fusion (``engines.text.fusion``) of BM25 and the cosine, over every alive row
        (exact search: one matrix-vector product; the filter and top-k cut follow), or past
        ``hnsw_threshold`` vectors over the HNSW neighbours and the best lexical rows."""
        assert self.fusion is not None
        if self.uses_hnsw() and (self._graph is not None or self.build_graph_on_search):
            return self._fuse_dense_hnsw(query, candidates, scores, flt, depth)
        n_rows = len(self._ids)
        dense = self._dense_cosines(query, n_rows)
        lexical = np.zeros(n_rows)
        lexical[candidates] = scores
        present = self._columns.alive[:n_rows].copy()
        width = min(n_rows, len(self._has_vector))
        present[width:] = False
        present[:width] &= self._has_vector[:width]
        fused = fuse(lexical, dense, self.fusion, present)
        rows = np.flatnonzero(self._columns.alive[:n_rows])
        return rows, fused[rows], dense[rows], dense_norm(dense, present)[rows]

    def _fuse_dense_hnsw(
        self, query: str, candidates: np.ndarray, scores: np.ndarray, flt: Filter | None, depth: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The fused scores of the HNSW neighbours of the query and of its best lexical rows,
        re-scored exactly; the z-score uses the collection's moments estimated on a sample. The rows
        the graph lacks are searched exactly (or added to a graph built in this process, when
        ``build_graph_on_search``). When a filter leaves fewer than ``depth`` of them, the rows
        passing the filter are scored exactly."""
        assert self.fusion is not None and self.embedder is not None
        if self._graph is None or (self.build_graph_on_search and not self._graph.read_only and len(self.side_rows())):
            self.build_graph()
        assert self._graph is not None
        query_vector = normalise(self.embedder.embed_queries([query]))[0]
        lexical01 = lexical_norm(scores)
        best_lexical = candidates[_top_k(scores, ANN_CANDIDATES)] if len(candidates) else candidates
        wanted = max(ANN_CANDIDATES, 4 * depth)
        near = self._graph.search(query_vector, wanted)
        near = near[self._covered[near]]  # an entry whose row has another vector since is stale
        side = self.side_rows()
        if len(side):
            near = np.union1d(near, side[_top_k(self._vectors[side] @ query_vector, wanted)])
        rows = np.union1d(near, best_lexical)
        rows = rows[self._filter_mask(rows, flt)]
        if flt is not None and len(rows) < depth:
            rows = np.flatnonzero(self._filter_mask(slice(0, len(self._ids)), flt))
        present = np.zeros(len(rows), bool)
        inside = rows < len(self._has_vector)
        present[inside] = self._has_vector[rows[inside]]
        dense = np.zeros(len(rows))
        dense[present] = self._vectors[rows[present]] @ query_vector
        mean, std = self._cosine_moments(query_vector)
        dense_z = np.where(present, (dense - mean) / (std if std > 1e-9 else 1.0), 0.0)
        dense = np.where(present, dense, mean)
        lexical = np.zeros(len(rows))
        positions, found = _sorted_lookup(candidates, rows)
        lexical[found] = lexical01[positions[found]]
        return rows, fuse_normalised(lexical, dense_z, self.fusion), dense, dense_z

    def _filter_mask(self, rows: np.ndarray | slice, flt: Filter | None) -> np.ndarray:
        """Rows (an index array, or a slice for all rows: views, no gathers) that are alive and pass."""
        columns = self._columns
        mask = columns.alive[rows].copy()
        if flt is None:
            return mask
        if flt.fields is not None:
            mask &= _allowed(self._field_codes, flt.fields)[columns.field_code[rows]]
        if flt.kinds is not None:
            mask &= _allowed(self._kind_codes, flt.kinds)[columns.kind_code[rows]]
        if flt.trl_min is not None:
            mask &= columns.trl[rows] >= flt.trl_min
        if flt.trl_max is not None:
            mask &= columns.trl[rows] <= flt.trl_max
        if flt.modes is not None:
            mask &= (columns.modes[rows] & self._mode_mask(flt.modes, create=False)) != 0
        return mask

    def _explain(
        self,
        row: int,
        query_terms: list[QueryTerm],
        contributions: np.ndarray,
        flt: Filter | None,
        dense_score: float | None,
        feedback_factor: float,
    ) -> Explanation:
        surfaces: dict[str, dict[str, set[str]]] = {}
        text = self._texts.get(row)
        if text is not None:
            for place, part in (("title", text[0]), ("text", text[1])):
                for term, surface in self.tokenizer.analyze(part) if part else ():
                    surfaces.setdefault(term, {}).setdefault(place, set()).add(surface)
        matches = []
        lexical = 0.0
        for q, contribution in zip(query_terms, contributions.tolist(), strict=True):
            if contribution <= 0:
                continue
            lexical += contribution
            places = surfaces.get(q.term, {})
            forms = sorted(set().union(*places.values())) if places else [q.term.removeprefix(BIGRAM_PREFIX)]
            matches.append(
                TermMatch(
                    term=q.term.removeprefix(BIGRAM_PREFIX),
                    surfaces=tuple(forms),
                    contribution=contribution,
                    synonym_of=q.synonym_of,
                    places=tuple(p for p in ("title", "text") if p in places),
                    bigram=q.term.startswith(BIGRAM_PREFIX),
                )
            )
        matches.sort(key=lambda m: -m.contribution)
        return Explanation(
            terms=tuple(matches),
            filters=self._describe_filters(row, flt),
            lexical_score=lexical,
            dense_score=dense_score,
            feedback_factor=feedback_factor,
        )

    def _describe_filters(self, row: int, flt: Filter | None) -> tuple[str, ...]:
        if flt is None:
            return ()
        columns = self._columns
        out = []
        if flt.fields is not None:
            out.append(f"field={_name_of(self._field_codes, int(columns.field_code[row]))}")
        if flt.kinds is not None:
            out.append(f"kind={_name_of(self._kind_codes, int(columns.kind_code[row]))}")
        if flt.trl_min is not None or flt.trl_max is not None:
            low = flt.trl_min if flt.trl_min is not None else "…"
            high = flt.trl_max if flt.trl_max is not None else "…"
            out.append(f"TRL {int(columns.trl[row])} in [{low}, {high}]")
        if flt.modes is not None:
            mask = int(columns.modes[row])
            shared = sorted(m for m in flt.modes if m in self._mode_bits and mask >> self._mode_bits[m] & 1)
            out.append("modes=" + ",".join(shared))
        return tuple(out)

    # -------------------------------------------------------------- helpers
    def row_terms(self, row: int) -> set[str]:
        """Distinct terms of a stored listing (empty when texts are not stored)."""
        text = self._texts.get(row)
        if text is None:
            return set()
        return set(self.tokenizer.terms(f"{text[0]}\n{text[1]}"))

    def doc_terms(self, doc_id: str) -> set[str]:
        """Distinct terms of the listing with this id (for feedback profiles)."""
        row = self._row_of.get(doc_id)
        return set() if row is None else self.row_terms(row)

    def doc_trl(self, doc_id: str) -> int:
        row = self._row_of.get(doc_id)
        return 0 if row is None else int(self._columns.trl[row])

    def memory_bytes(self) -> dict[str, int]:
        """Approximate memory by part (numpy arrays exactly, dictionaries estimated)."""
        postings = sum(segment.nbytes() for segment in self._segments)
        vocabulary = len(self._vocabulary) * 120
        ids = len(self._row_of) * 150
        texts = sum(len(t) * 2 + len(x) * 2 + 120 for t, x in self._texts.values())
        return {
            "postings": postings,
            "columns": self._columns.nbytes(),
            "vocabulary": vocabulary,
            "ids": ids,
            "texts": texts,
            "vectors": self._vectors.nbytes,
        }

    @property
    def segment_count(self) -> int:
        return len(self._segments) + (1 if self._buffer else 0)

    @property
    def posting_count(self) -> int:
        return sum(len(s.docs) for s in self._segments) + sum(len(t) for _, t, _ in self._buffer)


def analyze_query(tokenizer: Tokenizer, synonyms: SynonymTable | None, query: str) -> list[QueryTerm]:
    """Terms of ``query`` with weights (a character bigram down-weighted), and the synonym table's
    expansions (down-weighted) when one is given: what every search backend scores."""
    terms = tokenizer.terms(query)
    weights: dict[str, QueryTerm] = {}
    for term in terms:
        if term not in weights:
            weight = BIGRAM_WEIGHT if term.startswith(BIGRAM_PREFIX) else 1.0
            weights[term] = QueryTerm(term, weight)
    if synonyms is not None:
        for expansion in synonyms.expand(terms):
            weights.setdefault(expansion.term, QueryTerm(expansion.term, expansion.weight, expansion.source))
    return list(weights.values())


def document_terms(tokenizer: Tokenizer, title: str, text: str) -> list[str]:
    """Index terms of a listing as every backend counts them: the title's twice (a light BM25F),
    then the text's (the same terms ``chunk_postings`` gives)."""
    title_terms = tokenizer.terms(title) if title else []
    return title_terms + title_terms + tokenizer.terms(text)


def passage_text(listing: Listing) -> str:
    """What is embedded for a listing: its title and text."""
    return f"{listing.title}\n{listing.text}".strip()


def _allowed(codes: Mapping[str, int], names: Iterable[str]) -> np.ndarray:
    """Lookup table code → allowed, for a vectorised membership test."""
    table = np.zeros(len(codes), bool)
    table[[codes[name] for name in names if name in codes]] = True
    return table


def _name_of(codes: Mapping[str, int], code: int) -> str:
    for name, value in codes.items():
        if value == code:
            return name
    return ""


def _contributions(
    postings: list[tuple[list[tuple[np.ndarray, np.ndarray]], float]], rows: np.ndarray
) -> np.ndarray:
    """Contribution of each query term (columns) to each of ``rows`` (one searchsorted a slice)."""
    out = np.zeros((len(rows), len(postings)))
    if not len(rows):
        return out
    for j, (slices, weight) in enumerate(postings):
        for docs, impacts in slices:
            positions, found = _sorted_lookup(docs, rows)
            out[found, j] += impacts[positions[found]].astype(np.float64) * weight
    return out


def _candidates_for_top(scores: np.ndarray, depth: int) -> np.ndarray:
    """Rows that may be among the ``depth`` best (score > 0): a superset found by sampling.

    The ``depth``-th largest score of every 64th row is a lower bound of the true ``depth``-th
    largest, so every row at or above it is kept (about 64 × depth rows).
    """
    step = 64
    sample = scores[::step]
    if len(sample) > 4 * depth:
        kth = float(np.partition(sample, len(sample) - depth)[len(sample) - depth])
        if kth > 0:
            return np.flatnonzero(scores >= kth)
    return np.flatnonzero(scores)


def _default_sigterm() -> None:
    """In a tokenising child: SIGTERM ends the process, whatever handler the parent had installed."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _sorted_lookup(haystack: np.ndarray, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each needle is in the ascending ``haystack`` and whether it is there at all (``np.isin``
    by binary search: no sort of either array, which matters for a haystack of a tenth of a million
    lexical candidates at 1M listings). A position is only meaningful where found."""
    if not len(haystack):
        return np.zeros(len(needles), np.int64), np.zeros(len(needles), bool)
    positions = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    return positions, haystack[positions] == needles


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first (ties by position)."""
    if len(scores) <= k:
        return np.lexsort((np.arange(len(scores)), -scores))
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]
