"""Spreadsheet imports over the API: upload (dry run), read the report, confirm.

Small files are checked and confirmed inside the request (201/200). Files of more than
``IMPORT_JOB_THRESHOLD_ROWS`` rows are handed to a background job: the answer is 202 with the job,
whose ``url`` (``GET /api/jobs/{id}``) shows its progress and, when done, the batch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from sciencecity.core import permissions
from sciencecity.core.api import ErrorResponse, error
from sciencecity.core.import_jobs import import_batch_confirm_submit, import_batch_submit
from sciencecity.core.importing import ConfirmRefused, ImportError, ImportRejected, ImportReport
from sciencecity.core.jobs_api import BackgroundJobOut, job_out
from sciencecity.core.models import ImportBatch
from sciencecity.registry.importers import IMPORTERS_BY_SLUG

router = Router(tags=["registry imports"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse,
          413: ErrorResponse, 422: ErrorResponse}
PROBLEMS_SHOWN = 200


class ProblemOut(Schema):
    row: int | None
    status: str
    key: str
    field: str
    code: str
    message: str


class BatchOut(Schema):
    id: int
    kind: str
    file_name: str
    status: str
    created: int
    updated: int
    unchanged: int
    errors: int
    problems: list[ProblemOut]
    created_at: dt.datetime
    confirmed_at: dt.datetime | None


class QueuedOut(Schema):
    batch: int
    job: BackgroundJobOut


def batch_out(batch: ImportBatch) -> dict[str, Any]:
    report = ImportReport.from_json(batch.report)
    problems = [r.__dict__ for r in report.results if r.status in ("error", "warning")][:PROBLEMS_SHOWN]
    return {"id": batch.pk, "kind": batch.kind, "file_name": batch.file_name, "status": batch.status,
            "created": batch.created_count, "updated": batch.updated_count, "unchanged": batch.unchanged_count,
            "errors": batch.error_count, "problems": problems, "created_at": batch.created_at,
            "confirmed_at": batch.confirmed_at}


def _batch(request, batch_id: int) -> ImportBatch:
    batch = get_object_or_404(ImportBatch.objects.defer("content"), pk=batch_id,
                              kind__in=[cls.kind for cls in IMPORTERS_BY_SLUG.values()])
    permissions.require(permissions.can_import_registry(request.auth) and batch.uploaded_by_id == request.auth.pk)
    return batch


@router.post("/imports/{slug}", response={201: BatchOut, 202: QueuedOut, **ERRORS},
             summary="Upload a spreadsheet (organisations or people): dry run now (201) or as a job (202)")
def import_upload(request, slug: str, file: File[UploadedFile]):
    importer_class = IMPORTERS_BY_SLUG.get(slug)
    if importer_class is None:
        return Status(*error(404, "not_found", _("Unknown import; use organisations or people.")))
    permissions.require(permissions.can_import_registry(request.auth))
    limit = settings.IMPORT_MAX_BYTES
    if file.size > limit:
        return error(413, ImportError.FILE_TOO_LARGE.value, ImportError.FILE_TOO_LARGE.message(
            size=f"{file.size / 1048576:.1f}", limit=f"{limit / 1048576:.0f}"))
    batch, job = import_batch_submit(importer=importer_class(), file_name=file.name or "upload", content=file.read(),
                                     actor=request.auth)
    if job is not None:
        job.refresh_from_db()
        return Status(202, {"batch": batch.pk, "job": job_out(job)})
    return Status(201, batch_out(batch))


@router.get("/imports/batches/{int:batch_id}", response={200: BatchOut, **ERRORS},
            summary="An uploaded spreadsheet: its dry-run report (first problems) and status")
def import_batch_get(request, batch_id: int):
    return batch_out(_batch(request, batch_id))


@router.post("/imports/batches/{int:batch_id}/confirm", response={200: BatchOut, 202: QueuedOut, **ERRORS},
             summary="Confirm a clean dry run: written now (200) or as a job (202)")
def import_batch_confirm_api(request, batch_id: int):
    batch = _batch(request, batch_id)
    try:
        _report, job = import_batch_confirm_submit(batch=batch, actor=request.auth)
    except ConfirmRefused as refused:
        return Status(*error(409, "confirm_refused", str(refused)))
    except ImportRejected:
        batch.refresh_from_db()
        return error(409, "import_rejected", _("Nothing was written: some rows now fail."),
                     batch_out(batch)["problems"])
    if job is not None:
        job.refresh_from_db()
        return Status(202, {"batch": batch.pk, "job": job_out(job)})
    batch.refresh_from_db()
    return batch_out(batch)
