"""Request context for the audit trail: request id and client address."""

from __future__ import annotations

import re
import time
import uuid

from django.conf import settings

from sciencecity.core import context, ops

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request) -> str | None:
    """The client address; ``X-Forwarded-For`` only counts behind ``TRUSTED_PROXY_COUNT`` proxies."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        channel = "api" if request.path.startswith("/api/") else "web"
        token = context.activate(context.RequestContext(request_id=request_id, ip=client_ip(request), channel=channel))
        started = time.perf_counter()
        response = None
        try:
            response = self.get_response(request)
        finally:
            ops.observe_request(request, response, time.perf_counter() - started)
            context.deactivate(token)
        response["X-Request-ID"] = request_id
        return response


class HostileQueryMiddleware:
    """A query string or path with control characters is refused with 400 before any view sees it.

    NUL in ``?q=`` reached PostgreSQL (which refuses it) and gave a 500 on every search page; no real
    client sends control characters in a URL. The API answers in its JSON error format, pages with the
    plain 400 page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from sciencecity.core.api import text_problem

        # request.GET decodes like every view will (percent-escapes and raw UTF-8 bytes alike)
        field, problem = "", text_problem(request.path, multiline=False)
        if problem is None and request.META.get("QUERY_STRING"):
            for key, values in request.GET.lists():
                field = key
                for text in (key, *values):
                    problem = text_problem(text, multiline=False) or _integer_problem(text)
                    if problem:
                        break
                if problem:
                    break
        if problem is not None:
            return bad_request_response(request, field, problem)
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.status_code >= 400 and not response.get(
                "Content-Type", "").startswith("application/json"):
            return _api_error_response(request, response)
        return response


_INTEGER = re.compile(r"[+-]?\d{19,}")


def _integer_problem(text: str) -> str | None:
    """An integer no column can hold (beyond 64 bits): every id filter would overflow in SQLite."""
    from django.utils.translation import gettext as _

    if _INTEGER.fullmatch(text.strip()):
        digits = text.strip().lstrip("+-")
        if len(digits) > 19 or int(digits) > 2**63 - 1:
            return _("The number is too large.")
    return None


def _api_error_response(request, response):
    """The API's error format for what Django answers outside Django Ninja (unknown path, wrong method)."""
    from django.http import JsonResponse
    from django.utils.translation import gettext as _

    status = response.status_code
    code, message = {
        404: ("not_found", _("Not found.")),
        405: ("method_not_allowed", _("This method is not allowed here.")),
    }.get(status, ("server_error", _("Something went wrong on our side. Quote the request id when you report it."))
          if status >= 500 else ("bad_request", _("The request is malformed.")))
    details = {"request_id": getattr(request, "request_id", "")} if status >= 500 else None
    json_response = JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)
    if response.has_header("Allow"):
        json_response["Allow"] = response["Allow"]
    return json_response


def bad_request_response(request, field: str, problem: str):
    """400 in the API's error format under /api/ (``field`` the query parameter), else a short HTML page."""
    from django.http import HttpResponseBadRequest, JsonResponse
    from django.utils.html import escape
    from django.utils.translation import gettext as _

    message = _("The address contains characters that are not allowed.")
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "bad_request", "message": message,
                                       "details": [{"field": field, "message": problem}]}}, status=400)
    return HttpResponseBadRequest(f"<!doctype html><title>400</title><h1>400</h1><p>{escape(message)}</p>"
                                  f"<p>{escape(f'{field}: ' if field else '')}{escape(problem)}</p>", content_type="text/html; charset=utf-8")
