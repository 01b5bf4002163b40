"""The Celery app: background jobs on several worker machines when ``REDIS_URL`` is set.

Redis is the broker; the ``core_job`` row stays the source of truth (state, progress, cancel, retry, what
the UI shows). A message carries only the job's id, sent when the row is committed; the task claims the
row like the database worker does and runs the same kind function (:func:`sciencecity.core.jobs.job_deliver`),
so a message delivered twice runs the job once.

Start a worker with ``sciencecity worker`` (it starts this app's worker when ``REDIS_URL`` is set, with the
sweep that sends the jobs queued while Redis was down), or ``celery -A sciencecity.config.celery worker``
(no sweep: run ``sciencecity worker`` on at least one machine).

Delivery: ``acks_late`` (the message is acknowledged when the job has ended) and
``task_reject_on_worker_lost`` (a pool child killed mid-job gives its message back), one message
prefetched per process. Redis gives back a message not acknowledged within the visibility timeout
(``JOBS_VISIBILITY_TIMEOUT``, 1 hour by default, see docs/deploy.md): a message of a job still running
is then delivered again and does nothing, because the row is no longer queued.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sciencecity.config.base")

app = Celery("sciencecity")
app.config_from_object("django.conf:settings", namespace="CELERY")

RUN_JOB = "sciencecity.run_job"


@app.task(name=RUN_JOB, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(job_id: int) -> str:
    from sciencecity.core.jobs import job_deliver

    return job_deliver(int(job_id))


#: Broker connection pools by URL (a fresh connection costs ~25 ms a send, a pooled one ~1 ms), emptied in
#: a forked child (gunicorn workers must not share the master's sockets) and after a failed send.
_POOLS: dict[str, Any] = {}
os.register_at_fork(after_in_child=_POOLS.clear)


def send_job(job_id: int) -> None:
    """Publish job ``job_id`` to the jobs queue of the current ``REDIS_URL`` (once, no retry: the caller
    leaves the row queued for the sweep when this raises)."""
    from django.conf import settings

    url = settings.REDIS_URL
    if url not in _POOLS:
        # One quick retry to connect, not kombu's default backoff (6 s against a refused port): this runs in
        # a web request, and a job that could not be sent is sent by the sweep.
        options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "max_retries": 1, "interval_start": 0,
                   "interval_step": 0.2}
        _POOLS[url] = app.connection_for_write(url, transport_options=options).Pool(limit=8)
    pool = _POOLS[url]
    try:
        with pool.acquire(block=True, timeout=2) as connection:
            run_job.apply_async(args=[int(job_id)], connection=connection, queue=settings.JOBS_QUEUE, retry=False)
    except Exception:
        _POOLS.pop(url, None)  # a broken connection is not handed out again
        pool.force_close_all()
        raise
