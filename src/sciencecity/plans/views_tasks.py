"""Task decomposition by Excel: the template of every task, upload → dry run → confirm (bureau only)."""

from __future__ import annotations

import dataclasses

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.importing import (
    ConfirmRefused,
    ImportRejected,
    ImportReport,
    import_batch_confirm,
    import_batch_create,
)
from sciencecity.core.models import AuditAction, ImportStatus
from sciencecity.plans import importers_tasks
from sciencecity.plans.importers_tasks import TaskImporter
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.views_import import XLSX_TYPE, ImportUploadForm

REPORT_ROWS_SHOWN = 500


def _importer(request) -> TaskImporter:
    permissions.require(permissions.can_manage_plan(request.user))
    importer = TaskImporter()
    if importer.plan is None:
        raise Http404(_("No plan has been imported yet."))
    return importer


@login_required
@require_GET
def task_template(request):
    importer = _importer(request)
    content = importers_tasks.task_template(importer)
    audit_record(action=AuditAction.EXPORT, actor=request.user, object_type=importer.kind,
                 object_repr=str(importer.plan), changes={"template": True, "plan": importer.plan.code},
                 acting_organisation=acting_organisation(request))
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="task-decomposition-{importer.plan.code}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def task_upload(request):
    importer = _importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = import_batch_create(importer=importer, file_name=upload.name, content=upload.read(),
                                    actor=request.user)
        return redirect("plans:task_upload_detail", batch=batch.pk)
    return render(request, "plans/task_upload.html", {
        "plan": importer.plan, "form": form, "recent": importers_tasks.batches()[:10],
    })


@login_required
@require_http_methods(["GET", "POST"])
def task_upload_detail(request, batch: int):
    importer = _importer(request)
    batch_obj = get_object_or_404(importers_tasks.batches(), pk=batch)
    if request.method == "POST":
        try:
            report = import_batch_confirm(batch=batch_obj, actor=request.user)
        except ConfirmRefused as refused:
            messages.error(request, str(refused))
        except ImportRejected:
            messages.error(request, _("Nothing was written: the data changed since the dry run and some rows now "
                                      "fail. See the new report below."))
        else:
            messages.success(request, _("Task decomposition saved: %(updated)s tasks updated, %(unchanged)s "
                                        "unchanged.") % report.counts)
            return redirect("plans:task_list")
        return redirect("plans:task_upload_detail", batch=batch)
    report = ImportReport.from_json(batch_obj.report)
    labels = {column.key: column.label() for column in importer.columns}
    rows = [dataclasses.replace(r, changes={labels.get(key, key): change for key, change in r.changes.items()})
            for r in report.results if r.row is not None]
    return render(request, "plans/task_upload_detail.html", {
        "plan": importer.plan, "batch": batch_obj, "report": report, "counts": report.counts,
        "file_issues": report.file_issues, "rows": rows[:REPORT_ROWS_SHOWN], "rows_total": len(rows),
        "rows_truncated": len(rows) > REPORT_ROWS_SHOWN,
        "can_confirm": batch_obj.status == ImportStatus.DRY_RUN and not report.has_errors,
    })
