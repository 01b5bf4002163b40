"""Where the marketplace search index lives: the setting ``SEARCH_BACKEND``.

* ``memory`` (default) — each process builds its own :class:`~sciencecity.engines.text.TextIndex`
  (``services.matching``): nothing to run beside the web server; every worker pays the build.
* ``tantivy`` — one on-disk index per machine under ``VAR_DIR/search/<source>``
  (``engines.text.tantivy_index``), read by every worker through the page cache and written by one
  writer: the job ``transfer.reindex`` (``core.jobs``), run by ``sciencecity worker``.
* ``postgres`` — the table ``transfer_search_document`` (a ``tsvector`` of our tokens with the
  positions 1…tf, a GIN index) scored with BM25 in SQL, for deployments on several machines.

Covered sources: the achievements and the demands (search page, API, CLI, matches of a demand or
an achievement, the filters' removal counts, new-listing notifications, topic watches). Experts,
organisations and funded projects stay in the memory index. Matching by meaning (dense vectors) is
the memory index's: with another backend the ranking is lexical (BM25 + synonyms).

Every backend gets the same terms (``engines.text.index.document_terms`` / ``analyze_query``), so
the ranking is the memory index's; the explanations (shared terms, highlights) are computed by the
engine on the few hits shown. A write calls :func:`request_reindex` (through
``matching.listing_changed``); a reader also compares the table's ``(count, max(updated_at))`` with
what the index has seen every ``TRANSFER_INDEX_STALENESS_SECONDS`` and queues a catch-up when they
differ (imports, admin edits). The job reindexes the rows changed since the index's stamp (all of
them when rows were deleted or the index is new) and records the new stamp.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import connection, transaction
from django.utils.translation import gettext_lazy

from sciencecity.engines.text.index import QueryTerm, document_terms
from sciencecity.engines.text.tantivy_index import IndexedDoc, Restriction

BACKENDS = ("memory", "tantivy", "postgres")
BACKEND_KINDS = ("achievements", "demands")
REINDEX_KIND = "transfer.reindex"
CATCH_UP_OVERLAP = dt.timedelta(seconds=5)
WRITER_LOCK_WAIT_SECONDS = 60.0
REINDEX_BATCH = 5000


def backend_name() -> str:
    return str(getattr(settings, "SEARCH_BACKEND", "memory") or "memory")


def active(kind: str) -> bool:
    """Whether searches of ``kind`` go to a shared backend (not the per-process memory index)."""
    return backend_name() != "memory" and kind in BACKEND_KINDS


def _stamp_json(stamp: tuple[int, dt.datetime | None]) -> dict[str, Any]:
    return {"count": stamp[0], "last": stamp[1].isoformat() if stamp[1] else None}


def _stamp_of(data: dict[str, Any] | None) -> tuple[int, dt.datetime | None] | None:
    if not data:
        return None
    last = data.get("last")
    return int(data.get("count", 0)), dt.datetime.fromisoformat(last) if last else None


def indexed_doc(pk: int, entry: Any, tokenizer: Any) -> IndexedDoc | None:
    """The backend document of a ``matching.Entry`` (None: not searchable)."""
    listing = entry.listing
    if listing is None:
        return None
    return IndexedDoc(int(pk), document_terms(tokenizer, listing.title, listing.text), kind=listing.kind,
                      trl=int(listing.trl), modes=listing.modes, tags=entry.sectors, group=entry.organisation_id)


# --- tantivy -------------------------------------------------------------------------------------
class TantivyBackend:
    name = "tantivy"

    def __init__(self) -> None:
        self._readers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def path(self, kind: str) -> Path:
        return Path(getattr(settings, "SEARCH_INDEX_DIR", "") or Path(settings.VAR_DIR) / "search") / kind

    def seen(self, kind: str) -> tuple[int, dt.datetime | None] | None:
        from sciencecity.engines.text import tantivy_index

        if not tantivy_index.exists(self.path(kind)):
            return None
        try:
            return _stamp_of(json.loads((self.path(kind) / "stamp.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None

    def reader(self, kind: str) -> Any:
        from sciencecity.engines.text.tantivy_index import TantivyReader

        with self._lock:
            reader = self._readers.get(kind)
            if reader is None:
                reader = self._readers[kind] = TantivyReader(self.path(kind))
            else:
                reader.refresh()
            return reader

    def search(self, kind: str, terms: Sequence[QueryTerm], k: int, restriction: Restriction) -> list[tuple[int, float]]:
        return self.reader(kind).search(terms, k=k, restriction=restriction)

    def write(self, kind: str, docs: Iterable[IndexedDoc], removed: Iterable[int], *, full: bool,
              stamp: tuple[int, dt.datetime | None]) -> int:
        from sciencecity.engines.text.tantivy_index import TantivyWriter

        writer = _open_writer(TantivyWriter, self.path(kind))
        try:
            if full:
                writer.clear()
                n = writer.add_new(docs)
            else:
                n = writer.put(docs)
                writer.remove(removed)  # read after the documents: the closed ones are found on the way
            writer.commit()
        finally:
            writer.close()
        target = self.path(kind) / "stamp.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(_stamp_json(stamp)), encoding="utf-8")
        temporary.replace(target)
        return n

    def rows(self, kind: str) -> int:
        return len(self.reader(kind))

    def reset(self) -> None:
        with self._lock:
            self._readers.clear()


def _open_writer(factory: Any, path: Path) -> Any:
    """tantivy's writer lock is per index: a second job waits for the first (one writer at a time)."""
    deadline = time.monotonic() + WRITER_LOCK_WAIT_SECONDS
    while True:
        try:
            return factory(path)
        except ValueError as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --- PostgreSQL full text ------------------------------------------------------------------------
K1 = 1.2
B = 0.75
TABLE = "transfer_search_document"
STATE_TABLE = "transfer_search_state"
MAX_POSITIONS = 256
"""A tsvector keeps at most 256 positions of a lexeme: the term frequency is capped there."""
MAX_LEXEME_BYTES = 2046
"""PostgreSQL refuses a longer lexeme ("word is too long"): such a term is left out of this backend."""


def fits(term: str) -> bool:
    return 0 < len(term.encode("utf-8")) <= MAX_LEXEME_BYTES


def tsvector_literal(terms: Iterable[str]) -> tuple[str, int]:
    """The ``tsvector`` text of a document's terms — each lexeme quoted, with positions 1…tf so that
    the term frequency survives — and the document's length in terms."""
    counts: dict[str, int] = {}
    length = 0
    for term in terms:
        counts[term] = counts.get(term, 0) + 1
        length += 1
    parts = [f"{quote_lexeme(term)}:{','.join(str(p) for p in range(1, min(n, MAX_POSITIONS) + 1))}"
             for term, n in counts.items()]
    return " ".join(parts), length


def quote_lexeme(term: str) -> str:
    """A lexeme as tsvector/tsquery input reads it: in single quotes, ' doubled, \\ escaped."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


TERM_TABLE = "transfer_search_term"
ZETA2 = 1.64493406685
"""ζ(2) = π²/6, the constant of PostgreSQL's ``ts_rank`` (tsrank.c, ``calc_rank_or``)."""


def _tf_sql(rank: str) -> str:
    """The term frequency of one lexeme from ``ts_rank({1,1,1,1}, terms, 'lexeme', 0)``.

    For a one-lexeme query with every weight 1, PostgreSQL's ts_rank is H(tf)/ζ(2) with
    H(tf) = Σ_{j≤tf} 1/j² (tsrank.c, ``calc_rank_or``); ζ(2) − H(tf) ≈ 1/(tf + ½), so tf is
    round(1/(ζ(2) − rank·ζ(2)) − ½) — exact up to the 256 positions a lexeme keeps. This reads tf
    without unnesting the whole tsvector (``unnest`` costs ~90 µs a row, ``ts_rank`` a few).
    """
    return (f"(CASE WHEN {rank} > 0 THEN round(1.0 / GREATEST({ZETA2} - {rank}::float8 * {ZETA2}, 1e-9) - 0.5) "
            "ELSE 0 END)")


class PostgresBackend:
    """``connection``: Django's by default; a psycopg connection for the benchmark (no Django)."""

    name = "postgres"

    def __init__(self, connection: Any = None) -> None:
        self._connection = connection

    def _cursor(self) -> Any:
        return (self._connection or connection).cursor()

    def _atomic(self) -> Any:
        return self._connection.transaction() if self._connection is not None else transaction.atomic()

    def seen(self, kind: str) -> tuple[int, dt.datetime | None] | None:
        with self._cursor() as cursor:
            cursor.execute(f"SELECT seen_count, seen_last FROM {STATE_TABLE} WHERE source = %s", [kind])  # noqa: S608
            row = cursor.fetchone()
        return None if row is None else (int(row[0]), row[1])

    def _stats(self, kind: str) -> tuple[int, float]:
        with self._cursor() as cursor:
            cursor.execute(f"SELECT documents, total_length FROM {STATE_TABLE} WHERE source = %s", [kind])  # noqa: S608
            row = cursor.fetchone()
        if row is None or not row[0]:
            return 0, 1.0
        return int(row[0]), float(row[1]) / int(row[0])

    def search(self, kind: str, terms: Sequence[QueryTerm], k: int, restriction: Restriction) -> list[tuple[int, float]]:
        """BM25 as the memory index computes it (k1 1.2, b 0.75, idf from the document frequencies the
        writer keeps), over the rows whose tsvector holds a query word (the GIN index finds them)."""
        from sciencecity.engines.text.index import meaningful

        terms = [q for q in terms if fits(q.term) and q.weight > 0]
        if not terms:
            return []
        n, avgdl = self._stats(kind)
        if not n:
            return []
        with self._cursor() as cursor:
            cursor.execute(f"SELECT term, df FROM {TERM_TABLE} WHERE source = %s AND term = ANY(%s)",  # noqa: S608
                           [kind, [q.term for q in terms]])
            df = {term: int(count) for term, count in cursor.fetchall()}
        present = [q for q in terms if df.get(q.term, 0) > 0]
        words = [q for q in present if meaningful(q.term)]
        needs_word = any(meaningful(q.term) for q in terms)
        if not present or needs_word and not words:
            return []
        params: dict[str, Any] = {"source": kind, "k": max(int(k), 1), "avgdl": avgdl,
                                  "match": " | ".join(quote_lexeme(q.term) for q in (words if needs_word else present))}
        ranks, parts = [], []
        for i, q in enumerate(present):
            params[f"q{i}"] = quote_lexeme(q.term)
            ranks.append(f"ts_rank('{{1,1,1,1}}', d.terms, %(q{i})s::tsquery, 0) AS r{i}")
            idf = math.log(1.0 + (n - df[q.term] + 0.5) / (df[q.term] + 0.5))
            params[f"w{i}"] = q.weight * idf
            tf = _tf_sql(f"r{i}")
            parts.append(f"%(w{i})s * {tf} * {K1 + 1} / ({tf} + {K1} * (1 - {B} + {B} * length / %(avgdl)s))")
        filters = []
        flt = restriction.filter
        if flt is not None:
            if flt.kinds is not None:
                filters.append("AND d.kind = ANY(%(kinds)s)")
                params["kinds"] = sorted(flt.kinds)
            if flt.fields is not None:
                filters.append("AND d.sectors && %(fields)s::text[]")
                params["fields"] = sorted(flt.fields)
            if flt.trl_min is not None:
                filters.append("AND d.trl >= %(trl_min)s")
                params["trl_min"] = flt.trl_min
            if flt.trl_max is not None:
                filters.append("AND d.trl <= %(trl_max)s")
                params["trl_max"] = flt.trl_max
            if flt.modes is not None:
                filters.append("AND d.modes && %(modes)s::text[]")
                params["modes"] = sorted(flt.modes)
        if restriction.tags:
            filters.append("AND d.sectors && %(tags)s::text[]")
            params["tags"] = sorted(restriction.tags)
        if restriction.exclude_groups:
            filters.append("AND (d.organisation_id IS NULL OR NOT d.organisation_id = ANY(%(groups)s))")
            params["groups"] = sorted(restriction.exclude_groups)
        if restriction.exclude_ids:
            filters.append("AND NOT d.listing_id = ANY(%(ids)s)")
            params["ids"] = sorted(restriction.exclude_ids)
        sql = (f"SELECT listing_id, {' + '.join(parts)} AS score FROM ("  # noqa: S608
               f"SELECT d.listing_id, d.length, {', '.join(ranks)} FROM {TABLE} d "
               f"WHERE d.source = %(source)s AND d.terms @@ %(match)s::tsquery {' '.join(filters)}) AS hit "
               "ORDER BY score DESC, listing_id LIMIT %(k)s")
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            return [(int(pk), float(score)) for pk, score in cursor.fetchall()]

    def write(self, kind: str, docs: Iterable[IndexedDoc], removed: Iterable[int], *, full: bool,
              stamp: tuple[int, dt.datetime | None]) -> int:
        """Upsert ``docs`` and delete ``removed`` in one transaction, keeping the document frequencies
        (``transfer_search_term``: recounted by ``ts_stat`` on a full build, adjusted by the terms
        each changed row loses and gains otherwise) and the collection's size and length."""
        n = 0
        delta: dict[str, int] = {}
        with self._atomic(), self._cursor() as cursor:
            if full:
                cursor.execute(f"DELETE FROM {TABLE} WHERE source = %s", [kind])  # noqa: S608
                cursor.execute(f"DELETE FROM {TERM_TABLE} WHERE source = %s", [kind])  # noqa: S608
            batch: list[tuple[Any, ...]] = []
            for doc in docs:
                kept = [t for t in doc.terms if fits(t)]
                vector, length = tsvector_literal(kept)
                batch.append((kind, doc.id, doc.kind, doc.trl, sorted(doc.modes), sorted(doc.tags), doc.group,
                              length, vector))
                if not full:
                    for term in set(kept):
                        delta[term] = delta.get(term, 0) + 1
                n += 1
                if len(batch) >= 1000:
                    self._upsert(cursor, batch, delta, full=full)
                    batch = []
            if batch:
                self._upsert(cursor, batch, delta, full=full)
            removed = [int(i) for i in removed]  # read after the documents: the closed ones are found on the way
            if removed:
                self._forget_terms(cursor, kind, removed, delta)
                cursor.execute(f"DELETE FROM {TABLE} WHERE source = %s AND listing_id = ANY(%s)",  # noqa: S608
                               [kind, removed])
            if full:
                cursor.execute(
                    f"INSERT INTO {TERM_TABLE} (source, term, df) SELECT %s, word, ndoc FROM ts_stat("  # noqa: S608
                    f"format('SELECT terms FROM {TABLE} WHERE source = %%L', %s::text))", [kind, kind])
            elif delta:
                cursor.executemany(
                    f"INSERT INTO {TERM_TABLE} (source, term, df) VALUES (%s, %s, %s) "  # noqa: S608
                    "ON CONFLICT (source, term) DO UPDATE SET df = transfer_search_term.df + EXCLUDED.df",
                    [(kind, term, d) for term, d in delta.items() if d])
                cursor.execute(f"DELETE FROM {TERM_TABLE} WHERE source = %s AND df <= 0", [kind])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {STATE_TABLE} (source, documents, total_length, seen_count, seen_last) "  # noqa: S608
                f"SELECT %s, count(*), coalesce(sum(length), 0), %s, %s FROM {TABLE} WHERE source = %s "
                "ON CONFLICT (source) DO UPDATE SET documents = EXCLUDED.documents, "
                "total_length = EXCLUDED.total_length, seen_count = EXCLUDED.seen_count, "
                "seen_last = EXCLUDED.seen_last", [kind, stamp[0], stamp[1], kind])
        if full:
            with self._cursor() as cursor:
                cursor.execute(f"ANALYZE {TABLE}")
        return n

    def _forget_terms(self, cursor: Any, kind: str, ids: list[int], delta: dict[str, int]) -> None:
        """Count the terms of the stored rows ``ids`` out of the document frequencies (before they change)."""
        cursor.execute(f"SELECT tsvector_to_array(terms) FROM {TABLE} WHERE source = %s AND listing_id = ANY(%s)",  # noqa: S608
                       [kind, ids])
        for (lexemes,) in cursor.fetchall():
            for term in lexemes:
                delta[term] = delta.get(term, 0) - 1

    def _upsert(self, cursor: Any, batch: list[tuple[Any, ...]], delta: dict[str, int], *, full: bool) -> None:
        if not full:
            self._forget_terms(cursor, batch[0][0], [row[1] for row in batch], delta)
        cursor.executemany(
            f"INSERT INTO {TABLE} (source, listing_id, kind, trl, modes, sectors, organisation_id, length, terms) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector) ON CONFLICT (source, listing_id) DO UPDATE SET "
            "kind = EXCLUDED.kind, trl = EXCLUDED.trl, modes = EXCLUDED.modes, sectors = EXCLUDED.sectors, "
            "organisation_id = EXCLUDED.organisation_id, length = EXCLUDED.length, terms = EXCLUDED.terms", batch)

    def rows(self, kind: str) -> int:
        return self._stats(kind)[0]

    def reset(self) -> None:
        pass


_BACKENDS: dict[str, Any] = {}


def backend() -> Any:
    name = backend_name()
    if name not in _BACKENDS:
        _BACKENDS[name] = TantivyBackend() if name == "tantivy" else PostgresBackend()
    return _BACKENDS[name]


def reset() -> None:
    """Forget the open readers and the staleness clocks (tests)."""
    for item in _BACKENDS.values():
        item.reset()
    _CHECKED.clear()


# --- writes: the reindex job ---------------------------------------------------------------------
def request_reindex(kind: str, ids: Sequence[int] = (), *, full: bool = False) -> Any:
    """Queue the reindex of ``kind`` (the rows changed since the index's stamp, plus ``ids``); a job
    already queued for the same source does it (none is added)."""
    from sciencecity.core.jobs import job_enqueue
    from sciencecity.core.models import Job, JobState

    if not getattr(settings, "JOBS_INLINE", False):
        queued = Job.objects.filter(kind=REINDEX_KIND, state=JobState.QUEUED, params__kind=kind)
        if not full and queued.exists():
            return None
    return job_enqueue(kind=REINDEX_KIND, params={"kind": kind, "ids": [int(i) for i in ids], "full": full},
                       message=f"search index: {kind}")


def reindex(kind: str, ids: Sequence[int] = (), *, full: bool = False) -> dict[str, Any]:
    """Bring the backend's index of ``kind`` up to the table (what the job runs)."""
    from sciencecity.transfer.services import matching

    store = backend()
    stamp = matching.table_stamp(kind)
    seen = store.seen(kind)
    full = full or seen is None or stamp[0] < seen[0]
    queryset, entries = matching.source_queryset(kind)
    rows = queryset
    if not full:
        changed = queryset.filter(pk__in=list(ids)) if ids else queryset.none()
        if seen is not None and seen[1] is not None and stamp != seen:
            changed = changed | queryset.filter(updated_at__gte=seen[1] - CATCH_UP_OVERLAP)
        rows = changed
    tokenizer, _synonyms = matching.engine_parts()
    found: set[int] = set()
    closed: list[int] = []

    def docs() -> Iterable[IndexedDoc]:
        last = 0
        while True:  # in pk batches: a full build of a million rows never holds them all
            batch = list(entries(rows.filter(pk__gt=last).order_by("pk")[:REINDEX_BATCH]))
            if not batch:
                return
            for pk, entry in batch:
                found.add(pk)
                doc = indexed_doc(pk, entry, tokenizer)
                if doc is None:
                    closed.append(pk)
                else:
                    yield doc
            last = batch[-1][0]

    written = store.write(kind, docs(), closed, full=full, stamp=stamp)
    missing = [int(i) for i in ids if int(i) not in found]
    if missing:
        store.write(kind, (), missing, full=False, stamp=stamp)
    removed = closed + missing
    _CHECKED[kind] = time.monotonic()
    return {"source": kind, "full": full, "written": written, "removed": len(removed), "backend": store.name}


def reindex_run(job: Any, context: Any) -> dict[str, Any]:
    params = job.params or {}
    kind = params.get("kind")
    if kind not in BACKEND_KINDS:
        raise ValueError(f"unknown search source {kind!r}")
    if backend_name() == "memory":
        return {"source": kind, "backend": "memory", "written": 0}
    context.progress(0, 1)
    result = reindex(kind, params.get("ids") or (), full=bool(params.get("full")))
    context.progress(1, 1)
    return result


# --- reads ---------------------------------------------------------------------------------------
_CHECKED: dict[str, float] = {}


def ensure_current(kind: str) -> bool:
    """Whether the shared index of ``kind`` can answer; queues a catch-up when the table changed
    since the index's stamp (checked at most every staleness interval), a full build when it has none."""
    from sciencecity.transfer.services import matching

    now = time.monotonic()
    store = backend()
    if now - _CHECKED.get(kind, -1e9) < matching.staleness_interval():
        return True
    _CHECKED[kind] = now
    seen = store.seen(kind)
    if seen is None:
        request_reindex(kind, full=True)
        return store.seen(kind) is not None  # built at once when jobs run inline
    if seen != matching.table_stamp(kind):
        request_reindex(kind)
    return True


def search(kind: str, terms: Sequence[QueryTerm], *, k: int, restriction: Restriction) -> list[tuple[int, float]]:
    return backend().search(kind, terms, k, restriction)


def state(kind: str) -> dict[str, Any]:
    """What the shared index has seen against the table (readiness and metrics)."""
    from sciencecity.transfer.services import matching

    seen = backend().seen(kind)
    if seen is None:
        return {"built": False, "backend": backend_name()}
    count, last = matching.table_stamp(kind)
    lag = (last - seen[1]).total_seconds() if last and seen[1] and last > seen[1] else 0.0
    return {"built": True, "backend": backend_name(), "rows": backend().rows(kind), "rows_behind": count - seen[0],
            "lag_seconds": round(lag, 3)}


# --- configuration check -------------------------------------------------------------------------
def check_backend(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    name = backend_name()
    if name not in BACKENDS:
        return [checks.Error(f"SEARCH_BACKEND is {name!r}; it must be one of {', '.join(BACKENDS)}.",
                             id="transfer.E101")]
    if name == "postgres" and connection.vendor != "postgresql":
        return [checks.Error(
            f"SEARCH_BACKEND is 'postgres' but the database is {connection.vendor}: the PostgreSQL full-text "
            "backend needs PostgreSQL (use 'tantivy' or 'memory').", id="transfer.E102")]
    return []


def register() -> None:
    from sciencecity.core import jobs

    jobs.register(REINDEX_KIND, reindex_run, gettext_lazy("Marketplace: update the shared search index"))
    checks.register(check_backend)
