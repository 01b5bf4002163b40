"""Accessibility and the phone layout in a real browser, on the demo data of ``sciencecity bootstrap``.

* axe-core (vendored from the npm registry, ``core/static/vendor/axe-core-4.14.1``; loaded by the test from
  our own static files, so the Content-Security-Policy of the page allows it) finds no serious or critical
  violation on the main pages of each kind of account;
* at 390 × 844 (a phone) the header takes at most 15 % of the height, the navigation opens behind the menu
  button, and tables read as cards labelled with their column headings;
* at 1280 × 900 the header fits on one row for every role, in English and in zh-Hans: the menu's areas are
  drop-downs (a button opening a list), worked by the keyboard (Enter opens, Escape closes and returns focus).
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from sciencecity.accounts.choices import Role
from sciencecity.facilities.models import Instrument
from sciencecity.programmes.models import Assignment
from sciencecity.registry.models import Organisation
from sciencecity.transfer.models import Deal
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import login, nav_to

AXE = "/static/vendor/axe-core-4.14.1/axe.min.js"
MAIN_PAGES = {
    "anonymous": ["/accounts/login/", "/help/"],
    "officer": ["/", "/plan/", "/plan/structure/", "/plan/rounds/", "/registry/organisations/", "/registry/people/",
                "/programmes/", "/transfer/"],
    "enterprise": ["/", "/transfer/", "/transfer/demands/", "/programmes/"],
    "expert": ["/", "/programmes/reviews/"],
}
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " — " + n.failureSummary.split("\\n").slice(0, 2).join(" "))}));
}"""


@pytest.fixture
def demo_users(transactional_db):
    call_command("bootstrap", verbosity=0)
    return {
        "officer": make_user(Role.BUREAU_OFFICER, Organisation.objects.get(code="GOV-KCJ"), username="a11y_officer"),
        "enterprise": make_user(Role.ENTERPRISE_USER, Deal.objects.order_by("pk").first().buyer,
                                username="a11y_enterprise"),
        "expert": make_user(Role.EXPERT, username="a11y_expert", person=Assignment.objects.order_by("pk").first().expert),
        "department": make_user(Role.DEPARTMENT_OFFICER, Organisation.objects.get(code="GOV-TJJ"),
                                username="a11y_department"),
        "facility": make_user(Role.FACILITY_MANAGER, Instrument.objects.order_by("pk").first().host,
                              username="a11y_facility"),
        "academic": make_user(Role.ACADEMIC_USER, username="a11y_academic"),
        "investor": make_user(Role.INVESTOR, username="a11y_investor"),
        "incubator": make_user(Role.INCUBATOR_OPERATOR, username="a11y_incubator"),
        "sysadmin": make_user(Role.SYSTEM_ADMIN, username="a11y_sysadmin"),
        "secadmin": make_user(Role.SECURITY_ADMIN, username="a11y_secadmin"),
        "auditadmin": make_user(Role.AUDIT_ADMIN, username="a11y_auditadmin"),
    }


def axe_problems(page, path: str) -> list[str]:
    page.goto(f"{page.base_url}{path}")
    page.add_script_tag(url=f"{page.base_url}{AXE}")
    return [f"{path}: {v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in page.evaluate(RUN_AXE)]


def log_out(page) -> None:
    with page.expect_navigation():
        page.click("header form[action$='/logout/'] button")


def test_main_pages_have_no_serious_or_critical_accessibility_violation(page, demo_users):
    """One browser session for every role (one demo database): anonymous, then each account in turn."""
    problems = []
    for role, paths in MAIN_PAGES.items():
        if role != "anonymous":
            login(page, demo_users[role].username, PASSWORD)
        problems += [f"{role} {problem}" for path in paths for problem in axe_problems(page, path)]
        if role != "anonymous":
            log_out(page)
    assert not problems, "\n".join(problems)


def test_phone_header_is_short_the_menu_opens_and_tables_become_cards(browser, live_server, demo_users):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login(page, demo_users["officer"].username, PASSWORD)
        page.goto(f"{live_server.url}/registry/organisations/")
        header = page.locator("header.site-header").bounding_box()
        assert header["height"] <= 0.15 * 844, header
        nav = page.locator(".site-nav")
        assert not nav.is_visible()
        page.click("[data-testid=nav-toggle]")
        assert nav.is_visible() and page.get_attribute("[data-testid=nav-toggle]", "aria-expanded") == "true"
        people = page.locator(".site-nav a", has_text="人员")
        assert not people.is_visible()  # filed under the 名录 group, whose list opens in place
        nav_to(page, "名录", "人员")
        page.wait_for_url("**/registry/people/")
        assert page.locator(".site-nav a[aria-current=page]").inner_text() == "人员"
        cell = page.locator("main table tbody tr").first.locator("td").first
        assert cell.evaluate("td => getComputedStyle(td).display") == "block"
        label = cell.get_attribute("data-label")
        assert label and label == page.locator("main table thead th").first.inner_text().strip()
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}"'
        row = page.locator("main table tbody tr").first.bounding_box()
        assert row["width"] <= 390, row  # a card, not a row scrolled sideways
    finally:
        context.close()


#: the top-level items of the header: the brand, the entries and groups, the tools (a group's list is not one)
TOP_ROW = """() => Array.from(document.querySelectorAll(
  "header.site-header :is(.site-brand, .site-nav, .site-tools) > li")).filter(li => li.getClientRects().length)
  .map(li => ({text: li.innerText.trim().slice(0, 24), top: Math.round(li.getBoundingClientRect().top),
               bottom: Math.round(li.getBoundingClientRect().bottom)}))"""


def switch_language(page, code: str) -> None:
    if page.locator("html").get_attribute("lang") != code:
        with page.expect_navigation():
            page.select_option("[data-testid=language-select]", code)
    assert page.locator("html").get_attribute("lang") == code


def test_english_header_fits_on_one_row_at_1280(browser, live_server, demo_users):
    """Every role with a demo account, in English and then in zh-Hans: one row, nothing cut off at the right,
    with a two-digit unread count beside Notifications (the widest the header gets)."""
    from sciencecity.core.notifications import notification_send

    for _ in range(12):
        notification_send(users=list(demo_users.values()), message="测试通知", url="/")
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.base_url = live_server.url
    problems = []
    try:
        for language in ("en", "zh-hans"):
            for role, user in demo_users.items():
                login(page, user.username, PASSWORD)
                switch_language(page, language)
                row = page.evaluate(TOP_ROW)
                # one row: a horizontal line crosses every item (the search box is taller than a link)
                if len(row) < 6 or max(i["top"] for i in row) >= min(i["bottom"] for i in row):
                    problems.append(f"{language} {role}: {row}")
                width = page.evaluate("() => document.querySelector('header.site-header').scrollWidth")
                if width > 1280:
                    problems.append(f"{language} {role}: header {width} px wide")
                log_out(page)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_menu_group_opens_with_enter_closes_with_escape_and_returns_focus(page, demo_users):
    login(page, demo_users["officer"].username, PASSWORD)
    button = page.locator("[data-testid=nav-group-directory]")
    listing = page.locator("#" + button.get_attribute("aria-controls"))
    assert button.get_attribute("aria-expanded") == "false" and not listing.is_visible()
    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true" and listing.is_visible()
    page.keyboard.press("Tab")  # the first link of the list is next in the tab order
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "机构"
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false" and not listing.is_visible()
    assert page.evaluate("() => document.activeElement.dataset.testid") == "nav-group-directory"
    page.keyboard.press("Space")
    assert listing.is_visible()
    facilities = page.locator("[data-testid=nav-group-marketplace]")
    facilities.click()  # opening one group closes the other
    assert button.get_attribute("aria-expanded") == "false" and facilities.get_attribute("aria-expanded") == "true"
    page.add_script_tag(url=f"{page.base_url}{AXE}")  # the open drop-down passes axe too
    assert not page.evaluate(RUN_AXE)
    page.locator("footer small").click(position={"x": 2, "y": 2})  # a click elsewhere closes it
    assert facilities.get_attribute("aria-expanded") == "false"
    nav_to(page, "名录", "人员")
    page.wait_for_url("**/registry/people/")
    current = page.locator("[data-testid=nav-group-directory]").locator("xpath=..")
    assert "nav-group-current" in current.get_attribute("class")
    assert current.locator("a[aria-current=page]").inner_text() == "人员"


def test_menu_group_opens_without_javascript_on_focus(browser, live_server, demo_users):
    """No script: the list opens while focus is inside the group (CSS :focus-within), links reachable by Tab."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.base_url = live_server.url
        login(page, demo_users["officer"].username, PASSWORD)  # a plain form: no script needed
        listing = page.locator("#nav-group-directory")
        assert not listing.is_visible()
        page.focus("[data-testid=nav-group-directory]")
        assert listing.is_visible()
        page.keyboard.press("Tab")
        assert listing.is_visible() and page.evaluate("() => document.activeElement.textContent.trim()") == "机构"
    finally:
        context.close()
