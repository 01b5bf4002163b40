"""Large imports run as background jobs: the same dry run and confirm, out of the request.

:func:`import_batch_submit` and :func:`import_batch_confirm_submit` are what views and the API call:
below ``IMPORT_JOB_THRESHOLD_ROWS`` rows they work as before, inside the request; above it the batch
is stored first and a job (``import.dry_run`` or ``import.confirm``) does the work while the page
shows its progress. The confirm job is safe to run again after a killed worker: the confirm is
one transaction, and a batch already confirmed is reported, not imported twice.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core import jobs, uploads
from sciencecity.core.importing import (
    IMPORTERS,
    ConfirmRefused,
    Importer,
    ImportRejected,
    ImportReport,
    _store_report,
    dry_run,
    import_batch_confirm,
    import_batch_create,
    require_import,
)
from sciencecity.core.models import ImportBatch, ImportStatus, Job, JobState

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

DRY_RUN_KIND = "import.dry_run"
CONFIRM_KIND = "import.confirm"
DEFAULT_THRESHOLD_ROWS = 2000


def threshold_rows() -> int:
    return int(getattr(settings, "IMPORT_JOB_THRESHOLD_ROWS", DEFAULT_THRESHOLD_ROWS))


def estimate_rows(content: bytes, file_name: str) -> int:
    """About how many rows a file has, cheaply (row tags of the largest sheet, or CSV lines)."""
    if file_name.lower().endswith((".xlsx", ".xlsm")) and zipfile.is_zipfile(io.BytesIO(content)):
        return uploads.count_rows(content)
    return content.count(b"\n")


def batch_url(batch: ImportBatch) -> str:
    importer = IMPORTERS[batch.kind]
    try:
        return reverse(importer.batch_url_name, args=[batch.pk]) if importer.batch_url_name else ""
    except NoReverseMatch:
        return ""


def import_batch_submit(*, importer: Importer, file_name: str, content: bytes,
                        actor: User | None) -> tuple[ImportBatch, Job | None]:
    """Check an upload: in the request (small files) or as a job (large files; the batch is
    ``checking`` until the job has stored its dry-run report)."""
    require_import(importer, actor)
    if estimate_rows(content, file_name) <= threshold_rows():
        return import_batch_create(importer=importer, file_name=file_name, content=content, actor=actor), None
    file_name = (file_name or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    with transaction.atomic():
        batch = ImportBatch(kind=importer.kind, file_name=file_name, sha256=hashlib.sha256(content).hexdigest(),
                            size=len(content), content=content,
                            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
                            status=ImportStatus.CHECKING, report={})
        batch.full_clean(exclude=["content", "report"])
        batch.save()
    job = jobs.job_enqueue(kind=DRY_RUN_KIND, params={"batch": batch.pk}, actor=actor,
                           message=_("Waiting for a worker"))
    batch.refresh_from_db()
    return batch, job


def pending_job(batch: ImportBatch) -> Job | None:
    """A queued or running job of ``batch``."""
    return (Job.objects.filter(kind__in=[DRY_RUN_KIND, CONFIRM_KIND], params__batch=batch.pk,
                               state__in=[JobState.QUEUED, JobState.RUNNING]).order_by("-pk").first())


def import_batch_confirm_submit(*, batch: ImportBatch, actor: User | None) -> tuple[ImportReport | None, Job | None]:
    """Confirm a clean dry run: in the request (small files) or as a job (returned)."""
    importer = IMPORTERS[batch.kind]()
    rows = batch.created_count + batch.updated_count + batch.unchanged_count
    if rows <= threshold_rows():
        return import_batch_confirm(batch=batch, actor=actor), None
    require_import(importer, actor)
    if batch.status != ImportStatus.DRY_RUN or ImportReport.from_json(batch.report).has_errors:
        raise ConfirmRefused(_("Only an import whose dry run has no errors can be confirmed."))
    running = pending_job(batch)
    if running is not None:
        return None, running
    job = jobs.job_enqueue(kind=CONFIRM_KIND, params={"batch": batch.pk}, actor=actor, total=rows,
                           message=_("Waiting for a worker"))
    return None, job


def _run_dry_run(job: Job, context: jobs.JobContext) -> dict[str, Any]:
    batch = ImportBatch.objects.get(pk=job.params["batch"])
    importer = IMPORTERS[batch.kind]()
    require_import(importer, job.created_by)
    report = dry_run(importer, content=bytes(batch.content), file_name=batch.file_name, actor=job.created_by,
                     progress=context.progress)
    _store_report(batch, report)
    batch.status = ImportStatus.REJECTED if report.has_errors else ImportStatus.DRY_RUN
    batch.save()
    return {"batch": batch.pk, "counts": report.counts, "url": batch_url(batch)}


class ImportJobFailed(Exception):
    """The job's message says what happened."""


def _run_confirm(job: Job, context: jobs.JobContext) -> dict[str, Any]:
    batch = ImportBatch.objects.get(pk=job.params["batch"])
    if batch.status == ImportStatus.CONFIRMED:  # confirmed by an earlier attempt that died before it finished
        report = ImportReport.from_json(batch.report)
    else:
        try:
            report = import_batch_confirm(batch=batch, actor=job.created_by, progress=context.progress)
        except ImportRejected:
            raise ImportJobFailed(_("Nothing was written: the data changed since the dry run and some rows now "
                                    "fail. See the new report.")) from None
        except ConfirmRefused as refused:
            raise ImportJobFailed(str(refused)) from None
    return {"batch": batch.pk, "counts": report.counts, "url": batch_url(batch), "confirmed": True}


def register_kinds() -> None:
    jobs.register(DRY_RUN_KIND, _run_dry_run, gettext_lazy("Import: dry run"))
    jobs.register(CONFIRM_KIND, _run_confirm, gettext_lazy("Import: confirm"))
