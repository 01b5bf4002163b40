"""A large import in the browser: upload → the job page polls its progress → the worker runs it → the
page opens the report by itself → confirm → the job writes the rows."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from sciencecity.accounts.choices import Role
from sciencecity.core import jobs
from sciencecity.registry.models import Organisation
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.core.test_jobs import ROWS, org_file
from tests.e2e.conftest import login


def run_worker_once() -> None:
    while (job := jobs.job_claim("e2e:1")) is not None:
        jobs.job_run(job)


def test_large_import_runs_as_a_job_with_a_polling_progress_page(page, transactional_db, settings, tmp_path):
    settings.JOBS_INLINE = False
    settings.JOBS_DIR = tmp_path / "jobs"
    settings.IMPORT_JOB_THRESHOLD_ROWS = 10
    bureau = make_organisation(name="光明区科技创新局", kind="government_department", code="GOV-KCJ")
    make_user(Role.BUREAU_OFFICER, bureau, username="officer")
    failures: list[str] = []
    page.on("response", lambda response: failures.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)

    login(page, "officer", PASSWORD)
    page.goto(f"{page.base_url}/registry/organisations/import/")
    page.set_input_files("[data-testid=import-file]", files=[{
        "name": "big.xlsx", "buffer": org_file(),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    assert page.locator("[data-testid=job-state]").inner_text() == "排队中"
    expect(page.locator("progress[data-testid=job-progress]")).to_be_visible()
    run_worker_once()  # the worker, as `sciencecity worker` would
    page.wait_for_url(re.compile(r"/registry/import/\d+/$"), timeout=15000)
    assert page.locator("[data-testid=count-created]").inner_text() == str(ROWS)

    page.click("[data-testid=import-confirm]")
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    run_worker_once()
    page.wait_for_url(re.compile(r"/registry/import/\d+/$"), timeout=15000)
    assert page.locator("[data-testid=import-status]").inner_text() == "已确认导入"
    assert Organisation.objects.filter(code__startswith="JOB-").count() == ROWS
    assert not failures, failures
