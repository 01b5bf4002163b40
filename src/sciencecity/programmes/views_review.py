"""Placeholder views, replaced by the work package that owns this module."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


assignment_edit = assignment_job_status = assignment_overview = assignment_release = assignment_run = expert_detail = expert_list = my_reviews = ranking = review_decline = review_form = _todo
