"""Excel/CSV import of enterprise figures: upload → dry-run report per row → confirm (atomic)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sciencecity.core import permissions as core_permissions
from sciencecity.core.excel import template_workbook
from sciencecity.core.importing import (
    ConfirmRefused,
    ImportRejected,
    ImportReport,
    import_batch_confirm,
    import_batch_create,
)
from sciencecity.core.models import ImportBatch, ImportStatus
from sciencecity.enterprises import permissions
from sciencecity.enterprises.importers import FiscalYearImporter
from sciencecity.registry.views_import import XLSX_TYPE, ImportUploadForm


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    core_permissions.require(permissions.can_import_profiles(request.user))
    importer = FiscalYearImporter()
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        batch = import_batch_create(importer=importer, file_name=file.name, content=file.read(), actor=request.user)
        return redirect("enterprises:import_batch", pk=batch.pk)
    recent = ImportBatch.objects.filter(kind=importer.kind, uploaded_by=request.user).defer("content")[:10]
    return render(request, "enterprises/import_upload.html", {"form": form, "importer": importer, "recent": recent})


@login_required
@require_GET
def template(request):
    core_permissions.require(permissions.can_import_profiles(request.user))
    response = HttpResponse(template_workbook(FiscalYearImporter()), content_type=XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="enterprise-figures-template.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def batch_detail(request, pk: int):
    core_permissions.require(permissions.can_import_profiles(request.user))
    batch = get_object_or_404(ImportBatch.objects.defer("content"), pk=pk, uploaded_by=request.user,
                              kind=FiscalYearImporter.kind)
    if request.method == "POST":
        try:
            report = import_batch_confirm(batch=batch, actor=request.user)
        except ConfirmRefused as refused:
            messages.error(request, str(refused))
        except ImportRejected:
            messages.error(request, _("Nothing was written: the data changed since the dry run and some rows "
                                      "now fail. See the new report below."))
        else:
            messages.success(request, _("Import confirmed: %(created)s created, %(updated)s updated, "
                                        "%(unchanged)s unchanged.") % report.counts)
            return redirect("enterprises:index")
        return redirect("enterprises:import_batch", pk=batch.pk)
    report = ImportReport.from_json(batch.report)
    return render(request, "enterprises/import_batch.html", {
        "batch": batch, "report": report, "counts": report.counts, "file_issues": report.file_issues,
        "rows": [r for r in report.results if r.row is not None],
        "can_confirm": batch.status == ImportStatus.DRY_RUN and not report.has_errors})
