"""Every role's first day, crawled without a browser (the browser crawl is ``tests/e2e/test_csp.py``).

On the demo data of ``sciencecity bootstrap``, one account per role visits every page reachable from
the navigation (breadth first, one page per URL shape) in zh-Hans and checks two things a new user
noticed (issue 11, items 6 and "done means"):

* no link is shown that answers that role with an error (403, 404 …): every link on every visited
  page is requested and must answer below 400;
* no page shows an untranslated English sentence (three or more English words in a row in the
  visible text, outside code, user data marked ``translate="no"``, and the language switcher).
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from sciencecity.accounts.choices import Role
from sciencecity.plans.models import Indicator
from sciencecity.programmes.models import Assignment
from sciencecity.registry.models import Organisation
from sciencecity.transfer.models import Deal
from tests.conftest import make_user

ROLES = ["officer", "department", "enterprise", "expert", "sysadmin", "secadmin", "auditadmin"]
# Not followed: downloads, state changes by GET, other languages, the API (except its docs page).
SKIP = re.compile(
    r"(/logout/|/i18n/|/media/|/static/|/csp-report|\.(pdf|xlsx|csv|json|docx|zip)$|/export|/download|/template"
    r"|^/api/(?!docs$))"
)
MAX_PAGES_PER_ROLE = 120
LINKS_CHECKED_PER_SHAPE = 4  # /transfer/achievements/23/ may be hidden where /…/22/ is not: a few of each
ENGLISH_SENTENCE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,]+[a-z]{2,}){2,}\b")


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


class _Page(HTMLParser):
    """Links of a page (header navigation and main) and its visible text outside untranslatable parts."""

    SILENT = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "option", "title", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self._stack: list[bool] = []  # per open element: silent?

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in self.VOID:
            return
        silent = (tag in self.SILENT or attributes.get("translate") == "no"
                  or (self._stack and self._stack[-1]))
        self._stack.append(bool(silent))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if not (self._stack and self._stack[-1]) and data.strip():
            self.text.append(data.strip())


@pytest.fixture
def demo_accounts(db):
    call_command("bootstrap", verbosity=0)
    bureau = Organisation.objects.get(code="GOV-KCJ")
    department = Indicator.objects.exclude(owner_department=None).exclude(owner_department=bureau).first().owner_department
    return {
        "officer": make_user(Role.BUREAU_OFFICER, bureau, username="crawl_officer"),
        "department": make_user(Role.DEPARTMENT_OFFICER, department, username="crawl_department"),
        "enterprise": make_user(Role.ENTERPRISE_USER, Deal.objects.order_by("pk").first().buyer,
                                username="crawl_enterprise"),
        "expert": make_user(Role.EXPERT, username="crawl_expert", person=Assignment.objects.order_by("pk").first().expert),
        "sysadmin": make_user(Role.SYSTEM_ADMIN, username="crawl_sysadmin"),
        "secadmin": make_user(Role.SECURITY_ADMIN, username="crawl_secadmin"),
        "auditadmin": make_user(Role.AUDIT_ADMIN, username="crawl_auditadmin"),
    }


def crawl(client: Client) -> tuple[list[str], list[str], list[str]]:
    """(visited pages, links shown that answer >= 400, English sentences seen)."""
    queue, seen, visited = deque(["/"]), set(), []
    checked: dict[str, int] = {}
    per_shape: dict[str, int] = {}
    broken, english = [], []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        path = queue.popleft()
        if shape(path) in seen or SKIP.search(path):
            continue
        seen.add(shape(path))
        response = client.get(path, follow=True)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        if response.status_code >= 400 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        visited.append(path)
        parsed = _Page()
        parsed.feed(response.content.decode())
        for text in parsed.text:
            for match in ENGLISH_SENTENCE.finditer(text):
                english.append(f"{path}: {match.group(0)!r}")
        for href in parsed.links:
            url = urlsplit(urljoin(f"http://testserver{path}", href))
            if url.netloc != "testserver" or url.scheme not in ("http", "https") or SKIP.search(url.path):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target not in checked and per_shape.get(shape(target), 0) < LINKS_CHECKED_PER_SHAPE:
                per_shape[shape(target)] = per_shape.get(shape(target), 0) + 1
                checked[target] = client.get(target, follow=True).status_code
                if checked[target] >= 400:
                    broken.append(f"{path} → {target}: {checked[target]}")
            if shape(url.path) not in seen:
                queue.append(url.path)
    return visited, broken, english


@pytest.mark.parametrize("role", ROLES)
def test_every_link_shown_to_a_role_opens_and_no_english_sentence_in_zh_hans(client, demo_accounts, role):
    client.force_login(demo_accounts[role])
    client.cookies["django_language"] = "zh-hans"
    visited, broken, english = crawl(client)
    assert len(visited) >= 3, visited
    problems = [f"link answers an error: {b}" for b in broken] + sorted(f"English in zh-Hans: {e}" for e in set(english))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])
