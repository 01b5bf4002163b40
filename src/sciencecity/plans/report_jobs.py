"""The mid-term evaluation report as PDF, built by the background worker (reportlab takes seconds at
city scale, and a request must not hold a web worker that long).

The job writes the file under ``MEDIA_ROOT/jobs/<job id>/`` (a retry after a killed worker overwrites
the same file: nothing is written twice) and its result names it; ``/jobs/<id>/file/`` hands it to the
person who asked for it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from sciencecity.core import jobs
from sciencecity.core.models import Job

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

REPORT_PDF_KIND = "plans.report_pdf"


def report_pdf_enqueue(*, plan: Any, as_of_year: int | None, actor: User | None) -> Job:
    return jobs.job_enqueue(kind=REPORT_PDF_KIND, actor=actor, total=2, message=str(plan.code),
                            params={"plan": plan.pk, "as_of_year": as_of_year})


def report_pdf_run(job: Job, context: jobs.JobContext) -> dict[str, Any]:
    from sciencecity.plans import report
    from sciencecity.plans.models import Plan

    plan = Plan.objects.get(pk=job.params["plan"])
    context.progress(0, 2, str(_("Gathering the indicator values")))
    data = report.report_data(plan, as_of_year=job.params.get("as_of_year"))
    context.progress(1, 2, str(_("Drawing the PDF")))
    content = report.render_pdf(data)
    name = f"{plan.code}-midterm-{dt.date.today():%Y%m%d}.pdf"
    result = jobs.job_file_save(job, name=name, content=content, content_type="application/pdf")
    context.progress(2, 2, str(_("The report is ready.")))
    return result | {"synthetic": bool(data["synthetic"])}


def register() -> None:
    jobs.register(REPORT_PDF_KIND, report_pdf_run, label=_("Mid-term evaluation report (PDF)"))
