"""Official outputs (dashboard "latest", status, report HTML/PDF, JSON export, API) use approved values only;
drafts are shown only to the department that filed them and to the bureau, marked as not approved; "latest"
is the latest year with approved data; registry computations show the latest year that has data."""

from __future__ import annotations

import datetime as dt
import io
import json

import pypdf
import pytest
from django.test import override_settings
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.plans import report, selectors, services, sources
from sciencecity.plans.choices import ValueSource, ValueStatus
from sciencecity.plans.models import ObservedValue
from tests.conftest import make_organisation, make_user

APPROVED, DRAFT = 777.25, 888.75


@pytest.fixture
def values(plan):
    """Indicator 2 (光明区科技创新局): an approved 2024 value and a draft 2025 value."""
    indicator = plan.indicators.get(code="2")
    ObservedValue.objects.create(indicator=indicator, year=2024, value=APPROVED, source=ValueSource.EXCEL,
                                 status=ValueStatus.APPROVED)
    ObservedValue.objects.create(indicator=indicator, year=2025, value=DRAFT, source=ValueSource.EXCEL,
                                 status=ValueStatus.DRAFT)
    return indicator


def _row(plan, indicator):
    return next(r for r in selectors.indicator_rows(plan) if r.indicator.pk == indicator.pk)


def test_latest_is_the_latest_approved_year_and_drafts_do_not_count(plan, values):
    row = _row(plan, values)
    assert (row.latest.year, row.latest.value) == (2024, APPROVED)
    assert [p["year"] for p in row.series if p["value"] in (APPROVED, DRAFT)] == [2024]
    ObservedValue.objects.filter(indicator=values, year=2025).update(status=ValueStatus.SUBMITTED)
    assert _row(plan, values).latest.year == 2024
    ObservedValue.objects.filter(indicator=values, year=2025).update(status=ValueStatus.APPROVED)
    assert (_row(plan, values).latest.year, _row(plan, values).latest.value) == (2025, DRAFT)


def test_dashboard_shows_approved_latest_only(plan, values, plan_bureau, login):
    html = login(plan_bureau).get(reverse("plans:dashboard")).content.decode()
    assert "777.25" in html and "888.75" not in html


def test_report_html_pdf_export_and_api_leave_drafts_out(plan, values, plan_bureau, login, reauthenticate, client):
    data = report.report_data(plan)
    row = next(r for r in data["rows"] if r.indicator.pk == values.pk)
    assert row.latest.value == APPROVED
    login(plan_bureau)
    html = client.get(reverse("plans:report")).content.decode()
    assert "777.25" in html and "888.75" not in html
    reauthenticate(plan_bureau)  # the PDF is an export: sudo mode
    pdf = client.get(reverse("plans:report_pdf"), follow=True).content
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "777.25" in text and "888.75" not in text
    exported = report.plan_export(plan, include_values=True)
    item = next(i for i in exported["indicators"] if i["code"] == "2")
    assert [(v["year"], v["value"], v["status"]) for v in item["values"]] == [(2024, APPROVED, "approved")]
    assert "888.75" not in json.dumps(exported)
    status = client.get(f"/api/plans/{plan.pk}/indicators/status").json()
    item = next(i for i in status if i["code"] == "2")
    assert (item["latest_year"], item["latest_value"]) == (2024, APPROVED)
    assert [v["year"] for v in item["values"]] == [2024]


def test_drafts_visible_to_their_department_and_the_bureau_only(plan, values, client, login, kcj, plan_bureau,
                                                                 kcj_officer, tjj_officer):
    url = reverse("plans:indicator_detail", args=[values.pk])
    for user in (plan_bureau, kcj_officer):
        html = login(user).get(url).content.decode()
        assert 'data-testid="value-2025"' in html and "888.75" in html
        assert 'data-testid="not-approved-2025"' in html  # clearly marked
    for user in (tjj_officer, make_user(Role.ENTERPRISE_USER, make_organisation())):
        html = login(user).get(url).content.decode()
        assert 'data-testid="value-2024"' in html
        assert 'data-testid="value-2025"' not in html and "888.75" not in html


@pytest.fixture
def registry_source(plan, monkeypatch):
    """A registry computation with data up to 2025 only (0 afterwards), linked to indicator 10."""
    def compute(year, scope):
        return (float(40 + year - 2020), f"count for {year}") if year <= 2025 else (0.0, f"count for {year}")

    monkeypatch.setitem(sources._SOURCES, "test.until_2025",
                        sources.IndicatorSource("test.until_2025", "Test source", compute, __import__("re").compile("x")))
    indicator = plan.indicators.get(code="10")
    indicator.source_key = "test.until_2025"
    indicator.save()
    return indicator


@override_settings(INDICATOR_LIVE_CACHE_SECONDS=0)
def test_registry_value_is_that_of_the_latest_year_with_data(plan, registry_source, monkeypatch):
    monkeypatch.setattr(selectors, "_today", lambda: dt.date(2026, 12, 7))
    row = _row(plan, registry_source)
    assert (row.live_year, row.live_value) == (2025, 45.0)
    row = next(r for r in selectors.indicator_rows(plan, as_of_year=2023) if r.indicator.pk == registry_source.pk)
    assert (row.live_year, row.live_value) == (2023, 43.0)


@override_settings(INDICATOR_LIVE_CACHE_SECONDS=0)
def test_store_registry_value_offers_the_year_with_data_and_never_stores_zero(plan, registry_source, plan_bureau,
                                                                                login, monkeypatch):
    monkeypatch.setattr(selectors, "_today", lambda: dt.date(2026, 12, 7))
    client = login(plan_bureau)
    html = client.get(reverse("plans:indicator_detail", args=[registry_source.pk])).content.decode()
    assert 'name="year" value="2025"' in html
    url = reverse("plans:indicator_compute", args=[registry_source.pk])
    client.post(url, {"year": "2026"})
    assert not ObservedValue.objects.filter(indicator=registry_source, year=2026).exists()
    client.post(url, {"year": "2025"})
    assert ObservedValue.objects.get(indicator=registry_source, year=2025).value == 45.0
    assert services.indicator_value_compute(actor=plan_bureau, indicator=registry_source, year=2027) is None
    assert not ObservedValue.objects.filter(indicator=registry_source, year=2027).exists()


def test_demo_values_leave_the_last_year_submitted_in_a_round_the_bureau_can_approve(plan, plan_bureau, kcj):
    """The demo's newest year awaits approval in an open round (no dead end): approving it makes it official."""
    from sciencecity.plans.demo import generate_values
    from sciencecity.plans.models import ReportingRound

    counts = generate_values(today=dt.date(2026, 12, 7))
    assert counts["rounds"] == 1
    rnd = ReportingRound.objects.get(plan=plan, year=2025)
    assert {s.department.code: s.status for s in rnd.submissions.select_related("department")} == {
        code: "submitted" for code in plan.indicators.values_list("owner_department__code", flat=True)}
    indicator = plan.indicators.get(code="2")
    assert _row(plan, indicator).latest.year == 2024
    services.submission_approve(actor=plan_bureau, submission=rnd.submissions.get(department=kcj))
    assert _row(plan, indicator).latest.year == 2025
    assert generate_values(today=dt.date(2026, 12, 7))["rounds"] == 0


def test_demo_values_command_names_the_departments_to_grant(plan):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("plan", "demo-values", "--as-of", "2026-12-07", stdout=out)
    text = out.getvalue()
    assert "GOV-KCJ" in text and "GOV-TJJ" in text and "department_officer" in text


def test_dashboard_says_approved_only_and_counts_pending_values_for_officers(plan, values, client, login,
                                                                           plan_bureau, kcj_officer, tjj_officer):
    url = reverse("plans:dashboard")
    for user, pending in ((plan_bureau, 1), (kcj_officer, 1), (tjj_officer, 0),
                          (make_user(Role.ENTERPRISE_USER, make_organisation()), 0)):
        html = login(user).get(url).content.decode()
        assert 'data-testid="approved-only"' in html
        assert ('data-testid="pending-values"' in html) == bool(pending)


def test_dashboard_cards_in_english_have_no_chinese_besides_the_plan_s_own_names(plan, values, plan_bureau, login):
    """Issue 11 obs. 7: in English the indicator cards' badges and sentences are English; only the plan's data
    (indicator names, units, the plan title) stays as written."""
    import re
    from html.parser import HTMLParser

    client = login(plan_bureau)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("plans:dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    class Cards(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.cards = 0, []

        def handle_starttag(self, tag, attrs):
            if tag == "article" and dict(attrs).get("class") == "indicator-card":
                self.depth = 1
                self.cards.append("")
            elif self.depth and tag == "article":
                self.depth += 1

        def handle_endtag(self, tag):
            if self.depth and tag == "article":
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                self.cards[-1] += data

    parsed = Cards()
    parsed.feed(html)
    assert len(parsed.cards) == plan.indicators.count()
    data = sorted({text for i in plan.indicators.all() for text in (i.name, i.unit) if text}, key=len, reverse=True)
    chinese = []
    for card in parsed.cards:
        for text in data:
            card = card.replace(text, "")
        chinese += re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", card)
    assert not chinese, chinese
