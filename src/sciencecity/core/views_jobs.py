"""Background job pages: the status with a progress bar that polls (htmx, no inline script), cancel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sciencecity.core import jobs, permissions
from sciencecity.core.models import Job


def _job(request, pk: int) -> Job:
    job = get_object_or_404(Job, pk=pk)
    permissions.require(permissions.can_view_job(request.user, job))
    return job


@login_required
@require_GET
def job_detail(request, pk: int):
    job = _job(request, pk)
    return render(request, "core/job_detail.html", {"job": job, "status": jobs.job_status(job)})


@login_required
@require_GET
def job_status_fragment(request, pk: int):
    """The status block alone, polled by the page; when the job is done it sends the browser on."""
    job = _job(request, pk)
    status = jobs.job_status(job)
    response = render(request, "core/job_status.html", {"job": job, "status": status})
    url = (status["result"] or {}).get("url")
    if status["state"] == "done" and url and request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
    return response


@login_required
@require_POST
def job_cancel(request, pk: int):
    job = _job(request, pk)
    job = jobs.job_cancel(job=job, actor=request.user)
    if job.state == "cancelled":
        messages.success(request, _("The job is cancelled."))
    elif not job.is_finished:
        messages.info(request, _("The job stops at its next step; nothing of it will be kept."))
    return redirect("jobs:detail", pk=job.pk)


@login_required
@require_GET
def job_file(request, pk: int):
    """The file a finished job produced (a PDF report …), for the person who started the job."""
    job = _job(request, pk)
    path = jobs.job_file_path(job)
    if path is None:
        raise Http404(_("This job has no file (yet)."))
    response = HttpResponse(path.read_bytes(), content_type=job.result.get("content_type")
                            or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return response
