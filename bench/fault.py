"""Fault run through the loopback stack (``make stack``): kill a job worker mid-job, restart Redis, lose nothing.

    .venv/bin/python bench/fault.py [--seconds 60] [--clients 6] [--big-import 1500] [--db-prefix bench_fault]

Starts ``scripts/stack.py`` on a fresh PostgreSQL database (2 gunicorn servers × 2 workers behind the proxy,
2 job workers, a private Redis with its append-only file) and drives mixed traffic through the proxy for
``--seconds``: API reads and searches (an officer's token), logged-in page reads (an enterprise user's
session: the session store is Redis with ``REDIS_URL``), one audited write per 8 requests (``POST
/api/transfer/demands``), and background jobs (a reviewer assignment per call, 40-row imports sent to the
workers with ``IMPORT_JOB_THRESHOLD_ROWS=20``). Two faults:

* at 30 % of the run, the confirmation of a ``--big-import``-row import is queued and, once a worker runs it,
  that worker gets SIGKILL (the stack starts it again, as systemd would; it queues the job again);
* at 60 %, Redis is stopped (SIGTERM) and started again by the stack on the same port.

Then it waits for every job to finish and checks: every write acknowledged with 201 is in the database;
every job reached ``done``; the killed import is there exactly once; every call has exactly one proposal
per application. Prints, per phase (steady state before the faults = the baseline, worker kill, Redis
restart, after), requests, errors, p50/p95 and their ratios to the baseline; writes ``bench/results/fault-
<time>.json``. Works with either job runner of ``sciencecity worker`` (database queue or Celery): it only
talks HTTP to the proxy and reads the tables.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results  # noqa: E402
from stack_common import Client, StackRun, missing_requirements, org_xlsx  # noqa: E402

WRITE_EVERY = 8
SMALL_IMPORT_ROWS = 40
THRESHOLD_ROWS = 20
PASSWORD = "Stack!Smoke-2026x"  # the seeded accounts' password (stack_common.SEED)
PAGES = ["/", "/transfer/demands/", "/transfer/search/?q=%E7%94%B5%E6%B1%A0", "/transfer/achievements/"]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def login(port: int, username: str) -> str:
    """A session cookie for ``username``, logged in through the proxy like a browser."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/accounts/login/", headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    page = response.read().decode()
    cookies = "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD})
    conn.request("POST", "/accounts/login/", body=body, headers={
        "Host": "127.0.0.1", "Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
    response = conn.getresponse()
    response.read()
    session = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [] if "session" in c.lower()]
    if response.status != 302 or not session:
        raise SystemExit(f"login of {username} failed: {response.status}")
    return "; ".join([*(c for c in cookies.split("; ") if "csrftoken" in c), *session])


class Traffic:
    """Client threads; every request recorded as (time since start, kind, ok, seconds)."""

    def __init__(self, run: StackRun, clients: int, cookie: str) -> None:
        self.run, self.clients, self.cookie = run, clients, cookie
        self.records: list[tuple[float, str, bool, float, str]] = []
        self.acknowledged: list[str] = []  # titles of demands answered 201
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def thread(self, index: int) -> None:
        rng = random.Random(index)
        officer = Client(self.run.port, self.run.seed["officer_token"])
        member = Client(self.run.port, self.run.seed["member_token"])
        page = Client(self.run.port, "", cookie=self.cookie)
        calls = self.run.seed["calls"]
        n = 0
        while not self.stop.is_set():
            n += 1
            started = time.perf_counter()
            kind, detail = "unknown", ""
            try:
                if rng.random() < 1 / WRITE_EVERY:
                    kind, title = "write", f"FAULT-{index}-{n}"
                    status, _body = member.json("POST", "/api/transfer/demands", {
                        "title": title, "public_summary": "合成数据：故障演练写入的技术需求（固态电池 电解质）",
                        "keywords": "故障演练, 电池", "modes": []})
                    ok = status == 201
                    if ok:
                        with self.lock:
                            self.acknowledged.append(title)
                elif rng.random() < 0.4:
                    kind = "page"
                    status, _data = page.request("GET", rng.choice(PAGES))
                    ok = status == 200
                else:
                    kind = rng.choice(["api_search", "api_list", "api_assignments"])
                    path = {"api_search": "/api/registry/organisations?q=" + urllib.parse.quote("栈导入机构"),
                            "api_list": "/api/transfer/demands",
                            "api_assignments": f"/api/programmes/calls/{rng.choice(calls)}/assignments"}[kind]
                    status, _data = officer.request("GET", path)
                    ok = status == 200
                detail = str(status)
            except Exception as exc:  # noqa: BLE001 - a failed request is a finding of the run
                ok, detail = False, exc.__class__.__name__
            elapsed = time.perf_counter() - started
            with self.lock:
                self.records.append((time.monotonic() - self.t0, kind, ok, elapsed, detail))

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.thread, args=(i,), daemon=True) for i in range(self.clients)]
        for thread in threads:
            thread.start()
        return threads


class Jobs:
    """Background work submitted during the run, and what it must have written."""

    def __init__(self, run: StackRun) -> None:
        self.run = run
        self.officer = Client(run.port, run.seed["officer_token"])
        self.calls = list(run.seed["calls"])
        self.assignment_jobs: dict[int, int] = {}  # call → assignment job id
        self.imports: list[dict] = []  # {"prefix", "rows", "batch", "confirmed"}
        self.errors: Counter = Counter()
        self.serial = 10

    def _post(self, what: str, expected: int, send) -> dict | None:
        """``send()`` → (status, body); the body when the status is ``expected``, else the error counted."""
        try:
            status, body = send()
        except Exception as exc:  # noqa: BLE001 - a failed submission is a finding of the run
            self.errors[f"{what}:{exc.__class__.__name__}"] += 1
            return None
        if status != expected:
            self.errors[f"{what}:{status}"] += 1
            return None
        return body

    def submit_assignment(self) -> None:
        if not self.calls:
            return
        call = self.calls[0]
        job = self._post("assignment", 201, lambda: self.officer.json(
            "POST", f"/api/programmes/calls/{call}/assignment-jobs"))
        if job:
            self.assignment_jobs[call] = job["id"]
            self.calls.pop(0)

    def upload(self, rows: int) -> dict | None:
        self.serial += 1
        prefix = f"FLT{self.serial:03d}"
        queued = self._post("upload", 202, lambda: self.officer.upload(
            "/api/registry/imports/organisations", f"{prefix}.xlsx", org_xlsx(rows, prefix, self.serial)))
        if queued is None:
            return None
        entry = {"prefix": prefix, "rows": rows, "batch": queued["batch"], "dry_run_job": queued["job"]["id"],
                 "confirm_job": None}
        self.imports.append(entry)
        return entry

    def confirm(self, entry: dict, *, wait_seconds: float = 300) -> int | None:
        """Confirm once the dry run is done; the confirm job's id."""
        dry = self._post("dry_run", 200, lambda: (200, self.officer.wait_job(
            f"/api/jobs/{entry['dry_run_job']}", seconds=wait_seconds)))
        if dry is None:
            return None
        if dry["state"] != "done":
            self.errors[f"dry_run:{dry['state']}"] += 1
            return None
        body = self._post("confirm", 202, lambda: self.officer.json(
            "POST", f"/api/registry/imports/batches/{entry['batch']}/confirm"))
        if body is None:
            return None
        entry["confirm_job"] = body["job"]["id"]
        return entry["confirm_job"]


def kill_worker_running(run: StackRun, job_id: int, seconds: float = 120) -> dict:
    """SIGKILL the stack's job worker that runs ``job_id`` (as soon as one does); what happened."""
    workers = {part["pid"]: name for name, part in run.state["parts"].items() if name.startswith("worker")}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = run.query(f"SELECT state, worker, progress_done FROM core_job WHERE id = {int(job_id)}")
        state, worker, done = rows[0]
        pid = int(worker.rpartition(":")[2]) if worker.rpartition(":")[2].isdigit() else None
        with contextlib.suppress(ProcessLookupError, TypeError):
            pid = os.getpgid(pid)  # a pool process of a worker (Celery): the part is its process group
        if state == "running" and pid in workers:
            # well inside the job: once it reports rows written (a confirm reports progress in a side file while
            # its transaction is open, core/jobs.py), at most 5 s after it started
            side = run.var / "jobs" / f"{int(job_id)}.progress.json"
            caught = time.monotonic()
            while time.monotonic() - caught < 5 and not done:
                with contextlib.suppress(OSError, ValueError, KeyError):
                    done = json.loads(side.read_text())["done"]
                time.sleep(0.02)
            os.killpg(pid, signal.SIGKILL)  # the worker and any process it started
            return {"killed": workers[pid], "pid": pid, "job": job_id, "state_at_kill": state,
                    "progress_at_kill": done, "at": time.monotonic()}
        if state in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    # the job ended before a worker could be caught in it: kill a worker anyway (the fault still happens)
    name, pid = next((n, p["pid"]) for n, p in run.state["parts"].items() if n.startswith("worker"))
    os.killpg(pid, signal.SIGKILL)
    return {"killed": name, "pid": pid, "job": job_id, "state_at_kill": "not caught running", "at": time.monotonic()}


def restart_redis(run: StackRun) -> dict:
    """Stop Redis (SIGTERM; the stack starts it again); seconds until it answers PING again."""
    import stack as stack_script

    url = run.state["redis_url"]
    pid = run.state["parts"]["redis"]["pid"]
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    down_seen = None
    while time.monotonic() - started < 60:
        if not stack_script.redis_ping(url, timeout=0.5):
            down_seen = down_seen or time.monotonic()
        elif down_seen:
            break
        time.sleep(0.05)
    return {"stopped_at": started, "answering_again_after_s": round(time.monotonic() - started, 2)}


def wait_all_jobs(run: StackRun, seconds: float = 600) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        open_jobs = run.query("SELECT count(*) FROM core_job WHERE state IN ('queued', 'running')")[0][0]
        if not open_jobs:
            break
        time.sleep(0.5)
    return run.query("SELECT id, kind, state, attempts, message FROM core_job ORDER BY id")


def phase_figures(records: list, phases: list[tuple[str, float, float]]) -> list[dict]:
    out = []
    for name, start, end in phases:
        chosen = [r for r in records if start <= r[0] < end]
        latencies = [r[3] for r in chosen]
        errors = [r for r in chosen if not r[2]]
        out.append({"phase": name, "from_s": round(start, 1), "to_s": round(end, 1), "requests": len(chosen),
                    "rps": round(len(chosen) / max(end - start, 0.001), 1),
                    "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
                    "p95_ms": round(percentile(latencies, 0.95) * 1000, 1), "errors": len(errors),
                    "errors_by": dict(Counter(f"{r[1]}:{r[4]}" for r in errors))})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="traffic duration (20–600)")
    parser.add_argument("--clients", type=int, default=6, help="client threads (1–50)")
    parser.add_argument("--big-import", type=int, default=1500, help="rows of the import whose worker is killed")
    parser.add_argument("--calls", type=int, default=12, help="calls under review (one assignment job each)")
    parser.add_argument("--db-prefix", default="bench_fault", help="prefix of the throw-away database's name")
    args = parser.parse_args(argv)
    seconds = min(max(args.seconds, 20.0), 600.0)
    reason = missing_requirements()
    if reason:
        print(f"fault run skipped: {reason}")
        return 0
    env = {"IMPORT_JOB_THRESHOLD_ROWS": str(THRESHOLD_ROWS), "TEXT_EMBEDDER": "none", "LOG_LEVEL": "WARNING",
           "REQUEST_LOG": "0"}
    print(f"machine: {results.machine()}", flush=True)
    print("starting the stack (fresh database, migrate) …", flush=True)
    with StackRun(prefix=args.db_prefix, calls=args.calls, extra_env=env, gunicorn_workers=2) as run:
        print(f"stack ready in {run.start_seconds:.1f} s on port {run.port}; {min(max(args.clients, 1), 50)} "
              f"clients for {seconds:.0f} s", flush=True)
        traffic = Traffic(run, min(max(args.clients, 1), 50), login(run.port, "stack-enterprise"))
        jobs = Jobs(run)
        big = jobs.upload(args.big_import)  # its dry run runs during the steady state
        threads = traffic.start()
        events: dict = {}
        kill_at, redis_at = 0.3 * seconds, 0.6 * seconds
        next_job = 0.0
        small_pending: list[dict] = []
        while (now := time.monotonic() - traffic.t0) < seconds:
            if now >= next_job:  # background work all along: an assignment, a small import, alternately
                if len(jobs.assignment_jobs) <= len(jobs.imports):
                    jobs.submit_assignment()
                else:
                    entry = jobs.upload(SMALL_IMPORT_ROWS)
                    if entry:
                        small_pending.append(entry)
                next_job = now + 2.0
            for entry in list(small_pending):
                status, body = jobs.officer.json("GET", f"/api/jobs/{entry['dry_run_job']}")
                if status == 200 and body.get("state") == "done":
                    jobs.confirm(entry)
                    small_pending.remove(entry)
            if "worker_kill" not in events and now >= kill_at and big:
                confirm_job = jobs.confirm(big)
                if confirm_job:
                    kill = kill_worker_running(run, confirm_job)
                    kill["at_s"] = round(kill.pop("at") - traffic.t0, 1)
                    events["worker_kill"] = kill
                    print(f"  {kill['at_s']:5.1f} s  SIGKILL {kill['killed']} (pid {kill['pid']}) running job "
                          f"{kill['job']} ({kill['state_at_kill']}, {kill.get('progress_at_kill', '?')} rows done)",
                          flush=True)
                else:
                    events["worker_kill"] = {"error": "the big import could not be confirmed"}
            if "redis_restart" not in events and now >= redis_at:
                restart = restart_redis(run)
                restart["at_s"] = round(restart.pop("stopped_at") - traffic.t0, 1)
                events["redis_restart"] = restart
                print(f"  {restart['at_s']:5.1f} s  Redis stopped; answering again after "
                      f"{restart['answering_again_after_s']:.1f} s", flush=True)
            time.sleep(0.2)
        traffic.stop.set()
        for thread in threads:
            thread.join(120)
        for entry in small_pending:
            jobs.confirm(entry)
        print("traffic stopped; waiting for every job …", flush=True)
        all_jobs = wait_all_jobs(run)
        state = run.state
        restarts = {name: part["restarts"] for name, part in state["parts"].items()}

        # --- what was lost? -------------------------------------------------------------------------------
        titles = set(traffic.acknowledged)
        stored = {t for (t,) in run.query("SELECT title FROM transfer_techdemand WHERE title LIKE 'FAULT-%'")}
        lost_writes = sorted(titles - stored)
        unacknowledged_but_stored = sorted(stored - titles)
        job_states = Counter(state for _id, _kind, state, _a, _m in all_jobs)
        retried = [(i, k, a) for i, k, _s, a, _m in all_jobs if a > 1]
        not_done = [(i, k, s, m[:120]) for i, k, s, _a, m in all_jobs if s != "done"]
        imports = []
        for entry in jobs.imports:
            count = run.query(f"SELECT count(*) FROM registry_organisation WHERE code LIKE '{entry['prefix']}-%'")[0][0]
            imports.append({"prefix": entry["prefix"], "rows": entry["rows"], "confirmed": bool(entry["confirm_job"]),
                            "stored": count})
        import_mismatch = [i for i in imports if i["confirmed"] and i["stored"] != i["rows"]]
        proposals = run.query(
            "SELECT c.id, count(a.id) FROM programmes_call c JOIN programmes_application p ON p.call_id = c.id "
            "LEFT JOIN programmes_assignment a ON a.application_id = p.id AND a.state = 'proposed' "
            f"WHERE c.id IN ({','.join(str(c) for c in jobs.assignment_jobs) or '0'}) GROUP BY c.id")
        per_call = run.seed["applications_per_call"]
        proposal_mismatch = [(c, n) for c, n in proposals if n != per_call]
        upstreams = Counter()
        proxy_status = Client(run.port, "").json("GET", "/__proxy__/status")[1]
        for upstream in proxy_status.get("upstreams", []):
            upstreams[upstream["name"]] = upstream["requests"]

    # --- figures ------------------------------------------------------------------------------------------
    kill_s = events.get("worker_kill", {}).get("at_s", kill_at)
    redis_s = events.get("redis_restart", {}).get("at_s", redis_at)
    redis_back = redis_s + events.get("redis_restart", {}).get("answering_again_after_s", 0) + 5
    phases = [("baseline (steady)", 2.0, kill_s), ("worker killed", kill_s, redis_s),
              ("Redis restart +5 s", redis_s, redis_back), ("after", redis_back, seconds)]
    figures = phase_figures(traffic.records, phases)
    base = figures[0]
    print(f"\nrequests through the proxy: {len(traffic.records)}, served by {dict(upstreams)}")
    print(f"{'phase':22s} {'req':>6s} {'req/s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'errors':>7s}  ratio p50/p95 to baseline")
    for f in figures:
        ratio = (f"×{f['p50_ms'] / max(base['p50_ms'], 0.1):.2f} / ×{f['p95_ms'] / max(base['p95_ms'], 0.1):.2f}"
                 if f["requests"] else "-")
        print(f"{f['phase']:22s} {f['requests']:6d} {f['rps']:7.1f} {f['p50_ms']:8.1f} {f['p95_ms']:8.1f} "
              f"{f['errors']:7d}  {ratio}" + (f"  {f['errors_by']}" if f["errors"] else ""))
    failed_at = defaultdict(list)
    for t, kind, ok, _e, detail in traffic.records:
        if not ok:
            failed_at[f"{kind}:{detail}"].append(round(t, 1))
    for what, times in sorted(failed_at.items()):
        print(f"  failed {what}: {len(times)} between {min(times):.1f} s and {max(times):.1f} s")
    print(f"writes acknowledged 201: {len(titles)}; in the database: {len(stored & titles)}; lost: {len(lost_writes)}"
          f"; stored without a 201 (the answer failed after the commit): {len(unacknowledged_but_stored)}")
    print(f"jobs: {dict(job_states)}; run more than once (their worker died): {retried}; not done: {not_done}")
    print(f"imports: {len(imports)} ({sum(i['confirmed'] for i in imports)} confirmed), rows wrong in: "
          f"{import_mismatch}; assignment calls: {len(proposals)}, proposals wrong in: {proposal_mismatch}")
    print(f"job submission errors: {dict(jobs.errors)}; parts started again by the stack: "
          f"{ {k: v for k, v in restarts.items() if v} }")
    ok = not lost_writes and not not_done and not import_mismatch and not proposal_mismatch
    print(f"no write and no job lost: {'yes' if ok else 'NO'}")
    results.write("fault", {"seconds": seconds, "clients": traffic.clients, "events": events, "phases": figures,
                            "served_by": dict(upstreams), "writes_acknowledged": len(titles),
                            "writes_lost": lost_writes, "stored_without_ack": unacknowledged_but_stored,
                            "jobs": dict(job_states), "jobs_retried": retried, "jobs_not_done": not_done,
                            "imports": imports, "proposal_mismatch": proposal_mismatch,
                            "job_submission_errors": dict(jobs.errors), "restarts": restarts, "ok": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
