"""An on-disk BM25 index in tantivy over our own tokens: one index per machine, read by every process.

The listings are tokenised by :mod:`.tokenize` (rjieba, the bundled dictionary) before they reach
tantivy: a document's terms (``index.document_terms``: the title's twice, then the text's) are
written space-separated into a field whose analyser is tantivy's ``whitespace`` tokenizer, so
tantivy counts exactly our terms (a space inside a term is kept as ``\\x1f``). A query is analysed
by :func:`.index.analyze_query` (synonym expansion included) and built programmatically — one
boosted term query per query term, never tantivy's query parser — so no user text is ever parsed
as tantivy syntax. tantivy's BM25 (k1 1.2, b 0.75, idf ln(1 + (N − n + .5)/(n + .5))) is the
memory index's; a term's boost is its query weight (a synonym's is lower).

Metadata fields carry the filters: ``kind``, ``trl``, ``modes`` and ``tags`` (fields/sectors) as
raw terms, ``group`` (the owning organisation) to exclude, ``id`` to exclude. Filter clauses score
0, so the ranking is the text's.

One writer (:class:`TantivyWriter`, tantivy takes a lock file) and any number of readers
(:class:`TantivyReader`): a reader opens the segment files memory-mapped (the page cache is shared
by every process of the machine) and reloads when the writer's commit changed ``meta.json``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from .index import Filter, QueryTerm, meaningful

WHITESPACE = re.compile(r"\s")
SPACE_IN_TERM = "\x1f"
WRITER_HEAP_BYTES = 64_000_000


@dataclass(frozen=True, slots=True)
class IndexedDoc:
    """One listing as a search backend stores it: its terms and the metadata the filters read."""

    id: int
    terms: Sequence[str]
    kind: str = ""
    trl: int = 0
    modes: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    group: int | None = None


@dataclass(frozen=True, slots=True)
class Restriction:
    """What a hit must satisfy: the engine ``Filter`` (kind, TRL, modes) plus any of ``tags``,
    not one of ``exclude_groups`` / ``exclude_ids``."""

    filter: Filter | None = None
    tags: frozenset[str] = frozenset()
    exclude_groups: frozenset[int] = frozenset()
    exclude_ids: frozenset[int] = frozenset()


def stored_term(term: str) -> str:
    """A term as one whitespace-free token (a space inside an English phrase becomes ``\\x1f``)."""
    return WHITESPACE.sub(SPACE_IN_TERM, term)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("kind", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("trl", indexed=True, fast=True)
    builder.add_text_field("modes", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("tags", tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("group", indexed=True)
    return builder.build()


SCHEMA = _schema()


def _document(doc: IndexedDoc) -> tantivy.Document:
    out = tantivy.Document()
    out.add_unsigned("id", doc.id)
    out.add_text("terms", " ".join(stored_term(t) for t in doc.terms))
    out.add_text("kind", doc.kind)
    out.add_integer("trl", int(doc.trl))
    for mode in sorted(doc.modes):
        out.add_text("modes", mode)
    for tag in sorted(doc.tags):
        out.add_text("tags", tag)
    if doc.group is not None:
        out.add_unsigned("group", doc.group)
    return out


def exists(path: Path) -> bool:
    return (Path(path) / "meta.json").exists()


class TantivyWriter:
    """The single writer of the index at ``path`` (created when missing)."""

    def __init__(self, path: Path, *, heap_bytes: int = WRITER_HEAP_BYTES, threads: int = 1) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(SCHEMA, path=str(self.path), reuse=True)
        self.writer = self.index.writer(heap_size=heap_bytes, num_threads=threads)

    def put(self, docs: Iterable[IndexedDoc]) -> int:
        """Add or replace documents (by id); visible to readers after :meth:`commit`.

        Deletes go through a term *query*: ``delete_documents_by_term`` turns a Python int into an
        i64 term, which never equals the u64 ``id`` term, and silently deletes nothing.
        """
        n = 0
        for doc in docs:
            self.writer.delete_documents_by_query(_term("id", doc.id))
            self.writer.add_document(_document(doc))
            n += 1
        return n

    def add_new(self, docs: Iterable[IndexedDoc]) -> int:
        """Add documents known to be absent (a rebuild after :meth:`clear`): no delete per document."""
        n = 0
        for doc in docs:
            self.writer.add_document(_document(doc))
            n += 1
        return n

    def remove(self, ids: Iterable[int]) -> None:
        for doc_id in ids:
            self.writer.delete_documents_by_query(_term("id", int(doc_id)))

    def clear(self) -> None:
        self.writer.delete_all_documents()

    def commit(self) -> None:
        self.writer.commit()

    def close(self) -> None:
        """Wait for the merges and release the writer's lock."""
        self.writer.wait_merging_threads()


class TantivyReader:
    """A reader of the index at ``path``: cheap to open (memory maps), reloads after a commit."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.index = tantivy.Index.open(str(self.path))
        self._meta_stamp = self._stamp()
        self.searcher = self.index.searcher()

    def _stamp(self) -> tuple[int, int]:
        try:
            stat = os.stat(self.path / "meta.json")
        except OSError:
            return (0, 0)
        return (stat.st_mtime_ns, stat.st_size)

    def refresh(self) -> bool:
        """Reload when the writer committed since (one ``stat``); True when it did."""
        stamp = self._stamp()
        if stamp == self._meta_stamp:
            return False
        self.index.reload()
        self.searcher = self.index.searcher()
        self._meta_stamp = stamp
        return True

    def __len__(self) -> int:
        return int(self.searcher.num_docs)

    def search(self, query_terms: Sequence[QueryTerm], *, k: int = 10,
               restriction: Restriction = Restriction()) -> list[tuple[int, float]]:
        """``(id, BM25 score)`` of the best ``k`` documents, best first.

        When the query has a term of at least two characters (or an English word) a hit must
        share one of those (``index.MIN_CJK_TERM_CHARS``), as in the memory index.
        """
        query = build_query(query_terms, restriction)
        if query is None:
            return []
        result = self.searcher.search(query, limit=max(int(k), 1), count=False)
        if not result.hits:
            return []
        addresses = [address for _score, address in result.hits]
        ids = self.searcher.fast_field_values("id", addresses)
        return [(int(i), float(score)) for i, (score, _address) in zip(ids, result.hits, strict=True)]


def _term(field: str, value: str | int) -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, field, value)


def _weighted(terms: Sequence[QueryTerm]) -> tantivy.Query:
    clauses = [(tantivy.Occur.Should, tantivy.Query.boost_query(
        tantivy.Query.term_query(SCHEMA, "terms", stored_term(q.term), index_option="freq"), float(q.weight)))
        for q in terms]
    return tantivy.Query.boolean_query(clauses)


def _any_of(field: str, values: Iterable[str]) -> tantivy.Query:
    return tantivy.Query.term_set_query(SCHEMA, field, sorted(values))


def build_query(query_terms: Sequence[QueryTerm], restriction: Restriction = Restriction()) -> tantivy.Query | None:
    """The tantivy query of analysed terms under ``restriction`` (None: nothing can match)."""
    terms = [q for q in query_terms if q.term and q.weight > 0]
    if not terms:
        return None
    words = [q for q in terms if meaningful(q.term)]
    others = [q for q in terms if not meaningful(q.term)]
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    if words:
        clauses.append((tantivy.Occur.Must, _weighted(words)))
        if others:
            clauses.append((tantivy.Occur.Should, _weighted(others)))
    else:
        clauses.append((tantivy.Occur.Must, _weighted(others)))
    must: list[tantivy.Query] = []
    flt = restriction.filter
    if flt is not None:
        if flt.kinds is not None:
            must.append(_any_of("kind", flt.kinds))
        if flt.fields is not None:
            must.append(_any_of("tags", flt.fields))
        if flt.trl_min is not None or flt.trl_max is not None:
            must.append(tantivy.Query.range_query(SCHEMA, "trl", tantivy.FieldType.Integer, flt.trl_min, flt.trl_max))
        if flt.modes is not None:
            must.append(_any_of("modes", flt.modes))
    if restriction.tags:
        must.append(_any_of("tags", restriction.tags))
    for query in must:
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(query, 0.0)))
    clauses.extend((tantivy.Occur.MustNot, _term("group", int(g))) for g in sorted(restriction.exclude_groups))
    clauses.extend((tantivy.Occur.MustNot, _term("id", int(i))) for i in sorted(restriction.exclude_ids))
    return tantivy.Query.boolean_query(clauses)
