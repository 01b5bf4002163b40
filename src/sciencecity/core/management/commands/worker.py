"""``sciencecity worker``: run queued background jobs (large imports …) out of the web requests."""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from sciencecity.core import jobs


class Command(BaseCommand):
    help = ("Run queued background jobs. At start, jobs left running by a worker that died are queued again. "
            "Several workers may run side by side on PostgreSQL.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="Run the jobs queued now, then exit (instead of waiting for more).")
        parser.add_argument("--sleep", type=float, default=1.0, help="Seconds between polls of an empty queue.")

    def handle(self, *args, once: bool = False, sleep: float = 1.0, **options):
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
