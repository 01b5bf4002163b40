"""Placeholder views, replaced by the work package that owns this module."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


broker_list = contract_create = contract_list = deal_action = deal_create = deal_detail = deal_list = incubation = _todo
