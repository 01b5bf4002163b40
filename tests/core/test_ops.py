"""/healthz, /readyz, /metrics, JSON logs with request ids, and our `check --deploy` rules."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import socket
import subprocess
import time

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from sciencecity.core import checks, ops
from sciencecity.core.logformat import JsonFormatter
from sciencecity.core.models import Job, JobState

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url():
    """A real Redis server on a free loopback port (skipped where redis-server is not installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _attempt in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(5)


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_readyz_reports_every_check(client):
    Job.objects.create(kind="organisations_import", state=JobState.QUEUED)
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"database", "cache", "jobs", "search_index"}
    assert body["checks"]["jobs"]["queued"] == 1
    assert body["checks"]["jobs"]["running"] == 0
    assert body["checks"]["jobs"]["broker"] == "database"
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["search_index"]["indexes"]["achievements"] == {"built": False}


def test_readyz_is_503_and_names_the_failing_check_when_redis_is_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["jobs"]["ok"] is False
    assert "ConnectionError" in body["checks"]["jobs"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_readyz_is_ready_with_a_reachable_redis(client, settings, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["jobs"]["redis"] is True


def test_search_index_check_shows_a_built_index_and_its_freshness(client, settings):
    from sciencecity.transfer.services import matching

    matching.reset()
    try:
        matching.source_index("achievements")
        body = client.get("/readyz").json()
        assert body["checks"]["search_index"]["indexes"]["achievements"] == {
            "built": True, "rows": 0, "rows_behind": 0, "lag_seconds": 0.0,
            "checked_seconds_ago": body["checks"]["search_index"]["indexes"]["achievements"]["checked_seconds_ago"],
            "builds": 1}
    finally:
        matching.reset()


def _metrics(client, **extra):
    return client.get("/metrics", **extra)


def _sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in the exposition"
    return float(match.group(1))


def test_metrics_show_request_latency_by_route_and_queue_depth(client):
    Job.objects.create(kind="organisations_import", state=JobState.QUEUED)
    Job.objects.create(kind="organisations_import", state=JobState.QUEUED)
    Job.objects.create(kind="organisations_import", state=JobState.DONE)
    client.get("/healthz")  # (the histogram is process-wide: count from here)
    before = _sample(_metrics(client).content.decode(), "sciencecity_http_request_duration_seconds_count",
                     '{method="GET",route="/healthz",status="2xx"}')
    client.get("/healthz")
    client.get("/healthz")
    response = _metrics(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _sample(text, "sciencecity_http_request_duration_seconds_count",
                   '{method="GET",route="/healthz",status="2xx"}') == before + 2
    assert _sample(text, "sciencecity_jobs", '{state="queued"}') == 2.0
    assert _sample(text, "sciencecity_jobs", '{state="done"}') == 1.0
    assert _sample(text, "sciencecity_jobs", '{state="running"}') == 0.0
    assert _sample(text, "sciencecity_search_index_lag_seconds", '{index="achievements"}') in (-1.0, 0.0)
    # a concrete path never becomes a label: the route pattern does
    client.get("/registry/organisations/123456/")
    text = _metrics(client).content.decode()
    assert 'route="/registry/organisations/123456/"' not in text


def test_metrics_refuse_proxied_and_remote_clients(client, settings):
    settings.METRICS_TOKEN = ""
    assert _metrics(client).status_code == 200
    assert _metrics(client, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert _metrics(client, REMOTE_ADDR="10.1.2.3").status_code == 403


def test_metrics_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    assert _metrics(client).status_code == 403  # loopback no longer suffices once a token is set
    assert _metrics(client, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert _metrics(client, REMOTE_ADDR="10.1.2.3",
                    HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus").status_code == 200


def test_json_log_lines_carry_the_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("sciencecity.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = client.get("/healthz", HTTP_X_REQUEST_ID="trace-0123456789")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert response["X-Request-ID"] == "trace-0123456789"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "trace-0123456789"
    assert line["channel"] == "web"
    assert line["level"] == "INFO"
    assert line["logger"] == "sciencecity.request"
    assert line["http"]["method"] == "GET"
    assert line["http"]["route"] == "/healthz"
    assert line["http"]["status"] == 200
    assert line["http"]["user_id"] is None


def test_json_formatter_outside_a_request_and_with_an_exception():
    record = logging.LogRecord("x.y", logging.ERROR, __file__, 1, "broke %s", ("here",), None)
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "broke here"
    assert "request_id" not in line
    assert "ValueError: boom" in line["exception"]


@pytest.mark.parametrize(("key", "weak"), [
    ("short", True),
    ("a" * 60, True),  # long but one character
    ("django-insecure-" + "abcdefghijklmnopqrstuvwxyz0123456789", True),
    ("Zr8_fK2qLw0-vXy9TnB4sHc7JmD1pQe6aUoIgE3hWtR5lYkVbN", False),
])
def test_secret_key_strength(key, weak):
    assert (checks.secret_key_problem(key) is not None) is weak


def _deploy_ids(capsys) -> set[str]:
    try:
        call_command("check", "--deploy")
    except SystemCheckError as error:
        return set(re.findall(r"sciencecity\.[EW]\d{3}", str(error)))
    return set(re.findall(r"sciencecity\.[EW]\d{3}", capsys.readouterr().err))


def test_check_deploy_flags_development_settings(settings, monkeypatch, capsys):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings.DEBUG = True
    settings.SECRET_KEY = "short"
    settings.REDIS_URL = f"redis://127.0.0.1:{_free_port()}/0"
    ids = _deploy_ids(capsys)
    assert {"sciencecity.E001", "sciencecity.E002", "sciencecity.E003", "sciencecity.E004", "sciencecity.E005",
            "sciencecity.E006"} <= ids


def test_check_deploy_passes_a_production_configuration(settings, monkeypatch, capsys, redis_url):
    key = "Zr8_fK2qLw0-vXy9TnB4sHc7JmD1pQe6aUoIgE3hWtR5lYkVbN"
    monkeypatch.setenv("SECRET_KEY", key)
    settings.SECRET_KEY = key
    settings.DEBUG = False
    settings.JOBS_INLINE = False
    settings.REDIS_URL = redis_url
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 1
    settings.METRICS_TOKEN = "token-token-token"
    ids = _deploy_ids(capsys)
    assert not {i for i in ids if i.startswith("sciencecity.")}


def test_readiness_check_that_raises_is_a_failure_not_a_crash(client):
    def broken():
        raise RuntimeError("index file missing")

    ops.register_readiness_check("broken_for_test", broken)
    try:
        response = client.get("/readyz")
    finally:
        ops.READINESS_CHECKS.pop("broken_for_test")
    assert response.status_code == 503
    assert response.json()["checks"]["broken_for_test"] == {
        "ok": False, "ms": response.json()["checks"]["broken_for_test"]["ms"],
        "error": "RuntimeError: index file missing"}


def test_warm_up_builds_the_indexes_before_fork_and_survives_a_broken_warmer():
    from sciencecity.enterprises.policies import selectors as enterprise_tables
    from sciencecity.transfer.services import matching

    def broken():
        raise RuntimeError("no dictionary")

    matching.reset()
    enterprise_tables._cache.clear()
    ops.register_warmer("broken_for_test", broken)
    try:
        seconds = ops.warm_up()
    finally:
        ops.WARMERS.pop("broken_for_test")
        state = matching.index_state(compare=False)
        matching.reset()
    assert set(seconds) == {"urls", "openapi", "search_index", "enterprise_table", "broken_for_test"}
    assert state["achievements"]["built"] and state["demands"]["built"]
    assert not state["experts"]["built"]  # built on first use, where it is used
    assert "all" in enterprise_tables._cache  # the policy preview's enterprise table
