"""Our own rules for ``sciencecity check --deploy`` (on top of Django's security checks).

Errors stop a deployment script that runs ``check --deploy --fail-level ERROR``: DEBUG on, a weak or
development secret key, production over plain HTTP, an unreachable Redis, jobs run inline.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

MIN_SECRET_LENGTH = 50
MIN_SECRET_DISTINCT = 10


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is too weak to sign sessions and tokens, or None."""
    if len(key) < MIN_SECRET_LENGTH:
        return f"it has {len(key)} characters; use at least {MIN_SECRET_LENGTH}"
    if len(set(key)) < MIN_SECRET_DISTINCT:
        return f"it has only {len(set(key))} distinct characters; use at least {MIN_SECRET_DISTINCT}"
    if key.startswith("django-insecure-") or "changeme" in key.lower() or "secret" in key.lower():
        return "it looks like a placeholder"
    return None


@register(Tags.security, deploy=True)
def check_production_settings(app_configs=None, **kwargs):
    problems = []
    if settings.DEBUG:
        problems.append(Error("DEBUG is on.", hint="Unset DEBUG (or DEBUG=0) in the production environment.",
                              id="sciencecity.E001"))
    if not os.environ.get("SECRET_KEY"):
        problems.append(Error(
            "SECRET_KEY is not set in the environment: the key generated under var/ is for development.",
            hint="Set SECRET_KEY to 50+ random characters in /etc/sciencecity.env "
                 "(python -c 'import secrets; print(secrets.token_urlsafe(50))').", id="sciencecity.E002"))
    reason = secret_key_problem(settings.SECRET_KEY)
    if reason:
        problems.append(Error(f"SECRET_KEY is weak: {reason}.", hint="Generate one with secrets.token_urlsafe(50).",
                              id="sciencecity.E003"))
    https = {
        "SECURE_SSL_REDIRECT": bool(getattr(settings, "SECURE_SSL_REDIRECT", False)),
        "SESSION_COOKIE_SECURE": bool(settings.SESSION_COOKIE_SECURE),
        "CSRF_COOKIE_SECURE": bool(settings.CSRF_COOKIE_SECURE),
        "SECURE_HSTS_SECONDS": bool(getattr(settings, "SECURE_HSTS_SECONDS", 0)),
        "SECURE_PROXY_SSL_HEADER": bool(getattr(settings, "SECURE_PROXY_SSL_HEADER", None)),
    }
    missing = [name for name, on in https.items() if not on]
    if missing:
        problems.append(Error(f"HTTPS is not fully configured: {', '.join(missing)} off.",
                              hint="Set HTTPS=1 behind the TLS-terminating proxy (docs/deploy.md §4).",
                              id="sciencecity.E004"))
    if getattr(settings, "TRUSTED_PROXY_COUNT", 0) == 0:
        problems.append(Warning("TRUSTED_PROXY_COUNT is 0: behind nginx every user shares the proxy's address "
                                "(login locks, audit addresses).", hint="Set TRUSTED_PROXY_COUNT=1 behind one proxy.",
                                id="sciencecity.W001"))
    if settings.REDIS_URL:
        from sciencecity.core.ops import check_redis

        try:
            reachable = check_redis(settings.REDIS_URL).ok
            error = "" if reachable else "PING failed"
        except Exception as exc:  # report, never crash the check command
            reachable, error = False, f"{exc.__class__.__name__}: {exc}"
        if not reachable:
            problems.append(Error(f"REDIS_URL is set but Redis does not answer ({error}).",
                                  hint="Start Redis or unset REDIS_URL (the cache then stays per process).",
                                  id="sciencecity.E005"))
    if getattr(settings, "JOBS_INLINE", False):
        problems.append(Error("JOBS_INLINE is on: long work would run inside web requests.",
                              hint="JOBS_INLINE is for tests; run `sciencecity worker` instead.",
                              id="sciencecity.E006"))
    if not settings.METRICS_TOKEN:
        problems.append(Warning("METRICS_TOKEN is not set: /metrics answers loopback clients only.",
                                hint="Set METRICS_TOKEN when Prometheus scrapes from another host.",
                                id="sciencecity.W002"))
    return problems
