"""Excel/CSV import (upload → dry-run report → confirm) and export of the registry."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from sciencecity.accounts.decorators import reauthentication_required
from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.excel import csv_export, template_workbook, xlsx_export
from sciencecity.core.import_jobs import import_batch_confirm_submit, import_batch_submit, pending_job
from sciencecity.core.importing import (
    IMPORTERS,
    ConfirmRefused,
    ImportError,
    ImportRejected,
    ImportReport,
)
from sciencecity.core.models import AuditAction, ImportBatch, ImportStatus
from sciencecity.registry import selectors
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.importers import IMPORTERS_BY_SLUG, OrganisationImporter, PersonImporter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_ROWS_SHOWN = 2000


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx or .csv)"),
        help_text=gettext_lazy("Use the template; CSV files may be UTF-8 or GB18030."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv", "data-testid": "import-file"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(ImportError.FILE_TOO_LARGE.message(
                size=f"{upload.size / 1048576:.1f}", limit=f"{limit / 1048576:.0f}"))
        return upload


def _import(request, importer_class):
    permissions.require(permissions.can_import_registry(request.user))
    importer = importer_class()
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch, job = import_batch_submit(importer=importer, file_name=upload.name, content=upload.read(),
                                         actor=request.user)
        if job is not None and not job.is_finished:
            return redirect("jobs:detail", pk=job.pk)
        return redirect("registry:import_batch_detail", pk=batch.pk)
    recent = ImportBatch.objects.filter(kind=importer.kind, uploaded_by=request.user).defer("content")[:10]
    slug = next(s for s, cls in IMPORTERS_BY_SLUG.items() if cls is importer_class)
    return render(request, "registry/import_upload.html",
                  {"form": form, "importer": importer, "slug": slug, "recent": recent})


@login_required
@require_http_methods(["GET", "POST"])
def organisation_import(request):
    return _import(request, OrganisationImporter)


@login_required
@require_http_methods(["GET", "POST"])
def person_import(request):
    return _import(request, PersonImporter)


@login_required
@require_http_methods(["GET", "POST"])
def import_batch_detail(request, pk: int):
    permissions.require(permissions.can_import_registry(request.user))
    batch = get_object_or_404(ImportBatch.objects.defer("content"), pk=pk, uploaded_by=request.user,
                              kind__in=[cls.kind for cls in IMPORTERS_BY_SLUG.values()])
    importer = IMPORTERS[batch.kind]()
    if request.method == "POST":
        try:
            report, job = import_batch_confirm_submit(batch=batch, actor=request.user)
        except ConfirmRefused as refused:
            messages.error(request, str(refused))
        except ImportRejected:
            messages.error(request, _("Nothing was written: the data changed since the dry run and some rows "
                                      "now fail. See the new report below."))
        else:
            if job is not None:
                job.refresh_from_db()
                if not job.is_finished:
                    return redirect("jobs:detail", pk=job.pk)
                if job.state != "done":
                    messages.error(request, job.message)
                    return redirect("registry:import_batch_detail", pk=batch.pk)
                report = ImportReport.from_json(ImportBatch.objects.get(pk=batch.pk).report)
            counts = report.counts
            messages.success(request, _("Import confirmed: %(created)s created, %(updated)s updated, "
                                        "%(unchanged)s unchanged.") % counts)
            return redirect(importer.list_url_name)
        return redirect("registry:import_batch_detail", pk=batch.pk)
    report = ImportReport.from_json(batch.report)
    pending = pending_job(batch)
    rows = [r for r in report.results if r.row is not None]
    return render(request, "registry/import_batch_detail.html", {
        "batch": batch, "importer": importer, "report": report, "counts": report.counts,
        "file_issues": report.file_issues, "rows": rows[:REPORT_ROWS_SHOWN], "rows_total": len(rows),
        "rows_truncated": len(rows) > REPORT_ROWS_SHOWN,
        "can_confirm": batch.status == ImportStatus.DRY_RUN and not report.has_errors and pending is None,
        "pending_job": pending,
    })


@login_required
@require_GET
def import_template(request, kind: str):
    permissions.require(permissions.can_import_registry(request.user))
    importer_class = IMPORTERS_BY_SLUG.get(kind)
    if importer_class is None:
        raise Http404
    response = HttpResponse(template_workbook(importer_class()), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
    return response


def _export(request, importer_class, queryset_for, filter_names):
    permissions.require(permissions.can_export_registry(request.user))
    export_format = request.GET.get("format", "xlsx")
    if export_format not in ("xlsx", "csv"):
        return HttpResponse(_("Unknown export format; use xlsx or csv."), status=400, content_type="text/plain")
    importer = importer_class()
    queryset = queryset_for(request.GET)
    count = queryset.count()
    audit_record(
        action=AuditAction.EXPORT, actor=request.user, object_type=importer.kind,
        object_repr=str(importer.label),
        changes={"filters": selectors.filter_values(request.GET, filter_names), "format": export_format,
                 "rows": count},
        acting_organisation=acting_organisation(request),
    )
    slug = next(s for s, cls in IMPORTERS_BY_SLUG.items() if cls is importer_class)
    file_name = f"{slug}-{dt.date.today():%Y%m%d}.{export_format}"
    rows = importer.export_rows(queryset)
    if export_format == "csv":
        response = StreamingHttpResponse(csv_export(importer.columns, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response
    return FileResponse(xlsx_export(importer.data_sheet, importer.columns, rows), as_attachment=True,
                        filename=file_name, content_type=XLSX_TYPE)


@login_required
@require_GET
@reauthentication_required(check=permissions.can_export_registry)
def organisation_export(request):
    return _export(request, OrganisationImporter, selectors.organisation_queryset, selectors.ORGANISATION_FILTERS)


@login_required
@require_GET
@reauthentication_required(check=permissions.can_export_registry)
def person_export(request):
    return _export(request, PersonImporter, selectors.person_queryset, selectors.PERSON_FILTERS)
