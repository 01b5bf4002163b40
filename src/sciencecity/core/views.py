"""Audit trail pages for the audit administrator (placeholder until the audit work package lands)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


event_list = event_export = event_detail = _todo
