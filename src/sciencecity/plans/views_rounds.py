"""Reporting rounds: department submissions, the department's Excel template, upload → dry run → confirm.

Who sees what: the bureau sees every department of a round and acts on submitted ones (approve or
return with a comment); a department officer sees, fills in and submits their own department's
values. Everything else (enterprise users, administrators) is refused.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.importing import (
    ConfirmRefused,
    ImportRejected,
    ImportReport,
    import_batch_confirm,
    import_batch_create,
)
from sciencecity.core.models import AuditAction, ImportBatch, ImportStatus
from sciencecity.plans import selectors, services
from sciencecity.plans.importers import importer_for_batch, round_batches, value_importer, value_template
from sciencecity.plans.models import ReportingRound, RoundSubmission
from sciencecity.plans.permissions import can_report_for, department_ids
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.models import Organisation
from sciencecity.registry.views_import import XLSX_TYPE, ImportUploadForm

REPORT_ROWS_SHOWN = 500


class RoundOpenForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year of the values"), min_value=1990, max_value=2100)
    deadline = forms.DateField(label=gettext_lazy("Deadline for the departments"),
                               widget=forms.DateInput(attrs={"type": "date"}))


def _require_officer(user) -> None:
    """Round pages are for the bureau and department officers."""
    permissions.require(user, "plans.open_rounds")


def _visible(user) -> set[int] | None:
    """The departments whose submissions ``user`` sees (None: all of them)."""
    return None if permissions.is_bureau_officer(user) else department_ids(user)


def _round_department(request, pk: int, department: int) -> tuple[ReportingRound, Organisation]:
    _require_officer(request.user)
    rnd = get_object_or_404(ReportingRound.objects.select_related("plan"), pk=pk)
    org = get_object_or_404(Organisation, pk=department)
    permissions.require(can_report_for(request.user, org))
    if not rnd.plan.indicators.filter(owner_department=org).exists():
        raise Http404(_("This department reports no indicator of the plan."))
    return rnd, org


@login_required
@require_http_methods(["GET", "POST"])
def round_list(request):
    _require_officer(request.user)
    plan = selectors.current_plan()
    can_manage = permissions.can_manage_plan(request.user)
    form = RoundOpenForm(request.POST or None, initial={
        "year": dt.date.today().year - 1, "deadline": dt.date.today() + dt.timedelta(days=30)})
    if request.method == "POST":
        permissions.require(can_manage)
        if plan is None:
            raise Http404(_("No plan has been imported yet."))
        if form.is_valid():
            year = form.cleaned_data["year"]
            existing = plan.rounds.filter(year=year).first()
            if existing is not None:
                messages.info(request, _("The %(year)s round is already open.") % {"year": year})
                return redirect("plans:round_detail", pk=existing.pk)
            rnd = services.round_open(actor=request.user, plan=plan, year=year, deadline=form.cleaned_data["deadline"])
            messages.success(request, _("The %(year)s reporting round is open.") % {"year": year})
            return redirect("plans:round_detail", pk=rnd.pk)
    rounds = []
    if plan is not None:
        visible = _visible(request.user)
        rounds = [(rnd, selectors.round_submissions(rnd, visible)) for rnd in plan.rounds.all()]
    return render(request, "plans/round_list.html", {
        "plan": plan, "rounds": rounds, "form": form, "can_manage": can_manage, "today": dt.date.today(),
    })


@login_required
@require_GET
def round_detail(request, pk: int):
    _require_officer(request.user)
    rnd = get_object_or_404(ReportingRound.objects.select_related("plan"), pk=pk)
    mine = department_ids(request.user)
    rows = selectors.round_submissions(rnd, _visible(request.user))
    return render(request, "plans/round_detail.html", {
        "round": rnd, "plan": rnd.plan, "rows": rows, "mine": mine, "today": dt.date.today(),
        "can_manage": permissions.can_manage_plan(request.user),
    })


@login_required
@require_POST
def submission_action(request, pk: int, submission: int, action: str):
    _require_officer(request.user)
    sub = get_object_or_404(RoundSubmission.objects.select_related("round__plan", "department"), pk=submission,
                            round_id=pk)
    done = {
        "submit": _("Submitted: the bureau will review the values."),
        "approve": _("Approved: the department's values for the year are locked."),
        "return": _("Returned to the department for revision."),
    }
    if action not in done:
        raise Http404
    if action == "submit":
        permissions.require(can_report_for(request.user, sub.department))
    else:
        permissions.require(permissions.can_manage_plan(request.user))
    try:
        if action == "submit":
            services.submission_submit(actor=request.user, rnd=sub.round, department=sub.department)
        elif action == "approve":
            services.submission_approve(actor=request.user, submission=sub)
        else:
            services.submission_return(actor=request.user, submission=sub, comment=request.POST.get("comment", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done[action])
    return redirect(f"{reverse('plans:round_detail', args=[pk])}#department-{sub.department_id}")


@login_required
@require_GET
def round_template(request, pk: int, department: int):
    rnd, org = _round_department(request, pk, department)
    importer = value_importer(rnd, org)
    content = value_template(importer)
    audit_record(action=AuditAction.EXPORT, actor=request.user, object_type=importer.kind,
                 object_repr=f"{rnd} · {org.name}", changes={"template": True, "year": rnd.year,
                                                             "department": org.code or org.pk},
                 acting_organisation=acting_organisation(request))
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="indicator-values-{rnd.year}-{org.code or org.pk}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def round_upload(request, pk: int, department: int):
    rnd, org = _round_department(request, pk, department)
    importer = value_importer(rnd, org)
    refusal = importer.refusal()
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not refusal and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = import_batch_create(importer=importer, file_name=upload.name, content=upload.read(),
                                    actor=request.user)
        return redirect("plans:round_upload_detail", batch=batch.pk)
    return render(request, "plans/round_upload.html", {
        "round": rnd, "department": org, "form": form, "refusal": refusal,
        "recent": round_batches(rnd, org)[:10],
    })


@login_required
@require_http_methods(["GET", "POST"])
def round_upload_detail(request, batch: int):
    _require_officer(request.user)
    batch_obj = get_object_or_404(ImportBatch.objects.defer("content"), pk=batch)
    importer = importer_for_batch(batch_obj)
    if importer is None:
        raise Http404
    permissions.require(can_report_for(request.user, importer.department))
    refusal = importer.refusal()
    if request.method == "POST":
        if refusal:
            messages.error(request, refusal)
            return redirect("plans:round_upload_detail", batch=batch)
        try:
            report = import_batch_confirm(batch=batch_obj, actor=request.user)
        except ConfirmRefused as refused:
            messages.error(request, str(refused))
        except ImportRejected:
            messages.error(request, _("Nothing was written: the data changed since the dry run and some rows now "
                                      "fail. See the new report below."))
        else:
            messages.success(request, _("Values saved: %(created)s created, %(updated)s updated, %(unchanged)s "
                                        "unchanged. Submit them when they are complete.") % report.counts)
            return redirect(f"{reverse('plans:round_detail', args=[importer.round.pk])}"
                            f"#department-{importer.department.pk}")
        return redirect("plans:round_upload_detail", batch=batch)
    report = ImportReport.from_json(batch_obj.report)
    rows = [r for r in report.results if r.row is not None]
    return render(request, "plans/round_upload_detail.html", {
        "batch": batch_obj, "round": importer.round, "department": importer.department, "report": report,
        "counts": report.counts, "file_issues": report.file_issues, "rows": rows[:REPORT_ROWS_SHOWN],
        "rows_total": len(rows), "rows_truncated": len(rows) > REPORT_ROWS_SHOWN, "refusal": refusal,
        "can_confirm": batch_obj.status == ImportStatus.DRY_RUN and not report.has_errors and not refusal,
    })
