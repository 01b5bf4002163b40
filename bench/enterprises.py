"""Enterprise services: the cost of recomputing every enterprise's tiers (after a criteria change).

    .venv/bin/python bench/enterprises.py [--enterprises 5000] [--runs 3]

A fresh SQLite database under var/bench/ is migrated and filled with N synthetic enterprises (the
demo generator's profiles: three fiscal years and IP each). Then, ``--runs`` times, it times

* ``engine``: ``hnte.assess`` over N typed profiles already in memory (the baseline: pure engine);
* ``records``: ``profile_records`` (DB rows → typed profiles, the input h-policy's columns read);
* ``recompute``: ``memberships_recompute`` over all N (load, assess, tier criteria, open/close stays,
  one audit event),

and prints the medians, the ratio of the full recompute to the pure engine and the peak memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"

CHILD = r"""
import datetime as dt, resource, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from sciencecity.engines.rules import hnte
from sciencecity.enterprises import cultivation, selectors
from sciencecity.enterprises.demo import profile_rows
from sciencecity.enterprises.models import EnterpriseProfile, FiscalYear, IntellectualProperty, TierMembership
from sciencecity.registry.models import Organisation

n, runs = int(sys.argv[1]), int(sys.argv[2])
today = dt.date(2026, 6, 30)
orgs = Organisation.objects.bulk_create([
    Organisation(code=f"BENCH-{i:06d}", name=f"基准企业{i}", kind="enterprise", is_synthetic=True,
                 founded_on=dt.date(2005 + i % 20, 1 + i % 12, 1)) for i in range(n)])
profiles, years, rights = [], [], []
for org in orgs:
    p, y, ip = profile_rows(7, org, today)
    profiles.append(p); years.append(y); rights.append(ip)
EnterpriseProfile.objects.bulk_create(profiles, batch_size=2000)
for p, ys, ips in zip(profiles, years, rights):
    for r in ys + ips:
        r.profile = p
FiscalYear.objects.bulk_create([r for ys in years for r in ys], batch_size=2000)
IntellectualProperty.objects.bulk_create([r for ips in rights for r in ips], batch_size=2000)

timings = {"engine": [], "records": [], "recompute": []}
for _ in range(runs):
    started = time.perf_counter()
    records = selectors.profile_records(assessed_on=today)
    timings["records"].append(time.perf_counter() - started)
    started = time.perf_counter()
    verdicts = [hnte.assess(r).verdict for r in records]
    timings["engine"].append(time.perf_counter() - started)
    TierMembership.objects.all().delete()
    started = time.perf_counter()
    counts = cultivation.memberships_recompute(reason="bench", day=today)
    timings["recompute"].append(time.perf_counter() - started)
med = {k: statistics.median(v) for k, v in timings.items()}
print(f"enterprises: {n}, runs: {runs}")
for k in ("engine", "records", "recompute"):
    print(f"  {k:<10} median {med[k]:7.2f} s   ({med[k] / n * 1000:.2f} ms per enterprise)")
print(f"  recompute / engine: {med['recompute'] / med['engine']:.2f}x")
print(f"  verdicts: " + ", ".join(f"{v} {verdicts.count(v)}" for v in ("certain", "possible", "not_yet")))
print(f"  stays opened by the last recompute: {counts['entered']}")
print(f"  peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / "enterprises.sqlite3"
    path.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), DJANGO_SETTINGS_MODULE="sciencecity.config.base",
               SCIENCECITY_VAR_DIR=str(VAR), DEBUG="0", DATABASE_URL=f"sqlite:///{path}")
    subprocess.run([sys.executable, "-c", CHILD, str(args.enterprises), str(args.runs)], env=env, check=True)
    path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
