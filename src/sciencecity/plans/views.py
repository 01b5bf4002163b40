"""Plan pages: dashboard, structure, tasks, indicators, major projects, plan import."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.core import permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.core.models import ImportBatch, ImportStatus
from sciencecity.plans import permissions as access
from sciencecity.plans import selectors, services, sources
from sciencecity.plans.choices import HostMatch, StatementKind, ValueStatus
from sciencecity.plans.forms import (
    IndicatorMetadataForm,
    MilestoneForm,
    PlanUploadForm,
    ProgressReportForm,
    ProjectUpdateForm,
    ReasonForm,
    TaskDecompositionForm,
    ValueForm,
)
from sciencecity.plans.models import Indicator, MajorProject, ObservedValue, ProjectBox, Section, Task
from sciencecity.registry.views_import import ImportUploadForm


def _plan_or_404():
    plan = selectors.current_plan()
    if plan is None:
        raise Http404(_("No plan has been imported yet."))
    return plan


def _require_monitoring(request) -> None:
    if not request.user.is_authenticated:
        raise permissions.PermissionDenied
    permissions.require(permissions.can_view_monitoring(request.user))


@login_required
def dashboard(request):
    _require_monitoring(request)
    plan = selectors.current_plan()
    if plan is None:
        return render(request, "plans/no_plan.html", {"can_import": permissions.can_manage_plan(request.user)})
    from sciencecity.plans.views_report import _as_of

    as_of_year = _as_of(request)
    context = selectors.dashboard(plan, as_of_year=as_of_year)
    context["can_manage"] = permissions.can_manage_plan(request.user)
    if permissions.is_officer(request.user):  # the approvers and the departments that filed them
        context["pending"] = selectors.pending_values(plan, request.user).count()
    context["chapters_chart"] = [
        {"label": f"{c['chapter'].label}、{c['chapter'].title}"[:18], "progress": c["progress"]} for c in context["chapters"]
    ]
    context["chart_rows"] = [
        {"id": r.indicator.pk, "series": r.series, "target_year": r.target.year if r.target else None,
         "target": (r.target.value if r.target and r.target.value is not None else (r.target.low if r.target else None)),
         "projected": r.assessment.projected if r.assessment else None}
        for r in context["rows"]
    ]
    return render(request, "plans/dashboard.html", context)


def structure(request):
    permissions.require(permissions.can_view_plan(request.user))
    plan = _plan_or_404()
    chapters = plan.chapters.prefetch_related(
        Prefetch("sections", queryset=Section.objects.prefetch_related("tasks")),
        "tasks",
    )
    if permissions.can_view_monitoring(request.user):
        # Weighted task progress rolled up to sections (chapters are on the dashboard).
        rolled = selectors.section_progress(plan)
        chapters = list(chapters)
        for chapter in chapters:
            for section in chapter.sections.all():
                section.progress_value = rolled.get(section.pk)
    boxes = ProjectBox.objects.filter(plan=plan).prefetch_related("projects")
    statements = {kind: list(plan.statements.filter(kind=kind)) for kind in StatementKind.values}
    return render(request, "plans/structure.html", {
        "plan": plan, "chapters": chapters, "boxes": boxes,
        "goals": statements["goal"], "strategies": statements["strategy"], "measures": statements["measure"],
        "indicators": plan.indicators.prefetch_related("targets"),
        "commitments": plan.commitments.select_related("indicator"),
        "warnings": plan.warnings.all(),
    })


@login_required
def plan_import(request):
    """Upload a plan document; it is parsed (OCR included) and kept for review, nothing is stored yet."""
    permissions.require(permissions.can_manage_plan(request.user))
    form = PlanUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.plan_upload_stage(actor=request.user, content=upload.read(), filename=upload.name,
                                               period=form.period())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            return redirect("plans:plan_import_review", pk=batch.pk)
    recent = (ImportBatch.objects.filter(kind=services.PLAN_UPLOAD_KIND, uploaded_by=request.user)
              .defer("content", "report").order_by("-created_at")[:5])
    return render(request, "plans/plan_import.html", {"form": form, "recent": recent})


def _plan_upload(request, pk: int) -> ImportBatch:
    permissions.require(permissions.can_manage_plan(request.user))
    return get_object_or_404(ImportBatch, pk=pk, kind=services.PLAN_UPLOAD_KIND, uploaded_by=request.user)


@login_required
def plan_import_review(request, pk: int):
    """The preview of an uploaded plan: tree, warnings, OCR cells to correct beside their image, diff; confirm."""
    batch = _plan_upload(request, pk)
    report = batch.report
    if request.method == "POST":
        cells = {
            table["index"]: [
                [request.POST.get(f"ocr-{table['index']}-{r}-{c}", cell["text"]) for c, cell in enumerate(row)]
                for r, row in enumerate(table["rows"])
            ]
            for table in report.get("ocr", [])
        }
        try:
            result = services.plan_upload_confirm(actor=request.user, batch=batch, ocr_cells=cells)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("plans:plan_import_review", pk=batch.pk)
        if result.created:
            messages.success(request, _("The plan “%(title)s” was imported.") % {"title": result.plan.title})
        else:
            messages.info(request, _("This document was imported before; nothing changed."))
        return redirect("plans:structure")
    ocr_tables = []
    for table in report.get("ocr", []):
        rows = [[{"name": f"ocr-{table['index']}-{r}-{c}", "text": cell["text"], "confidence": cell["confidence"],
                  "low": bool(cell["text"]) and cell["confidence"] < 0.9} for c, cell in enumerate(row)]
                for r, row in enumerate(table["rows"])]
        ocr_tables.append({**table, "cells": rows, "has_image": bool(table.get("image"))})
    return render(request, "plans/plan_import_review.html", {
        "batch": batch, "doc": report["document"], "ocr_tables": ocr_tables, "diff": report.get("diff"),
        "current_plan": report.get("current_plan", ""), "pending": batch.status == ImportStatus.DRY_RUN,
    })


_IMAGE_TYPES = ((b"\x89PNG", "image/png"), (b"\xff\xd8", "image/jpeg"), (b"GIF8", "image/gif"),
                (b"BM", "image/bmp"))


@login_required
def plan_import_image(request, pk: int, index: int):
    """The picture a table was read from, shown beside its cells on the review page."""
    import base64

    batch = _plan_upload(request, pk)
    table = next((t for t in batch.report.get("ocr", []) if t["index"] == index and t.get("image")), None)
    if table is None:
        raise Http404(_("No such picture."))
    data = base64.b64decode(table["image"])
    content_type = next((kind for magic, kind in _IMAGE_TYPES if data.startswith(magic)), None)
    if content_type is None:
        raise Http404(_("No such picture."))
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=600"
    return response


@login_required
def task_list(request):
    _require_monitoring(request)
    plan = _plan_or_404()
    tasks = plan.tasks.select_related("chapter", "section", "lead_department").prefetch_related("supporting_departments")
    can_manage = permissions.can_manage_plan(request.user)
    department = request.GET.get("department")
    if department and department.isdigit() and len(department) < 19:
        tasks = tasks.for_department(int(department))
    if request.GET.get("overdue"):
        tasks = tasks.filter(deadline__lt=dt.date.today(), progress__lt=100)
    return render(request, "plans/task_list.html", {
        "plan": plan, "tasks": tasks, "today": dt.date.today(),
        "departments": [row["department"] for row in selectors.department_progress(plan)],
        "params": request.GET, "can_manage": can_manage, "upload_form": ImportUploadForm() if can_manage else None,
    })


@login_required
def task_detail(request, pk: int):
    _require_monitoring(request)
    task = get_object_or_404(Task.objects.select_related("plan", "chapter", "section", "lead_department"), pk=pk)
    can_manage = permissions.can_manage_plan(request.user)
    can_report = access.can_report_on_task(request.user, task)
    decomposition = TaskDecompositionForm(instance=task, prefix="d")
    report_form = ProgressReportForm(prefix="r", initial={"as_of": dt.date.today(), "period": str(dt.date.today().year)})
    if request.method == "POST":
        if request.POST.get("form") == "decomposition":
            permissions.require(can_manage)
            decomposition = TaskDecompositionForm(request.POST, instance=task, prefix="d")
            if decomposition.is_valid():
                data = {k: decomposition.cleaned_data[k] for k in
                        ("lead_department", "supporting_departments", "deadline", "deliverables", "weight")}
                try:
                    services.task_update(actor=request.user, task=task, data=data,
                                         reason=decomposition.cleaned_data.get("reason", ""))
                except ValidationError as exc:
                    apply_validation_error(decomposition, exc)
                else:
                    messages.success(request, _("Task decomposition saved."))
                    return redirect("plans:task_detail", pk=pk)
        elif request.POST.get("form") == "report":
            permissions.require(can_report)
            report_form = ProgressReportForm(request.POST, request.FILES, prefix="r")
            if report_form.is_valid():
                try:
                    services.task_progress_report(actor=request.user, task=task, **report_form.cleaned_data)
                except ValidationError as exc:
                    apply_validation_error(report_form, exc)
                else:
                    messages.success(request, _("Progress report filed."))
                    return redirect("plans:task_detail", pk=pk)
    return render(request, "plans/task_detail.html", {
        "task": task, "reports": task.reports.select_related("department", "reported_by"),
        "decomposition": decomposition, "report_form": report_form,
        "can_manage": can_manage, "can_report": can_report,
        "overdue": task.deadline and task.deadline < dt.date.today() and task.progress < 100,
    })


@login_required
def indicator_detail(request, pk: int):
    _require_monitoring(request)
    indicator = get_object_or_404(Indicator.objects.select_related("plan", "owner_department"), pk=pk)
    row = next(r for r in selectors.indicator_rows(indicator.plan) if r.indicator.pk == indicator.pk)
    can_enter = access.can_enter_value(request.user, indicator)
    can_manage = permissions.can_manage_plan(request.user)
    values = indicator.observations.select_related("entered_by", "approved_by").order_by("-year")
    if not can_enter:
        # drafts and submitted values: only their department and the bureau see them
        values = values.filter(status=ValueStatus.APPROVED)
    editing = request.method == "POST" and request.POST.get("form") == "metadata"
    metadata = IndicatorMetadataForm(request.POST if editing else None, prefix="m",
                                     initial=IndicatorMetadataForm.initial_for(indicator, row.target))
    form = ValueForm(request.POST if request.method == "POST" and not editing else None,
                     initial={"year": dt.date.today().year - 1})
    if editing:
        permissions.require(can_manage)
        if metadata.is_valid():
            data = dict(metadata.cleaned_data)
            reason = data.pop("reason")
            try:
                services.indicator_update(actor=request.user, indicator=indicator, data=data, reason=reason)
            except ValidationError as exc:
                apply_validation_error(metadata, exc)
            else:
                messages.success(request, _("Indicator updated."))
                return redirect("plans:indicator_detail", pk=pk)
    elif request.method == "POST":
        permissions.require(can_enter)
        if form.is_valid():
            try:
                services.indicator_value_set(actor=request.user, indicator=indicator, year=form.cleaned_data["year"],
                                             value=form.cleaned_data["value"], note=form.cleaned_data["note"])
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Value saved as a draft; it is locked when its round is approved."))
                return redirect("plans:indicator_detail", pk=pk)
    return render(request, "plans/indicator_detail.html", {
        "indicator": indicator, "row": row, "form": form, "can_enter": can_enter,
        "values": values,
        "commitments": indicator.commitments.all(),
        "can_manage": can_manage, "metadata": metadata, "source": sources.get(indicator.source_key),
        "related": sources.related_figures(indicator.source_key, year=row.live_year or dt.date.today().year)
        if indicator.source_key else [],
        "chart": {"series": row.series, "target_year": row.target.year if row.target else None,
                  "target": row.target.value if row.target and row.target.value is not None else None,
                  "projected": row.assessment.projected if row.assessment else None},
    })


@login_required
@require_POST
def indicator_compute(request, pk: int):
    permissions.require(permissions.can_manage_plan(request.user))
    indicator = get_object_or_404(Indicator, pk=pk)
    try:
        year = int(request.POST.get("year") or "")
    except ValueError:
        messages.error(request, _("Choose the year to store."))
        return redirect("plans:indicator_detail", pk=pk)
    if sources.get(indicator.source_key) is None:
        messages.error(request, _("This indicator has no registry computation."))
        return redirect("plans:indicator_detail", pk=pk)
    value = services.indicator_value_compute(actor=request.user, indicator=indicator, year=year)
    if value is None:
        messages.error(request, _("The registry has no data for %(year)s; nothing was stored.") % {"year": year})
    else:
        messages.success(request, _("Computed from the registry: %(value)s for %(year)s.") % {"value": value.value,
                                                                                            "year": year})
    return redirect("plans:indicator_detail", pk=pk)


@login_required
@require_POST
def value_reopen(request, pk: int):
    permissions.require(permissions.can_manage_plan(request.user))
    value = get_object_or_404(ObservedValue, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        services.value_reopen(actor=request.user, value=value, reason=form.cleaned_data["reason"])
        messages.success(request, _("The value is open for correction again."))
    else:
        messages.error(request, _("Re-opening an approved value needs a reason."))
    return redirect("plans:indicator_detail", pk=value.indicator_id)


@login_required
def project_list(request):
    _require_monitoring(request)
    plan = _plan_or_404()
    return render(request, "plans/project_list.html", {
        "plan": plan, "board": selectors.project_board(plan),
        "review": MajorProject.objects.filter(box__plan=plan, host_match=HostMatch.UNCERTAIN).select_related("host", "box"),
        "can_manage": permissions.can_manage_plan(request.user),
    })


@login_required
def project_detail(request, pk: int):
    _require_monitoring(request)
    project = get_object_or_404(MajorProject.objects.select_related("box", "host"), pk=pk)
    can_manage = permissions.can_manage_plan(request.user)
    update_form = ProjectUpdateForm(prefix="u", initial={
        "status": project.status, "planned_investment": project.planned_investment,
        "actual_investment": project.actual_investment, "date": dt.date.today()})
    milestone_form = MilestoneForm(prefix="m")
    if request.method == "POST":
        permissions.require(can_manage)
        action = request.POST.get("form")
        if action == "update":
            update_form = ProjectUpdateForm(request.POST, prefix="u")
            if update_form.is_valid():
                data = {k: update_form.cleaned_data[k] for k in ("status", "planned_investment", "actual_investment")}
                services.project_update(actor=request.user, project=project, data=data,
                                        note=update_form.cleaned_data["note"], date=update_form.cleaned_data["date"])
                messages.success(request, _("Project updated."))
                return redirect("plans:project_detail", pk=pk)
        elif action == "milestone":
            milestone_form = MilestoneForm(request.POST, prefix="m")
            if milestone_form.is_valid():
                services.milestone_add(actor=request.user, project=project, **milestone_form.cleaned_data)
                return redirect("plans:project_detail", pk=pk)
        elif action == "milestone_done":
            milestone = get_object_or_404(project.milestones, pk=request.POST.get("milestone"))
            services.milestone_done(actor=request.user, milestone=milestone, done_date=dt.date.today())
            return redirect("plans:project_detail", pk=pk)
        elif action == "confirm_host":
            services.project_update(actor=request.user, project=project, data={"host_match": HostMatch.CONFIRMED},
                                    note=_("Host organisation confirmed."))
            return redirect("plans:project_detail", pk=pk)
    return render(request, "plans/project_detail.html", {
        "project": project, "updates": project.updates.select_related("author"), "milestones": project.milestones.all(),
        "update_form": update_form, "milestone_form": milestone_form, "can_manage": can_manage,
        "today": dt.date.today(),
    })
