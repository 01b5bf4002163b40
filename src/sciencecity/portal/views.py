from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from sciencecity.core import permissions
from sciencecity.portal import selectors


def healthz(request):
    """Liveness and database check for the reverse proxy / monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request):
    context = {}
    if permissions.can_view_registry(request.user):
        context["registry"] = selectors.registry_overview()
        context["incubation"] = selectors.incubation_overview()
    return render(request, "portal/home.html", context)
