"""Content-Security-Policy in a real browser, on the demo data of ``sciencecity bootstrap``.

For each role with demo data (bureau officer, department officer, enterprise user, expert and the
three administrators) the browser visits every page reachable from the navigation (breadth first,
one page per URL shape) and the shared ``page`` fixture fails the test on any violation. Then the
pages that depend on scripts are checked to still work under the policy: Chart.js charts are drawn,
htmx requests and indicators work, the auto-submitting selects, the print button, Swagger UI at
/api/docs; and a violation provoked on purpose reaches the report endpoint."""

from __future__ import annotations

import re
import time
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from sciencecity.accounts.choices import Role
from sciencecity.core.security_headers import csp_violation_count, csp_violation_count_reset
from sciencecity.plans.models import Indicator
from sciencecity.programmes.models import Assignment
from sciencecity.registry.models import Organisation
from sciencecity.transfer.models import Deal
from sciencecity.transfer.services.watch import watch_create
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, reauthenticate

# Links the crawler does not follow: downloads, state changes by GET, other languages, the API
# (except its documentation page).
SKIP = re.compile(
    r"(/logout/|/i18n/|/media/|/static/|/csp-report|\.(pdf|xlsx|csv|json|docx|zip)$|/export|/download|/template"
    r"|^/api/(?!docs$))"
)
MAX_PAGES_PER_ROLE = 150


@pytest.fixture
def demo_users(transactional_db):
    """The bundled plan and the small demo data, and one account per role on them."""
    call_command("bootstrap", verbosity=0)
    bureau = Organisation.objects.get(code="GOV-KCJ")
    department = Indicator.objects.exclude(owner_department=None).exclude(owner_department=bureau).first().owner_department
    enterprise = Deal.objects.order_by("pk").first().buyer
    expert = Assignment.objects.order_by("pk").first().expert
    users = {
        "officer": make_user(Role.BUREAU_OFFICER, bureau, username="csp_officer"),
        "department": make_user(Role.DEPARTMENT_OFFICER, department, username="csp_department"),
        "enterprise": make_user(Role.ENTERPRISE_USER, enterprise, username="csp_enterprise"),
        "expert": make_user(Role.EXPERT, username="csp_expert", person=expert),
        "sysadmin": make_user(Role.SYSTEM_ADMIN, username="csp_sysadmin"),
        "secadmin": make_user(Role.SECURITY_ADMIN, username="csp_secadmin"),
        "auditadmin": make_user(Role.AUDIT_ADMIN, username="csp_auditadmin"),
    }
    users["watch"] = watch_create(actor=users["enterprise"], name="钙钛矿情报", query="材料")
    return users


def shape(path: str) -> str:
    """One visit per URL shape: /registry/organisations/17/ and /…/18/ are the same page."""
    return re.sub(r"\d+", "N", path)


def crawl(page) -> list[str]:
    """Visit the navigation and the pages it links to, breadth first; the visited paths."""
    origin = page.base_url
    page.goto(f"{origin}/")
    start = [urlsplit(urljoin(page.url, href)).path for href in page.eval_on_selector_all(
        "header nav a[href], .subnav a[href]", "links => links.map(a => a.getAttribute('href'))")]
    queue, seen, visited = deque(["/", *start]), set(), []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        path = queue.popleft()
        if shape(path) in seen or SKIP.search(path):
            continue
        seen.add(shape(path))
        try:
            response = page.goto(f"{origin}{path}")
        except PlaywrightError as error:
            if "Download is starting" in str(error):  # a file, not a page
                continue
            raise
        assert response is not None and response.status < 500, f"{path}: {response and response.status}"
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        visited.append(path)
        for href in page.eval_on_selector_all("main a[href], header nav a[href]",
                                              "links => links.map(a => a.getAttribute('href'))"):
            url = urlsplit(urljoin(page.url, href))
            if url.netloc == urlsplit(origin).netloc and shape(url.path) not in seen:
                queue.append(url.path)
    return visited


@pytest.mark.parametrize("role", ["officer", "department", "enterprise", "expert", "sysadmin", "secadmin",
                                  "auditadmin"])
def test_every_page_reachable_from_the_navigation_has_no_csp_violation(page, demo_users, role):
    login(page, demo_users[role].username, PASSWORD)
    visited = crawl(page)
    page.wait_for_timeout(300)  # let the last page's violation events reach the test
    assert len(visited) >= 3, visited
    page.csp_violations.expect_none()


CANVAS_DRAWN = """(canvas) => {
  if (!window.Chart || !Chart.getChart(canvas) || !canvas.width || !canvas.height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) return true; }
  return false;
}"""


def assert_charts_drawn(page, path: str, selector: str, minimum: int = 1) -> None:
    page.goto(f"{page.base_url}{path}")
    canvases = page.locator(selector)
    assert canvases.count() >= minimum, f"{path}: {canvases.count()} canvases for {selector}"
    deadline = time.monotonic() + 10
    for n in range(canvases.count()):
        handle = canvases.nth(n).element_handle()
        while not page.evaluate(CANVAS_DRAWN, handle):
            assert time.monotonic() < deadline, f"{path}: {selector} #{n} is not drawn"
            page.wait_for_timeout(100)


def test_charts_are_drawn_under_the_policy(page, demo_users):
    login(page, "csp_officer", PASSWORD)
    assert_charts_drawn(page, "/", "canvas#by-kind")
    assert_charts_drawn(page, "/plan/", ".indicator-grid canvas.spark", minimum=5)
    assert_charts_drawn(page, "/plan/", "canvas#chapter-chart")
    assert_charts_drawn(page, "/plan/report/", ".chart-grid canvas", minimum=5)
    indicator = Indicator.objects.filter(observations__isnull=False).order_by("pk").first()
    assert_charts_drawn(page, f"/plan/indicators/{indicator.pk}/", "canvas#indicator-chart")
    assert_charts_drawn(page, "/transfer/incubation/", "canvas#stage-chart")
    page.locator("form[action='/accounts/logout/'] button").click()
    login(page, "csp_enterprise", PASSWORD)
    assert_charts_drawn(page, f"/transfer/watch/{demo_users['watch'].pk}/", "canvas[id^=trend-]", minimum=3)
    page.csp_violations.expect_none()


def test_script_behaviour_still_works_under_the_policy(page, demo_users):
    login(page, "csp_officer", PASSWORD)
    # The evaluation year select submits its form (data-autosubmit instead of onchange=).
    page.goto(f"{page.base_url}/plan/")
    year = page.locator("[data-testid=as-of-select] option").nth(1).get_attribute("value")
    with page.expect_navigation():
        page.select_option("[data-testid=as-of-select]", year)
    assert f"as_of={year}" in page.url
    # The report's print button prints (data-print instead of onclick=).
    page.goto(f"{page.base_url}/plan/report/")
    page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
    page.click("[data-testid=report-print]")
    assert page.evaluate("() => window.__printed === true")
    # Formset rows are added by programmes/call_rows.js (was an inline script).
    page.goto(f"{page.base_url}/programmes/calls/new/")
    rows = page.locator("[data-testid=criteria] tbody tr")
    before = rows.count()
    page.click("[data-testid=criteria-add]")
    assert rows.count() == before + 1
    assert page.locator(f"input[name=criteria-{before}-name]").count() == 1
    assert page.input_value("#id_criteria-TOTAL_FORMS") == str(before + 1)
    page.csp_violations.expect_none()


def test_one_time_secret_is_selected_on_focus(page, demo_users):
    """data-select-on-focus replaces onfocus="this.select()" on the one-time password and new token."""
    login(page, "csp_enterprise", PASSWORD)
    page.goto(f"{page.base_url}/accounts/tokens/")
    page.fill("input[name=name]", "CSP test script")
    with page.expect_navigation():
        page.click("[data-testid=token-create]")
    reauthenticate(page, "csp_enterprise", PASSWORD)  # creating a token asks to confirm identity, then back here
    page.fill("input[name=name]", "CSP test script")
    with page.expect_navigation():
        page.click("[data-testid=token-create]")
    page.focus("[data-testid=new-token]")
    token = page.input_value("[data-testid=new-token]")
    selected = page.evaluate("() => { const el = document.activeElement; "
                             "return el.value.substring(el.selectionStart, el.selectionEnd); }")
    assert token.startswith("sct_") and selected == token
    page.csp_violations.expect_none()


def test_htmx_request_and_indicator_work_under_the_policy(page, demo_users):
    login(page, "csp_auditadmin", PASSWORD)
    page.goto(f"{page.base_url}/audit/")
    assert page.evaluate("() => htmx.config.includeIndicatorStyles") is False
    indicator = page.locator("#chain-busy")
    assert indicator.evaluate("el => getComputedStyle(el).opacity") == "0"  # styled by site.css, not htmx
    before = page.locator("[data-testid=audit-chain-status]").inner_text()
    page.click("[data-testid=audit-verify]")
    page.wait_for_function(
        "(before) => document.querySelector('[data-testid=audit-chain-status]').innerText !== before", arg=before)
    assert page.evaluate("() => document.querySelectorAll('head style').length") == 0
    page.csp_violations.expect_none()


def test_swagger_ui_works_under_the_policy(page, demo_users):
    login(page, "csp_officer", PASSWORD)
    page.goto(f"{page.base_url}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "sciencecity API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 20
    # Try out one operation: the request is same-origin and allowed by connect-src.
    block = page.locator(".opblock").filter(has_text="/api/registry/organisations").first
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    page.csp_violations.expect_none()


def test_a_violation_is_caught_by_the_page_fixture_and_reaches_the_report_endpoint(page, demo_users):
    csp_violation_count_reset()
    page.goto(f"{page.base_url}/accounts/login/")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__injected = true;";
        document.body.appendChild(script);
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
    }""")
    assert page.evaluate("() => window.__injected") is None  # the policy blocked the injected script
    page.wait_for_function("() => true")
    deadline = time.monotonic() + 10
    while csp_violation_count() < 2:
        assert time.monotonic() < deadline, f"the report endpoint counted {csp_violation_count()}"
        page.wait_for_timeout(100)
    directives = {v.get("directive") for v in page.csp_violations}
    assert {"script-src-elem", "style-src-attr"} <= directives, page.csp_violations
    page.csp_violations.clear()  # provoked on purpose
