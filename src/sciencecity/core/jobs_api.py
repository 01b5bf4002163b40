"""Background jobs over the API: ``GET /api/jobs/{id}`` (status, progress, result) and cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from sciencecity.core import jobs, permissions
from sciencecity.core.api import ErrorResponse
from sciencecity.core.models import Job

router = Router(tags=["jobs"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse}


class BackgroundJobOut(Schema):
    id: int
    kind: str
    label: str
    state: str
    state_label: str
    done: int
    total: int
    percent: int
    message: str
    result: dict[str, Any]
    attempts: int
    cancel_requested: bool
    finished: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    url: str


def job_out(job: Job) -> dict[str, Any]:
    return {**jobs.job_status(job), "url": f"/api/jobs/{job.pk}"}


def _job(request, job_id: int) -> Job:
    job = get_object_or_404(Job, pk=job_id)
    permissions.require(permissions.can_view_job(request.auth, job))
    return job


@router.get("/{int:job_id}", response={200: BackgroundJobOut, **ERRORS}, summary="A background job: state, progress, result")
def job_get(request, job_id: int):
    return job_out(_job(request, job_id))


@router.post("/{int:job_id}/cancel", response={200: BackgroundJobOut, **ERRORS},
             summary="Cancel a background job (at once when queued, at its next step when running)")
def job_cancel(request, job_id: int):
    return job_out(jobs.job_cancel(job=_job(request, job_id), actor=request.auth))
