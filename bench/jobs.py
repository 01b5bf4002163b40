"""Job backends side by side: the cost of queuing a job in a request, and the time until a worker has run it.

    .venv/bin/python bench/jobs.py [--jobs 30] [--redis redis://127.0.0.1:6379/1]

One SQLite database under var/bench/ (migrated here), one short job kind (``enterprises.tier_recompute`` on
an empty registry), queued one after the other from this process:

* baseline: the embedded queue, ``sciencecity worker`` polling the ``core_job`` table (``--sleep`` 1 s, the
  default);
* Celery: the same command with ``REDIS_URL`` set (a Celery worker; the id is pushed through Redis).

Prints per backend the medians (and 90th percentiles) of ``job_enqueue`` (the part a web request pays) and
of enqueue → ``done`` as seen through the database, and the Celery/baseline ratios. Skips Celery with a
message when Redis does not answer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import results

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench" / "jobs"
KIND = "enterprises.tier_recompute"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "sciencecity", "worker"], env=env, cwd=ROOT,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while " ready" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def measure(count: int) -> tuple[list[float], list[float]]:
    from sciencecity.core import jobs
    from sciencecity.core.models import Job, JobState

    enqueue, latency = [], []
    for number in range(count + 2):  # the first two warm the worker up and are not counted
        started = time.perf_counter()
        job = jobs.job_enqueue(kind=KIND)
        queued = time.perf_counter()
        deadline = time.monotonic() + 60
        while Job.objects.filter(pk=job.pk).values_list("state", flat=True).get() != JobState.DONE:
            if time.monotonic() > deadline:
                raise SystemExit(f"job {job.pk} not done within 60 s")
            time.sleep(0.002)
        if number >= 2:
            enqueue.append((queued - started) * 1000)
            latency.append((time.perf_counter() - started) * 1000)
    return enqueue, latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/1")
    args = parser.parse_args()

    VAR.mkdir(parents=True, exist_ok=True)
    queue = f"bench-jobs-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "PYTHONPATH": str(ROOT / "src"),
           "DATABASE_URL": f"sqlite:///{VAR / 'jobs.sqlite3'}", "SCIENCECITY_VAR_DIR": str(VAR),
           "TEXT_EMBEDDER": "none", "JOBS_QUEUE": queue, "JOBS_REDIS_PREFIX": queue}
    env.pop("REDIS_URL", None)
    print("migrating", env["DATABASE_URL"], flush=True)
    subprocess.run([sys.executable, "-m", "sciencecity", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT,
                   check=True)
    os.environ.update({key: env[key] for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SCIENCECITY_VAR_DIR",
                                                 "TEXT_EMBEDDER", "JOBS_QUEUE", "JOBS_REDIS_PREFIX")})
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings

    from sciencecity.core.ops import check_redis

    measured = {}
    backends = [("database (baseline)", {})]
    try:
        redis_ok = check_redis(args.redis).ok
    except Exception:  # noqa: BLE001
        redis_ok = False
    if redis_ok:
        backends.append(("celery + redis", {"REDIS_URL": args.redis}))
    else:
        print(f"Redis does not answer at {args.redis}: Celery skipped")
    for name, extra in backends:
        settings.REDIS_URL = extra.get("REDIS_URL", "")
        worker = start_worker({**env, **extra}, VAR / f"worker-{name.split()[0]}.log")
        try:
            measured[name] = measure(args.jobs)
        finally:
            worker.terminate()
            worker.wait(60)
    if redis_ok:
        from sciencecity.core.jobs import redis_client

        client = redis_client(args.redis)
        client.delete(queue, *client.keys(f"{queue}:*"), *client.keys(f"_kombu.binding*{queue}"))

    print(f"\n{args.jobs} jobs ({KIND}), each queued after the previous one is done; milliseconds")
    print(f"{'backend':22} {'enqueue p50':>12} {'p90':>8} {'to done p50':>12} {'p90':>8}")
    for name, (enqueue, latency) in measured.items():
        print(f"{name:22} {statistics.median(enqueue):12.1f} {percentile(enqueue, 0.9):8.1f} "
              f"{statistics.median(latency):12.1f} {percentile(latency, 0.9):8.1f}")
    figures = {"jobs": args.jobs, "kind": KIND, "backends": {
        name: {"enqueue_ms_p50": statistics.median(enqueue), "enqueue_ms_p90": percentile(enqueue, 0.9),
               "done_ms_p50": statistics.median(latency), "done_ms_p90": percentile(latency, 0.9)}
        for name, (enqueue, latency) in measured.items()}}
    if len(measured) == 2:
        (base_enqueue, base_latency), (enqueue, latency) = measured.values()
        figures["ratio_enqueue"] = statistics.median(enqueue) / statistics.median(base_enqueue)
        figures["ratio_done"] = statistics.median(latency) / statistics.median(base_latency)
        print(f"ratio celery/baseline: enqueue {figures['ratio_enqueue']:.2f}, to done {figures['ratio_done']:.2f}")
    results.write("jobs", figures)


if __name__ == "__main__":
    main()
