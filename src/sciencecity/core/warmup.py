"""Work a web worker does once at start instead of on its first users' requests (issue 11 item 10).

Measured on a fresh worker (bench/slow_steps.py): the first request imported the URL
configuration — the whole API with its pydantic schemas, scipy for the reviewer assignment — which
made the first login take seconds beyond the password hashing; the first search and the first
saved demand loaded the Chinese dictionary and built the matching indexes; the API docs generated
the OpenAPI schema on every load.

:func:`warm_up` imports the URL configuration at once (the worker is not yet serving), then, in a
daemon thread, builds the OpenAPI schema (cached for the process by ``config.api``) and the
matching indexes. Requests that arrive meanwhile simply wait on the same locks as before. Set
``SCIENCECITY_WARM_UP=0`` to skip it (tests and one-off commands never call it).
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger(__name__)

_THREAD: threading.Thread | None = None
TIMINGS: dict[str, float] = {}


def _timed(name: str, work) -> None:
    start = time.perf_counter()
    try:
        work()
    except Exception:  # a cold start is still a working start
        log.exception("warm-up step %s failed", name)
    TIMINGS[name] = time.perf_counter() - start


def _urlconf() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - importing the URL configuration is the point


def _indexes() -> None:
    """The warmers the apps registered with :mod:`core.ops` (the marketplace's matching indexes ...)."""
    from django.db import connection

    from sciencecity.core import ops

    try:
        ops.warm_up()
    finally:
        connection.close()  # this thread's own connection


def background() -> None:
    _timed("warmers", _indexes)  # the OpenAPI schema (registered by config.api) and the apps' indexes


def warm_up(*, wait: bool = False) -> threading.Thread | None:
    """Import the URL configuration now; build the schema and indexes in a daemon thread."""
    global _THREAD
    if os.environ.get("SCIENCECITY_WARM_UP", "1") == "0":
        return None
    _timed("urlconf", _urlconf)
    if _THREAD is None:
        _THREAD = threading.Thread(target=background, name="sciencecity-warm-up", daemon=True)
        _THREAD.start()
    if wait:
        _THREAD.join()
    return _THREAD
