"""Background jobs: queue → ``sciencecity worker --once`` → done with progress; cancel; a worker killed
mid-run is replaced and nothing is imported twice; large imports go to a job from the page and the API.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation

from sciencecity.accounts.services import api_token_create
from sciencecity.core import jobs
from sciencecity.core.import_jobs import CONFIRM_KIND, import_batch_confirm_submit, import_batch_submit
from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch, ImportStatus, Job, JobState
from sciencecity.registry.importers import OrganisationImporter
from sciencecity.registry.models import Organisation
from tests.conftest import make_user
from tests.registry.import_helpers import ORG_HEADERS, credit_code, xlsx_bytes

ROWS = 30


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English (the msgids)."""
    with translation.override("en"):
        yield


@pytest.fixture
def queued(settings, tmp_path):
    """Jobs are queued for the worker (not run inline) and big means more than 10 rows."""
    settings.JOBS_INLINE = False
    settings.JOBS_DIR = tmp_path / "jobs"
    settings.IMPORT_JOB_THRESHOLD_ROWS = 10
    return settings


def org_file(count: int = ROWS, prefix: str = "JOB", credit: str = "JB") -> bytes:
    rows = [ORG_HEADERS]
    for i in range(count):
        rows.append([f"{prefix}-{i:04d}", f"后台导入机构{prefix}{i}", "", "enterprise", "district", "operating",
                     credit_code(f"{credit}{i:07d}"), "2020-01-01", "", "光明区", "IND-AI", ""])
    return xlsx_bytes(rows)


def run_worker() -> str:
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    return out.getvalue()


def test_a_large_import_goes_through_the_worker_with_progress(queued, bureau):
    batch, job = import_batch_submit(importer=OrganisationImporter(), file_name="big.xlsx", content=org_file(),
                                     actor=bureau)
    assert job is not None and job.state == JobState.QUEUED and batch.status == ImportStatus.CHECKING
    assert not Organisation.objects.filter(code__startswith="JOB-").exists()
    run_worker()
    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 1
    assert (job.progress_done, job.progress_total) == (ROWS, ROWS)
    assert batch.status == ImportStatus.DRY_RUN and batch.created_count == ROWS
    assert job.result["url"] == reverse("registry:import_batch_detail", args=[batch.pk])
    assert not Organisation.objects.filter(code__startswith="JOB-").exists()  # a dry run writes nothing

    report, confirm = import_batch_confirm_submit(batch=batch, actor=bureau)
    assert report is None and confirm.kind == CONFIRM_KIND and confirm.state == JobState.QUEUED
    again, same = import_batch_confirm_submit(batch=batch, actor=bureau)  # a second click queues nothing new
    assert same.pk == confirm.pk
    run_worker()
    confirm.refresh_from_db()
    assert confirm.state == JobState.DONE, confirm.message
    assert (confirm.progress_done, confirm.progress_total) == (ROWS, ROWS)
    assert jobs.job_status(confirm)["percent"] == 100
    assert Organisation.objects.filter(code__startswith="JOB-").count() == ROWS
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CONFIRMED
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.actor == bureau and len(event.changes["rows"]) == ROWS  # attributed to who asked, not the worker


def test_a_queued_job_is_cancelled_at_once(queued, bureau):
    _batch, job = import_batch_submit(importer=OrganisationImporter(), file_name="big.xlsx", content=org_file(),
                                      actor=bureau)
    jobs.job_cancel(job=job, actor=bureau)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    run_worker()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.attempts == 0


def test_a_running_job_stops_at_its_next_step_and_keeps_nothing(queued, bureau):
    def writes_then_is_cancelled(job, context):
        with transaction.atomic():
            Organisation.objects.create(code="CANCELLED-1", name="取消时回滚", kind="enterprise")
            jobs.job_cancel(job=Job.objects.get(pk=job.pk))  # as if clicked in another window
            context.progress(1, 2)
            raise AssertionError("the progress report should have stopped the job")

    jobs.register("test.cancelled", writes_then_is_cancelled)
    job = jobs.job_enqueue(kind="test.cancelled", actor=bureau)
    run_worker()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and "nothing" in job.message.lower()
    assert not Organisation.objects.filter(code="CANCELLED-1").exists()


def test_a_failing_job_records_why_and_the_worker_goes_on(queued, bureau):
    def fails(job, context):
        raise ValueError("the input says no")

    jobs.register("test.fails", fails)
    failing = jobs.job_enqueue(kind="test.fails", actor=bureau)
    _batch, after = import_batch_submit(importer=OrganisationImporter(), file_name="big.xlsx", content=org_file(),
                                        actor=bureau)
    run_worker()
    failing.refresh_from_db()
    after.refresh_from_db()
    assert (failing.state, failing.message) == (JobState.FAILED, "the input says no")
    assert after.state == JobState.DONE


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_job_of_a_killed_worker_is_run_again_without_duplicates(queued, bureau):
    batch, _job = import_batch_submit(importer=OrganisationImporter(), file_name="big.xlsx", content=org_file(),
                                      actor=bureau)
    run_worker()
    batch.refresh_from_db()
    _report, confirm = import_batch_confirm_submit(batch=batch, actor=bureau)
    # A worker took the job and was killed mid-import: its transaction never committed.
    Job.objects.filter(pk=confirm.pk).update(state=JobState.RUNNING, attempts=1,
                                             worker=f"{socket.gethostname()}:{_dead_pid()}")
    output = run_worker()
    assert f"queued again (their worker had stopped): {confirm.pk}" in output
    confirm.refresh_from_db()
    assert confirm.state == JobState.DONE and confirm.attempts == 2
    assert Organisation.objects.filter(code__startswith="JOB-").count() == ROWS

    # Killed after the commit but before the job was marked done: the retry reports, imports nothing.
    Job.objects.filter(pk=confirm.pk).update(state=JobState.RUNNING, worker=f"{socket.gethostname()}:{_dead_pid()}")
    run_worker()
    confirm.refresh_from_db()
    assert confirm.state == JobState.DONE and confirm.result["counts"]["created"] == ROWS
    assert Organisation.objects.filter(code__startswith="JOB-").count() == ROWS
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_a_job_of_a_live_worker_is_left_alone_and_a_job_that_keeps_killing_workers_fails(queued, bureau):
    jobs.register("test.noop", lambda job, context: {"ok": True})
    alive = jobs.job_enqueue(kind="test.noop", actor=bureau)
    Job.objects.filter(pk=alive.pk).update(state=JobState.RUNNING, attempts=1,
                                           worker=f"{socket.gethostname()}:{os.getpid()}")
    doomed = jobs.job_enqueue(kind="test.noop", actor=bureau)
    Job.objects.filter(pk=doomed.pk).update(state=JobState.RUNNING, attempts=3,
                                            worker=f"{socket.gethostname()}:{_dead_pid()}")
    run_worker()
    alive.refresh_from_db()
    doomed.refresh_from_db()
    assert alive.state == JobState.RUNNING
    assert doomed.state == JobState.FAILED and "3 times" in doomed.message


def test_jobs_are_claimed_once(queued, bureau):
    jobs.register("test.noop", lambda job, context: {"ok": True})
    first = jobs.job_enqueue(kind="test.noop", actor=bureau)
    second = jobs.job_enqueue(kind="test.noop", actor=bureau)
    assert jobs.job_claim("a:1").pk == first.pk
    assert jobs.job_claim("b:2").pk == second.pk
    assert jobs.job_claim("c:3") is None


def test_inline_jobs_run_before_enqueue_returns(settings, bureau):
    settings.IMPORT_JOB_THRESHOLD_ROWS = 10
    assert settings.JOBS_INLINE  # config/test.py
    batch, job = import_batch_submit(importer=OrganisationImporter(), file_name="big.xlsx", content=org_file(),
                                     actor=bureau)
    assert job.state == JobState.DONE
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRY_RUN


# --- the page and the API -------------------------------------------------------------------------
def test_upload_page_sends_a_large_file_to_the_job_page_which_polls(queued, client, bureau):
    client.force_login(bureau)
    upload = io.BytesIO(org_file())
    upload.name = "big.xlsx"
    response = client.post(reverse("registry:organisation_import"), {"file": upload})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="job-progress"' in page and f'hx-get="{reverse("jobs:status", args=[job.pk])}"' in page
    assert "<script" not in page.split('id="job-status"')[1].split("</section>")[0]
    run_worker()
    fragment = client.get(reverse("jobs:status", args=[job.pk]), HTTP_HX_REQUEST="true")
    batch = ImportBatch.objects.get()
    assert fragment.status_code == 204
    assert fragment["HX-Redirect"] == reverse("registry:import_batch_detail", args=[batch.pk])
    done = client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert 'data-state="done"' in done and "hx-get" not in done

    confirm = client.post(reverse("registry:import_batch_detail", args=[batch.pk]))
    confirm_job = Job.objects.get(kind=CONFIRM_KIND)
    assert confirm["Location"] == reverse("jobs:detail", args=[confirm_job.pk])
    assert 'data-testid="import-pending"' in client.get(reverse("registry:import_batch_detail",
                                                                args=[batch.pk])).content.decode()
    run_worker()
    assert Organisation.objects.filter(code__startswith="JOB-").count() == ROWS


def test_only_the_person_who_started_a_job_sees_it(queued, client, bureau):
    jobs.register("test.noop", lambda job, context: {"ok": True})
    job = jobs.job_enqueue(kind="test.noop", actor=bureau)
    other = make_user("bureau_officer", bureau.memberships.first().organisation)
    client.force_login(other)
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 403
    assert client.post(reverse("jobs:cancel", args=[job.pk])).status_code == 403
    _token, raw = api_token_create(user=other, name="t")
    assert client.get(f"/api/jobs/{job.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 403
    assert client.get("/api/jobs/999999", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 404


def test_api_answers_202_with_the_job_url(queued, client, bureau):
    _token, raw = api_token_create(user=bureau, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    small = client.post("/api/registry/imports/organisations", {"file": _named(org_file(3, "SMALL"), "s.xlsx")},
                        **auth)
    assert small.status_code == 201 and small.json()["created"] == 3 and small.json()["status"] == "dry_run"

    response = client.post("/api/registry/imports/organisations", {"file": _named(org_file(), "big.xlsx")}, **auth)
    assert response.status_code == 202
    body = response.json()
    assert body["job"]["url"] == f"/api/jobs/{body['job']['id']}" and body["job"]["state"] == "queued"
    run_worker()
    status = client.get(body["job"]["url"], **auth).json()
    assert status["state"] == "done" and status["done"] == status["total"] == ROWS
    batch = client.get(f"/api/registry/imports/batches/{body['batch']}", **auth).json()
    assert batch["status"] == "dry_run" and batch["created"] == ROWS

    confirm = client.post(f"/api/registry/imports/batches/{body['batch']}/confirm", **auth)
    assert confirm.status_code == 202
    run_worker()
    assert client.get(confirm.json()["job"]["url"], **auth).json()["state"] == "done"
    assert client.get(f"/api/registry/imports/batches/{body['batch']}", **auth).json()["status"] == "confirmed"
    again = client.post(f"/api/registry/imports/batches/{body['batch']}/confirm", **auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "confirm_refused"
    assert Organisation.objects.filter(code__startswith="JOB-").count() == ROWS


def _named(content: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


# --- a real worker process, killed with SIGKILL in the middle of an import (PostgreSQL) -------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgres" not in os.environ.get("DATABASE_URL", ""), reason="needs a database two processes share")
def test_sigkill_during_a_confirm_then_a_new_worker_imports_once(settings, tmp_path, bureau):
    settings.JOBS_INLINE = False
    settings.IMPORT_JOB_THRESHOLD_ROWS = 10
    count = 3000
    batch = ImportBatch.objects.create(kind=OrganisationImporter.kind, file_name="big.xlsx", content=b"",
                                       uploaded_by=bureau, status=ImportStatus.CHECKING)
    content = org_file(count)
    from sciencecity.core.importing import dry_run

    report = dry_run(OrganisationImporter(), content=content, file_name="big.xlsx", actor=bureau)
    assert not report.has_errors
    ImportBatch.objects.filter(pk=batch.pk).update(content=content, status=ImportStatus.DRY_RUN,
                                                   created_count=count, report=report.to_json())
    job = jobs.job_enqueue(kind=CONFIRM_KIND, params={"batch": batch.pk}, actor=bureau, total=count)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "PYTHONPATH": "src",
           "DATABASE_URL": _database_url(), "SCIENCECITY_VAR_DIR": str(tmp_path)}
    worker = subprocess.Popen([sys.executable, "-m", "sciencecity", "worker"], env=env,
                              cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while Job.objects.get(pk=job.pk).state != JobState.RUNNING and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    job.refresh_from_db()
    assert job.state == JobState.RUNNING  # it died with the job
    assert Organisation.objects.filter(code__startswith="JOB-").count() in (0, count)  # atomic either way
    output = run_worker()
    job.refresh_from_db()
    assert job.state == JobState.DONE, (output, job.message)
    assert Organisation.objects.filter(code__startswith="JOB-").count() == count


def _database_url() -> str:
    settings_dict = connection.settings_dict
    return (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}")
