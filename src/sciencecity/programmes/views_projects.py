"""Placeholder views, replaced by the work package that owns this module."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


disclosure = milestone_action = panel = project_detail = project_list = race_round = _todo
