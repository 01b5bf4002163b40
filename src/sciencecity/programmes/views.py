"""Placeholder views, replaced by the work package that owns this module."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


application_action = application_create = application_detail = application_edit = application_list = call_create = call_detail = call_list = call_transition = demand_create = demand_detail = demand_list = index = integrity_list = topic_create = topic_list = _todo
