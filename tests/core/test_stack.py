"""The scale-out stack of ``make stack`` (scripts/stack.py), started for real: PostgreSQL, a private Redis, two
gunicorn servers behind the proxy, two job workers. Through the proxy: one spreadsheet import (upload → dry
run → confirm, both as background jobs), one reviewer assignment (a job), one search; answered by both servers.

Needs PostgreSQL at 127.0.0.1:5432 and ``redis-server``: skipped, saying which is missing, elsewhere; fails
instead with ``SCIENCECITY_REQUIRE_STACK=1`` (.ci/run).
``STACK_DB_PREFIX`` names the throw-away database (default ``test_stack``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from stack_common import Client, StackRun, missing_requirements, org_xlsx  # noqa: E402

pytestmark = pytest.mark.stack
IMPORT_ROWS = 8


@pytest.fixture(scope="module")
def stack():
    reason = missing_requirements()
    if reason and os.environ.get("SCIENCECITY_REQUIRE_STACK"):  # CI: a missing part fails instead of skipping
        pytest.fail(f"the stack needs PostgreSQL and Redis: {reason}")
    if reason:
        pytest.skip(f"the stack needs PostgreSQL and Redis: {reason}")
    # a threshold of 5 rows sends the 8-row import through the job workers, as a large one would go
    env = {"IMPORT_JOB_THRESHOLD_ROWS": "5", "TEXT_EMBEDDER": "none", "LOG_LEVEL": "WARNING"}
    with StackRun(prefix=os.environ.get("STACK_DB_PREFIX", "test_stack"), calls=1, extra_env=env,
                  gunicorn_workers=1) as run:
        yield run


def test_import_assignment_and_search_through_the_proxy_on_both_servers(stack):
    officer = Client(stack.port, stack.seed["officer_token"])

    # 1. an Excel import: upload (dry run as a job), then confirm (a job); the rows are in the database once
    status, queued = officer.upload("/api/registry/imports/organisations", "stack.xlsx",
                                    org_xlsx(IMPORT_ROWS, "SMOKE", 1))
    assert status == 202, queued
    dry_run = officer.wait_job(queued["job"]["url"])
    assert dry_run["state"] == "done", dry_run
    status, batch = officer.json("GET", f"/api/registry/imports/batches/{queued['batch']}")
    assert status == 200 and batch["status"] == "dry_run" and batch["created"] == IMPORT_ROWS, batch
    status, confirming = officer.json("POST", f"/api/registry/imports/batches/{queued['batch']}/confirm")
    assert status == 202, confirming
    assert officer.wait_job(confirming["job"]["url"])["state"] == "done"
    status, batch = officer.json("GET", f"/api/registry/imports/batches/{queued['batch']}")
    assert batch["status"] == "confirmed", batch
    assert stack.query("SELECT count(*) FROM registry_organisation WHERE code LIKE 'SMOKE-%'") == [(IMPORT_ROWS,)]

    # 2. a reviewer assignment: queued by the request, solved by a worker, followed on its status API
    call = stack.seed["calls"][0]
    status, job = officer.json("POST", f"/api/programmes/calls/{call}/assignment-jobs")
    assert status == 201 and job["state"] in ("queued", "running", "done"), job
    finished = officer.wait_job(f"/api/programmes/assignment-jobs/{job['id']}")
    assert finished["state"] == "done" and finished["progress"] == 1.0, finished
    status, rows = officer.json("GET", f"/api/programmes/calls/{call}/assignments")
    assert status == 200 and len(rows) == stack.seed["applications_per_call"]
    assert {row["state"] for row in rows} == {"proposed"}

    # 3. a search finds an imported organisation (whichever server answers)
    for _ in range(2):
        status, found = officer.json("GET", "/api/registry/organisations?" + urllib.parse.urlencode({"q": "栈导入机构SMOKE3"}))
        assert status == 200 and [o["code"] for o in found["items"]] == ["SMOKE-0003"], found

    # every job ran in a worker process, none inline, none twice
    jobs = stack.query("SELECT kind, state, attempts, worker FROM core_job ORDER BY id")
    assert sorted(kind for kind, *_rest in jobs) == ["import.confirm", "import.dry_run", "programmes.assignment"]
    assert all(state == "done" and attempts == 1 for _kind, state, attempts, _worker in jobs), jobs
    assert all(worker and worker != "inline" for *_rest, worker in jobs), jobs

    # both gunicorn servers answered (the proxy names the upstream in X-Upstream and counts per upstream)
    assert set(officer.upstreams) == {"web1", "web2"}, officer.upstreams
    status, proxy = officer.json("GET", "/__proxy__/status")
    assert all(u["up"] and u["requests"] > 0 for u in proxy["upstreams"]), proxy

    # the readiness of each part, as an operator reads it
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), "--check", "--var-dir", str(stack.var)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    for part in ("postgresql", "redis", "web1", "web2", "worker1", "worker2", "proxy"):
        assert f"{part}" in check.stdout and "NOT READY" not in check.stdout, check.stdout

    # Ctrl-C stops every part
    pids = [part["pid"] for part in stack.state["parts"].values()]
    assert stack.stop() == 0, stack.log()[-2000:]
    assert not [pid for pid in pids if _alive(pid)], stack.log()[-2000:]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
