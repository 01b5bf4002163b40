"""Content-Security-Policy and the other security headers on every response; the report endpoint;
no template carries an inline script, handler or style the policy would block."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from sciencecity.accounts.choices import Role
from sciencecity.core.security_headers import csp_violation_count, csp_violation_count_reset
from tests.conftest import make_user

EXPECTED_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "report-uri": "/csp-report",
}
REPORT = {
    "csp-report": {
        "document-uri": "http://testserver/plan/", "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem", "blocked-uri": "inline", "line-number": 12,
        "source-file": "http://testserver/plan/", "disposition": "enforce",
    }
}


def directives(header: str) -> dict[str, str]:
    return {part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2] for part in header.split(";") if part.strip()}


def assert_security_headers(response, where: str = "") -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {where or response}"
    policy = directives(header)
    for name, value in EXPECTED_DIRECTIVES.items():
        assert policy.get(name) == value, (where, name, policy.get(name))
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "nonce-" not in header
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert "camera=()" in response["Permissions-Policy"], where


@pytest.fixture
def counter():
    csp_violation_count_reset()
    return csp_violation_count


def test_policy_is_strict_on_a_page_json_api_docs_static_file_and_error_pages(client, bureau):
    assert_security_headers(client.get("/accounts/login/"), "login page (anonymous)")
    assert_security_headers(client.get("/static/core/site.css"), "static file")
    assert_security_headers(client.get("/no-such-page/"), "404")
    client.force_login(bureau)
    for path in ("/", "/plan/", "/api/docs", "/api/openapi.json", "/api/registry/organisations", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response, path)
    client.force_login(make_user(Role.ENTERPRISE_USER))
    forbidden = client.get("/accounts/users/")
    assert forbidden.status_code == 403
    assert_security_headers(forbidden, "403")


def test_server_error_page_carries_the_policy(db):
    """An unexpected exception in a view still answers with the headers (the middleware is outermost)."""
    from django.test import override_settings
    from django.urls import path

    def boom(request):
        raise RuntimeError("boom")

    urlpatterns = [path("boom/", boom)]
    with override_settings(ROOT_URLCONF=type("urls", (), {"urlpatterns": urlpatterns})):
        response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert_security_headers(response, "500")


def _parameterless_paths(resolver=None, prefix: str = "") -> list[str]:
    """Every URL of the site that takes no argument (the pages a menu can link to directly)."""
    resolver = resolver or get_resolver()
    paths = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(entry, URLResolver):
            paths += _parameterless_paths(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            paths.append("/" + prefix + route)
    return sorted(set(paths))


def test_every_page_without_arguments_carries_the_policy_for_every_kind_of_user(client, bureau):
    paths = [p for p in _parameterless_paths() if not p.startswith("/api/") and "logout" not in p]
    assert len(paths) > 30 and "/plan/" in paths and "/registry/organisations/" in paths
    users = [bureau, make_user(Role.ENTERPRISE_USER), make_user(Role.SYSTEM_ADMIN), make_user(Role.AUDIT_ADMIN)]
    html_pages = 0
    for user in [None, *users]:
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        for path in paths:
            response = client.get(path)
            where = f"{path} as {user or 'anonymous'} ({response.status_code})"
            assert_security_headers(response, where)
            html_pages += response.get("Content-Type", "").startswith("text/html") and response.status_code == 200
    assert html_pages > 40


def test_csrf_failure_page_has_nothing_the_policy_blocks_and_is_translated(db):
    """Django's own CSRF failure page carries an inline <style> (a violation on every rejected form)."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<style" not in html and "<main" in html
    assert "表单已过期或并非从本站提交" in html
    assert_security_headers(response, "CSRF failure")


# --- The report endpoint


def test_report_is_counted_and_logged_on_one_line_without_csrf_or_login(db, counter, caplog):
    client = Client(enforce_csrf_checks=True)
    hostile = json.loads(json.dumps(REPORT))
    hostile["csp-report"]["blocked-uri"] = "inline\nFAKE LOG LINE ERROR admin logged in"
    with caplog.at_level(logging.WARNING, logger="sciencecity.security.csp"):
        response = client.post("/csp-report", json.dumps(hostile), content_type="application/csp-report")
    assert response.status_code == 204
    assert counter() == 1
    [record] = [r for r in caplog.records if r.name == "sciencecity.security.csp"]
    line = record.getMessage()
    assert "\n" not in line and "script-src-elem" in line and "http://testserver/plan/" in line
    assert_security_headers(response, "report endpoint")


def test_report_from_a_user_who_must_change_the_password_is_not_redirected(client, db, counter):
    client.force_login(make_user(Role.ENTERPRISE_USER, must_change_password=True))
    assert client.get("/plan/").status_code == 302  # the login policy holds every page...
    response = client.post("/csp-report", json.dumps(REPORT), content_type="application/csp-report")
    assert response.status_code == 204  # ...but not the reports of the page that asks for the change
    assert counter() == 1


def test_reporting_api_format_is_understood(client, db, counter):
    body = [{"type": "csp-violation", "url": "http://testserver/", "body": {
        "documentURL": "http://testserver/", "effectiveDirective": "style-src-attr", "blockedURL": "inline",
        "disposition": "enforce"}}, {"type": "deprecation", "body": {}}]
    response = client.post("/csp-report", json.dumps(body), content_type="application/reports+json")
    assert response.status_code == 204
    assert counter() == 1


@pytest.mark.parametrize("body, content_type, status", [
    (b"not json", "application/csp-report", 204),
    (b"\xff\xfe\x00", "application/csp-report", 204),
    (b'{"csp-report": "x"}', "application/csp-report", 204),
    (b"[" * 5000 + b"]" * 5000, "application/json", 204),
    (b"null", "application/json", 204),
    (json.dumps(REPORT).encode(), "text/plain", 415),
    (b'{"csp-report": {"blocked-uri": "' + b"a" * 70000 + b'"}}', "application/csp-report", 413),
])
def test_bad_reports_never_crash_and_are_not_counted(client, db, counter, body, content_type, status):
    response = client.generic("POST", "/csp-report", body, content_type=content_type)
    assert response.status_code == status
    assert counter() == 0


def test_report_endpoint_only_takes_post(client, db):
    response = client.get("/csp-report")
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_log_lines_are_limited_per_client_but_every_report_counts(client, db, counter, caplog, settings):
    settings.CSP_REPORT_LOG_PER_MINUTE = 3
    from django.core.cache import cache

    cache.clear()
    with caplog.at_level(logging.WARNING, logger="sciencecity.security.csp"):
        for _ in range(10):
            client.post("/csp-report", json.dumps(REPORT), content_type="application/csp-report")
    assert counter() == 10
    assert len([r for r in caplog.records if r.name == "sciencecity.security.csp"]) == 3


def test_report_only_mode_uses_the_report_only_header(settings, client, db):
    from django.test import override_settings

    with override_settings(CSP_REPORT_ONLY=True):
        response = Client().get("/accounts/login/")
    assert "Content-Security-Policy" not in response
    assert directives(response["Content-Security-Policy-Report-Only"])["script-src"] == "'self'"


def test_reporting_api_is_opt_in(db):
    from django.test import override_settings

    assert "report-to" not in Client().get("/accounts/login/")["Content-Security-Policy"]
    with override_settings(CSP_REPORT_TO=True):
        response = Client().get("/accounts/login/")
    policy = directives(response["Content-Security-Policy"])
    assert policy["report-to"] == "csp-endpoint" and policy["report-uri"] == "/csp-report"
    assert response["Reporting-Endpoints"] == 'csp-endpoint="/csp-report"'


# --- Templates: nothing inline that the policy would block


TEMPLATE_ROOT = Path(settings.PACKAGE_DIR)
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event handler"),
    (re.compile(r"\bhx-on", re.I), "hx-on handler (needs eval)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_handler_or_style():
    found = []
    for template in TEMPLATE_ROOT.rglob("templates/**/*.html"):
        text = re.sub(r"\{#.*?#\}", "", template.read_text(encoding="utf-8"), flags=re.S)
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(TEMPLATE_ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)
