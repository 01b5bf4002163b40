"""The shared Redis cache, degrading to no cache while Redis is unreachable.

Django's ``RedisCache`` raises on a connection error, so a Redis restart answered 500 to every logged-in
page for as long as it lasted (measured by ``bench/fault.py``: 5 errors in 0.5 s), although nothing the
cache holds is needed to answer: sessions are written through to the database (``cached_db``), and the
rest are copies of computed values. While Redis is down, reads miss, writes are dropped, ``incr`` raises
``ValueError`` as for a missing key, and one warning is logged per ``WARN_EVERY`` seconds. ``/readyz``
still reports the cache as not ready (its value written is not read back), so a load balancer can tell.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

WARN_EVERY = 30.0


def _outage_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def _degraded(self, operation: str, error: BaseException, fallback: Any) -> Any:
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning >= WARN_EVERY:
            ResilientRedisCache._last_warning = now
            logger.warning("cache unreachable, serving without it (%s: %s)", operation, error)
        return fallback

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _outage_errors() as error:
            return self._degraded("get", error, default)

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _outage_errors() as error:
            return self._degraded("get_many", error, {})

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _outage_errors() as error:
            return self._degraded("has_key", error, False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _outage_errors() as error:
            return self._degraded("add", error, False)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except _outage_errors() as error:
            return self._degraded("set", error, None)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _outage_errors() as error:
            return self._degraded("set_many", error, list(data))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _outage_errors() as error:
            return self._degraded("touch", error, False)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _outage_errors() as error:
            return self._degraded("delete", error, False)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except _outage_errors() as error:
            return self._degraded("delete_many", error, None)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _outage_errors() as error:
            self._degraded("incr", error, None)
            raise ValueError(f"Key '{key}' not found (cache unreachable)") from error

    def clear(self):
        try:
            return super().clear()
        except _outage_errors() as error:
            return self._degraded("clear", error, False)
