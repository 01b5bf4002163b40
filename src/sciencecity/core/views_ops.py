"""``/healthz``, ``/readyz`` and ``/metrics`` (see :mod:`sciencecity.core.ops`)."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sciencecity.core import ops


@never_cache
@require_GET
def healthz(request):
    """Liveness: the process serves requests. Touches nothing else, so a slow database never restarts it."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Readiness: database, cache, job queue and the apps' checks; 503 (and which failed) when one fails."""
    ready, checks = ops.readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@never_cache
@require_GET
def metrics(request):
    """Prometheus exposition, for loopback clients or the holder of ``METRICS_TOKEN``."""
    if not ops.metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain; charset=utf-8")
    body, content_type = ops.metrics_exposition()
    return HttpResponse(body, content_type=content_type)
