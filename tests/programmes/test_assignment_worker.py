"""Reviewer assignment runs in the background worker: the request returns a queued job whose status page
sees it run; cancel reaches the queue; a worker killed mid-run (simulated and with SIGKILL) is retried
without duplicate proposals."""

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
from django.db import connection
from django.urls import reverse

from sciencecity.core.models import Job, JobState
from sciencecity.programmes.models import Assignment, AssignmentJob
from sciencecity.programmes.services import assignment as services


@pytest.fixture
def queued(settings, tmp_path):
    settings.JOBS_INLINE = False
    settings.JOBS_DIR = tmp_path / "jobs"
    return settings


def run_worker() -> str:
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    return out.getvalue()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _background(job: AssignmentJob) -> Job:
    return Job.objects.get(kind=services.ASSIGNMENT_JOB_KIND, params__assignment_job=job.pk)


def test_the_request_queues_and_the_worker_solves(queued, review_world, client):
    call, officer = review_world["call"], review_world["officer"]
    client.force_login(officer)
    response = client.post(reverse("programmes:assignment_run", args=[call.pk]))
    job = AssignmentJob.objects.get(call=call)
    assert response.status_code == 302 and response.url == reverse("programmes:assignment_job_status", args=[job.pk])
    assert job.state == "queued"
    assert not Assignment.objects.filter(application__call=call).exists()
    page = client.get(response.url, HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    background = _background(job)
    assert background.state == JobState.QUEUED and background.created_by == officer

    output = run_worker()
    assert f"job {background.pk} ({services.ASSIGNMENT_JOB_KIND}) started" in output
    job.refresh_from_db()
    background.refresh_from_db()
    assert job.state == "done" and job.progress == 1.0
    assert background.state == JobState.DONE and background.result["proposed"] == 3
    assert Assignment.objects.filter(application__call=call, job=job).count() == 3


def test_cancel_of_a_queued_assignment_drops_it_from_the_queue(queued, review_world):
    call, officer = review_world["call"], review_world["officer"]
    job = services.assignment_run(actor=officer, call=call)
    services.assignment_job_cancel(actor=officer, job=job)
    background = _background(job)
    assert background.state == JobState.CANCELLED
    run_worker()
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert not Assignment.objects.filter(application__call=call).exists()


def test_a_killed_worker_is_retried_and_never_duplicates_proposals(queued, review_world):
    call, officer = review_world["call"], review_world["officer"]
    job = services.assignment_run(actor=officer, call=call)
    background = _background(job)
    # A worker claimed it, marked the assignment running, and was killed before storing anything.
    Job.objects.filter(pk=background.pk).update(state=JobState.RUNNING, attempts=1,
                                                worker=f"{socket.gethostname()}:{_dead_pid()}")
    AssignmentJob.objects.filter(pk=job.pk).update(state="running", stage="Solving", progress=0.4)
    output = run_worker()
    assert f"queued again (their worker had stopped): {background.pk}" in output
    job.refresh_from_db()
    background.refresh_from_db()
    assert job.state == "done" and background.state == JobState.DONE and background.attempts == 2
    first = sorted(Assignment.objects.filter(application__call=call).values_list("application_id", "expert_id"))
    assert len(first) == 3

    # Killed after the proposal was stored but before the queue heard of it: the retry writes nothing.
    Job.objects.filter(pk=background.pk).update(state=JobState.RUNNING,
                                                worker=f"{socket.gethostname()}:{_dead_pid()}")
    stored_ids = set(Assignment.objects.filter(application__call=call).values_list("pk", flat=True))
    run_worker()
    background.refresh_from_db()
    assert background.state == JobState.DONE and background.attempts == 3
    assert set(Assignment.objects.filter(application__call=call).values_list("pk", flat=True)) == stored_ids


def test_an_infeasible_assignment_fails_the_queue_entry_with_the_reason(queued, review_world):
    call, officer = review_world["call"], review_world["officer"]
    call.reviews_per_application, call.max_load = 5, 1  # 3 applications × 5 reviewers > 5 experts × 1
    call.save()
    job = services.assignment_run(actor=officer, call=call)
    run_worker()
    job.refresh_from_db()
    background = _background(job)
    assert job.state == "failed" and background.state == JobState.FAILED
    assert background.message == job.message.splitlines()[0]
    assert not Assignment.objects.filter(application__call=call).exists()


# --- a real worker process killed with SIGKILL while it runs the assignment (PostgreSQL) ---------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgres" not in os.environ.get("DATABASE_URL", ""), reason="needs a database two processes share")
def test_sigkill_of_the_worker_then_a_new_worker_assigns_once(settings, tmp_path, review_world):
    settings.JOBS_INLINE = False
    settings.JOBS_DIR = tmp_path / "jobs"
    call, officer = review_world["call"], review_world["officer"]
    job = services.assignment_run(actor=officer, call=call)
    background = _background(job)
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "PYTHONPATH": "src",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "SCIENCECITY_VAR_DIR": str(tmp_path)}
    worker = subprocess.Popen([sys.executable, "-m", "sciencecity", "worker", "--sleep", "0.05"], env=env,
                              cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while Job.objects.get(pk=background.pk).state == JobState.QUEUED and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    background.refresh_from_db()
    assert background.state in (JobState.RUNNING, JobState.DONE)  # killed mid-run, or just after finishing
    assert Assignment.objects.filter(application__call=call).count() in (0, 3)  # one transaction either way
    run_worker()
    job.refresh_from_db()
    background.refresh_from_db()
    assert job.state == "done" and background.state == JobState.DONE
    assert Assignment.objects.filter(application__call=call).count() == 3
    assert len(set(Assignment.objects.filter(application__call=call).values_list("application_id", "expert_id"))) == 3


# --- two assignment jobs of one call stored at the same time (PostgreSQL) ----------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgres" not in os.environ.get("DATABASE_URL", ""), reason="needs a database two threads share")
def test_two_jobs_of_one_call_store_one_after_the_other(review_world):
    """Two officers start the assignment of the same call. The first job's proposal is stored in a transaction
    still open when the second job stores its own: the second waits for the first and replaces its
    proposal, instead of failing on the pair both proposed (or adding a second set of reviewers)."""
    import threading

    from django.db import connections, transaction

    call, officer = review_world["call"], review_world["officer"]
    first = services.assignment_job_create(actor=officer, call=call)
    second = services.assignment_job_create(actor=officer, call=call)
    outcome: dict[str, object] = {}

    def run_second() -> None:
        try:
            outcome["job"] = services.assignment_job_execute(job=second, actor=officer)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcome["error"] = exc
        finally:
            connections.close_all()

    with transaction.atomic():
        services.assignment_job_execute(job=first, actor=officer)
        thread = threading.Thread(target=run_second)
        thread.start()
        thread.join(3)  # the second job reaches its store while the first's proposal is uncommitted
    thread.join(60)
    assert "error" not in outcome, outcome.get("error")
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.state, second.state) == ("done", "done")
    proposed = Assignment.objects.filter(application__call=call)
    assert proposed.count() == 3 and set(proposed.values_list("job_id", flat=True)) == {second.pk}
