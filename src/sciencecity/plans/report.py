"""Mid-term evaluation report (中期评估报告) and the machine-readable plan export.

:func:`report_data` gathers everything the report shows from :mod:`plans.selectors`; the HTML
page renders it with a template, :func:`render_pdf` draws it with reportlab (tables, and charts
with reportlab's own graphics). :func:`plan_export` is the JSON form of the whole plan, used by
``plans:plan_json`` and the API (schema: docs/plan-export.md).

Chinese in the PDF: a CJK TrueType font found on the machine is embedded (subset); without one,
reportlab's built-in CID font ``STSong-Light`` is used, which needs no font file (the text is
extractable; the viewer supplies the glyphs).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import math
import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.plans import selectors, sources
from sciencecity.plans.choices import ProjectStatus, StatementKind, ValueSource
from sciencecity.plans.models import (
    Chapter,
    MajorProject,
    ObservedValue,
    Plan,
    ProjectBox,
    Section,
    Task,
)

logger = logging.getLogger(__name__)

REPORT_TITLE_ZH = "中期评估报告"
EXPORT_SCHEMA = "sciencecity.plan-export/1"
CID_FALLBACK = "STSong-Light"
#: Dots that STSong-Light's UniGB-UCS2-H encoding (and WenQuanYi) lack, and their stand-in.
CID_STAND_INS = str.maketrans({"\u00b7": "\u30fb", "\u2022": "\u30fb"})
#: TrueType CJK fonts (glyf outlines; reportlab cannot embed CFF-flavoured OpenType like Noto CJK).
BUNDLED_FONT = str(Path(__file__).resolve().parent.parent / "core" / "static" / "vendor" / "fonts" / "wqy-microhei.ttc")
FONT_CANDIDATES = [
    BUNDLED_FONT,  # WenQuanYi Micro Hei (Apache-2.0), vendored so a fresh machine embeds a CJK font
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]


# --------------------------------------------------------------------------- report data


def _project_total(projects, field: str) -> float:
    return sum(float(getattr(p, field) or 0) for p in projects)


def _value_sources(row: selectors.IndicatorRow) -> list[dict]:
    """Where an indicator's values came from, one entry per kind of origin."""
    groups: dict[tuple[str, bool], list[ObservedValue]] = defaultdict(list)
    for value in row.indicator.observations.all():
        groups[(value.source, value.is_synthetic)].append(value)
    department = row.indicator.owner_department
    entries = []
    for (source, synthetic), values in sorted(groups.items(), key=lambda item: min(v.year for v in item[1])):
        years = sorted(v.year for v in values)
        span = str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"
        approved = sum(1 for v in values if v.locked)
        if synthetic:
            kind, label = "synthetic", _("Synthetic demo values")
            detail = _("Generated for demonstration; not real data.")
        elif source == ValueSource.PLAN_TEXT:
            kind, label = "plan_text", _("Plan text")
            detail = "；".join(dict.fromkeys(_(v.provenance) for v in values if v.provenance))  # demo notes in the catalogue
        elif source == ValueSource.COMPUTED:
            kind, label = "computed", _("Registry computation")
            detail = "；".join(dict.fromkeys(_(v.provenance) for v in values if v.provenance))  # demo notes in the catalogue
        else:
            kind = "submission"
            label = _("Submitted by %(department)s (%(channel)s)") % {
                "department": department.name if department else _("the departments"),
                "channel": ValueSource(source).label}
            detail = _("%(approved)s of %(count)s approved and locked.") % {"approved": approved, "count": len(values)}
        entries.append({"kind": kind, "label": label, "years": span, "count": len(values), "detail": detail,
                        "synthetic": synthetic})
    source = sources.get(row.indicator.source_key)
    if source is not None:
        entries.append({"kind": "registry", "label": _("Registry computation: %(label)s") % {"label": source.label},
                        "years": "", "count": 0, "detail": row.live_provenance, "synthetic": False})
    return entries


def indicator_footnotes(rows: list[selectors.IndicatorRow]) -> list[dict]:
    """The notes printed under the plan's indicator table, each once, with the indicators it belongs to."""
    notes: dict[str, list[int]] = {}
    for row in rows:
        for note in row.indicator.footnotes:
            notes.setdefault(note, []).append(row.indicator.number)
    return [{"text": text, "numbers": numbers} for text, numbers in notes.items()]


def report_data(plan: Plan, *, today: dt.date | None = None, as_of_year: int | None = None) -> dict:
    """Everything the mid-term evaluation report shows, computed from the stored data.

    ``as_of_year`` evaluates the indicators with the values up to that year (the mid-term year
    for a mid-term evaluation made after the fact); ``None`` uses the latest data.
    """
    today = today or timezone.localdate()
    rows = selectors.indicator_rows(plan, as_of_year=as_of_year)
    overdue = list(selectors.overdue_tasks(plan, today).order_by("deadline", "code"))
    projects = list(MajorProject.objects.filter(box__plan=plan).select_related("box", "host"))
    by_status = defaultdict(list)
    for project in projects:
        by_status[project.status].append(project)
    project_status = [
        {"status": value, "label": label, "count": len(by_status[value]),
         "planned": _project_total(by_status[value], "planned_investment"),
         "actual": _project_total(by_status[value], "actual_investment")}
        for value, label in ProjectStatus.choices
    ]
    behind = selectors.projects_behind_schedule(plan, today)
    at_risk = [r for r in rows if r.assessment and r.assessment.status in ("at_risk", "off_track")]
    synthetic = (
        any(r.synthetic for r in rows)
        or any(p.is_synthetic for p in projects)
        or plan.tasks.filter(reports__is_synthetic=True).exists()
    )
    for row in rows:
        row.sources = _value_sources(row)
        row.projection_year = row.target.year if row.target else plan.target_year
    risks = (
        [_("Indicator %(number)s %(name)s: %(status)s. %(reason)s") % {
            "number": r.indicator.number, "name": r.indicator.name, "status": r.status_label, "reason": r.reason}
         for r in at_risk]
        + [_("%(count)s task(s) overdue.") % {"count": len(overdue)}] * bool(overdue)
        + [_("%(count)s major project(s) behind schedule.") % {"count": len(behind)}] * bool(behind)
    )
    return {
        "plan": plan,
        "title_zh": REPORT_TITLE_ZH,
        "today": today,
        "generated_at": timezone.localtime(),
        "data_as_of": selectors.data_as_of(plan),
        "as_of_year": as_of_year,
        "years": selectors.value_years(plan),
        "mid_term_year": selectors.mid_term_year(plan),
        "synthetic": synthetic,
        "rows": rows,
        "footnotes": indicator_footnotes(rows),
        "status_counts": selectors._status_counts(rows),
        "tasks": selectors.task_summary(plan),
        "chapters": selectors.chapter_progress(plan),
        "departments": selectors.department_progress(plan),
        "overdue": overdue,
        "projects": projects,
        "project_status": project_status,
        "project_totals": {"count": len(projects), "planned": _project_total(projects, "planned_investment"),
                           "actual": _project_total(projects, "actual_investment")},
        "board": [{"label": s["label"], "projects": by_status[s["status"]]} for s in project_status],
        "at_risk": at_risk,
        "behind": behind,
        "key_risks": risks,
    }


def chart_rows(rows: list[selectors.IndicatorRow]) -> list[dict]:
    """Series, target and projection per indicator, for Chart.js (plans/charts.js)."""
    return [
        {"id": r.indicator.pk, "series": r.series, "target_year": r.target.year if r.target else None,
         "target": selectors.forecast.reference_value(
             selectors.forecast.Target(r.target.comparator, r.target.year, r.target.value, r.target.low,
                                       r.target.high), r.indicator.direction) if r.target else None,
         "projected": r.assessment.projected if r.assessment else None}
        for r in rows
    ]


# --------------------------------------------------------------------------- PDF


def _font_files() -> list[str]:
    configured = getattr(settings, "PDF_CJK_FONT", "") or os.environ.get("SCIENCECITY_PDF_FONT", "")
    files = [configured] if configured else []
    files += FONT_CANDIDATES
    if shutil.which("fc-list"):
        try:
            listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        files += sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
    return list(dict.fromkeys(files))


@functools.cache
def pdf_font() -> str:
    """Register and return the font for Chinese text: an embeddable TrueType CJK font when one is
    found (configured path, usual system locations, fontconfig), else the CID font STSong-Light."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    for path in _font_files():
        if not path or not Path(path).is_file() or not path.lower().endswith((".ttf", ".ttc", ".otf")):
            continue
        try:
            font = TTFont("SciencecityCJK", path, subfontIndex=0) if path.lower().endswith(".ttc") \
                else TTFont("SciencecityCJK", path)
            if font.face.charToGlyph.get(ord("规")) is None:
                continue
        except Exception as exc:  # noqa: BLE001 - CFF outlines, broken files: try the next one
            logger.debug("PDF font %s not usable: %s", path, exc)
            continue
        pdfmetrics.registerFont(font)
        return "SciencecityCJK"
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def _year_value(value) -> str:
    return "—" if value is None else f"{_num(value.value)} ({value.year})"


#: Beyond this magnitude a value cannot be a real figure and reportlab's axis arithmetic overflows.
PLOTTABLE = 1e15


def _indicator_chart(row: selectors.IndicatorRow, font: str, width: float, height: float):
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    title = f"{row.indicator.number}. {row.indicator.name} ({row.indicator.unit})"
    drawing.add(String(4, height - 11, title.translate(CID_STAND_INS), fontName=font, fontSize=8))
    points = [(p["year"], p["value"]) for p in row.series]
    if not points:
        drawing.add(String(width / 2, height / 2, _("No data"), fontName=font, fontSize=8, textAnchor="middle"))
        return drawing
    data = [points]
    chart_data = chart_rows([row])[0]
    styles = [(colors.HexColor("#2563eb"), None)]
    target_year = chart_data["target_year"]
    if chart_data["target"] is not None and target_year:
        data.append([(points[0][0], chart_data["target"]), (max(target_year, points[-1][0]), chart_data["target"])])
        styles.append((colors.HexColor("#16a34a"), (4, 3)))
        if chart_data["projected"] is not None:
            data.append([points[-1], (max(target_year, points[-1][0]), chart_data["projected"])])
            styles.append((colors.HexColor("#d97706"), (2, 2)))
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 32, 18, width - 42, height - 36
    plot.data = data
    for index, (color, dash) in enumerate(styles):
        plot.lines[index].strokeColor = color
        plot.lines[index].strokeWidth = 1.2
        if dash:
            plot.lines[index].strokeDashArray = dash
    from reportlab.graphics.widgets.markers import makeMarker

    plot.lines[0].symbol = makeMarker("Circle", size=2.5)
    years = [x for series in data for x, _y in series]
    values = [y for series in data for _x, y in series]
    if not all(math.isfinite(v) and abs(v) <= PLOTTABLE for v in values):
        # One absurd stored value (1e308) must not take the report down: say so instead of plotting.
        drawing.add(String(width / 2, height / 2, _("A value is too large to plot"), fontName=font, fontSize=8,
                           textAnchor="middle"))
        return drawing
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = min(years), max(years)
    plot.xValueAxis.valueSteps = sorted(set(range(min(years), max(years) + 1, max(1, (max(years) - min(years)) // 4))))
    plot.xValueAxis.labelTextFormat = "%d"
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = max(0, low - pad) if low >= 0 else low - pad, high + pad
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = "Helvetica", 6
    drawing.add(plot)
    return drawing


def render_pdf(data: dict) -> bytes:
    """The report as a PDF (A4), Chinese text in :func:`pdf_font`."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = pdf_font()

    def clean(text) -> str:
        return str(text).translate(CID_STAND_INS)

    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=10)
    h1 = ParagraphStyle("h1", parent=base, fontSize=15, leading=20, spaceBefore=8, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=4)
    title = ParagraphStyle("title", parent=base, fontSize=22, leading=30, alignment=TA_CENTER)
    centred = ParagraphStyle("centred", parent=base, fontSize=11, leading=16, alignment=TA_CENTER)
    plan = data["plan"]
    width = A4[0] - 30 * mm

    def p(text, style=small):
        from xml.sax.saxutils import escape

        return Paragraph(escape(clean(text)), style)

    def table(header, body, widths, repeat=1):
        t = Table([[p(h) for h in header]] + [[p(c) for c in r] for r in body], colWidths=widths, repeatRows=repeat)
        t.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9ca3af")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        return t

    as_of = data["data_as_of"]
    as_of_text = timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M") if as_of else "—"
    notice = _("This report contains synthetic demo data: values marked synthetic are not real.")
    story = [Spacer(1, 55 * mm), p(plan.title, title), Spacer(1, 8 * mm), p(data["title_zh"], title)]
    if _("Mid-term evaluation report") != data["title_zh"]:
        story.append(p(_("Mid-term evaluation report"), centred))
    story += [Spacer(1, 20 * mm), p(_("Date: %(date)s") % {"date": data["today"].isoformat()}, centred),
              p(_("Data as of: %(date)s") % {"date": as_of_text}, centred),
              p(_("Approved values only: drafts and submitted values awaiting approval are not included."), centred)]
    if data.get("as_of_year"):
        story.append(p(_("Indicators evaluated with the values up to %(year)s.") % {"year": data["as_of_year"]}, centred))
    if data["synthetic"]:
        story += [Spacer(1, 10 * mm), p(notice, ParagraphStyle("notice", parent=centred, textColor=colors.darkred))]
    story.append(PageBreak())

    story.append(p(_("1. Summary"), h1))
    story.append(p(_("Indicators by status"), h2))
    story.append(table([s["label"] for s in data["status_counts"]], [[s["count"] for s in data["status_counts"]]],
                       [width / len(data["status_counts"])] * len(data["status_counts"])))
    tasks = data["tasks"]
    story.append(p(_("Tasks"), h2))
    story.append(p(_("%(total)s tasks: %(completed)s completed, %(started)s in progress, %(not_started)s not "
                     "started; weighted completion %(progress)s%%; %(overdue)s overdue.") % {
        **tasks, "overdue": len(data["overdue"])}, base))
    story.append(p(_("Major projects by status"), h2))
    story.append(table([_("Status"), _("Projects"), _("Planned investment (10k CNY)"),
                        _("Investment to date (10k CNY)")],
                       [[s["label"], s["count"], _num(s["planned"]), _num(s["actual"])] for s in data["project_status"]],
                       [width * 0.31, width * 0.15, width * 0.27, width * 0.27]))
    story.append(p(_("Key risks"), h2))
    story += [p("• " + risk, base) for risk in data["key_risks"]] or [p(_("No risk identified."), base)]

    story.append(p(_("2. Indicators"), h1))
    body = []
    for r in data["rows"]:
        unit = r.indicator.unit
        body.append([r.indicator.number, r.indicator.name, unit, _year_value(r.baseline), _year_value(r.latest),
                     (f"{r.indicator.target_text} ({r.indicator.target_year or '—'})" if r.indicator.qualitative
                      else f"{r.target_display} ({r.target.year if r.target else '—'})"),
                     f"{_num(r.assessment.projected if r.assessment else None)} ({r.projection_year or '—'})",
                     r.status_label or _("No target"), r.reason])
    story.append(table([_("No."), _("Indicator"), _("Unit"), _("Baseline"), _("Latest"), _("Target"),
                        _("Projection"), _("Status"), _("Reason")], body,
                       [w * width for w in (0.045, 0.15, 0.06, 0.11, 0.11, 0.1, 0.11, 0.075, 0.24)]))
    story += [p(f"{note['text']} ({_('indicators')} {', '.join(map(str, note['numbers']))})", small)
              for note in data.get("footnotes", [])]
    story.append(p(_("Charts: values (blue), target (green, dashed), linear projection to the target year "
                     "(orange, dotted)."), h2))
    cell_w, cell_h = width / 2 - 4, 52 * mm
    charts = [_indicator_chart(r, font, cell_w, cell_h) for r in data["rows"]]
    grid = [charts[i:i + 2] + [""] * (2 - len(charts[i:i + 2])) for i in range(0, len(charts), 2)]
    story.append(Table(grid, colWidths=[width / 2] * 2))

    story.append(p(_("3. Task progress"), h1))
    story.append(p(_("By chapter"), h2))
    story.append(table([_("Chapter"), _("Tasks"), _("Progress")],
                       [[f"{c['chapter'].label}、{c['chapter'].title}", c["tasks"], f"{c['progress']}%"]
                        for c in data["chapters"]], [width * 0.7, width * 0.12, width * 0.18]))
    story.append(p(_("By lead department"), h2))
    story.append(table([_("Department"), _("Tasks"), _("Progress"), _("Overdue")],
                       [[d["department"].name, d["tasks"], f"{d['progress']}%", d["overdue"]]
                        for d in data["departments"]], [width * 0.58, width * 0.12, width * 0.15, width * 0.15]))
    story.append(p(_("Overdue tasks"), h2))
    if data["overdue"]:
        story.append(table([_("Task"), _("Lead department"), _("Deadline"), _("Progress")],
                           [[f"{t.code} {t.title}", t.lead_department.name if t.lead_department else "—",
                             t.deadline.isoformat(), f"{t.progress}%"] for t in data["overdue"]],
                           [width * 0.55, width * 0.25, width * 0.1, width * 0.1]))
    else:
        story.append(p(_("No task is overdue."), base))

    story.append(p(_("4. Major projects"), h1))
    for column in data["board"]:
        if not column["projects"]:
            continue
        story.append(p(f"{column['label']} ({len(column['projects'])})", h2))
        story.append(table([_("Project"), _("Box"), _("Host organisation"), _("Planned (10k CNY)"),
                            _("To date (10k CNY)")],
                           [[pr.title + (" *" if pr.is_synthetic else ""), str(pr.box)[:20],
                             pr.host.name if pr.host else "—", _num(pr.planned_investment),
                             _num(pr.actual_investment)] for pr in column["projects"]],
                           [width * 0.34, width * 0.18, width * 0.22, width * 0.13, width * 0.13]))
    if any(pr.is_synthetic for pr in data["projects"]):
        story.append(p(_("* synthetic demo data"), small))

    story.append(p(_("5. Risks"), h1))
    story.append(p(_("Indicators at risk or off track"), h2))
    story += [p(f"• {r.indicator.number}. {r.indicator.name} — {r.status_label}: {r.reason}", base)
              for r in data["at_risk"]] or [p(_("No indicator is at risk."), base)]
    story.append(p(_("Overdue tasks"), h2))
    story += [p(f"• {t.code} {t.title} — {t.lead_department.name if t.lead_department else '—'}, "
                f"{t.deadline.isoformat()}, {t.progress}%", base) for t in data["overdue"]] \
        or [p(_("No task is overdue."), base)]
    story.append(p(_("Projects behind schedule"), h2))
    story += [p(f"• {pr.title}: {reason}", base) for pr, reason in data["behind"]] \
        or [p(_("No project is behind schedule."), base)]

    story.append(p(_("6. Data sources"), h1))
    for r in data["rows"]:
        story.append(p(f"{r.indicator.number}. {r.indicator.name}"
                       + (f" — {r.indicator.data_source}" if r.indicator.data_source else ""), h2))
        story += [p(f"• {s['label']}" + (f" ({s['years']})" if s["years"] else "") + (f": {s['detail']}" if s["detail"]
                                                                                       else ""), base)
                  for s in r.sources] or [p(_("No value reported yet."), base)]

    footer = f"{plan.title} · {data['title_zh']}" + (f" · {_('Includes synthetic demo data')}" if data["synthetic"]
                                                        else "")

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 10 * mm, clean(footer))
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=f"{plan.title} {data['title_zh']}", author=plan.title,
                            subject=data["title_zh"])
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


# --------------------------------------------------------------------------- JSON export


def _department(org) -> dict | None:
    return {"code": org.code, "name": org.name} if org else None


def _date(value) -> str | None:
    return value.isoformat() if value else None


def _decimal(value) -> float | None:
    return None if value is None else float(value)


def _task(task: Task, include_values: bool) -> dict:
    item = {"code": task.code, "number": task.number, "title": task.title, "text": task.text, "line": task.line}
    if include_values:
        item.update({
            "lead_department": _department(task.lead_department),
            "supporting_departments": [_department(d) for d in task.supporting_departments.all()],
            "deadline": _date(task.deadline), "deliverables": task.deliverables, "weight": float(task.weight),
            "progress": task.progress, "progress_as_of": _date(task.progress_as_of),
        })
    return item


def plan_export(plan: Plan, include_values: bool) -> dict:
    """The whole plan as one JSON-ready dict (schema in docs/plan-export.md). Structure, indicators
    and targets always; assignments, observed values, progress and project states only when
    ``include_values`` (for users who may view monitoring data)."""
    task_qs = Task.objects.select_related("lead_department").prefetch_related("supporting_departments")
    chapters = Chapter.objects.filter(plan=plan).prefetch_related(
        Prefetch("sections", queryset=Section.objects.prefetch_related(Prefetch("tasks", queryset=task_qs))),
        Prefetch("tasks", queryset=task_qs.filter(section__isnull=True), to_attr="loose_tasks"),
    )
    statements = defaultdict(list)
    for statement in plan.statements.all():
        statements[statement.kind].append({"order": statement.order, "title": statement.title,
                                           "text": statement.text, "line": statement.line})
    rows = {r.indicator.pk: r for r in selectors.indicator_rows(plan, live=False)} if include_values else {}
    indicators = []
    for indicator in plan.indicators.select_related("owner_department").prefetch_related(
            "targets", Prefetch("observations", queryset=selectors.approved_values().order_by("year", "scope"))):
        item = {
            "code": indicator.code, "number": indicator.number, "name": indicator.name, "unit": indicator.unit,
            "direction": indicator.direction, "comparator": indicator.comparator, "target_year": indicator.target_year,
            "attribute": indicator.attribute, "target_as_written": indicator.target_text,
            "target_basis": indicator.target_basis or "level", "qualitative": indicator.qualitative,
            "parent_number": indicator.parent_number, "footnotes": list(indicator.footnotes),
            "marks": list(indicator.marks),
            "data_source": indicator.data_source, "registry_computation": indicator.source_key or None,
            "table": indicator.table_number, "line": indicator.line,
            "targets": [{"year": t.year, "scope": t.scope, "comparator": t.comparator, "value": t.value, "low": t.low,
                         "high": t.high} for t in indicator.targets.all()],
        }
        if include_values:
            row = rows[indicator.pk]
            item["owner_department"] = _department(indicator.owner_department)
            item["values"] = [
                {"year": v.year, "scope": v.scope, "value": v.value, "source": v.source, "status": v.status,
                 "provenance": v.provenance, "synthetic": v.is_synthetic, "note": v.note}
                for v in indicator.observations.all()
            ]
            item["assessment"] = {
                "status": row.assessment.status if row.assessment else "no_data",
                "reason": row.reason or None,
                "latest": {"year": row.latest.year, "value": row.latest.value} if row.latest else None,
                "projected": row.assessment.projected if row.assessment else None,
                "progress": row.assessment.progress if row.assessment else None,
            }
        indicators.append(item)
    project_qs = MajorProject.objects.select_related("host").prefetch_related("milestones")
    boxes = []
    for box in ProjectBox.objects.filter(plan=plan).select_related("chapter", "section").prefetch_related(
            Prefetch("projects", queryset=project_qs)):
        projects = []
        for project in box.projects.all():
            item = {"code": project.code, "group": project.group or None, "number": project.number,
                    "title": project.title, "text": project.text, "line": project.line,
                    "host": ({**_department(project.host), "match": project.host_match} if project.host else None)}
            if include_values:
                item.update({
                    "status": project.status, "planned_investment": _decimal(project.planned_investment),
                    "actual_investment": _decimal(project.actual_investment), "investment_unit": "10k CNY",
                    "start_date": _date(project.start_date), "end_date": _date(project.end_date),
                    "synthetic": project.is_synthetic,
                    "milestones": [{"title": m.title, "due_date": _date(m.due_date), "done_date": _date(m.done_date)}
                                   for m in project.milestones.all()],
                })
            projects.append(item)
        boxes.append({"order": box.order, "number": box.number, "title": box.title,
                      "chapter": box.chapter.number if box.chapter else None,
                      "section": box.section.number if box.section else None, "line": box.line,
                      "projects": projects})
    data_as_of = selectors.data_as_of(plan) if include_values else None
    return {
        "schema": EXPORT_SCHEMA,
        "generated_at": timezone.now().isoformat(),
        "values_included": include_values,
        "data_as_of": data_as_of.isoformat() if data_as_of else None,
        "plan": {"code": plan.code, "title": plan.title, "start_year": plan.start_year,
                 "target_year": plan.target_year, "preface": plan.preface,
                 "source": {"name": plan.source_name, "format": plan.source_format, "sha256": plan.source_sha256},
                 "counts": plan.counts},
        "chapters": [{
            "number": c.number, "label": c.label, "title": c.title, "intro": c.intro, "line": c.line,
            "sections": [{"number": s.number, "label": s.label, "title": s.title, "intro": s.intro, "line": s.line,
                          "tasks": [_task(t, include_values) for t in s.tasks.all()]} for s in c.sections.all()],
            "tasks": [_task(t, include_values) for t in c.loose_tasks],
        } for c in chapters],
        "goals": statements[StatementKind.GOAL],
        "strategies": statements[StatementKind.STRATEGY],
        "measures": statements[StatementKind.MEASURE],
        "indicators": indicators,
        "boxes": boxes,
        "commitments": [
            {"text": c.text, "subject": c.subject, "value": c.value, "value_high": c.value_high, "unit": c.unit,
             "comparator": c.comparator, "year": c.year, "indicator": c.indicator.code if c.indicator else None,
             "sentence": c.sentence, "line": c.line}
            for c in plan.commitments.select_related("indicator")
        ],
        "warnings": [{"code": w.code, "message": w.message, "line": w.line} for w in plan.warnings.all()],
    }


__all__ = ["chart_rows", "indicator_footnotes", "pdf_font", "plan_export", "render_pdf", "report_data"]
