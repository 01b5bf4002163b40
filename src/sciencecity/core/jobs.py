"""Background jobs: a small database queue with progress and cancel, run by ``sciencecity worker``.

The interface is three calls, so that a later step can hand the work to Celery when ``REDIS_URL``
is set without touching the callers:

* :func:`job_enqueue` — queue a registered kind with JSON parameters (runs it at once when the
  setting ``JOBS_INLINE`` is true: tests only);
* :func:`job_status` — what the status page and ``GET /api/jobs/{id}`` show;
* :func:`job_cancel` — a queued job is cancelled at once; a running one stops at its next progress
  report, and its transaction rolls back.

Apps register their kinds at ``ready()`` with :func:`register` (the registry lists no app). A kind's
function receives the :class:`~sciencecity.core.models.Job` and a :class:`JobContext` whose
``progress(done, total)`` records progress and raises :class:`JobCancelled` when a cancel was
asked for; it returns the JSON ``result``.

The worker claims jobs with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (several workers
never take the same job) and with a conditional ``UPDATE`` on SQLite (whose writes are serialised).
At start it queues again the jobs left ``running`` by a worker that died (its process is gone, or
it has shown no sign of life for ``JOBS_STALE_SECONDS``); a kind must therefore be safe to run
again — the import confirm is one transaction, so a killed run left nothing behind.

Progress reported while the job's own transaction is open (a confirm writes everything in one
transaction) cannot go through the database — on SQLite the transaction holds the only write lock,
on PostgreSQL it would be invisible until commit — so it goes to a small file under
``var/jobs/``, which :func:`job_status` reads too; cancel requests are also left there.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core.models import Job, JobState

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

logger = logging.getLogger(__name__)

DEFAULT_STALE_SECONDS = 300
DEFAULT_MAX_ATTEMPTS = 3
HEARTBEAT_EVERY = dt.timedelta(seconds=5)


class JobCancelled(Exception):
    """Raised inside a job when a cancel was asked for: the job stops and its transaction rolls back."""


@dataclass(frozen=True)
class JobKind:
    kind: str
    run: Callable[[Job, JobContext], dict[str, Any]]
    label: Any = ""


#: Job kinds by name, filled by the apps at ready().
KINDS: dict[str, JobKind] = {}


def register(kind: str, run: Callable[[Job, JobContext], dict[str, Any]], label: Any = "") -> None:
    KINDS[kind] = JobKind(kind=kind, run=run, label=label or kind)


def kind_label(kind: str) -> str:
    found = KINDS.get(kind)
    return str(found.label) if found else kind


# --- side files: progress and cancel requests that cannot wait for a commit -----------------------
def _side_dir() -> Path:
    path = Path(getattr(settings, "JOBS_DIR", "") or Path(settings.MEDIA_ROOT).parent / "jobs")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _progress_file(job_id: int) -> Path:
    return _side_dir() / f"{job_id}.progress.json"


def _cancel_file(job_id: int) -> Path:
    return _side_dir() / f"{job_id}.cancel"


def _write_side_progress(job_id: int, done: int, total: int, message: str) -> None:
    target = _progress_file(job_id)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"done": done, "total": total, "message": message,
                                     "at": timezone.now().isoformat()}), encoding="utf-8")
    temporary.replace(target)


def _read_side_progress(job_id: int) -> dict[str, Any] | None:
    try:
        return json.loads(_progress_file(job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _clear_side_files(job_id: int) -> None:
    for path in (_progress_file(job_id), _cancel_file(job_id)):
        path.unlink(missing_ok=True)


# --- the context a job runs with -----------------------------------------------------------------
class JobContext:
    """Given to a running job: ``progress(done, total)`` and ``message``; checks for cancel."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last_beat = timezone.now()

    def progress(self, done: int, total: int, message: str = "") -> None:
        job = self.job
        job.progress_done, job.progress_total = done, total
        if message:
            job.message = message[:1000]
        if _cancel_file(job.pk).exists():
            raise JobCancelled
        now = timezone.now()
        if connection.in_atomic_block:
            _write_side_progress(job.pk, done, total, job.message)
            return
        cancelled = Job.objects.filter(pk=job.pk, cancel_requested=True).exists()
        if cancelled:
            raise JobCancelled
        Job.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total, message=job.message,
                                             heartbeat_at=now)
        self._last_beat = now


# --- the three calls -----------------------------------------------------------------------------
def job_enqueue(*, kind: str, params: dict[str, Any] | None = None, actor: User | None = None, total: int = 0,
                message: str = "") -> Job:
    """Queue a job of a registered ``kind``. With ``JOBS_INLINE`` (tests) it runs before returning."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(kind=kind, params=params or {}, progress_total=total, message=message[:1000],
                             created_by=actor if getattr(actor, "is_authenticated", False) else None)
    if getattr(settings, "JOBS_INLINE", False):
        Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=1, started_at=timezone.now(),
                                             worker="inline")
        job.refresh_from_db()
        job_run(job)
        job.refresh_from_db()
    return job


def job_status(job: Job) -> dict[str, Any]:
    """The job as the status page and the API show it (progress from the side file when newer)."""
    done, total, message = job.progress_done, job.progress_total, job.message
    if job.state == JobState.RUNNING:
        side = _read_side_progress(job.pk)
        if side and side.get("done", 0) >= done:
            done, total, message = side["done"], side["total"], side.get("message") or message
    if job.state == JobState.DONE:
        done = total = max(total, done)
    return {
        "id": job.pk, "kind": job.kind, "label": kind_label(job.kind), "state": job.state,
        "state_label": str(job.get_state_display()), "done": done, "total": total,
        "percent": 100 if job.state == JobState.DONE else (int(100 * done / total) if total else 0),
        "message": message, "result": job.result, "attempts": job.attempts,
        "cancel_requested": job.cancel_requested or _cancel_file(job.pk).exists(),
        "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
        "finished": job.is_finished,
    }


def job_cancel(*, job: Job, actor: User | None = None) -> Job:
    """Cancel ``job``: at once when queued, at its next progress report when running."""
    if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
            state=JobState.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
            message=_("Cancelled before it started.")):
        job.refresh_from_db()
        return job
    if job.state == JobState.RUNNING:
        _cancel_file(job.pk).touch()
        try:
            Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(cancel_requested=True)
        except OperationalError:  # SQLite busy with the job's own transaction: the side file suffices
            logger.info("job %s: cancel left as a side file (database busy)", job.pk)
    job.refresh_from_db()
    return job


# --- running jobs --------------------------------------------------------------------------------
def job_run(job: Job) -> Job:
    """Run a claimed (``running``) job to its end: done, failed (message says why) or cancelled."""
    context = JobContext(job)
    state, result, message = JobState.DONE, {}, ""
    try:
        result = KINDS[job.kind].run(job, context) or {}
        message = context.job.message
    except JobCancelled:
        state, message = JobState.CANCELLED, _("Cancelled: nothing of this job was kept.")
    except Exception as exc:  # the job failed: record why, keep the worker alive
        logger.error("job %s (%s) failed:\n%s", job.pk, job.kind, traceback.format_exc())
        state, message = JobState.FAILED, (str(exc) or exc.__class__.__name__)[:1000]
    Job.objects.filter(pk=job.pk).update(
        state=state, result=result, message=message[:1000], finished_at=timezone.now(), heartbeat_at=timezone.now(),
        progress_done=context.job.progress_done, progress_total=context.job.progress_total,
    )
    _clear_side_files(job.pk)
    job.refresh_from_db()
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive_here(worker: str) -> bool | None:
    """Whether the worker process named ``host:pid`` is alive; None when it ran on another host."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def jobs_requeue_dead() -> list[int]:
    """Queue again the jobs left ``running`` by a worker that died (or fail them after too many tries)."""
    stale_after = dt.timedelta(seconds=int(getattr(settings, "JOBS_STALE_SECONDS", DEFAULT_STALE_SECONDS)))
    max_attempts = int(getattr(settings, "JOBS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    now = timezone.now()
    requeued = []
    for job in Job.objects.filter(state=JobState.RUNNING).exclude(worker="inline"):
        alive = _alive_here(job.worker)
        side = _progress_file(job.pk)
        last = max(filter(None, [job.heartbeat_at, job.started_at,
                                 dt.datetime.fromtimestamp(side.stat().st_mtime, tz=dt.UTC) if side.exists()
                                 else None]), default=None)
        dead = alive is False or (alive is None and (last is None or now - last > stale_after))
        if not dead:
            continue
        if job.attempts >= max_attempts:
            Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
                state=JobState.FAILED, finished_at=now,
                message=_("The worker stopped %(attempts)s times while running this job; it is not tried "
                          "again.") % {"attempts": job.attempts})
        elif Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
                state=JobState.QUEUED, worker="", message=_("Queued again: the worker running it stopped.")):
            requeued.append(job.pk)
        _clear_side_files(job.pk)
    return requeued


def job_claim(worker: str | None = None) -> Job | None:
    """Take the oldest queued job for this worker (never one another worker took)."""
    worker = worker or worker_name()
    now = timezone.now()
    while True:
        with transaction.atomic():
            queued = Job.objects.filter(state=JobState.QUEUED).order_by("id")
            if connection.features.has_select_for_update_skip_locked:
                job = queued.select_for_update(skip_locked=True).first()
                if job is None:
                    return None
                Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker=worker, started_at=now,
                                                     heartbeat_at=now, attempts=job.attempts + 1)
                job.refresh_from_db()
                return job
            job = queued.first()
            if job is None:
                return None
            if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
                    state=JobState.RUNNING, worker=worker, started_at=now, heartbeat_at=now,
                    attempts=job.attempts + 1):
                job.refresh_from_db()
                return job
        # another worker took it between the read and the update: try the next one
