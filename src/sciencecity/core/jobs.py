"""Background jobs: a small database queue with progress and cancel, run by ``sciencecity worker`` —
or, when ``REDIS_URL`` is set, by Celery workers on several machines (config/celery.py).

The interface is three calls; the callers do not know which backend runs the job:

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
``var/jobs/``, which :func:`job_status` reads too; cancel requests are also left there. With
``REDIS_URL`` these go to small Redis keys instead (the web server and the worker may be on different
machines): one interface, :func:`side`.

With ``REDIS_URL`` the row is still written first and stays the truth; on commit its id is sent to
Celery (:func:`job_send`), whose task (:func:`job_deliver`) claims the row as the database worker does,
so a message delivered twice runs the job once. A job that could not be sent (Redis down) stays queued
and :func:`jobs_sweep`, run by every ``sciencecity worker``, sends it later.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import OperationalError, connection, models, transaction
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


# --- side state: progress and cancel requests that cannot wait for a commit ------------------------
# One interface, two stores: files under var/jobs (one machine), or small Redis keys with a TTL when
# ``REDIS_URL`` is set (several worker machines: the web server that shows the progress bar may run on
# another machine than the worker). Keys carry the job's creation time, so a key left by another database
# (a test run, a restored backup) never speaks for a new job of the same id.
SIDE_TTL_SECONDS = 24 * 3600


class _FileSide:
    """Side state in files under ``JOBS_DIR`` (the embedded default: workers and web on one machine)."""

    @staticmethod
    def _dir() -> Path:
        path = Path(getattr(settings, "JOBS_DIR", "") or Path(settings.MEDIA_ROOT).parent / "jobs")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _progress(self, job: Job) -> Path:
        return self._dir() / f"{job.pk}.progress.json"

    def _cancel(self, job: Job) -> Path:
        return self._dir() / f"{job.pk}.cancel"

    def write_progress(self, job: Job, payload: dict[str, Any]) -> None:
        target = self._progress(job)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(payload), encoding="utf-8")
        temporary.replace(target)

    def read_progress(self, job: Job) -> dict[str, Any] | None:
        try:
            return json.loads(self._progress(job).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def request_cancel(self, job: Job) -> None:
        self._cancel(job).touch()

    def cancel_requested(self, job: Job) -> bool:
        return self._cancel(job).exists()

    def beat(self, job: Job) -> None:
        """A sign of life of the job's worker (the file store has the progress file's time for it)."""

    def last_sign(self, job: Job) -> dt.datetime | None:
        path = self._progress(job)
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) if path.exists() else None

    def clear(self, job: Job) -> None:
        for path in (self._progress(job), self._cancel(job)):
            path.unlink(missing_ok=True)


_REDIS_CLIENTS: dict[str, Any] = {}


def redis_client(url: str | None = None) -> Any:
    """One Redis client per URL and process (2 s timeouts: a broker outage never hangs a request)."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    url = url or settings.REDIS_URL
    if url not in _REDIS_CLIENTS:  # one quick retry, not redis-py's default backoff (seconds on a refused port)
        _REDIS_CLIENTS[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2,
                                                   retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1))
    return _REDIS_CLIENTS[url]


class _RedisSide:
    """Side state in Redis: ``<prefix>:<id>:<created µs>:progress|cancel|alive|sent``, each with a TTL."""

    def __init__(self, url: str) -> None:
        self.client = redis_client(url)

    @staticmethod
    def key(job: Job, name: str) -> str:
        prefix = getattr(settings, "JOBS_REDIS_PREFIX", "sciencecity:job")
        return f"{prefix}:{job.pk}:{int(job.created_at.timestamp() * 1_000_000)}:{name}"

    def write_progress(self, job: Job, payload: dict[str, Any]) -> None:
        self.client.set(self.key(job, "progress"), json.dumps(payload), ex=SIDE_TTL_SECONDS)

    def read_progress(self, job: Job) -> dict[str, Any] | None:
        raw = self.client.get(self.key(job, "progress"))
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def request_cancel(self, job: Job) -> None:
        self.client.set(self.key(job, "cancel"), "1", ex=SIDE_TTL_SECONDS)

    def cancel_requested(self, job: Job) -> bool:
        return bool(self.client.exists(self.key(job, "cancel")))

    def beat(self, job: Job) -> None:
        self.client.set(self.key(job, "alive"), timezone.now().isoformat(), ex=SIDE_TTL_SECONDS)

    def last_sign(self, job: Job) -> dt.datetime | None:
        signs = [self.client.get(self.key(job, "alive")), (self.read_progress(job) or {}).get("at")]
        times = []
        for sign in signs:
            try:
                times.append(dt.datetime.fromisoformat(sign.decode() if isinstance(sign, bytes) else sign))
            except (TypeError, ValueError):
                continue
        return max(times, default=None)

    def mark_sent(self, job: Job) -> None:
        self.client.set(self.key(job, "sent"), "1", ex=SIDE_TTL_SECONDS)

    def sent(self, jobs: list[Job]) -> list[bool]:
        return [bool(value) for value in self.client.mget([self.key(job, "sent") for job in jobs])] if jobs else []

    def clear(self, job: Job) -> None:
        self.client.delete(*(self.key(job, name) for name in ("progress", "cancel", "alive", "sent")))


def side() -> _FileSide | _RedisSide:
    """The side store of this deployment: Redis when ``REDIS_URL`` is set, else files."""
    url = getattr(settings, "REDIS_URL", "")
    return _RedisSide(url) if url else _FileSide()


def _side_safely(action: str, job: Job, call: Callable[[], Any], default: Any = None) -> Any:
    """Run a side-store call; a Redis outage costs a progress tick or a cancel check, never the job."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 — redis.ConnectionError, TimeoutError …: the job goes on
        logger.warning("job %s: side store %s failed: %s", job.pk, action, exc)
        return default


def _write_side_progress(job: Job, done: int, total: int, message: str) -> None:
    payload = {"done": done, "total": total, "message": message, "at": timezone.now().isoformat()}
    _side_safely("progress", job, lambda: side().write_progress(job, payload))


def _read_side_progress(job: Job) -> dict[str, Any] | None:
    return _side_safely("read", job, lambda: side().read_progress(job))


def _cancel_asked(job: Job) -> bool:
    return bool(_side_safely("cancel check", job, lambda: side().cancel_requested(job), False))


def _clear_side_files(job: Job) -> None:
    _side_safely("clear", job, lambda: side().clear(job))


# --- files a job produces (a report …), handed over by /jobs/<id>/file/ -----------------------------
def job_file_dir(job_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "jobs" / str(int(job_id))


def job_file_save(job: Job, *, name: str, content: bytes, content_type: str) -> dict[str, Any]:
    """Write the job's file (atomically: a retry replaces it, a reader never sees half a file).

    Returns the part of the job's result that names it, with ``url`` (the job page sends the browser there).
    """
    from django.urls import reverse

    safe = Path(name).name or "result"
    folder = job_file_dir(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{safe}.{os.getpid()}.tmp"
    temporary.write_bytes(content)
    temporary.replace(folder / safe)
    return {"file": safe, "content_type": content_type, "bytes": len(content),
            "url": reverse("jobs:file", args=[job.pk])}


def job_file_path(job: Job) -> Path | None:
    """The finished job's file, or None (never a path outside the job's folder)."""
    name = (job.result or {}).get("file")
    if job.state != JobState.DONE or not name or Path(name).name != name:
        return None
    path = job_file_dir(job.pk) / name
    return path if path.is_file() else None


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
        if _cancel_asked(job):
            raise JobCancelled
        now = timezone.now()
        if connection.in_atomic_block:
            _write_side_progress(job, done, total, job.message)
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
    if celery_enabled():  # sent once the row is committed: a worker never gets an id it cannot read
        transaction.on_commit(lambda: job_send(job))
    elif getattr(settings, "JOBS_INLINE", False):
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
        stored = _read_side_progress(job)
        if stored and stored.get("done", 0) >= done:
            done, total, message = stored["done"], stored["total"], stored.get("message") or message
    if job.state == JobState.DONE:
        done = total = max(total, done)
    return {
        "id": job.pk, "kind": job.kind, "label": kind_label(job.kind), "state": job.state,
        "state_label": str(job.get_state_display()), "done": done, "total": total,
        "percent": 100 if job.state == JobState.DONE else (int(100 * done / total) if total else 0),
        "message": message, "result": job.result, "attempts": job.attempts,
        "cancel_requested": job.cancel_requested or (job.state == JobState.RUNNING and _cancel_asked(job)),
        "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
        "finished": job.is_finished,
    }


def job_cancel(*, job: Job, actor: User | None = None) -> Job:
    """Cancel ``job``: at once when queued, at its next progress report when running."""
    running = Job.objects.filter(pk=job.pk, state=JobState.RUNNING).exists()
    if running:  # first: on SQLite the updates below wait for the running job's own transaction to end
        _side_safely("cancel", job, lambda: side().request_cancel(job))
    if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
            state=JobState.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
            message=_("Cancelled before it started.")):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    if job.state == JobState.RUNNING:
        if not running:  # it started between the two looks
            _side_safely("cancel", job, lambda: side().request_cancel(job))
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
    _clear_side_files(job)
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


def jobs_requeue_dead(ids: list[int] | None = None) -> list[int]:
    """Queue again the jobs left ``running`` by a worker that died (or fail them after too many tries).

    A worker on this machine is dead when its process is gone; one on another machine when it has shown no
    sign of life (heartbeat, progress, the Celery task's beat in Redis) for ``JOBS_STALE_SECONDS``.
    """
    stale_after = dt.timedelta(seconds=int(getattr(settings, "JOBS_STALE_SECONDS", DEFAULT_STALE_SECONDS)))
    max_attempts = int(getattr(settings, "JOBS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    now = timezone.now()
    requeued = []
    running = Job.objects.filter(state=JobState.RUNNING).exclude(worker="inline")
    for job in running.filter(pk__in=ids) if ids is not None else running:
        alive = _alive_here(job.worker)
        if alive is None:
            sign = _side_safely("last sign", job, lambda job=job: side().last_sign(job))
            last = max(filter(None, [job.heartbeat_at, job.started_at, sign]), default=None)
            alive = last is not None and now - last <= stale_after
        if alive:
            continue
        if job.attempts >= max_attempts:
            Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
                state=JobState.FAILED, finished_at=now,
                message=_("The worker stopped %(attempts)s times while running this job; it is not tried "
                          "again.") % {"attempts": job.attempts})
        elif Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
                state=JobState.QUEUED, worker="", message=_("Queued again: the worker running it stopped.")):
            requeued.append(job.pk)
        _clear_side_files(job)
    return requeued


def job_claim(worker: str | None = None, pk: int | None = None) -> Job | None:
    """Take the oldest queued job (or job ``pk`` if still queued) for this worker, never one another took."""
    worker = worker or worker_name()
    now = timezone.now()
    while True:
        with transaction.atomic():
            queued = Job.objects.filter(state=JobState.QUEUED).order_by("id")
            if pk is not None:
                queued = queued.filter(pk=pk)
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


# --- Celery with Redis (REDIS_URL set): the broker carries job ids, the row stays the truth ---------
def celery_enabled() -> bool:
    """Jobs go to Celery when ``REDIS_URL`` is set (and they do not run inline, as in tests)."""
    return bool(getattr(settings, "REDIS_URL", "")) and not getattr(settings, "JOBS_INLINE", False)


def job_send(job: Job) -> bool:
    """Send the job's id to the Celery queue. False (logged) when the broker cannot be reached: the row
    stays queued and the workers' sweep (:func:`jobs_sweep`) sends it once the broker is back."""
    from sciencecity.config.celery import send_job

    try:
        send_job(job.pk)
    except Exception as exc:  # noqa: BLE001 — kombu OperationalError, redis errors …: never lose the job
        logger.warning("job %s stays queued, the broker is unreachable (%s): the worker's sweep sends it later",
                       job.pk, exc)
        return False
    _side_safely("sent mark", job, lambda: side().mark_sent(job))
    return True


def jobs_sweep(*, resend_after: float | None = None) -> dict[str, list[int]]:
    """Queue again the jobs of dead workers, then (Celery) send the queued jobs the broker does not have.

    Idempotent, run by every worker at start and every ``JOBS_SWEEP_SECONDS``: a job counts as sent while
    its ``sent`` mark lives in Redis — the mark is written after a send that worked and lives in the same
    Redis as the queue, so a Redis that lost its data lost the marks too and the jobs are sent again. A job
    sent twice runs once (:func:`job_deliver` claims the row).
    """
    requeued = jobs_requeue_dead()
    sent: list[int] = []
    if not celery_enabled():
        return {"requeued": requeued, "sent": sent}
    if resend_after is None:
        resend_after = float(getattr(settings, "JOBS_RESEND_AFTER_SECONDS", 30))
    queued = Job.objects.filter(state=JobState.QUEUED)
    if resend_after > 0:  # 0: every queued job without a mark, whatever the clock of the process that queued it
        cutoff = timezone.now() - dt.timedelta(seconds=resend_after)
        queued = queued.filter(models.Q(created_at__lte=cutoff) | models.Q(pk__in=requeued))
    waiting = list(queued.order_by("id")[:1000])
    try:
        marks = side().sent(waiting)
    except Exception as exc:  # noqa: BLE001 — Redis still down: the next sweep tries again
        logger.warning("job sweep: Redis unreachable (%s); %s queued jobs wait for the next sweep", exc, len(waiting))
        return {"requeued": requeued, "sent": sent}
    for job, marked in zip(waiting, marks, strict=True):
        if not marked and job_send(job):
            sent.append(job.pk)
    return {"requeued": requeued, "sent": sent}


def job_deliver(job_id: int) -> str:
    """Run the job a broker message names — the Celery task's body.

    The row is claimed like the database worker claims it, so a duplicate delivery (a re-sent or restored
    message) runs nothing twice; a message for a job still marked running by a dead process of this machine
    (a killed pool child) queues it again first. While the job runs, a thread leaves a sign of life in Redis
    so that sweeps on other machines do not take it for dead.
    """
    name = worker_name()
    job = job_claim(name, pk=job_id)
    if job is None and jobs_requeue_dead(ids=[job_id]):
        job = job_claim(name, pk=job_id)
    if job is None:
        return "skipped"
    stop = threading.Event()
    beat_every = max(1.0, min(HEARTBEAT_EVERY.total_seconds(),
                              int(getattr(settings, "JOBS_STALE_SECONDS", DEFAULT_STALE_SECONDS)) / 3))

    def beat() -> None:
        while not stop.wait(beat_every):
            _side_safely("beat", job, lambda: side().beat(job))

    _side_safely("beat", job, lambda: side().beat(job))
    beater = threading.Thread(target=beat, name=f"job-{job.pk}-beat", daemon=True)
    beater.start()
    try:
        job = job_run(job)
    finally:
        stop.set()
        beater.join()
    return str(job.state)
