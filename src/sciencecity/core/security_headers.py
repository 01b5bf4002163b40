"""Content-Security-Policy and the other browser security headers on every response, and the
endpoint that receives the browsers' reports of CSP violations.

The policy is strict: scripts and styles come only from this site's own static files (no inline
``<script>``, no ``on…=`` handler, no ``style=`` attribute, no ``<style>`` element, no ``eval``), so
an injected fragment of HTML can run nothing. JSON for charts is embedded with ``json_script``
(``<script type="application/json">`` is data, not script, and CSP does not block it) and read by a
static script. The policy lives in the setting ``CONTENT_SECURITY_POLICY``; ``CSP_REPORT_ONLY``
sends it as ``Content-Security-Policy-Report-Only`` while a new page is being tried out.

Violation reports are answered by this middleware itself, before the session, CSRF and login-policy
middleware (a browser posts them without a CSRF token, and also from pages of a user who still has
to change a password). Each report is logged on ``sciencecity.security.csp`` as one JSON line (at
most ``CSP_REPORT_LOG_PER_MINUTE`` lines per client address and minute, so a hostile client cannot
flood the log) and counted; :func:`csp_violation_count` reads the count.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from sciencecity.core.middleware import client_ip

logger = logging.getLogger("sciencecity.security.csp")

COUNT_KEY = "security:csp-violations"
MAX_REPORT_BYTES = 64 * 1024
_FIELDS = (
    "document-uri", "referrer", "violated-directive", "effective-directive", "blocked-uri", "source-file",
    "line-number", "column-number", "script-sample", "disposition", "status-code",
)
_REPORT_CONTENT_TYPES = ("application/csp-report", "application/reports+json", "application/json")


def policy_header_value(policy: dict[str, list[str]], *, report_uri: str = "", report_to: str = "") -> str:
    """``{"default-src": ["'self'"], ...}`` as the header value ``default-src 'self'; ...``."""
    parts = [" ".join([directive, *sources]).strip() for directive, sources in policy.items()]
    if report_uri:
        parts.append(f"report-uri {report_uri}")
    if report_to:
        parts.append(f"report-to {report_to}")
    return "; ".join(parts)


def csp_violation_count() -> int:
    """How many CSP violation reports this server has received (since the cache was last cleared)."""
    return int(cache.get(COUNT_KEY, 0))


def csp_violation_count_reset() -> None:
    cache.set(COUNT_KEY, 0, timeout=None)


def _count_violation() -> None:
    if not cache.add(COUNT_KEY, 1, timeout=None):
        try:
            cache.incr(COUNT_KEY)
        except ValueError:  # evicted between add and incr
            cache.add(COUNT_KEY, 1, timeout=None)


def _reports(body: bytes) -> list[dict]:
    """The violation objects of a ``report-uri`` (``{"csp-report": {...}}``) or Reporting API
    (``[{"type": "csp-violation", "body": {...}}]``) payload; nothing for anything else."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return []
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        return [data["csp-report"]]
    if isinstance(data, list):
        found = []
        for item in data[:100]:
            if isinstance(item, dict) and item.get("type") == "csp-violation" and isinstance(item.get("body"), dict):
                body_ = item["body"]
                # The Reporting API names the fields in camelCase.
                found.append({
                    "document-uri": body_.get("documentURL"), "referrer": body_.get("referrer"),
                    "effective-directive": body_.get("effectiveDirective"), "blocked-uri": body_.get("blockedURL"),
                    "source-file": body_.get("sourceFile"), "line-number": body_.get("lineNumber"),
                    "column-number": body_.get("columnNumber"), "script-sample": body_.get("sample"),
                    "disposition": body_.get("disposition"), "status-code": body_.get("statusCode"),
                })
        return found
    return []


def _clean(value) -> str | int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return str(value)[:300]


def _may_log(ip: str | None) -> bool:
    limit = getattr(settings, "CSP_REPORT_LOG_PER_MINUTE", 30)
    key = f"security:csp-log:{ip or '-'}:{int(time.time() // 60)}"
    if cache.add(key, 1, timeout=120):
        return True
    try:
        return cache.incr(key) <= limit
    except ValueError:
        return True


def csp_report(request) -> HttpResponse:
    """Receive a violation report (``POST``, JSON); 204 whatever it holds, 405/413/415 for the rest."""
    if request.method != "POST":
        response = HttpResponse(status=405)
        response["Allow"] = "POST"
        return response
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type not in _REPORT_CONTENT_TYPES:
        return HttpResponse(status=415)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    body = request.read(MAX_REPORT_BYTES + 1)
    if len(body) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    reports = _reports(body)
    if reports:
        ip = client_ip(request)
        for report in reports:
            _count_violation()
            if _may_log(ip):
                fields = {name: _clean(report.get(name)) for name in _FIELDS if report.get(name) not in (None, "")}
                # json.dumps keeps a hostile value (newlines, control characters) on one escaped line.
                logger.warning("csp violation %s", json.dumps({"client": ip, **fields}, ensure_ascii=True))
    return HttpResponse(status=204)


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy, Permissions-Policy (and Reporting-Endpoints) to every response
    that does not set its own, and serves the CSP report endpoint (``CSP_REPORT_PATH``).

    Referrer-Policy, X-Content-Type-Options and Cross-Origin-Opener-Policy come from Django's
    ``SecurityMiddleware`` (``SECURE_REFERRER_POLICY``, ``SECURE_CONTENT_TYPE_NOSNIFF``), X-Frame-Options
    from ``XFrameOptionsMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.report_path = getattr(settings, "CSP_REPORT_PATH", "/csp-report")
        report_to = ""
        self.reporting_endpoints = ""
        if getattr(settings, "CSP_REPORT_TO", False) and self.report_path:
            # The Reporting API batches reports (up to a minute late) and, in Chromium, replaces
            # report-uri when both are given; so it is opt-in.
            report_to = "csp-endpoint"
            self.reporting_endpoints = f'csp-endpoint="{self.report_path}"'
        self.header_name = (
            "Content-Security-Policy-Report-Only" if getattr(settings, "CSP_REPORT_ONLY", False) else "Content-Security-Policy"
        )
        self.policy = policy_header_value(settings.CONTENT_SECURITY_POLICY, report_uri=self.report_path, report_to=report_to)
        self.permissions_policy = getattr(settings, "PERMISSIONS_POLICY", "")

    def __call__(self, request):
        if self.report_path and request.path == self.report_path:
            response = csp_report(request)
        else:
            response = self.get_response(request)
        if "Content-Security-Policy" not in response and "Content-Security-Policy-Report-Only" not in response:
            response[self.header_name] = self.policy
        if self.reporting_endpoints:
            response.setdefault("Reporting-Endpoints", self.reporting_endpoints)
        if self.permissions_policy:
            response.setdefault("Permissions-Policy", self.permissions_policy)
        return response
