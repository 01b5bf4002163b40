"""gunicorn settings matched to the job design: ``gunicorn -c python:sciencecity.config.gunicorn sciencecity.config.wsgi``.

Long work (assignment, large imports, reindexing) runs in ``sciencecity worker``, so a web request is
short: the timeout is there to kill a stuck worker, not to let an import finish. Every value can be
overridden from the environment (``GUNICORN_*``); see docs/deploy.md §3.
"""

from __future__ import annotations

import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# sync workers: CPU-bound page rendering; (2 × cores) + 1 is gunicorn's rule, capped by memory
# (each worker holds its own search index until that moves out of the process).
workers = int(os.environ.get("GUNICORN_WORKERS", str(min(2 * (os.cpu_count() or 1) + 1, 8))))
worker_class = "sync"
# The slowest request kept in the web tier is an upload's dry run below IMPORT_JOB_THRESHOLD_ROWS
# (≈ 2,000 rows: a few seconds) or a PDF report; 60 s is a wide margin, and longer work is a job.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))  # behind nginx on loopback
# Recycle workers now and then (memory growth of long-lived processes), staggered.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Heartbeat files in RAM: a worker on a slow disk is not mistaken for a stuck one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # the app writes its own JSON request log
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


# Load the application once in the master and fork it: Django's start-up, the tokenizer's dictionary and
# the marketplace indexes (built in when_ready) are shared by every worker instead of paid by each on
# its first request (seconds each at city scale). GUNICORN_PRELOAD=0 turns it off.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"


def when_ready(server):
    """In the master, before the workers are forked: warm what every worker would otherwise build."""
    if preload_app and os.environ.get("GUNICORN_WARM_UP", "1") != "0":
        from sciencecity.core import ops

        server.log.info("warm-up: %s", ops.warm_up())


def on_starting(server):
    """Empty the Prometheus multiprocess folder: files of the previous run would be counted again."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the multiprocess metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
