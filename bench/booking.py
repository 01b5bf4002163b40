"""Booking under concurrency through a real HTTP server on loopback (gunicorn), on PostgreSQL or SQLite.

    .venv/bin/python bench/booking.py [--db postgres|sqlite] [--clients 20] [--requests 50]

Builds a fresh database (PostgreSQL ``bench_facilities`` on postgres://root@127.0.0.1:5432, created and
dropped here; SQLite under var/bench/), migrates, creates 5 instruments open around the clock and one
enterprise user with an API token per client, starts gunicorn (2 workers × 8 threads) and measures:

- baseline: one client booking ``--requests`` free slots one after another (p50, p95);
- load: ``--clients`` clients at once, each booking ``--requests`` random one-hour slots of the 5 instruments
  over the next 10 days, so that many collide: throughput (answers/s), p50/p95 of 201 and 409 answers;
- the no-overlap check on the stored bookings afterwards (must be 0 overlapping pairs).

Writes bench/results/booking.json. The same harness (``start``, ``fire``) runs the 50-client concurrency
tests of tests/facilities/test_concurrency.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_api import (  # noqa: E402
    BIN,
    POSTGRES_SERVER,
    ROOT,
    VAR,
    free_port,
    machine,
    percentile,
    postgres,
    stop,
    wait_for,
)

RESULTS = ROOT / "bench" / "results"

SETUP = r"""
import datetime as dt, json, os, django
django.setup()
from decimal import Decimal
from django.utils import timezone
from sciencecity.accounts.choices import Role
from sciencecity.accounts.models import Membership, User
from sciencecity.accounts.services import api_token_create
from sciencecity.facilities.models import (Booking, Instrument, InstrumentPrice, UsageRecord, Voucher,
                                           VoucherScheme)
from sciencecity.registry.models import Organisation

spec = json.loads(os.environ["SETUP_SPEC"])
lab = Organisation.objects.create(code="BENCH-LAB", name="基准实验室", kind="laboratory", status="operating")
codes = []
for n in range(spec.get("instruments", 1)):
    ins = Instrument.objects.create(code=f"BENCH-INS-{n + 1}", name=f"基准仪器{n + 1}", host=lab, always_open=True,
                                    min_booking_minutes=15, max_booking_minutes=24 * 60)
    InstrumentPrice.objects.create(instrument=ins, user_class="enterprise", hourly_rate=Decimal("600"))
    codes.append(ins.code)

def user(n, org):
    u = User(username=f"bench{n}", password_changed_at=timezone.now())
    u.set_unusable_password()
    u.save()
    Membership.objects.create(user=u, role=Role.ENTERPRISE_USER, organisation=org)
    return api_token_create(user=u, name="bench")[1]

out = {"instruments": codes, "tokens": [], "voucher_tokens": [], "usage_ids": []}
for n in range(spec["clients"]):
    org = Organisation.objects.create(code=f"BENCH-ENT-{n}", name=f"基准企业{n}", kind="enterprise",
                                      status="operating")
    out["tokens"].append(user(n, org))
if spec["scenario"] == "both":
    org = Organisation.objects.create(code="BENCH-ENT", name="基准企业", kind="enterprise", status="operating")
    for n in range(spec["clients"]):
        out["voucher_tokens"].append(user(spec["clients"] + n, org))
    scheme = VoucherScheme.objects.create(code="BENCH-CX", name="基准创新券", budget=Decimal("100000"),
                                          cap_per_enterprise=Decimal("10000"), max_share=Decimal("1"),
                                          valid_until=timezone.localdate() + dt.timedelta(days=365))
    Voucher.objects.create(code="BENCH-CX-00001", scheme=scheme, organisation=org, requested=Decimal("1000"),
                           granted=Decimal("1000"), balance=Decimal("1000"), state="approved")
    ins = Instrument.objects.get(code=codes[0])
    booker = User.objects.get(username=f"bench{spec['clients']}")
    start = timezone.now() - dt.timedelta(days=30)
    for n in range(spec["clients"]):
        s = start + dt.timedelta(hours=n)
        b = Booking.objects.create(instrument=ins, user=booker, organisation=org, starts_at=s,
                                   ends_at=s + dt.timedelta(hours=1), state="completed", checked_in_at=s,
                                   checked_out_at=s + dt.timedelta(hours=1))
        u = UsageRecord.objects.create(booking=b, instrument=ins, organisation=org, user_class="enterprise",
                                       started_at=s, ended_at=s + dt.timedelta(hours=1), minutes=60,
                                       hourly_rate=Decimal("600"), fee=Decimal("600"))
        out["usage_ids"].append(u.pk)
print(json.dumps(out))
"""

CHECK = r"""
import json, django
django.setup()
from sciencecity.core.models import AuditEvent
from sciencecity.facilities.choices import SLOT_HOLDING_STATES
from sciencecity.facilities.models import Booking, UsageRecord, Voucher, VoucherRedemption
held = list(Booking.objects.filter(state__in=SLOT_HOLDING_STATES).order_by("instrument_id", "starts_at")
            .values_list("instrument_id", "starts_at", "ends_at"))
overlaps = sum(1 for a, b in zip(held, held[1:]) if a[0] == b[0] and b[1] < a[2])
voucher = Voucher.objects.filter(code="BENCH-CX-00001").first()
print(json.dumps({
    "bookings": Booking.objects.exclude(state="completed").count(), "overlapping_pairs": overlaps,
    "booking_audit_events": AuditEvent.objects.filter(object_type="facilities.booking", action="create").count(),
    "redemptions": VoucherRedemption.objects.count(),
    "redemption_audit_events": AuditEvent.objects.filter(object_type="facilities.voucherredemption").count(),
    "voucher_balance": str(voucher.balance) if voucher else None,
    "voucher_paid_total": str(sum(u.voucher_paid for u in UsageRecord.objects.all())),
}))
"""


class Live:
    """A fresh database, migrated and seeded, behind gunicorn on loopback. Use as a context manager."""

    def __init__(self, db: str, *, scenario: str, clients: int, instruments: int = 1, workers: int = 2,
                 threads: int = 8):
        self.db, self.scenario, self.clients, self.instruments = db, scenario, clients, instruments
        self.workers, self.threads = workers, threads
        self.server = None
        self.pg_name = f"bench_facilities_{uuid.uuid4().hex[:8]}"

    def _env(self) -> dict[str, str]:
        var_dir = VAR / f"facilities-{self.db}-{os.getpid()}"
        var_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base",
               "SCIENCECITY_VAR_DIR": str(var_dir), "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
               "PYTHONPATH": str(ROOT / "src"), "DATABASE_CONN_MAX_AGE": "60"}
        if self.db == "sqlite":
            path = var_dir / "facilities.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            env["DATABASE_URL"] = f"sqlite:///{path}"
        else:
            postgres(f"CREATE DATABASE {self.pg_name}")
            env["DATABASE_URL"] = f"{POSTGRES_SERVER}/{self.pg_name}"
        return env

    def __enter__(self) -> Live:
        self.env = self._env()
        try:
            py = sys.executable
            subprocess.run([py, "-m", "sciencecity", "migrate", "--noinput", "-v", "0"], env=self.env, cwd=ROOT,
                           check=True)
            spec = {"scenario": self.scenario, "clients": self.clients, "instruments": self.instruments}
            out = subprocess.run([py, "-c", SETUP], env={**self.env, "SETUP_SPEC": json.dumps(spec)}, cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout
            self.setup = json.loads(out.strip().splitlines()[-1])
            self.port = free_port()
            cmd = [str(BIN / "gunicorn"), "sciencecity.config.wsgi", "-w", str(self.workers), "--threads",
                   str(self.threads), "-b", f"127.0.0.1:{self.port}", "--timeout", "300", "--log-level", "warning"]
            # The server's log goes to a file: a pipe nobody reads fills up (one JSON line per request) and
            # then blocks every thread that logs.
            self.server_log = tempfile.TemporaryFile(mode="w+")
            self.server = subprocess.Popen(cmd, env=self.env, cwd=ROOT, start_new_session=True,
                                           stdout=subprocess.DEVNULL, stderr=self.server_log, text=True)
            if not wait_for(self.port, self.server, seconds=180):
                self.server_log.seek(0)
                raise RuntimeError(f"gunicorn did not start: {self.server_log.read()[-2000:]}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def check(self) -> dict:
        out = subprocess.run([sys.executable, "-c", CHECK], env=self.env, cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            stop(self.server)
            self.server = None
        if self.db == "postgres":
            postgres(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")


def request(conn: http.client.HTTPConnection, token: str, path: str, body: dict) -> tuple[int, dict, float]:
    started = time.perf_counter()
    conn.request("POST", path, body=json.dumps(body), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Connection": "keep-alive"})
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = {"raw": data[:300].decode("utf-8", "replace")}
    return response.status, parsed, elapsed


def fire(port: int, calls: list[tuple[str, str, dict]]) -> list[tuple[int, dict, float]]:
    """One thread and connection per call, all released together by a barrier; (status, body, ms) per call."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index: int, token: str, path: str, body: dict) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()
        barrier.wait()
        try:
            results[index] = request(conn, token, path, body)
        except Exception as exc:  # noqa: BLE001 - reported as a failed call
            results[index] = (0, {"exception": repr(exc)}, 0.0)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def slot(day_offset: int, hour: int) -> tuple[str, str]:
    """An hour slot ``day_offset`` days from now, at ``hour`` o'clock UTC."""
    import datetime as dt

    base = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=day_offset)
    start = base.replace(hour=hour)
    return start.isoformat(), (start + dt.timedelta(hours=1)).isoformat()


def run_bench(db: str, clients: int, requests: int, seed: int) -> dict:
    rng = random.Random(seed)
    with Live(db, scenario="booking", clients=clients, instruments=5) as live:
        tokens, codes = live.setup["tokens"], live.setup["instruments"]
        # baseline: one client, free slots one after another (instrument 1, days 20+)
        conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=60)
        base = []
        for n in range(requests):
            start, end = slot(20 + n // 24, n % 24)
            status, body, ms = request(conn, tokens[0], f"/api/facilities/instruments/{codes[0]}/bookings",
                                       {"start": start, "end": end})
            assert status == 201, body
            base.append(ms)
        conn.close()
        # load: every client books random slots of the next 10 days on 5 instruments at once
        per_client = [[(codes[rng.randrange(5)], *slot(1 + rng.randrange(10), rng.randrange(24)))
                       for _ in range(requests)] for _ in range(clients)]
        outcomes: list[tuple[int, float]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(clients)

        def client(index: int) -> None:
            c = http.client.HTTPConnection("127.0.0.1", live.port, timeout=120)
            barrier.wait()
            for code, start, end in per_client[index]:
                status, _, ms = request(c, tokens[index], f"/api/facilities/instruments/{code}/bookings",
                                        {"start": start, "end": end})
                with lock:
                    outcomes.append((status, ms))
            c.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        check = live.check()
    created = [ms for s, ms in outcomes if s == 201]
    conflicts = [ms for s, ms in outcomes if s == 409]
    every = [ms for _, ms in outcomes]
    other = sorted({s for s, _ in outcomes} - {201, 409})
    result = {
        "database": db, "clients": clients, "requests_per_client": requests,
        "baseline_single_client": {"p50_ms": round(percentile(base, .5), 1), "p95_ms": round(percentile(base, .95), 1)},
        "load": {"answers": len(outcomes), "created": len(created), "booking_conflict": len(conflicts),
                 "other_statuses": other, "wall_s": round(wall, 2),
                 "throughput_per_s": round(len(outcomes) / wall, 1),
                 "created_per_s": round(len(created) / wall, 1),
                 "p50_ms": round(percentile(every, .5), 1), "p95_ms": round(percentile(every, .95), 1),
                 "p95_created_ms": round(percentile(created, .95), 1) if created else None,
                 "p95_conflict_ms": round(percentile(conflicts, .95), 1) if conflicts else None},
        "stored": check,
    }
    result["p50_ratio_to_baseline"] = round(result["load"]["p50_ms"] / result["baseline_single_client"]["p50_ms"], 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['nproc']} CPUs, load {info['load_average']}; {args.db}, {args.clients} clients × "
          f"{args.requests} bookings")
    result = run_bench(args.db, args.clients, args.requests, args.seed)
    b, load = result["baseline_single_client"], result["load"]
    print(f"baseline (1 client): p50 {b['p50_ms']} ms  p95 {b['p95_ms']} ms")
    print(f"{args.clients} clients: {load['throughput_per_s']} answers/s ({load['created_per_s']} bookings/s), "
          f"p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms; {load['created']} created, "
          f"{load['booking_conflict']} booking_conflict, other {load['other_statuses']}")
    print(f"p50 under load / baseline p50: {result['p50_ratio_to_baseline']}×; "
          f"overlapping pairs stored: {result['stored']['overlapping_pairs']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "booking.json"
    out.write_text(json.dumps({"benchmark": "booking", "machine": info, **result}, ensure_ascii=False, indent=2))
    print(f"results: {out.relative_to(ROOT)}")
    return 0 if result["stored"]["overlapping_pairs"] == 0 and not load["other_statuses"] else 1


if __name__ == "__main__":
    sys.exit(main())
