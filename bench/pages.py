"""Where a request's time goes, per page kind of bench/load.py's traffic, in one Django process.

    .venv/bin/python bench/pages.py [--requests 30] [--profile KIND] [--top 25]

Against the city-scale PostgreSQL database that ``bench/load.py --reuse`` built and kept
(``bench_sciencecity_load``), with ``DEBUG=0`` and the production settings: for each page kind the
median wall time over ``--requests`` requests (after one warm-up request), the median number of SQL
queries and the median time spent in SQL (from ``connection.execute_wrapper``, so the rest is Python:
middleware, view, template). ``--profile KIND`` prints cProfile's top functions (cumulative) for
that kind (``all`` for the whole mix). No server and no network: Django's test client, the same
officer session as the load test. Writes bench/results/pages-<time>.json.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
import registry_api as common  # noqa: E402
import results  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--profile", default="", help="a page kind (e.g. org_list) or 'all'")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sql", default="", help="print the SQL of one request of this page kind")
    args = parser.parse_args(argv)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "DEBUG": "0",
                       "ALLOWED_HOSTS": "127.0.0.1", "DATABASE_URL": load.DATABASE_URL, "LOG_LEVEL": "ERROR",
                       "REQUEST_LOG": "0", "SCIENCECITY_VAR_DIR": str(load.VAR)})
    sys.path.insert(0, str(common.ROOT / "src"))
    if not load.populated(dict(os.environ)):
        raise SystemExit("no city-scale database: run `bench/load.py --reuse --seconds 5 --workers 1` once")

    import cProfile
    import pstats
    import random
    import urllib.parse

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from sciencecity.accounts.choices import Role
    from sciencecity.accounts.models import User
    from sciencecity.accounts.services import role_grant, user_create
    from sciencecity.accounts.two_factor import SESSION_VERIFIED
    from sciencecity.engines.totp import totp
    from sciencecity.programmes.models import Call
    from sciencecity.registry.models import Organisation
    from sciencecity.transfer.models import Achievement

    officer = User.objects.filter(username="bench-pages-officer").first()
    if officer is None:  # a bureau officer as in the load test (its own account: no password needed in process)
        bureau = Organisation.objects.filter(code="GOV-KCJ").first() or Organisation.objects.order_by("pk").first()
        officer, _one_time = user_create(actor=None, username="bench-pages-officer", display_name="bench pages")
        User.objects.filter(pk=officer.pk).update(must_change_password=False)
        role_grant(actor=None, user=officer, role=Role.BUREAU_OFFICER, organisation=bureau, reason="benchmark")
        officer.refresh_from_db()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(officer)
    page = client.get("/accounts/two-factor/setup/").content.decode()
    found = re.search(r'value="([A-Z2-7]+)" data-testid="two-factor-secret"', page)
    if found:  # first run: enrol as a user would (bureau officers must), the secret read from the page
        client.post("/accounts/two-factor/setup/", {"code": totp(found.group(1))})
    else:  # enrolled before: this session has passed the code step, as bench/load.py's officer has
        session = client.session
        session[SESSION_VERIFIED] = officer.pk
        session.save()
    sample = lambda qs: list(qs.order_by("?").values_list("pk", flat=True)[:200])  # noqa: E731
    setup = {"organisations": sample(Organisation.objects.all()),
             "achievements": sample(Achievement.objects.filter(status="active")), "calls": sample(Call.objects.all())}
    rng = random.Random(7)
    paths = load.Client.read_paths(None)

    def path_for(template: str) -> str:
        return template.format(term=urllib.parse.quote(rng.choice(load.SEARCH_TERMS)),
                               org=rng.choice(setup["organisations"]), ach=rng.choice(setup["achievements"] or [0]),
                               call=rng.choice(setup["calls"] or [0]))

    sql = {"n": 0, "seconds": 0.0}

    def wrapper(execute, query, params, many, context):
        started = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            if sql.get("print"):
                print(f"   {(time.perf_counter() - started) * 1000:6.1f} ms  {query[:160]}")
            sql["n"] += 1
            sql["seconds"] += time.perf_counter() - started

    profiler = cProfile.Profile()
    rows = {}
    print(f"machine: {common.machine()}", flush=True)
    print(f"{'kind':<22}{'median ms':>10}{'SQL ms':>8}{'queries':>8}{'status':>8}")
    with connection.execute_wrapper(wrapper):
        for kind, template in paths:
            client.get(path_for(template))  # warm-up: first-use costs are not the steady state
            walls, sql_ms, counts, statuses = [], [], [], set()
            for _ in range(max(args.requests, 1)):
                sql.update(n=0, seconds=0.0, print=args.sql == kind and not walls)
                profiling = args.profile in (kind, "all")
                if profiling:
                    profiler.enable()
                started = time.perf_counter()
                response = client.get(path_for(template))
                walls.append((time.perf_counter() - started) * 1000)
                if profiling:
                    profiler.disable()
                sql_ms.append(sql["seconds"] * 1000)
                counts.append(sql["n"])
                statuses.add(response.status_code)
            rows[kind] = {"median_ms": round(statistics.median(walls), 1), "sql_ms": round(statistics.median(sql_ms), 1),
                          "queries": statistics.median(counts), "status": sorted(statuses)}
            print(f"{kind:<22}{rows[kind]['median_ms']:>10.1f}{rows[kind]['sql_ms']:>8.1f}"
                  f"{rows[kind]['queries']:>8.0f}{','.join(map(str, sorted(statuses))):>8}", flush=True)
    mean = statistics.mean(r["median_ms"] for r in rows.values())
    print(f"mean of the medians: {mean:.1f} ms → at most {1000 / mean:.0f} req/s per busy core")
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    results.write("pages", {"requests": args.requests, "pages": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
