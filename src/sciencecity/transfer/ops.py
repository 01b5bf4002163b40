"""The marketplace's readiness check and index-freshness gauges (registered with core.ops at ready())."""

from __future__ import annotations

from typing import Any

from sciencecity.core import ops


def index_check() -> ops.CheckResult:
    """The tokenizer's dictionaries load, and every index built in this process is current or catching up.

    An index not built yet is fine (it is built on first use); a built index more than a minute behind
    its table fails (its catch-up is broken).
    """
    from sciencecity.engines.text.tokenize import load_word_list
    from sciencecity.transfer.services import matching

    for name in ("userdict.txt", "synonyms.txt"):
        next(iter(load_word_list(name)))
    state = matching.index_state()
    behind = [kind for kind, item in state.items() if item.get("lag_seconds", 0) > 60]
    from sciencecity.transfer.services import search_backends

    details: dict[str, Any] = {"backend": search_backends.backend_name(), "indexes": state}
    if behind:
        details["error"] = f"behind their table by more than 60 s: {', '.join(behind)}"
    return ops.CheckResult(not behind, details)


def _freshness() -> tuple[str, list[tuple[dict[str, str], float]]]:
    from sciencecity.transfer.services import matching

    samples = []
    for kind, item in matching.index_state().items():
        samples.append(({"index": kind}, float(item.get("lag_seconds", -1.0)) if item["built"] else -1.0))
    return ("Seconds the search index of this worker is behind its table (-1: not built in this worker).", samples)


def _rows() -> tuple[str, list[tuple[dict[str, str], float]]]:
    from sciencecity.transfer.services import matching

    return ("Rows in the search index of this worker.",
            [({"index": kind}, float(item.get("rows", 0)))
             for kind, item in matching.index_state(compare=False).items()])


def warm_indexes() -> None:
    """Load the tokenizer and build the marketplace indexes (in the gunicorn master, before fork)."""
    from sciencecity.transfer.services import matching, search_backends

    for kind in ("achievements", "demands"):
        if not search_backends.active(kind):  # a shared index is not held by the process
            matching.source_index(kind)


def register() -> None:
    ops.register_warmer("search_index", warm_indexes)
    ops.register_readiness_check("search_index", index_check)
    ops.register_gauge("sciencecity_search_index_lag_seconds", _freshness)
    ops.register_gauge("sciencecity_search_index_rows", _rows)
