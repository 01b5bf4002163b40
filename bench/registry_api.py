"""Registry API latency at city scale, on SQLite and PostgreSQL, through a real HTTP server.

    .venv/bin/python bench/registry_api.py [--db sqlite|postgres|both] [--requests 200] [--scale city]

For each database: build a fresh database (SQLite under var/bench/, PostgreSQL ``bench_sciencecity``
on postgres://root@127.0.0.1:5432, created and dropped here), migrate, generate the demo data,
create a bureau officer with an API token, start gunicorn (2 workers; ``runserver`` if gunicorn
cannot start) and time list, filter and search requests with keep-alive ``http.client``. Prints
p50/p95 per endpoint and writes the figures to bench/results/registry_api-<time>.json.
Goal: p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
POSTGRES_SERVER = "postgres://root@127.0.0.1:5432"
POSTGRES_DATABASE = "bench_sciencecity"
GOAL_P95_MS = 100.0
WARM_UP = 20

ZH_TERMS = ["光明", "生物", "材料", "实验室", "孵化器", "深圳市", "医疗器械", "石墨烯", "研究院", "智能", "显示",
            "合成生物", "精密测量", "新能源", "华瑞", "锂电", "创新联合体", "众创空间", "银行", "科技园"]
EN_TERMS = ["graphene", "laboratory", "biotechnology", "robotics", "shenzhen", "materials", "display", "incubator",
            "semiconductor", "medical", "battery", "precision", "venture", "optics", "software", "institute"]
FILTERS = {
    "kind": ["enterprise", "laboratory", "incubator", "new_rd_institution", "research_platform", "service_agency"],
    "level": ["national", "provincial", "municipal", "district"],
    "status": ["operating", "under_construction", "planned", "closed"],
    "sector": ["IND-AI", "IND-DISPLAY", "IND-ICT", "IND-BIOMED", "IND-MEDDEV", "IND-GRAPHENE", "IND-BATTERY",
               "IND-MATERIAL", "IND-MANUFACTURING", "RF-SYNBIO", "RF-BRAIN", "HT-1", "HT-2", "HT-4"],
}

SETUP = r"""
import json, django
django.setup()
from django.db import connection
from sciencecity.accounts.choices import Role
from sciencecity.accounts.services import api_token_create, password_change, role_grant, user_create
from sciencecity.registry.models import Affiliation, Certification, Organisation, Person, Relation
user, one_time = user_create(actor=None, username="bench-officer", display_name="Benchmark officer")
password_change(user=user, old_password=one_time, new_password="Bench!" + one_time)
bureau = Organisation.objects.get(code="DEMO-ORG-0000001")
role_grant(actor=None, user=user, role=Role.BUREAU_OFFICER, organisation=bureau, reason="benchmark")
token, raw = api_token_create(user=user, name="benchmark")
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    version = connection.cursor().connection.info.server_version
else:
    import sqlite3
    version = sqlite3.sqlite_version
print(json.dumps({"token": raw, "database_version": str(version), "rows": {
    "organisations": Organisation.objects.count(), "people": Person.objects.count(),
    "certifications": Certification.objects.count(), "relations": Relation.objects.count(),
    "affiliations": Affiliation.objects.count(),
    "organisation_pages": (Organisation.objects.count() + 49) // 50,
}}))
"""


def machine() -> dict[str, str | int]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    return {"nproc": os.cpu_count() or 0, "cpu": model or platform.processor(), "memory": memory,
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kwargs)


def postgres(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def prepare(db: str) -> tuple[dict[str, str], Callable[[], None]]:
    """A fresh empty database for ``db``: (environment for the server, clean-up function)."""
    var_dir = VAR / db
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "SCIENCECITY_VAR_DIR": str(var_dir),
           "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT / "src")}
    if db == "sqlite":
        path = var_dir / "registry_api.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{path}"
        return env, lambda: None
    postgres(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
    postgres(f"CREATE DATABASE {POSTGRES_DATABASE}")
    env["DATABASE_URL"] = f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"
    return env, lambda: postgres(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, int, str]:
    port = free_port()
    gunicorn = BIN / "gunicorn"
    attempts = []
    if gunicorn.exists() or shutil.which("gunicorn"):
        attempts.append(("gunicorn -w 2", [str(gunicorn if gunicorn.exists() else "gunicorn"), "sciencecity.config.wsgi",
                                           "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]))
    attempts.append(("runserver --noreload", [str(BIN / "sciencecity"), "runserver", "--noreload",
                                              f"127.0.0.1:{port}"]))
    # The server's log goes to a file, not a pipe: every request logs a JSON line, and a pipe nobody reads
    # fills up and blocks the server mid-benchmark.
    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    for label, cmd in attempts:
        log_path = log_dir / f"server-{port}.log"
        with log_path.open("w", encoding="utf-8") as log:
            process = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=log, text=True)
        if wait_for(port, process):
            print(f"  server log: {log_path}", file=sys.stderr)
            return process, port, label
        stop(process)
        print(f"  {label} did not start: {log_path.read_text(encoding='utf-8', errors='replace')[-2000:]}",
              file=sys.stderr)
    raise SystemExit("no HTTP server could be started")


def wait_for(port: int, process: subprocess.Popen, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/registry/organisations")
            conn.getresponse().read()  # any answer (401 without a token) means the server is up
            return True
        time.sleep(0.3)
    return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def query_paths(kind: str, count: int, rng: random.Random, pages: int) -> list[str]:
    """``count`` varied request paths for one endpoint."""
    base = "/api/registry/organisations"
    paths = []
    for _ in range(count):
        if kind == "list":
            params = {"page": rng.randint(1, max(pages, 1))}
        elif kind == "filter":
            chosen = rng.sample(sorted(FILTERS), rng.randint(2, 4))
            params = {name: rng.choice(FILTERS[name]) for name in chosen}
            params["page"] = rng.choice([1, 1, 1, 2])
        elif kind == "search_zh":
            params = {"q": rng.choice(ZH_TERMS), "page": rng.choice([1, 1, 2])}
        elif kind == "search_en":
            params = {"q": rng.choice(EN_TERMS), "page": rng.choice([1, 1, 2])}
        elif kind == "people_search":
            base = "/api/registry/people"
            params = {"q": rng.choice(ZH_TERMS[:12] + EN_TERMS[:8]), "page": 1}
        else:
            raise ValueError(kind)
        paths.append(f"{base}?{urllib.parse.urlencode(params)}")
    return paths


def measure(port: int, token: str, paths: list[str]) -> tuple[list[float], list[int]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "Connection": "keep-alive"}
    timings, counts = [], []
    for path in paths:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise SystemExit(f"GET {path} → {response.status}: {body[:500]!r}")
        counts.append(json.loads(body)["count"])
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()
    return timings, counts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def bench(db: str, *, requests: int, scale: str, seed: int) -> dict:
    print(f"\n== {db}: fresh database, migrate, demo --scale {scale}", flush=True)
    env, clean_up = prepare(db)
    sciencecity = str(BIN / "sciencecity")
    server = None
    try:
        started = time.monotonic()
        run([sciencecity, "migrate", "--noinput", "-v", "0"], env)
        run([sciencecity, "demo", "--scale", scale, "--seed", str(seed), "-v", "0"], env, stdout=subprocess.DEVNULL)
        build_seconds = time.monotonic() - started
        setup = json.loads(run([sys.executable, "-c", SETUP], env, capture_output=True).stdout.strip().splitlines()[-1])
        print(f"   built in {build_seconds:.0f} s; rows: {setup['rows']}", flush=True)
        server, port, server_label = start_server(env)
        print(f"   server: {server_label} on 127.0.0.1:{port}", flush=True)
        rng = random.Random(f"bench-{seed}")
        endpoints = {}
        for kind in ("list", "filter", "search_zh", "search_en", "people_search"):
            measure(port, setup["token"], query_paths(kind, WARM_UP, rng, setup["rows"]["organisation_pages"]))
            paths = query_paths(kind, requests, rng, setup["rows"]["organisation_pages"])
            timings, counts = measure(port, setup["token"], paths)
            endpoints[kind] = {
                "requests": len(timings), "p50_ms": round(percentile(timings, 0.5), 1),
                "p95_ms": round(percentile(timings, 0.95), 1), "max_ms": round(max(timings), 1),
                "mean_results": round(sum(counts) / len(counts)), "distinct_queries": len(set(paths)),
                "example": paths[0], "slowest": paths[timings.index(max(timings))],
            }
            row = endpoints[kind]
            print(f"   {kind:<14} p50 {row['p50_ms']:>7.1f} ms   p95 {row['p95_ms']:>7.1f} ms   "
                  f"(n={row['requests']}, {row['distinct_queries']} distinct, ~{row['mean_results']} matches)",
                  flush=True)
        return {"database": db, "database_version": setup["database_version"], "server": server_label,
                "load_average_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                "rows": setup["rows"], "build_seconds": round(build_seconds, 1), "endpoints": endpoints}
    finally:
        if server is not None:
            stop(server)
        clean_up()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scale", default="city", choices=["small", "city", "national"])
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    if args.requests < 200:
        print("note: fewer than 200 requests per endpoint; the figures are indicative only", file=sys.stderr)
    info = machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, Python {info['python']}, "
          f"load average {info['load_average']} at start")
    print(f"goal: p95 ≤ {GOAL_P95_MS:.0f} ms per endpoint at {args.scale} scale")
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    runs = [bench(db, requests=args.requests, scale=args.scale, seed=args.seed) for db in databases]

    print(f"\n{'database':<10} {'endpoint':<14} {'p50 ms':>8} {'p95 ms':>8}  goal")
    failed = []
    for result in runs:
        for name, row in result["endpoints"].items():
            ok = row["p95_ms"] <= GOAL_P95_MS
            if not ok:
                failed.append(f"{result['database']}/{name}")
            print(f"{result['database']:<10} {name:<14} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}  "
                  f"{'ok' if ok else 'OVER'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"registry_api-{stamp}.json"
    out.write_text(json.dumps({"benchmark": "registry_api", "when": stamp, "machine": info, "scale": args.scale,
                               "seed": args.seed, "requests_per_endpoint": args.requests,
                               "goal_p95_ms": GOAL_P95_MS, "runs": runs, "over_goal": failed},
                              ensure_ascii=False, indent=2))
    print(f"\nresults: {out.relative_to(ROOT)}")
    if failed:
        print(f"p95 over {GOAL_P95_MS:.0f} ms: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
