"""While Redis is unreachable the site keeps answering: the shared cache degrades to no cache (sessions are in
the database too), and /readyz says the cache is not ready. bench/fault.py measured 500s on every logged-in
page during a Redis restart before this."""

import socket

import pytest
from django.core.cache import caches
from django.test import override_settings

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_user


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def redis_cache(url: str, backend: str = "sciencecity.core.cache_backend.ResilientRedisCache") -> dict:
    return {"default": {"BACKEND": backend, "LOCATION": url,
                        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_the_cache_misses_and_drops_writes_while_redis_is_down():
    with override_settings(CACHES=redis_cache(f"redis://127.0.0.1:{closed_port()}/0")):
        cache = caches["default"]
        assert cache.get("k", "fallback") == "fallback"
        assert cache.add("k", 1) is False
        cache.set("k", 1)
        assert cache.get_many(["k"]) == {} and ("k" in cache) is False
        with pytest.raises(ValueError):
            cache.incr("k")
        cache.delete("k")


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379 (CI has one)")
def test_with_redis_up_the_values_go_through():
    with override_settings(CACHES=redis_cache("redis://127.0.0.1:6379/7")):
        cache = caches["default"]
        cache.set("sciencecity:test:outage", {"a": 1}, 30)
        assert cache.get("sciencecity:test:outage") == {"a": 1}
        assert cache.incr("sciencecity:test:outage:n", 1) if cache.add("sciencecity:test:outage:n", 1, 30) is False \
            else cache.get("sciencecity:test:outage:n") == 1
        cache.delete_many(["sciencecity:test:outage", "sciencecity:test:outage:n"])


@pytest.mark.django_db
@pytest.mark.parametrize("backend, answers", [
    ("sciencecity.core.cache_backend.ResilientRedisCache", True),
    ("django.core.cache.backends.redis.RedisCache", False),  # Django's own: the request fails
])
def test_a_logged_in_user_is_served_while_redis_is_down(client, backend, answers):
    user = make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department"), username="kcj-outage")
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(CACHES=redis_cache(url, backend), SESSION_ENGINE="django.contrib.sessions.backends.cached_db"):
        if not answers:
            import redis

            with pytest.raises(redis.exceptions.ConnectionError):
                client.force_login(user)
                client.get("/")
            return
        client.force_login(user)
        home = client.get("/")
        assert home.status_code == 200 and home.wsgi_request.user == user
        if answers:
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["cache"]["ok"] is False
