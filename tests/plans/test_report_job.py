"""The PDF report is built by the worker: the request queues it and returns at once, the job page hands
over the file to the person who asked, a retry after a killed worker replaces the file."""

from __future__ import annotations

import io
import socket
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core import jobs
from sciencecity.core.models import AuditEvent, Job, JobState
from tests.conftest import make_user


@pytest.fixture
def queued(settings, tmp_path):
    settings.JOBS_INLINE = False
    settings.JOBS_DIR = tmp_path / "jobs"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


def _worker() -> str:
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    return out.getvalue()


def test_the_request_queues_the_pdf_and_the_job_page_hands_it_over(queued, plan, plan_bureau, login, reauthenticate,
                                                                    client):
    login(plan_bureau)
    reauthenticate(plan_bureau)
    response = client.get(reverse("plans:report_pdf"))
    job = Job.objects.get(kind="plans.report_pdf")
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.state == JobState.QUEUED
    assert AuditEvent.objects.filter(action="export", changes__job=job.pk).count() == 1
    assert client.get(reverse("jobs:file", args=[job.pk])).status_code == 404  # not built yet

    assert "done" in _worker()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result["url"] == reverse("jobs:file", args=[job.pk])
    status = client.get(reverse("jobs:status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert status.status_code == 204 and status["HX-Redirect"] == job.result["url"]
    pdf = client.get(job.result["url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{job.result["file"]}"'
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) == job.result["bytes"]

    other = make_user(Role.BUREAU_OFFICER, plan_bureau.memberships.first().organisation)
    login(other)
    assert client.get(job.result["url"]).status_code == 403  # only who started it


def test_a_killed_worker_retry_replaces_the_file(queued, plan, plan_bureau):
    job = jobs.job_enqueue(kind="plans.report_pdf", params={"plan": plan.pk, "as_of_year": None}, actor=plan_bureau)
    _worker()
    job.refresh_from_db()
    first = jobs.job_file_path(job).read_bytes()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker=f"{socket.gethostname()}:{dead.pid}")
    _worker()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2
    files = sorted(p.name for p in jobs.job_file_dir(job.pk).iterdir())
    assert files == [job.result["file"]]  # one file, no leftovers
    assert jobs.job_file_path(job).read_bytes()[:4] == first[:4] == b"%PDF"


def test_a_job_file_never_leaves_the_job_folder(queued, plan, plan_bureau):
    job = jobs.job_enqueue(kind="plans.report_pdf", params={"plan": plan.pk, "as_of_year": None}, actor=plan_bureau)
    _worker()
    job.refresh_from_db()
    Job.objects.filter(pk=job.pk).update(result={**job.result, "file": "../../secret_key"})
    job.refresh_from_db()
    assert jobs.job_file_path(job) is None
