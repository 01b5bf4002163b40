"""The four slow first steps of issue 11 item 10, on a fresh web worker, before and after.

    .venv/bin/python bench/slow_steps.py --database var/bench/city.sqlite3 [--runs 3]
                                          [--baseline-src /work/main/src]

The database is a migrated SQLite file with demo data (``sciencecity demo --scale city``,
``demo-marketplace``, ``demo-programmes``). For each side (this checkout's ``src`` and
``--baseline-src``, measured in the same run) and each step, a fresh Python process does what a
gunicorn worker does — imports ``sciencecity.config.wsgi`` — lets the worker's start-up finish
(the warm-up thread, when the side has one; its duration is reported), then times the step as the
first user meets it and again four times warm:

- ``login``: POST the login form (real PBKDF2 hashing) and follow the redirect to the home page;
- ``demand``: an enterprise user saves a new demand and follows the redirect to its page (with
  matches);
- ``search``: the marketplace search page for a Chinese query;
- ``apidocs``: /api/docs and the /api/openapi.json it loads.

Each (side, step) runs ``--runs`` times in fresh processes; the medians of the first request are
the figures, with the ratio baseline / this checkout. The baseline side runs on a copy of the
database migrated back to the baseline's migrations. Results go to bench/results/slow_steps-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STEPS = ("login", "demand", "search", "apidocs")
PASSWORD = "Bench-pass-2026!x"

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sciencecity.config.base")
step = sys.argv[1]
start = time.perf_counter()
from sciencecity.config.wsgi import application  # what gunicorn imports
import threading
warm = [t for t in threading.enumerate() if t.name == "sciencecity-warm-up"]
for t in warm:
    t.join()
worker_start = time.perf_counter() - start
from django.test import Client
from sciencecity.accounts.models import User

def login():
    c = Client()
    r = c.post("/accounts/login/", {"username": "bench-enterprise", "password": sys.argv[2]}, HTTP_HOST="localhost")
    assert r.status_code == 302, r.status_code
    assert c.get(r.url, HTTP_HOST="localhost").status_code == 200

user = User.objects.get(username="bench-enterprise")
n = [0]
def demand():
    c = Client()
    c.force_login(user)
    n[0] += 1
    r = c.post("/transfer/demands/new/", {"title": f"高精度机器视觉检测设备需求{n[0]}",
               "public_summary": "寻求用于锂电池极片缺陷检测的机器视觉与深度学习技术。", "keywords": "机器视觉 缺陷检测",
               "modes": ["licence"], "min_trl": "4"}, HTTP_HOST="localhost")
    assert r.status_code == 302, r.content[:2000]
    assert c.get(r.url, HTTP_HOST="localhost").status_code == 200

def search():
    c = Client()
    assert c.get("/transfer/search/", {"q": "锂电池 负极材料", "kind": "achievements"}, HTTP_HOST="localhost").status_code == 200

def apidocs():
    c = Client()
    assert c.get("/api/docs", HTTP_HOST="localhost").status_code == 200
    assert c.get("/api/openapi.json", HTTP_HOST="localhost").status_code == 200

work = {"login": login, "demand": demand, "search": search, "apidocs": apidocs}[step]
times = []
for _ in range(5):
    t = time.perf_counter()
    work()
    times.append(time.perf_counter() - t)
print(json.dumps({"worker_start": worker_start, "first": times[0], "warm": sorted(times[1:])[1:3]}))
"""

SETUP = r"""
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sciencecity.config.base")
import django
django.setup()
from django.utils import timezone
from sciencecity.accounts.choices import Role
from sciencecity.accounts.models import Membership, User
from sciencecity.registry.models import Organisation
org = Organisation.objects.filter(kind="enterprise").order_by("pk").first()
user, _ = User.objects.get_or_create(username="bench-enterprise")
user.set_password(sys.argv[1]); user.password_changed_at = timezone.now(); user.must_change_password = False
user.save()
Membership.objects.get_or_create(user=user, role=Role.ENTERPRISE_USER, organisation=org)
"""


def run(src: Path, database: Path, code: str, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(src), DATABASE_URL=f"sqlite:///{database}", ALLOWED_HOSTS="localhost",
               DEBUG="0", PYTHONDONTWRITEBYTECODE="0")
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"child failed ({src}):\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def manage(src: Path, database: Path, *args: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(src), DATABASE_URL=f"sqlite:///{database}")
    subprocess.run([sys.executable, "-m", "sciencecity", *args], env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sides = {"this": ROOT / "src"}
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    databases = {"this": work / "slow_steps_this.sqlite3"}
    shutil.copy(args.database, databases["this"])
    if args.baseline_src:
        sides["baseline"] = args.baseline_src
        databases["baseline"] = work / "slow_steps_baseline.sqlite3"
        shutil.copy(args.database, databases["baseline"])
        # the baseline's schema: undo this checkout's migrations the baseline does not have
        manage(ROOT / "src", databases["baseline"], "migrate", "transfer", "0001", "-v0")
        manage(ROOT / "src", databases["baseline"], "migrate", "core", "0008", "-v0")
    for side, src in sides.items():
        run(src, databases[side], SETUP, PASSWORD)
    results: dict[str, dict] = {}
    for side, src in sides.items():
        for step in STEPS:
            rows = [json.loads(run(src, databases[side], CHILD, step, PASSWORD)) for _ in range(args.runs)]
            results.setdefault(side, {})[step] = {
                "first_median": statistics.median(r["first"] for r in rows),
                "warm_median": statistics.median(x for r in rows for x in r["warm"]),
                "worker_start_median": statistics.median(r["worker_start"] for r in rows),
                "runs": rows,
            }
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'step':<9} {'side':<9} {'first (median)':>15} {'warm':>8} {'worker start':>13}")
    for step in STEPS:
        for side in sides:
            r = results[side][step]
            print(f"{step:<9} {side:<9} {r['first_median']:>14.3f}s {r['warm_median']:>7.3f}s "
                  f"{r['worker_start_median']:>12.3f}s")
        if "baseline" in results:
            ratio = results["baseline"][step]["first_median"] / results["this"][step]["first_median"]
            print(f"{'':<9} ratio baseline/this, first request: {ratio:.1f}×")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"slow_steps-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
