"""The shared Redis cache, degrading to no cache while Redis is unreachable.

Django's ``RedisCache`` raises on a connection error, so a Redis restart answered 500 to every logged-in
page for as long as it lasted (measured by ``bench/fault.py``: 5 errors in 0.5 s), although nothing the
cache holds is needed to answer: sessions are written through to the database (``cached_db``), and the
rest are copies of computed values. While Redis is down, reads miss, writes are dropped, ``incr`` raises
``ValueError`` as for a missing key, and one warning is logged per ``WARN_EVERY`` seconds. ``/readyz``
still reports the cache as not ready (its value written is not read back), so a load balancer can tell.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

WARN_EVERY = 30.0


def _outage_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def _warn(operation: str, error: BaseException) -> None:
    now = time.monotonic()
    if now - ResilientRedisCache.last_warning >= WARN_EVERY:
        ResilientRedisCache.last_warning = now
        logger.warning("cache unreachable, serving without it (%s: %s)", operation, error)


def _resilient(name: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    """``RedisCache.<name>``, answering ``fallback(*args)`` (or raising what it raises) while Redis is unreachable."""
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _outage_errors() as error:
            _warn(name, error)
            return fallback(*args, **kwargs)

    return wrapper


def _missing_key(key, *args, **kwargs):
    raise ValueError(f"Key '{key}' not found (cache unreachable)")


class ResilientRedisCache(RedisCache):
    last_warning = 0.0

    # a read misses, a write is dropped, incr raises as for a missing key
    get = _resilient("get", lambda key, default=None, *a, **k: default)
    get_many = _resilient("get_many", lambda *a, **k: {})
    has_key = _resilient("has_key", lambda *a, **k: False)
    add = _resilient("add", lambda *a, **k: False)
    set = _resilient("set", lambda *a, **k: None)
    set_many = _resilient("set_many", lambda data, *a, **k: list(data))
    touch = _resilient("touch", lambda *a, **k: False)
    delete = _resilient("delete", lambda *a, **k: False)
    delete_many = _resilient("delete_many", lambda *a, **k: None)
    incr = _resilient("incr", _missing_key)
    clear = _resilient("clear", lambda *a, **k: False)
