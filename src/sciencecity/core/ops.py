"""Operations: readiness checks, Prometheus metrics and the request log.

* ``/healthz`` answers from the process alone (it is alive and serves requests);
* ``/readyz`` runs every readiness check — database, cache, job queue (its broker) and whatever the
  apps register (the marketplace registers its search index) — and answers 503 when one fails;
* ``/metrics`` is the Prometheus exposition: request latency (a histogram by route), job queue depth,
  and the gauges the apps register (index freshness). It is served to loopback clients that did not
  come through a proxy, or to whoever presents ``METRICS_TOKEN`` as a bearer token.

Like the job kinds, checks and gauges are registries filled by the apps at ``ready()``: core lists no
app. With several gunicorn workers, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, emptied at each
start) so that the latency histogram adds up every worker's requests.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("sciencecity.request")


@dataclass
class CheckResult:
    """One readiness check: ``ok`` false makes the instance not ready; ``details`` go into the answer."""

    ok: bool
    details: dict[str, Any] = field(default_factory=dict)
    milliseconds: float = 0.0


#: Readiness checks by name (core's own below; apps add theirs at ready()).
READINESS_CHECKS: dict[str, Callable[[], CheckResult]] = {}
#: Gauge families by name: a function returning ``(help, [(labels, value), …])`` at each scrape.
GAUGES: dict[str, Callable[[], tuple[str, list[tuple[dict[str, str], float]]]]] = {}


def register_readiness_check(name: str, check: Callable[[], CheckResult]) -> None:
    READINESS_CHECKS[name] = check


def register_gauge(name: str, collect: Callable[[], tuple[str, list[tuple[dict[str, str], float]]]]) -> None:
    GAUGES[name] = collect


#: Warm-up steps run once in the gunicorn master before it forks its workers (``preload_app``): what
#: they load (the tokenizer's dictionary, the search indexes) is then shared by every worker.
WARMERS: dict[str, Callable[[], None]] = {}


def register_warmer(name: str, warm: Callable[[], None]) -> None:
    WARMERS[name] = warm


def warm_up() -> dict[str, float]:
    """Run every warmer (seconds each); a failing warmer is logged and skipped: the worker builds lazily."""
    from django.db import connections

    seconds: dict[str, float] = {}
    # A warmer may register more (importing the URL configuration registers the OpenAPI schema's).
    while pending := [(name, warm) for name, warm in list(WARMERS.items()) if name not in seconds]:
        name, warm = pending[0]
        started = time.perf_counter()
        try:
            warm()
        except Exception:
            logger.exception("warm-up %s failed; workers build it on first use", name)
        seconds[name] = round(time.perf_counter() - started, 2)
    connections.close_all()  # never hand a database connection across fork()
    return seconds


def _warm_urls() -> None:
    """Import every view and the API schema (the first request of a cold worker took seconds for it)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (the property imports the URLconf)
    get_resolver().resolve("/")


register_warmer("urls", _warm_urls)


# --- core's readiness checks ---------------------------------------------------------------------
def check_database() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return CheckResult(True, {"vendor": connection.vendor})


def check_cache() -> CheckResult:
    key = f"sciencecity:readyz:{os.getpid()}"
    value = str(time.time())
    cache.set(key, value, 30)
    ok = cache.get(key) == value
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return CheckResult(ok, {"backend": backend} | ({} if ok else {"error": "value written was not read back"}))


def check_redis(url: str | None = None) -> CheckResult:
    """PING the Redis server of ``REDIS_URL`` (with a 2 s timeout)."""
    import redis

    url = url or settings.REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return CheckResult(bool(client.ping()))
    finally:
        client.close()


def check_jobs() -> CheckResult:
    """The queue (the ``core_job`` table is the broker) answers; a backlog older than the stale limit warns."""
    from sciencecity.core.models import Job, JobState

    depth = job_queue_depth()
    details: dict[str, Any] = {"broker": "database",
                               "queued": depth.get(JobState.QUEUED, 0), "running": depth.get(JobState.RUNNING, 0)}
    oldest = Job.objects.filter(state=JobState.QUEUED).order_by("id").values_list("created_at", flat=True).first()
    if oldest is not None:
        waited = (timezone.now() - oldest).total_seconds()
        details["oldest_queued_seconds"] = round(waited, 1)
        if waited > int(getattr(settings, "JOBS_STALE_SECONDS", 300)):
            details["warning"] = "jobs wait longer than JOBS_STALE_SECONDS: is `sciencecity worker` running?"
    if settings.REDIS_URL:
        details["redis"] = check_redis().ok
        return CheckResult(bool(details["redis"]), details)
    return CheckResult(True, details)


register_readiness_check("database", check_database)
register_readiness_check("cache", check_cache)
register_readiness_check("jobs", check_jobs)


def readiness() -> tuple[bool, dict[str, Any]]:
    """Run every readiness check (a check that raises has failed, with the error's text)."""
    results: dict[str, Any] = {}
    ready = True
    for name, check in READINESS_CHECKS.items():
        started = time.perf_counter()
        try:
            result = check()
        except Exception as exc:  # a check that cannot run has failed; say why, never crash
            result = CheckResult(False, {"error": f"{exc.__class__.__name__}: {exc}"[:300]})
        result.milliseconds = round((time.perf_counter() - started) * 1000, 1)
        ready = ready and result.ok
        results[name] = {"ok": result.ok, "ms": result.milliseconds, **result.details}
    return ready, results


# --- metrics ---------------------------------------------------------------------------------------
def job_queue_depth() -> dict[str, int]:
    from django.db.models import Count

    from sciencecity.core.models import Job

    return {row["state"]: row["n"] for row in Job.objects.order_by().values("state").annotate(n=Count("id"))}


def _jobs_gauge() -> tuple[str, list[tuple[dict[str, str], float]]]:
    from sciencecity.core.models import JobState

    depth = job_queue_depth()
    return ("Background jobs by state (queued = the queue depth).",
            [({"state": state}, float(depth.get(state, 0))) for state in JobState.values])


def _oldest_queued_gauge() -> tuple[str, list[tuple[dict[str, str], float]]]:
    from sciencecity.core.models import Job, JobState

    oldest = Job.objects.filter(state=JobState.QUEUED).order_by("id").values_list("created_at", flat=True).first()
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return "Seconds the oldest queued job has waited (0 when the queue is empty).", [({}, age)]


def _broker_gauge() -> tuple[str, list[tuple[dict[str, str], float]]]:
    """With ``REDIS_URL``: messages waiting in the Celery jobs queue and taken but not yet acknowledged
    (one Redis round trip; nothing without Redis)."""
    help_text = "Celery broker (REDIS_URL): job messages waiting in the queue, and taken but not acknowledged."
    if not settings.REDIS_URL:
        return help_text, []
    from sciencecity.core.jobs import redis_client

    queue = settings.JOBS_QUEUE
    pipe = redis_client().pipeline(transaction=False)
    for key in (queue, *(f"{queue}\x06\x16{priority}" for priority in (3, 6, 9))):  # kombu's priority lists
        pipe.llen(key)
    pipe.hlen("unacked")  # kombu's hash of delivered, unacknowledged messages (all queues of this Redis db)
    *waiting, unacked = pipe.execute()
    return help_text, [({"list": "waiting"}, float(sum(waiting))), ({"list": "unacked"}, float(unacked))]


register_gauge("sciencecity_jobs", _jobs_gauge)
register_gauge("sciencecity_jobs_broker_messages", _broker_gauge)
register_gauge("sciencecity_jobs_oldest_queued_seconds", _oldest_queued_gauge)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0)
_HISTOGRAM: Any = None


def _histogram() -> Any:
    """The request latency histogram (created on first use, in the process-wide registry)."""
    global _HISTOGRAM
    if _HISTOGRAM is None:
        from prometheus_client import Histogram

        _HISTOGRAM = Histogram("sciencecity_http_request_duration_seconds",
                               "Time from the request reaching Django to the response, by route.",
                               ["method", "route", "status"], buckets=_LATENCY_BUCKETS)
    return _HISTOGRAM


class _GaugeCollector:
    """Turns the registered gauge functions into metric families at each scrape."""

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        for name, gauge in GAUGES.items():
            try:
                help_text, samples = gauge()
            except Exception:  # a broken gauge must not hide the others
                logger.exception("metrics: gauge %s failed", name)
                continue
            labels = sorted({key for sample_labels, _value in samples for key in sample_labels})
            family = GaugeMetricFamily(name, help_text, labels=labels)
            for sample_labels, value in samples:
                family.add_metric([sample_labels.get(key, "") for key in labels], value)
            yield family


_GAUGE_REGISTRY: Any = None


def metrics_exposition() -> tuple[bytes, str]:
    """The text exposition of every metric (all workers' histograms when multiprocess mode is on)."""
    global _GAUGE_REGISTRY
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    _histogram()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    else:
        base = REGISTRY
    if _GAUGE_REGISTRY is None:
        _GAUGE_REGISTRY = CollectorRegistry()
        _GAUGE_REGISTRY.register(_GaugeCollector())
    return generate_latest(base) + generate_latest(_GAUGE_REGISTRY), CONTENT_TYPE_LATEST


def metrics_allowed(request) -> bool:
    """``METRICS_TOKEN`` as a bearer token, else a loopback client that did not come through a proxy."""
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token:
        return header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode())
    proxied = any(request.META.get(name) for name in ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED"))
    return request.META.get("REMOTE_ADDR") in {"127.0.0.1", "::1"} and not proxied


def route_of(request) -> str:
    """The URL pattern that served the request (bounded label values), not the concrete path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + (match.route or match.view_name or "unnamed")


def observe_request(request, response, seconds: float) -> None:
    """Record the request in the latency histogram and write one request log line."""
    route = route_of(request)
    status = getattr(response, "status_code", 500)
    try:
        _histogram().labels(request.method, route, f"{status // 100}xx").observe(seconds)
    except Exception:  # metrics never break a request
        logger.exception("metrics: could not record a request")
    if not getattr(settings, "REQUEST_LOG", True):
        return
    user = getattr(request, "user", None)
    request_logger.info(
        "%s %s %s %.1fms", request.method, request.path, status, seconds * 1000,
        extra={"http": {"method": request.method, "path": request.path, "route": route, "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                        "user_id": getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None}},
    )
