"""Spreadsheet import speed: organisations, dry run and confirm, on SQLite and PostgreSQL.

    .venv/bin/python bench/imports.py [--db sqlite|postgres|both] [--sizes 1000,5000] [--runs 3]
                                      [--baseline-src /work/main/src] [--baseline-sizes 1000]
                                      [--large 100000]

For each database: a fresh database (SQLite under var/bench/, PostgreSQL ``bench_imports`` on
postgres://root@127.0.0.1:5432, created and dropped here), migrated, with a bureau officer. For each
size it generates an organisation workbook with openpyxl (every column filled, sectors and aliases,
a valid credit code on each row; new codes on every run so each confirm creates its rows) and times
``import_batch_create`` (upload + dry run) and ``import_batch_confirm`` (the atomic write) in the
same process, ``--runs`` times; it prints the medians and writes them to
bench/results/imports-<time>.json.

``--baseline-src`` runs the same measurement (one run, ``--baseline-sizes``) against another
checkout's ``src`` (e.g. the main worktree before this change) so the before/after ratio comes from
the same machine in the same minute.

``--large N`` also imports N rows through the background jobs (upload → dry-run job → confirm job,
run by the worker's own functions in the process) and prints their times, the number of progress
reports and the peak resident memory.

Goal: 5,000 rows dry run + confirm ≤ 5 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
POSTGRES_SERVER = "postgres://root@127.0.0.1:5432"
POSTGRES_DATABASE = "bench_imports"
GOAL_SECONDS = 5.0

CHILD = r"""
import io, json, os, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from openpyxl import Workbook
from sciencecity.accounts.choices import Role
from sciencecity.accounts.models import Membership, User
from sciencecity.core.importing import import_batch_confirm, import_batch_create
from sciencecity.registry.importers import OrganisationImporter
from sciencecity.registry.models import Organisation
from sciencecity.registry.validators import credit_code_check_character

sizes = [int(s) for s in sys.argv[1].split(",")]
runs = int(sys.argv[2])
bureau = Organisation.objects.create(code="GOV-KCJ", name="光明区科技创新局", kind="government_department")
user = User.objects.create(username="bench-imports")
Membership.objects.create(user=user, role=Role.BUREAU_OFFICER, organisation=bureau)
KINDS = ["enterprise", "laboratory", "incubator", "research_institute", "university"]
LEVELS = ["national", "provincial", "municipal", "district", "none"]
SECTORS = ["IND-AI", "IND-DISPLAY", "IND-BIOMED", "HT-1", "RF-INFO"]

def workbook(prefix, n, serial):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("机构")
    ws.append(["编码", "名称", "英文名称", "类型", "级别", "状态", "统一社会信用代码", "成立日期", "地址", "所在区",
               "领域", "别名", "关键词", "简介"])
    for i in range(n):
        body = f"{serial:02d}{i:07d}"
        first17 = "91440300" + body
        ws.append([f"{prefix}-{i:06d}", f"光明测试企业{prefix}{i}号有限公司", f"Bench Co {prefix} {i}",
                   KINDS[i % 5], LEVELS[i % 5], "operating", first17 + credit_code_check_character(first17),
                   "2019-06-18", f"光明区示例路{i}号", "光明区", "; ".join(SECTORS[: 1 + i % 3]),
                   f"测试{prefix}{i}", "机器视觉 传感器", "从事机器视觉传感器研发。"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

result = {}
serial = 0
importer = OrganisationImporter()
for n in sizes:
    dry, confirm = [], []
    for run in range(runs):
        serial += 1
        content = workbook(f"B{serial:02d}", n, serial)
        start = time.perf_counter()
        batch = import_batch_create(importer=importer, file_name="bench.xlsx", content=content, actor=user)
        middle = time.perf_counter()
        assert batch.status == "dry_run", (batch.status, batch.report.get("results", [])[:3])
        report = import_batch_confirm(batch=batch, actor=user)
        end = time.perf_counter()
        assert report.counts["created"] == n, report.counts
        dry.append(middle - start)
        confirm.append(end - middle)
        print(f"  {n} rows run {run + 1}: dry run {middle - start:.2f} s, confirm {end - middle:.2f} s",
              file=sys.stderr, flush=True)
    result[str(n)] = {"dry_run_s": statistics.median(dry), "confirm_s": statistics.median(confirm),
                      "total_s": statistics.median([a + b for a, b in zip(dry, confirm)]),
                      "runs": runs, "dry_run_all": dry, "confirm_all": confirm}
large = int(sys.argv[3])
if large:
    import resource
    from django.conf import settings
    from sciencecity.core import jobs
    from sciencecity.core.import_jobs import import_batch_confirm_submit, import_batch_submit
    settings.JOBS_INLINE = False
    content = workbook("L", large, 99)
    seen = []
    def work():
        while (job := jobs.job_claim("bench:1")) is not None:
            original = jobs.JobContext.progress
            def spy(self, done, total, message=""):
                seen.append((done, total))
                return original(self, done, total, message)
            jobs.JobContext.progress = spy
            try:
                job = jobs.job_run(job)
            finally:
                jobs.JobContext.progress = original
            assert job.state == "done", job.message
    start = time.perf_counter()
    batch, job = import_batch_submit(importer=importer, file_name="large.xlsx", content=content, actor=user)
    assert job is not None
    work()
    middle = time.perf_counter()
    batch.refresh_from_db()
    assert batch.status == "dry_run", batch.status
    _report, job = import_batch_confirm_submit(batch=batch, actor=user)
    work()
    end = time.perf_counter()
    assert Organisation.objects.filter(code__startswith="L-").count() == large
    result["large_job"] = {"rows": large, "dry_run_s": middle - start, "confirm_s": end - middle,
                           "progress_reports": len(seen),
                           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(f"  {large} rows as jobs: dry run {middle - start:.1f} s, confirm {end - middle:.1f} s, "
          f"{len(seen)} progress reports", file=sys.stderr, flush=True)
print(json.dumps(result))
"""


def _postgres(command: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'{command} "{POSTGRES_DATABASE}"')


def measure(db: str, sizes: list[int], runs: int, src: Path, large: int = 0) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src)
    env["DJANGO_SETTINGS_MODULE"] = "sciencecity.config.base"
    env["SCIENCECITY_VAR_DIR"] = str(VAR)
    env["DEBUG"] = "0"
    VAR.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        path = VAR / "imports.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        _postgres("DROP DATABASE IF EXISTS")
        _postgres("CREATE DATABASE")
        env["DATABASE_URL"] = f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"
    try:
        completed = subprocess.run([sys.executable, "-c", CHILD, ",".join(map(str, sizes)), str(runs), str(large)],
                                   env=env,
                                   cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        if db == "postgres":
            _postgres("DROP DATABASE IF EXISTS")
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"the {db} run failed")
    sys.stderr.write(completed.stderr)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src/ to measure as the baseline")
    parser.add_argument("--baseline-sizes", default="1000")
    parser.add_argument("--large", type=int, default=0,
                        help="also import this many rows through the background jobs (e.g. 100000)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    figures: dict = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                                 "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
                     "goal_s": GOAL_SECONDS, "results": {}, "baseline": {}}
    for db in databases:
        print(f"{db}: sizes {sizes}, {args.runs} runs", file=sys.stderr)
        figures["results"][db] = measure(db, sizes, args.runs, ROOT / "src", args.large)
        if args.baseline_src:
            baseline_sizes = [int(s) for s in args.baseline_sizes.split(",")]
            print(f"{db}: baseline {args.baseline_src}, sizes {baseline_sizes}, 1 run", file=sys.stderr)
            figures["baseline"][db] = measure(db, baseline_sizes, 1, args.baseline_src)
    print(f"{'db':9} {'rows':>7} {'dry run s':>10} {'confirm s':>10} {'total s':>8}  goal ≤ {GOAL_SECONDS:.0f} s "
          "(5,000 rows)")
    for db, by_size in figures["results"].items():
        large = by_size.pop("large_job", None)
        if large:
            figures.setdefault("large_job", {})[db] = large
            print(f"{db:9} {large['rows']:7,} {large['dry_run_s']:10.2f} {large['confirm_s']:10.2f} "
                  f"{large['dry_run_s'] + large['confirm_s']:8.2f}  as background jobs, "
                  f"{large['progress_reports']} progress reports, peak RSS {large['peak_rss_mb']:.0f} MB")
        for size, row in by_size.items():
            flag = ""
            if int(size) == 5000:
                flag = "  ok" if row["total_s"] <= GOAL_SECONDS else "  OVER GOAL"
            print(f"{db:9} {int(size):7,} {row['dry_run_s']:10.2f} {row['confirm_s']:10.2f} {row['total_s']:8.2f}{flag}")
            base = figures["baseline"].get(db, {}).get(size)
            if base:
                ratio = base["total_s"] / row["total_s"]
                row["baseline_total_s"] = base["total_s"]
                row["speed_up"] = ratio
                print(f"{'  before':9} {int(size):7,} {base['dry_run_s']:10.2f} {base['confirm_s']:10.2f} "
                      f"{base['total_s']:8.2f}  ×{ratio:.0f} faster now")
    figures["machine"]["load_average_at_end"] = os.getloadavg()
    print(f"load average (1, 5, 15 min) at start {figures['machine']['load_average_at_start']}, "
          f"at end {figures['machine']['load_average_at_end']} on {os.cpu_count()} CPUs")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"imports-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
