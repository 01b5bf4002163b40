"""Jobs through Celery and a real Redis (``REDIS_URL`` set), run by real ``sciencecity worker`` processes on
the database the test uses (PostgreSQL, or a file copy of the SQLite test database):

* a large import queued through the web pages runs in the Celery worker; its progress (kept in Redis while
  the import's transaction is open) and its result are seen through ``job_status``;
* cancel through the web page stops a running confirm and nothing of it is kept;
* a job queued while the broker is unreachable stays queued and the worker's sweep sends it later;
* a worker SIGKILLed in the middle of a confirm: the next worker queues the job again and imports it once.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from sciencecity.core import jobs
from sciencecity.core.import_jobs import CONFIRM_KIND, DRY_RUN_KIND
from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch, Job, JobState
from sciencecity.registry.models import Organisation
from tests.core.test_jobs import _dead_pid, org_file

REDIS_URL = "redis://127.0.0.1:6379/1"
ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000  # the organisation import reports progress every 1,000 rows: two reports before its end


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


pytestmark = [pytest.mark.skipif(not _redis_reachable(), reason=f"Redis is not reachable at {REDIS_URL}"),
              pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def shared_database(transactional_db, bureau, tmp_path):
    """A database URL the worker processes share with this test.

    PostgreSQL: the test database itself. SQLite: the in-memory test database (migrated, with the
    fixtures' users) is copied to a file and this test's connection is pointed at the file until the end.
    """
    if connection.vendor == "postgresql":
        settings_dict = connection.settings_dict
        yield (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
               f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}")
        return
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    saved_connection, saved_settings = connection.connection, dict(connection.settings_dict)
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    connection.settings_dict["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved_settings)
        connection.connection = saved_connection


@pytest.fixture
def redis_jobs(settings):
    """Jobs go to Celery on a queue and key prefix of this test only (removed at the end)."""
    import redis

    tag = uuid.uuid4().hex[:10]
    settings.JOBS_INLINE = False
    settings.IMPORT_JOB_THRESHOLD_ROWS = 10
    settings.REDIS_URL = REDIS_URL
    settings.JOBS_QUEUE = f"test-jobs-{tag}"
    settings.JOBS_REDIS_PREFIX = f"test-job-{tag}"
    yield settings
    client = redis.Redis.from_url(REDIS_URL)
    stale = [*client.scan_iter(f"{settings.JOBS_REDIS_PREFIX}:*"), *client.scan_iter(f"{settings.JOBS_QUEUE}*"),
             *client.scan_iter(f"_kombu.binding*{settings.JOBS_QUEUE}")]
    if stale:
        client.delete(*stale)
    for field, raw in client.hscan_iter("unacked"):  # kombu's delivered-not-acknowledged (a killed worker's)
        if json.loads(raw)[-1] == settings.JOBS_QUEUE:
            client.hdel("unacked", field)
            client.zrem("unacked_index", field)


@pytest.fixture
def celery(redis_jobs, shared_database, tmp_path):
    """``start()`` starts a ``sciencecity worker`` (Celery) on the shared database, queue and key prefix."""
    settings = redis_jobs
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "PYTHONPATH": str(ROOT / "src"),
           "DATABASE_URL": shared_database, "SCIENCECITY_VAR_DIR": str(tmp_path / "var"), "REDIS_URL": REDIS_URL,
           "JOBS_QUEUE": settings.JOBS_QUEUE, "JOBS_REDIS_PREFIX": settings.JOBS_REDIS_PREFIX,
           "JOBS_RESEND_AFTER_SECONDS": "0", "TEXT_EMBEDDER": "none", "IMPORT_JOB_THRESHOLD_ROWS": "10"}
    workers: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        """Start a worker (not waiting for it: the jobs queued meanwhile wait in Redis)."""
        log = tmp_path / f"worker-{len(workers)}.log"
        process = subprocess.Popen([sys.executable, "-m", "sciencecity", "worker", "--sweep-every", "1"], env=env,
                                   cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
        process.log = log
        workers.append(process)
        return process

    yield start
    for process in workers:  # killed: a warm shutdown would cost seconds, and no job is left running
        if process.poll() is None:
            process.kill()
            process.wait(10)


def wait_for(condition: Callable[[], object], seconds: float, why: Callable[[], str] = lambda: "") -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {why()}")


def status(job: Job) -> dict:
    return jobs.job_status(Job.objects.get(pk=job.pk))


def finished(job: Job, seconds: float = 90) -> dict:
    return wait_for(lambda: (s := status(job))["finished"] and s, seconds, lambda: str(status(job)))


def running_with_progress(job: Job) -> dict:
    """The job while it runs, once it has reported progress inside its open transaction (kept in Redis)."""
    return wait_for(lambda: (s := status(job))["state"] == JobState.RUNNING and 0 < s["done"] < s["total"]
                    and progress_key_exists(job) and s, 90, lambda: str(status(job)))


def upload(client, prefix: str, credit: str) -> tuple[ImportBatch, Job]:
    """Upload a large organisation file through the page (``credit``: two letters that start its credit
    codes, none of I O S V Z); its dry run is queued as a job."""
    content = io.BytesIO(org_file(ROWS, prefix, credit=credit))
    content.name = f"{prefix}.xlsx"
    response = client.post(reverse("registry:organisation_import"), {"file": content})
    job = Job.objects.get(kind=DRY_RUN_KIND, params__batch=ImportBatch.objects.latest("id").pk)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    return ImportBatch.objects.get(pk=job.params["batch"]), job


def confirm(client, batch: ImportBatch) -> Job:
    response = client.post(reverse("registry:import_batch_detail", args=[batch.pk]))
    job = Job.objects.filter(kind=CONFIRM_KIND, params__batch=batch.pk).latest("id")
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    return job


def progress_key_exists(job: Job) -> bool:
    return bool(jobs.redis_client().exists(jobs._RedisSide.key(Job.objects.get(pk=job.pk), "progress")))


def test_web_jobs_run_in_the_celery_worker_with_progress_cancel_and_a_broker_outage(celery, client, bureau,
                                                                                    settings):
    client.force_login(bureau)
    worker = celery()
    batch, dry = upload(client, "CEL", "CE")
    assert finished(dry)["state"] == JobState.DONE
    assert status(dry)["result"]["url"] == reverse("registry:import_batch_detail", args=[batch.pk])
    assert Job.objects.get(pk=dry.pk).worker.endswith(f":{worker.pid}")  # run by the Celery worker

    job = confirm(client, batch)
    seen = running_with_progress(job)
    assert seen["total"] == ROWS and not (Path(settings.JOBS_DIR) / f"{job.pk}.progress.json").exists()
    done = finished(job)
    assert done["state"] == JobState.DONE and done["percent"] == 100 and done["result"]["counts"]["created"] == ROWS
    assert Organisation.objects.filter(code__startswith="CEL-").count() == ROWS
    assert not progress_key_exists(job)  # side state is cleared at the end

    # Cancel through the page while the confirm runs: it stops at its next progress report, keeps nothing.
    batch, dry = upload(client, "CXL", "CX")
    assert finished(dry)["state"] == JobState.DONE
    job = confirm(client, batch)
    running_with_progress(job)
    client.post(reverse("jobs:cancel", args=[job.pk]))
    cancelled = finished(job)
    assert cancelled["state"] == JobState.CANCELLED, cancelled
    assert not Organisation.objects.filter(code__startswith="CXL-").exists()

    # The broker is unreachable when the job is queued: the row stays queued, the sweep sends it later.
    settings.REDIS_URL = "redis://127.0.0.1:1/1"
    started = time.monotonic()
    late = jobs.job_enqueue(kind="enterprises.tier_recompute", actor=bureau)
    assert time.monotonic() - started < 3  # a refused broker does not hold the request
    late.refresh_from_db()
    assert late.state == JobState.QUEUED
    settings.REDIS_URL = REDIS_URL
    assert finished(late, 30)["state"] == JobState.DONE
    assert "sent to the broker (queued while it was unreachable): " + str(late.pk) in worker.log.read_text()
    assert Job.objects.get(pk=late.pk).attempts == 1


def test_a_sigkilled_celery_worker_s_job_is_run_again_by_the_next_worker_without_duplicates(celery, client,
                                                                                          bureau):
    client.force_login(bureau)
    first = celery()
    batch, dry = upload(client, "KIL", "KL")
    assert finished(dry)["state"] == JobState.DONE
    job = confirm(client, batch)
    running_with_progress(job)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert Job.objects.get(pk=job.pk).state == JobState.RUNNING  # it died with the job
    assert Organisation.objects.filter(code__startswith="KIL-").count() in (0, ROWS)  # atomic either way

    second = celery()  # its first sweep finds the dead worker's job, queues it again and sends it
    done = finished(job)
    assert done["state"] == JobState.DONE and done["attempts"] == 2, done
    assert f"queued again (their worker had stopped): {job.pk}" in second.log.read_text()
    assert Job.objects.get(pk=job.pk).worker.endswith(f":{second.pid}")
    assert Organisation.objects.filter(code__startswith="KIL-").count() == ROWS
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, changes__file="KIL.xlsx").count() == 1


def test_metrics_show_the_broker_queue_depth(celery, client, bureau):
    def broker(text: str, which: str) -> float:
        return float(re.search(rf'^sciencecity_jobs_broker_messages{{list="{which}"}} (\S+)$', text, re.M).group(1))

    assert broker(client.get("/metrics").content.decode(), "waiting") == 0
    job = jobs.job_enqueue(kind="enterprises.tier_recompute", actor=bureau)  # no worker runs: it waits in Redis
    text = client.get("/metrics").content.decode()
    assert broker(text, "waiting") == 1 and 'sciencecity_jobs{state="queued"} 1.0' in text
    assert status(job)["state"] == JobState.QUEUED


def test_the_sweep_sends_a_job_once_and_a_twice_delivered_job_runs_once(redis_jobs, bureau):
    runs = []
    jobs.register("test.counted", lambda job, context: runs.append(job.pk) or {"ok": True})
    queue = jobs.redis_client()

    redis_jobs.REDIS_URL = "redis://127.0.0.1:1/1"  # the broker is down when the job is queued
    job = jobs.job_enqueue(kind="test.counted", actor=bureau)
    redis_jobs.REDIS_URL = REDIS_URL
    assert queue.llen(redis_jobs.JOBS_QUEUE) == 0
    assert jobs.jobs_sweep(resend_after=60) == {"requeued": [], "sent": []}  # too recent: maybe in flight
    assert jobs.jobs_sweep(resend_after=0) == {"requeued": [], "sent": [job.pk]}
    assert jobs.jobs_sweep(resend_after=0) == {"requeued": [], "sent": []}  # its mark says it was sent
    assert queue.llen(redis_jobs.JOBS_QUEUE) == 1

    assert jobs.job_deliver(job.pk) == JobState.DONE
    assert jobs.job_deliver(job.pk) == "skipped"  # a second delivery of the same id runs nothing
    assert runs == [job.pk]

    # A message given back after a pool process died mid-job: the row says running, by a dead process
    # of this machine; the delivery queues it again and runs it.
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker=f"{socket.gethostname()}:{_dead_pid()}")
    assert jobs.job_deliver(job.pk) == JobState.DONE
    assert runs == [job.pk, job.pk] and Job.objects.get(pk=job.pk).attempts == 2
