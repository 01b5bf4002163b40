"""Audit trail pages for the 审计管理员: browse, filter, read one event, export, check the chain.

Reading the audit trail is itself audited (GB/T 22239-2019 8.1.4.3 a), once per request. There is
no page that edits or deletes an event.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sciencecity.accounts.decorators import reauthentication_required
from sciencecity.core import permissions, selectors
from sciencecity.core.audit import audit_read_record, audit_record, audit_verify
from sciencecity.core.audit_forms import AuditEventFilterForm
from sciencecity.core.models import AuditAction, AuditEvent

PAGE_SIZE = 50
EXPORT_FORMATS = ("csv", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _filtered(form: AuditEventFilterForm):
    if not form.is_bound:
        return selectors.audit_events(), {}
    if not form.is_valid():
        return AuditEvent.objects.none(), {}
    filters = form.filters()
    return selectors.audit_events(filters), filters


def _filter_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    for name in ("page", "format"):
        params.pop(name, None)
    return params.urlencode()


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_read_audit(request.user))
    form = AuditEventFilterForm(request.GET or None)
    queryset, filters = _filtered(form)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page.object_list)
    audit_read_record(
        request=request, object_repr="audit event list",
        changes={"filters": selectors.active_filters(filters), "page": page.number},
    )
    return render(request, "core/audit_event_list.html", {
        "form": form, "page_obj": page, "events": events, "filter_query": _filter_query(request),
    })


def _change_rows(changes: Any) -> tuple[list[tuple[str, Any, Any]], list[tuple[str, Any]]]:
    """Split ``changes`` into ``{field: [old, new]}`` rows and other details (export filters …)."""
    rows: list[tuple[str, Any, Any]] = []
    details: list[tuple[str, Any]] = []
    if not isinstance(changes, dict):
        return rows, [("", _shown(changes))] if changes not in (None, "", [], {}) else []
    for key, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            rows.append((key, _shown(value[0]), _shown(value[1])))
        else:
            details.append((key, _shown(value)))
    return rows, details


def _shown(value: Any) -> Any:
    return value if value is None else selectors.export_text(value)


@login_required
@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require(permissions.can_read_audit(request.user))
    event = get_object_or_404(AuditEvent, pk=pk)
    change_rows, change_details = _change_rows(event.changes)
    audit_read_record(request=request, object_id=event.pk, object_repr=str(event))
    return render(request, "core/audit_event_detail.html", {
        "event": event, "change_rows": change_rows, "change_details": change_details,
    })


def _csv_safe(value: Any) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = selectors.export_text(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(queryset, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    keys = [key for key, _label in selectors.EXPORT_COLUMNS]

    def lines():
        yield "\ufeff" + writer.writerow([str(label) for _key, label in selectors.EXPORT_COLUMNS])
        for record in selectors.export_records(queryset):
            yield writer.writerow([_csv_safe(record[key]) for key in keys])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _xlsx_response(queryset, filename: str) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Audit events"))
    sheet.freeze_panes = "A2"
    sheet.append([str(label) for _key, label in selectors.EXPORT_COLUMNS])
    keys = [key for key, _label in selectors.EXPORT_COLUMNS]
    for record in selectors.export_records(queryset):
        row = []
        for key in keys:
            value = record[key]
            if key == "occurred_at":
                cell = WriteOnlyCell(sheet, value.replace(tzinfo=None))
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, bool | int) or value is None:
                cell = WriteOnlyCell(sheet, value)
            else:
                cell = WriteOnlyCell(sheet, selectors.export_text(value))
                cell.data_type = "s"  # never a formula, whatever the text starts with
            row.append(cell)
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


@login_required
@require_GET
@reauthentication_required(check=permissions.can_read_audit)
def event_export(request: HttpRequest) -> HttpResponse:
    """CSV or Excel of the current filter; the export is recorded as an ``export`` event."""
    permissions.require(permissions.can_read_audit(request.user))
    form = AuditEventFilterForm(request.GET or None)
    export_format = request.GET.get("format", "csv")
    if export_format not in EXPORT_FORMATS or (form.is_bound and not form.is_valid()):
        return render(request, "core/audit_event_list.html", {
            "form": form, "page_obj": None, "events": [], "filter_query": _filter_query(request),
            "export_error": _("Correct the filter before exporting."),
        }, status=400)
    queryset, filters = _filtered(form)
    queryset, newest = selectors.audit_events_as_of_now(queryset)
    count = queryset.count()
    if export_format == "xlsx" and count > XLSX_MAX_ROWS:
        return render(request, "core/audit_event_list.html", {
            "form": form, "page_obj": None, "events": [], "filter_query": _filter_query(request),
            "export_error": _("Too many events for one Excel sheet; narrow the filter or export CSV."),
        }, status=400)
    audit_record(
        action=AuditAction.EXPORT, actor=request.user, object_type=AuditEvent._meta.label_lower,
        object_repr="audit events",
        changes={"filters": selectors.active_filters(filters), "format": export_format, "rows": count,
                 "up_to_event": newest},
    )
    request._audit_read_recorded = True
    filename = "audit-events-" + timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if export_format == "xlsx":
        return _xlsx_response(queryset, filename)
    return _csv_response(queryset, filename)


@login_required
@require_POST
def chain_verify(request: HttpRequest) -> HttpResponse:
    """htmx: walk the whole chain now and return the status line."""
    permissions.require(permissions.can_read_audit(request.user))
    result = audit_verify()
    audit_read_record(
        request=request, object_repr="audit chain verification",
        changes={"ok": result.ok, "checked": result.checked, "last_event_id": result.last_event_id,
                 "broken_event_id": result.broken_event_id, "problem_count": result.problem_count},
    )
    return render(request, "core/audit_chain_status.html", {"result": result, "checked_at": timezone.now()})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: Django's own page has an inline ``<style>`` that the CSP blocks (and is
    English only); this one uses the site layout, and answers ``/api/`` in the API's error format."""
    message = _("The form has expired or was not sent from this site. Go back, reload the page and try again.")
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"error": {"code": "csrf_failed", "message": message, "details": {}}}, status=403)
    return render(request, "core/csrf_failure.html", {"message": message}, status=403)
