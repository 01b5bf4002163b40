"""The indicator table as published — target basis (年均/累计), targets in words, sub-rows, note marks
and footnotes — is stored on import, shown on the indicator page and in the mid-term report, and
exported; re-importing the same document changes nothing."""

from __future__ import annotations

from django.urls import reverse

from sciencecity.core.models import AuditEvent
from sciencecity.plans import report, services
from sciencecity.plans.models import Indicator, Plan
from tests.engines.test_plandoc_indicator_tables import html_plan, markdown_plan


def _import(content: str, filename: str = "province.md"):
    return services.plan_import(actor=None, content=content.encode("utf-8"), filename=filename)


def _stored(plan):
    return {i.name: (i.number, i.target_basis, i.qualitative, i.parent_number, i.footnotes, i.marks, i.target_text)
            for i in Indicator.objects.filter(plan=plan)}


EXPECTED = {
    "全社会研发经费投入增长": (1, "annual_average", False, None, ["*为2019年数据。"], ["*"], ">7"),
    "每万人口高价值发明专利拥有量": (2, "", False, None, ["①高价值发明专利指有海外同族专利的发明专利。"], ["①"], "12"),
    "企业高价值发明专利拥有量": (3, "", False, 2, [], [], "8"),
    "地区生产总值增长": (4, "annual_average", True, None, [], [], "保持在合理区间、各年度视情提出"),
    "居民人均可支配收入增长": (5, "annual_average", True, None, [], [], "与经济增长基本同步"),
    "单位地区生产总值能源消耗降低": (6, "cumulative", False, None, ["〔〕内为五年累计数。"], [], "〔13.5〕"),
    "森林覆盖率": (7, "", False, None, ["*为2019年数据。"], ["*"], "24.1"),
    "技术合同成交额": (8, "", False, None, [], [], "300"),
    "技术合同成交额（2）": (9, "", False, 8, [], [], "15"),
}


def test_indicator_table_fields_are_stored(db):
    plan = _import(markdown_plan()).plan
    assert _stored(plan) == EXPECTED


def test_the_saved_html_page_stores_the_same_fields(db):
    plan = _import(html_plan(), "province.html").plan
    assert _stored(plan) == EXPECTED


def test_reimporting_the_same_document_changes_nothing(db):
    first = _import(markdown_plan())
    before = (Plan.objects.count(), Indicator.objects.count(), AuditEvent.objects.count(),
              list(Indicator.objects.order_by("pk").values()))
    again = _import(markdown_plan())
    assert again.created is False and again.plan.pk == first.plan.pk
    assert (Plan.objects.count(), Indicator.objects.count(), AuditEvent.objects.count(),
            list(Indicator.objects.order_by("pk").values())) == before


def test_indicator_page_shows_basis_words_sub_row_and_footnotes(bureau, client):
    plan = _import(markdown_plan()).plan
    client.force_login(bureau)
    gdp = Indicator.objects.get(plan=plan, name="地区生产总值增长")
    html = client.get(reverse("plans:indicator_detail", args=[gdp.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "保持在合理区间、各年度视情提出" in html and "target in words" in html
    assert "Annual average (年均)" in html
    energy = Indicator.objects.get(plan=plan, name="单位地区生产总值能源消耗降低")
    html = client.get(reverse("plans:indicator_detail", args=[energy.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cumulative over the plan period (累计)" in html
    assert "〔〕内为五年累计数。" in html
    sub = Indicator.objects.get(plan=plan, name="企业高价值发明专利拥有量")
    html = client.get(reverse("plans:indicator_detail", args=[sub.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="indicator-parent">2<' in html


def test_report_shows_text_targets_and_footnotes_under_the_table(bureau, client):
    plan = _import(markdown_plan()).plan
    client.force_login(bureau)
    html = client.get(reverse("plans:report"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    gdp = Indicator.objects.get(plan=plan, name="地区生产总值增长")
    assert f'data-testid="qualitative-{gdp.code}">保持在合理区间、各年度视情提出<' in html
    notes = html[html.index('data-testid="indicator-footnotes"'):]
    notes = notes[:notes.index("</ol>")]
    assert notes.count("<li>") == 3
    assert "*为2019年数据。 <small class=\"muted\">(indicators 1, 7)</small>" in notes
    assert "〔〕内为五年累计数。" in notes and "①高价值发明专利" in notes
    assert report.indicator_footnotes(report.report_data(plan)["rows"]) == [
        {"text": "*为2019年数据。", "numbers": [1, 7]},
        {"text": "①高价值发明专利指有海外同族专利的发明专利。", "numbers": [2]},
        {"text": "〔〕内为五年累计数。", "numbers": [6]},
    ]


def test_pdf_report_has_text_targets_and_footnotes(db):
    import io

    from pypdf import PdfReader

    plan = _import(markdown_plan()).plan
    pdf = report.render_pdf(report.report_data(plan))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert "与经济增长基本同步 (2025)" in text  # the words, not "—"
    assert "〔〕内为五年累计数。" in text


def test_json_export_has_the_fields(db):
    plan = _import(markdown_plan()).plan
    exported = {i["name"]: i for i in report.plan_export(plan, include_values=False)["indicators"]}
    assert {k: exported["居民人均可支配收入增长"][k] for k in
            ("target_basis", "qualitative", "parent_number", "footnotes", "marks", "target_as_written")} == {
        "target_basis": "annual_average", "qualitative": True, "parent_number": None, "footnotes": [], "marks": [],
        "target_as_written": "与经济增长基本同步"}
    assert exported["技术合同成交额（2）"]["parent_number"] == 8
    assert exported["技术合同成交额"]["target_basis"] == "level"
    assert exported["森林覆盖率"]["marks"] == ["*"] and exported["森林覆盖率"]["footnotes"] == ["*为2019年数据。"]
