from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from sciencecity.core import navigation
from sciencecity.portal import search as global_search


def healthz(request):
    """Liveness and database check for the reverse proxy / monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request):
    """The home page: the blocks the apps registered (:mod:`sciencecity.core.navigation`) that the user sees."""
    widgets = [{"template": w.template, "context": w.context(request)} for w in navigation.home_widgets(request.user)]
    scripts = list(dict.fromkeys(s for w in navigation.home_widgets(request.user) for s in w.scripts))
    return render(request, "portal/home.html", {"widgets": widgets, "widget_scripts": scripts})


@login_required
def search(request):
    query = request.GET.get("q", "")
    groups = global_search.search_all(request.user, query)
    return render(request, "portal/search.html", {"query": " ".join(query.split())[:global_search.MAX_QUERY],
                                                  "groups": groups})
