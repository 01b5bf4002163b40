"""The web pages and their forms: hostile query strings and form values never give a 5xx.

Every page without a path parameter is requested as a bureau officer with every usual filter
parameter set to each hostile value; every form found on those pages is posted back with each
hostile value in every field. Bounded: a few hundred requests.
"""

from __future__ import annotations

import logging
import re
import time

from django.test import Client
from django.urls import URLResolver, get_resolver

from sciencecity.accounts.choices import Role
from sciencecity.plans.services import plan_import_bundled
from sciencecity.registry.models import Organisation
from tests.conftest import make_user

PARAMS = ["q", "page", "page_size", "sector", "kind", "level", "status", "organisation", "category", "state",
          "call", "year", "as_of", "department", "mine", "synthetic", "mechanism", "district", "unread", "sort"]
HOSTILE = ["9223372036854775808", "-1", "1e308", "NaN", "x" * 3000, "%ff"]
FORM_HOSTILE = ["\x00", "a\x00b", "9223372036854775808", "1e308", "NaN", "-Infinity", "x" * 3000, "\x1b"]
# /readyz answers 503 by design while a dependency (here the search index of a fresh test process) is not ready.
SKIP = ("accounts/logout", "i18n/", "accounts/login", "accounts/password", "readyz")
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', re.I)
FORM = re.compile(r'<form[^>]*method="post"[^>]*>(.*?)</form>', re.I | re.S)


def _pages():
    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if not route.startswith("api/"):
                    yield from walk(p.url_patterns, route)
            elif "<" not in route and not route.startswith(SKIP):
                yield "/" + route

    return list(walk(get_resolver().url_patterns))


def test_pages_and_forms_never_answer_5xx(db):
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    plan_import_bundled()
    officer = make_user(Role.BUREAU_OFFICER, Organisation.objects.get(code="GOV-KCJ"), username="web_fuzz")
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    started = time.process_time()
    failures, forms = [], {}
    for page in _pages():
        response = client.get(page)
        if response.status_code >= 500:
            failures.append(f"GET {page} → {response.status_code}")
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            for body in FORM.findall(response.content.decode()):
                names = sorted(set(FIELD.findall(body)) - {"csrfmiddlewaretoken"})
                if names:
                    forms.setdefault(page, []).append(names)
        for value in HOSTILE:
            response = client.get(page, {name: value for name in PARAMS})
            if response.status_code >= 500:
                failures.append(f"GET {page} all filters={value[:20]!r} → {response.status_code}")
    for page, page_forms in forms.items():
        for names in page_forms:
            for value in FORM_HOSTILE:
                response = client.post(page, {name: value for name in names})
                if response.status_code >= 500:
                    failures.append(f"POST {page} {names[:4]}={value[:20]!r} → {response.status_code}")
            client.force_login(officer)  # a form may have logged out or switched organisation
    assert not failures, "\n".join(failures)
    # CPU time of this process (wall time depends on the neighbours): a guard against the request count running
    # away as pages are added, not a speed figure; generous, since CPU time too grows on a busy machine.
    assert time.process_time() - started < 180
