"""Mid-term evaluation report (中期评估报告) as HTML and PDF, and the machine-readable plan (JSON)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from sciencecity.accounts import two_factor
from sciencecity.accounts.decorators import reauthentication_redirect, reauthentication_required
from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction
from sciencecity.plans import report, selectors
from sciencecity.registry.acting import acting_organisation


def _plan_or_404():
    plan = selectors.current_plan()
    if plan is None:
        raise Http404(_("No plan has been imported yet."))
    return plan


def _audit_export(request, plan, export_format: str, **changes) -> None:
    audit_record(action=AuditAction.EXPORT, actor=request.user, obj=plan, object_repr=plan.title,
                 changes={"format": export_format, **changes}, acting_organisation=acting_organisation(request))


@login_required
def report_html(request):
    permissions.require(permissions.can_view_monitoring(request.user))
    data = report.report_data(_plan_or_404(), as_of_year=_as_of(request))
    data["chart_rows"] = report.chart_rows(data["rows"])
    return render(request, "plans/report.html", data)


@login_required
@reauthentication_required(check=permissions.can_view_monitoring)
def report_pdf(request):
    permissions.require(permissions.can_view_monitoring(request.user))
    plan = _plan_or_404()
    data = report.report_data(plan, as_of_year=_as_of(request))
    content = report.render_pdf(data)
    _audit_export(request, plan, "pdf", report="mid-term evaluation", synthetic=data["synthetic"])
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{plan.code}-midterm-{dt.date.today():%Y%m%d}.pdf"'
    return response


def plan_json(request):
    """The plan for anyone who may view it; values and progress only for monitoring users."""
    permissions.require(permissions.can_view_plan(request.user))
    plan = _plan_or_404()
    include_values = permissions.can_view_monitoring(request.user)
    if include_values and not two_factor.reauthentication_fresh(request):
        return reauthentication_redirect(request)
    if include_values:
        _audit_export(request, plan, "json", values_included=True)
    response = JsonResponse(report.plan_export(plan, include_values), json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'inline; filename="{plan.code}.json"'
    return response


def _as_of(request) -> int | None:
    """``?as_of=YEAR`` evaluates the indicators with the values up to that year."""
    try:
        year = int(request.GET["as_of"]) if request.GET.get("as_of") else None
    except ValueError:
        return None
    return year if year is None or 1900 <= year <= 2200 else None  # -1 reached dt.date(-1, 12, 31): a 500
