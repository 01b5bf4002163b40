from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from sciencecity.core import inbox, permissions
from sciencecity.portal import search as global_search
from sciencecity.portal import selectors


def healthz(request):
    """Liveness and database check for the reverse proxy / monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request):
    context = {"inbox": inbox.items_for(request.user)}
    if permissions.can_view_registry(request.user):
        context["registry"] = selectors.registry_overview()
        context["incubation"] = selectors.incubation_overview()
    return render(request, "portal/home.html", context)


@login_required
def search(request):
    query = request.GET.get("q", "")
    groups = global_search.search_all(request.user, query)
    return render(request, "portal/search.html", {"query": " ".join(query.split())[:global_search.MAX_QUERY],
                                                  "groups": groups})
