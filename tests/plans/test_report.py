"""Mid-term evaluation report (HTML, PDF) and the machine-readable plan export."""

from __future__ import annotations

import io
import json
import time

import pypdf
import pytest
from django.urls import reverse
from django.utils.html import escape

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent, Job
from sciencecity.plans import report
from sciencecity.plans.demo import generate_values
from sciencecity.plans.models import ObservedValue
from tests.conftest import make_user

SEED_TITLE = "光明区“十四五”科技创新发展规划"


@pytest.fixture
def demo(plan):
    generate_values()
    return plan


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages)


def test_html_report_lists_every_indicator_with_status_and_sources(demo, plan_bureau, login):
    response = login(plan_bureau).get(reverse("plans:report"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "中期评估报告" in html
    assert 'data-testid="synthetic-notice"' in html
    rows = {r.indicator.code: r for r in response.context["rows"]}
    assert len(rows) == 10
    for indicator in demo.indicators.all():
        assert escape(indicator.name) in html
        row = rows[indicator.code]
        assert row.status_label
        assert f'data-testid="indicator-row-{indicator.code}"' in html
        row_html = html.split(f'data-testid="indicator-row-{indicator.code}"')[1].split("</tr>")[0]
        assert row.status_label in row_html
    # indicator 1's 2015 baseline comes from the plan text, with the sentence
    first = response.context["rows"][0]
    assert first.baseline.year == 2015 and first.baseline.source == "plan_text"
    kinds = {s["kind"] for s in first.sources}
    assert {"plan_text", "synthetic"} <= kinds
    assert "由2015年的3.13%" in html
    assert response.context["tasks"]["total"] == 54
    assert response.context["project_totals"]["count"] == 70
    assert sum(s["count"] for s in response.context["status_counts"]) == 10


def test_html_report_without_synthetic_data_has_no_notice(plan, plan_bureau, login):
    html = login(plan_bureau).get(reverse("plans:report")).content.decode()
    assert 'data-testid="synthetic-notice"' not in html
    assert all(escape(i.name) in html for i in plan.indicators.all())


def test_pdf_report_text_is_chinese_and_complete(demo, plan_bureau, login, reauthenticate):
    before = AuditEvent.objects.filter(action="export").count()
    client = login(plan_bureau)
    assert client.get(reverse("plans:report_pdf"))["Location"].startswith(reverse("accounts:reauthenticate"))
    reauthenticate(plan_bureau)  # an export: sudo mode
    started = time.perf_counter()
    queued = client.get(reverse("plans:report_pdf"))
    # the worker builds it (inline in tests); the browser is sent on to the job's file
    job = Job.objects.get(kind="plans.report_pdf")
    assert queued.status_code == 302 and queued["Location"] == reverse("jobs:file", args=[job.pk])
    assert job.state == "done" and job.created_by == plan_bureau
    response = client.get(queued["Location"])
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    content = response.content
    assert content.startswith(b"%PDF")
    text = _pdf_text(content)
    assert SEED_TITLE in text
    assert "中期评估报告" in text
    for indicator in demo.indicators.all():
        assert indicator.name in text, indicator.name
    assert elapsed < 10
    events = AuditEvent.objects.filter(action="export").order_by("-id")
    assert events.count() == before + 1
    event = events.first()
    assert event.actor == plan_bureau
    assert event.object_type == "plans.plan"
    assert event.changes["format"] == "pdf"


def test_pdf_font_falls_back_to_cid_font_without_system_fonts(demo, monkeypatch):
    monkeypatch.setattr(report, "FONT_CANDIDATES", [])
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    monkeypatch.delenv("SCIENCECITY_PDF_FONT", raising=False)
    report.pdf_font.cache_clear()
    try:
        assert report.pdf_font() == report.CID_FALLBACK
        text = _pdf_text(report.render_pdf(report.report_data(demo)))
    finally:
        report.pdf_font.cache_clear()
    assert SEED_TITLE in text
    assert all(i.name in text for i in demo.indicators.all())


def _count_tasks(export: dict) -> int:
    return sum(len(c["tasks"]) + sum(len(s["tasks"]) for s in c["sections"]) for c in export["chapters"])


def test_plan_export_structure_counts_and_values(demo):
    public = report.plan_export(demo, include_values=False)
    full = report.plan_export(demo, include_values=True)
    for export in (public, full):
        assert export["schema"] == report.EXPORT_SCHEMA
        assert export["plan"]["title"] == SEED_TITLE
        assert len(export["chapters"]) == 8
        assert sum(len(c["sections"]) for c in export["chapters"]) == 28
        assert _count_tasks(export) == 54
        assert len(export["indicators"]) == 10
        assert len(export["boxes"]) == 17
        assert sum(1 for b in export["boxes"] if b["number"] is None) == 2
        assert sum(len(b["projects"]) for b in export["boxes"]) == 70
        assert (len(export["goals"]), len(export["strategies"]), len(export["measures"])) == (5, 5, 6)
        assert all(i["targets"] for i in export["indicators"])
        json.dumps(export, ensure_ascii=False)
    assert public["values_included"] is False and full["values_included"] is True
    assert all("values" not in i and "assessment" not in i for i in public["indicators"])
    assert all("progress" not in t for c in public["chapters"] for s in c["sections"] for t in s["tasks"])
    assert all("status" not in p for b in public["boxes"] for p in b["projects"])
    assert public["data_as_of"] is None
    approved = ObservedValue.objects.filter(indicator__plan=demo, status="approved").count()
    assert ObservedValue.objects.filter(indicator__plan=demo).count() > approved  # the demo's last year is submitted
    assert sum(len(i["values"]) for i in full["indicators"]) == approved  # official outputs: approved values only
    assert {v["status"] for i in full["indicators"] for v in i["values"]} == {"approved"}
    first = full["indicators"][0]
    assert {"year", "value", "source", "status", "provenance", "synthetic"} <= set(first["values"][0])
    assert first["assessment"]["status"] in {"achieved", "on_track", "at_risk", "off_track"}
    project = full["boxes"][0]["projects"][0]
    assert {"status", "planned_investment", "actual_investment", "milestones", "synthetic"} <= set(project)


@pytest.mark.parametrize("who", ["anonymous", "enterprise", "bureau", "sysadmin", "secadmin", "auditadmin"])
def test_permission_matrix(demo, client, reauthenticate, who):
    roles = {"enterprise": Role.ENTERPRISE_USER, "bureau": Role.BUREAU_OFFICER, "sysadmin": Role.SYSTEM_ADMIN,
             "secadmin": Role.SECURITY_ADMIN, "auditadmin": Role.AUDIT_ADMIN}
    if who != "anonymous":
        user = make_user(roles[who])
        client.force_login(user)
        if who in ("enterprise", "bureau"):  # allowed: the exports ask for a re-authentication first
            for name in ("plans:report_pdf", "plans:plan_json"):
                assert client.get(reverse(name))["Location"].startswith(reverse("accounts:reauthenticate"))
            reauthenticate(user)
    html = client.get(reverse("plans:report"))
    pdf = client.get(reverse("plans:report_pdf"), follow=True)
    exported = client.get(reverse("plans:plan_json"))
    exports = AuditEvent.objects.filter(action="export").count()
    if who == "anonymous":
        assert html.status_code == 302 and "/login" in html["Location"]
        assert pdf.redirect_chain[0][0].startswith(reverse("accounts:login"))
        assert exported.status_code == 200 and exported.json()["values_included"] is False
    elif who in ("enterprise", "bureau"):
        assert html.status_code == 200
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert exported.status_code == 200 and exported.json()["values_included"] is True
        assert exports == 2  # the PDF and the JSON with values
    else:
        assert (html.status_code, pdf.status_code, exported.status_code) == (403, 403, 403)
        assert exports == 0
