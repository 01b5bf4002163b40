"""Placeholder views, replaced by the work package that owns this module."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


achievement_create = achievement_detail = achievement_edit = achievement_list = demand_create = demand_detail = demand_edit = demand_list = feedback = index = notifications = search = watch_detail = watch_list = _todo
