"""``sciencecity worker``: run queued background jobs (large imports …) out of the web requests.

Without ``REDIS_URL`` it polls the ``core_job`` table (the embedded default, no extra server). With
``REDIS_URL`` it starts a Celery worker on the jobs queue (config/celery.py) beside a sweep thread that,
at start and every ``JOBS_SWEEP_SECONDS``, queues again the jobs of dead workers and sends the queued jobs
Redis does not hold. ``--once`` always drains the table in this process and exits (either backend).
"""

from __future__ import annotations

import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, connections

from sciencecity.core import jobs


class Command(BaseCommand):
    help = ("Run queued background jobs: a Celery worker when REDIS_URL is set, else a loop over the job table. "
            "At start, jobs left running by a worker that died are queued again. Several workers may run side "
            "by side (on PostgreSQL, or on several machines with Redis).")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="Run the jobs queued now, then exit (instead of waiting for more).")
        parser.add_argument("--sleep", type=float, default=1.0, help="Seconds between polls of an empty queue.")
        parser.add_argument("--concurrency", type=int, default=1,
                            help="With REDIS_URL: jobs run at once by this worker (1: in the worker process; "
                                 "more: a pool of processes).")
        parser.add_argument("--sweep-every", type=float, default=None,
                            help="With REDIS_URL: seconds between sweeps (default JOBS_SWEEP_SECONDS).")

    def handle(self, *args, once: bool = False, sleep: float = 1.0, concurrency: int = 1,
               sweep_every: float | None = None, **options):
        if jobs.celery_enabled() and not once:
            return self._celery(concurrency=max(1, concurrency),
                                sweep_every=sweep_every or float(settings.JOBS_SWEEP_SECONDS))
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_args: stopping.append(True))
        name = jobs.worker_name()
        requeued = jobs.jobs_requeue_dead()
        if requeued:
            self.stdout.write(f"queued again (their worker had stopped): {', '.join(map(str, requeued))}")
        self.stdout.write(f"worker {name} ready")
        while not stopping:
            if not connection.in_atomic_block:  # (tests call the command inside their transaction)
                close_old_connections()
            job = jobs.job_claim(name)
            if job is None:
                if once:
                    break
                time.sleep(sleep)
                continue
            self.stdout.write(f"job {job.pk} ({job.kind}) started")
            job = jobs.job_run(job)
            self.stdout.write(f"job {job.pk} ({job.kind}) {job.state}: {job.message}")

    def _sweep(self) -> None:
        swept = jobs.jobs_sweep()
        if swept["requeued"]:
            self.stdout.write(f"queued again (their worker had stopped): {', '.join(map(str, swept['requeued']))}")
        if swept["sent"]:
            self.stdout.write(f"sent to the broker (queued while it was unreachable): "
                              f"{', '.join(map(str, swept['sent']))}")
        self.stdout.flush()

    def _sweep_loop(self, stop: threading.Event, every: float) -> None:
        while not stop.wait(every):
            try:
                self._sweep()
            except Exception as exc:  # noqa: BLE001 — the database or Redis is away: the next sweep tries again
                self.stderr.write(f"job sweep failed: {exc}")
            finally:
                close_old_connections()

    def _celery(self, *, concurrency: int, sweep_every: float) -> None:
        from sciencecity.config.celery import app

        self._sweep()
        connections.close_all()  # a pool of processes must not inherit this process's database connection
        stop = threading.Event()
        sweeper = threading.Thread(target=self._sweep_loop, args=(stop, sweep_every), name="job-sweep", daemon=True)
        sweeper.start()
        self.stdout.write(f"worker {jobs.worker_name()} ready (Celery, queue {settings.JOBS_QUEUE}, "
                          f"{concurrency} at once, sweep every {sweep_every:g} s)")
        self.stdout.flush()
        worker = app.Worker(queues=[settings.JOBS_QUEUE], concurrency=concurrency,
                            pool_cls="solo" if concurrency == 1 else "prefork",
                            hostname=f"sciencecity-{jobs.worker_name().replace(':', '-')}@%h",
                            loglevel="INFO", without_mingle=True, without_gossip=True, quiet=True)
        try:
            worker.start()
        finally:
            stop.set()
        if worker.exitcode:
            raise SystemExit(worker.exitcode)
