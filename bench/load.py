"""Mixed-traffic load test through gunicorn on PostgreSQL at city scale, 1 and 4 workers, before and after.

    .venv/bin/python bench/load.py [--seconds 60 | --long] [--clients 20] [--workers 1,4]
                                   [--baseline-src /work/main/src] [--reuse]

Traffic (each client a thread with its own keep-alive connection, loopback only): a logged-in bureau
officer's reads — portal home, plan dashboard, registry and marketplace lists, registry and
marketplace searches, organisation / achievement / call details, list APIs — with one write (an
enterprise user's ``POST /api/transfer/demands``, audited) per 20 reads and one full login (login page
+ password POST) per 100 requests. The generator runs in this process and is counted in the same
run (its own CPU share is printed).

Database: ``bench_sciencecity_load`` on ``postgres://root@127.0.0.1:5432`` built with ``sciencecity
demo --scale city``, ``demo-marketplace --scale city``, ``demo-programmes``, the bundled plan and 10 years of values (``--reuse`` keeps an already built
one; otherwise it is created and, at the end, dropped). For each worker count the server runs the
code under test and, with ``--baseline-src``, the baseline code against the same database, one after
the other, so the ratio is measured in one run; each with its own gunicorn settings
(``sciencecity/config/gunicorn.py`` when the code has one, else gunicorn's defaults; the worker count
and timeout are the same). Each configuration: 20 s warm-up, then ``--seconds``
(default 60; ``--long`` = 300) or ``--max-requests`` (default 200,000), whichever ends first.

Prints requests/s, p50/p95/p99, errors (non-2xx/3xx or connection failures) per configuration and
writes ``bench/results/load-<time>.json``. Goal (issue 15): ≥ 300 requests/s at p95 ≤ 200 ms with
4 workers, 0 errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import resource
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import registry_api as common  # noqa: E402

ROOT = common.ROOT
BIN = common.BIN
DATABASE = "bench_sciencecity_load"
DATABASE_URL = f"{common.POSTGRES_SERVER}/{DATABASE}"
VAR = ROOT / "var" / "bench" / "load"
WRITE_EVERY = 20  # one write per 20 reads
LOGIN_EVERY = 100  # one full login per 100 requests
WARM_UP_SECONDS = 20.0  # every worker has served every kind of page before the measurement
GOAL_RPS, GOAL_P95_MS = 300.0, 200.0
SEARCH_TERMS = ["光明", "生物", "材料", "实验室", "智能", "石墨烯", "医疗器械", "新能源", "芯片", "graphene", "robotics"]

SETUP = r"""
import json, re, django
django.setup()
from django.conf import settings
from django.db import connection
from django.test import Client
from sciencecity.accounts.choices import Role
from sciencecity.accounts.models import Membership, User
from sciencecity.accounts.services import api_token_create, password_change, role_grant, user_create
from sciencecity.engines.totp import totp
from sciencecity.programmes.models import Call
from sciencecity.registry.models import Organisation
from sciencecity.transfer.models import Achievement, TechDemand

def account(username, role, organisation):
    user = User.objects.filter(username=username).first()
    password = "Bench!Load-2026x"
    if user is None:
        user, one_time = user_create(actor=None, username=username, display_name=username)
        password_change(user=user, old_password=one_time, new_password=password)
        role_grant(actor=None, user=user, role=role, organisation=organisation, reason="benchmark")
    return user, password

officer, _ = account("bench-load-officer", Role.BUREAU_OFFICER, Organisation.objects.get(code="GOV-KCJ"))
enterprise = Organisation.objects.filter(kind="enterprise").order_by("pk").first()
member, member_password = account("bench-load-enterprise", Role.ENTERPRISE_USER, enterprise)
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(officer)
page = client.get("/accounts/two-factor/setup/").content.decode()
found = re.search(r'value="([A-Z2-7]+)" data-testid="two-factor-secret"', page)
if found:  # first run: enrol as a user would (secret read from the page)
    assert client.post("/accounts/two-factor/setup/", {"code": totp(found.group(1))}).status_code == 200
else:  # enrolled by an earlier run (--reuse): this session counts as having passed the code step
    from sciencecity.accounts.two_factor import SESSION_VERIFIED
    session = client.session
    session[SESSION_VERIFIED] = officer.pk
    session.save()
_token, raw_token = api_token_create(user=member, name="bench-load")
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
sample = lambda qs: list(qs.order_by("?").values_list("pk", flat=True)[:200])
print(json.dumps({
    "cookie": settings.SESSION_COOKIE_NAME + "=" + client.cookies[settings.SESSION_COOKIE_NAME].value,
    "token": raw_token, "member": member.username, "member_password": member_password,
    "organisations": sample(Organisation.objects.all()), "achievements": sample(Achievement.objects.filter(status="active")),
    "calls": sample(Call.objects.all()),
    "rows": {"organisations": Organisation.objects.count(), "achievements": Achievement.objects.count(),
             "demands": TechDemand.objects.count()}}))
"""


def build(env: dict[str, str]) -> float:
    """A fresh city-scale database (minutes)."""
    common.postgres(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    common.postgres(f"CREATE DATABASE {DATABASE}")
    started = time.monotonic()
    sciencecity = [sys.executable, "-m", "sciencecity"]
    common.run([*sciencecity, "migrate", "--noinput", "-v", "0"], env)
    common.run([*sciencecity, "demo", "--scale", "city", "--seed", "2021", "-v", "0"], env, stdout=subprocess.DEVNULL)
    common.run([*sciencecity, "demo-marketplace", "--scale", "city", "-v", "0"], env, stdout=subprocess.DEVNULL)
    common.run([*sciencecity, "demo-programmes", "-v", "0"], env, stdout=subprocess.DEVNULL)
    common.run([*sciencecity, "plan", "import", "--bundled"], env, stdout=subprocess.DEVNULL)
    common.run([*sciencecity, "plan", "demo-values", "--years", "10"], env, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def populated(env: dict[str, str]) -> bool:
    import psycopg

    try:
        with psycopg.connect(DATABASE_URL) as conn:
            return conn.execute("SELECT count(*) FROM registry_organisation").fetchone()[0] > 1000
    except psycopg.Error:
        return False


def django_json(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, text=True,
                         capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    requests: int = 0


class Client:
    """One simulated user: a keep-alive connection, the officer's cookie, a token for writes."""

    def __init__(self, port: int, setup: dict, seed: int) -> None:
        self.port, self.setup, self.rng = port, setup, random.Random(seed)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.count = 0
        setup_paths = self.read_paths()
        self.paths = setup_paths

    def read_paths(self) -> list[tuple[str, str]]:
        return [("home", "/"), ("dashboard", "/plan/"), ("org_list", "/registry/organisations/"),
                ("org_search", "/registry/organisations/?q={term}"), ("org_detail", "/registry/organisations/{org}/"),
                ("people_list", "/registry/people/"), ("achievement_list", "/transfer/achievements/"),
                ("market_search", "/transfer/search/?q={term}"), ("achievement_detail", "/transfer/achievements/{ach}/"),
                ("demand_list", "/transfer/demands/"), ("call_list", "/programmes/calls/"),
                ("call_detail", "/programmes/calls/{call}/"), ("task_list", "/plan/tasks/"),
                ("api_org_list", "/api/registry/organisations?q={term}"), ("api_achievement_list", "/api/transfer/achievements")]

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
                ) -> tuple[int, bytes, http.client.HTTPResponse]:
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
                response = self.conn.getresponse()
                return response.status, response.read(), response
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def one(self) -> tuple[str, bool]:
        """One unit of traffic: (kind, ok)."""
        self.count += 1
        rng = self.rng
        # drawn, not counted: a short run at low throughput still sees its share of logins and writes
        if rng.random() < 1 / LOGIN_EVERY:
            return "login", self.login()
        if rng.random() < 1 / (WRITE_EVERY + 1):
            return "write", self.write()
        kind, template = rng.choice(self.paths)
        path = template.format(term=urllib.parse.quote(rng.choice(SEARCH_TERMS)),
                               org=rng.choice(self.setup["organisations"]),
                               ach=rng.choice(self.setup["achievements"] or [0]),
                               call=rng.choice(self.setup["calls"] or [0]))
        headers = {"Cookie": self.setup["cookie"]}
        status, _body, _response = self.request("GET", path, headers=headers)
        return kind, status == 200

    def write(self) -> bool:
        n = self.rng.randrange(10**9)
        body = json.dumps({"title": f"负载测试需求 {n}", "public_summary": "合成数据：负载测试写入的技术需求（固态电池 电解质）",
                           "keywords": "负载测试, 电池", "modes": []}).encode()
        status, _body, _response = self.request("POST", "/api/transfer/demands", body=body, headers={
            "Authorization": f"Bearer {self.setup['token']}", "Content-Type": "application/json"})
        return status == 201

    def login(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", "/accounts/login/", headers={"Host": "127.0.0.1"})
            response = conn.getresponse()
            page = response.read().decode()
            cookies = "; ".join(part.split(";", 1)[0] for part in response.headers.get_all("Set-Cookie") or [])
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if response.status != 200 or not token:
                return False
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "username": self.setup["member"],
                                           "password": self.setup["member_password"]}).encode()
            conn.request("POST", "/accounts/login/", body=body, headers={
                "Host": "127.0.0.1", "Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{self.port}/accounts/login/"})
            response = conn.getresponse()
            response.read()
            return response.status == 302 and "/accounts/login" not in (response.headers.get("Location") or "")
        finally:
            conn.close()


def run_load(port: int, setup: dict, *, clients: int, seconds: float, max_requests: int) -> dict:
    """Warm up, then drive ``clients`` threads for ``seconds`` (or ``max_requests``); the figures."""
    stop_at = [0.0]
    measuring = threading.Event()
    lock = threading.Lock()
    tally = Tally()

    def worker(index: int) -> None:
        client = Client(port, setup, seed=index)
        while time.monotonic() < stop_at[0]:
            started = time.perf_counter()
            try:
                kind, ok = client.one()
            except Exception as exc:  # a failed request is an error of the run, not of the generator
                kind, ok = f"exception:{exc.__class__.__name__}", False
            elapsed = time.perf_counter() - started
            if not measuring.is_set():
                continue
            with lock:
                if tally.requests >= max_requests:
                    stop_at[0] = 0.0
                    break
                tally.requests += 1
                tally.latencies.append(elapsed)
                tally.by_kind.setdefault(kind, []).append(elapsed)
                if not ok:
                    tally.errors[kind] = tally.errors.get(kind, 0) + 1
        client.conn.close()

    stop_at[0] = time.monotonic() + WARM_UP_SECONDS + seconds
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(WARM_UP_SECONDS)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    measuring.set()
    started = time.monotonic()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    generator_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    lat = sorted(tally.latencies)
    pct = common.percentile
    return {
        "requests": tally.requests, "seconds": round(elapsed, 1),
        "rps": round(tally.requests / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(pct(lat, 0.50) * 1000, 1), "p95_ms": round(pct(lat, 0.95) * 1000, 1),
        "p99_ms": round(pct(lat, 0.99) * 1000, 1), "errors": sum(tally.errors.values()), "error_kinds": tally.errors,
        "generator_cpu_share": round(generator_cpu / elapsed, 2) if elapsed else 0.0,
        "by_kind": {kind: {"n": len(v), "p50_ms": round(pct(sorted(v), 0.5) * 1000, 1),
                           "p95_ms": round(pct(sorted(v), 0.95) * 1000, 1)} for kind, v in sorted(tally.by_kind.items())},
    }


def start_gunicorn(env: dict[str, str], src: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = common.free_port()
    server_env = {**env, "PYTHONPATH": str(src), "GUNICORN_WORKERS": str(workers), "REQUEST_LOG": "0",
                  "GUNICORN_BIND": f"127.0.0.1:{port}"}
    cmd = [str(BIN / "gunicorn"), "sciencecity.config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "--timeout", "60"]
    config = src / "sciencecity" / "config" / "gunicorn.py"
    if config.exists():  # the code's own deployment settings (docs/deploy.md §3), when it has them
        cmd[2:2] = ["-c", str(config)]
    process = subprocess.Popen(cmd, env=server_env, cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not common.wait_for(port, process, seconds=60):
        common.stop(process)
        raise SystemExit(f"gunicorn ({src}) did not start")
    return process, port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per configuration (≤ 600)")
    parser.add_argument("--long", action="store_true", help="5 minutes per configuration")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (1–100)")
    parser.add_argument("--workers", default="1,4", help="gunicorn worker counts, comma-separated")
    parser.add_argument("--max-requests", type=int, default=200_000, help="at most this many per configuration")
    parser.add_argument("--baseline-src", type=Path, default=None, help="the src/ of the code to compare against")
    parser.add_argument("--reuse", action="store_true", help="keep and reuse an already built database")
    args = parser.parse_args(argv)
    seconds = 300.0 if args.long else min(max(args.seconds, 5.0), 600.0)
    clients = min(max(args.clients, 1), 100)
    worker_counts = [min(max(int(w), 1), 16) for w in args.workers.split(",") if w.strip()]

    VAR.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "SCIENCECITY_VAR_DIR": str(VAR),
           "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT / "src"), "DATABASE_URL": DATABASE_URL,
           "LOG_LEVEL": "WARNING"}
    print(f"machine: {common.machine()}", flush=True)
    built_seconds = None
    if not (args.reuse and populated(env)):
        print("building the city-scale database (minutes) …", flush=True)
        built_seconds = build(env)
    setup = django_json(SETUP, env)
    print(f"rows: {setup['rows']}; {clients} clients, {seconds:.0f} s per configuration after {WARM_UP_SECONDS:.0f} s "
          f"warm-up; one write per {WRITE_EVERY} reads, one login per {LOGIN_EVERY} requests", flush=True)
    sources = [("this", ROOT / "src")] + ([("baseline", args.baseline_src.resolve())] if args.baseline_src else [])
    results = []
    try:
        for workers in worker_counts:
            for label, src in sources:
                server, port = start_gunicorn(env, src, workers)
                try:
                    figures = run_load(port, setup, clients=clients, seconds=seconds, max_requests=args.max_requests)
                finally:
                    common.stop(server)
                figures.update(code=label, src=str(src), workers=workers)
                if figures["errors"] > figures["requests"] / 2:
                    print(f"  most requests failed: {figures['error_kinds']}", flush=True)
                results.append(figures)
                print(f"  {label:8s} {workers} worker(s): {figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:7.1f} ms  "
                      f"p95 {figures['p95_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms  errors {figures['errors']}  "
                      f"(n={figures['requests']}, generator CPU {figures['generator_cpu_share']:.2f} core)", flush=True)
                slow = sorted(figures["by_kind"].items(), key=lambda item: -item[1]["p50_ms"])[:5]
                print("           slowest p50: " + ", ".join(f"{k} {v['p50_ms']:.0f} ms" for k, v in slow), flush=True)
        if args.baseline_src:
            for workers in worker_counts:
                this = next(r for r in results if r["workers"] == workers and r["code"] == "this")
                base = next(r for r in results if r["workers"] == workers and r["code"] == "baseline")
                print(f"  ratio this/baseline, {workers} worker(s): req/s ×{this['rps'] / max(base['rps'], 0.1):.2f}, "
                      f"p95 ×{this['p95_ms'] / max(base['p95_ms'], 0.1):.2f}", flush=True)
    finally:
        if built_seconds is not None and not args.reuse:
            common.postgres(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    out = common.RESULTS / f"load-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"machine": common.machine(), "rows": setup["rows"], "clients": clients,
                               "seconds": seconds, "results": results}, ensure_ascii=False, indent=1))
    print(f"written {out.relative_to(ROOT)}")
    four = [r for r in results if r["workers"] == 4 and r["code"] == "this"]
    if four:
        ok = four[0]["rps"] >= GOAL_RPS and four[0]["p95_ms"] <= GOAL_P95_MS and four[0]["errors"] == 0
        print(f"goal ≥ {GOAL_RPS:.0f} req/s at p95 ≤ {GOAL_P95_MS:.0f} ms, 0 errors (4 workers): "
              f"{'met' if ok else 'not met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
