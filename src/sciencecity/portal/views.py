from django.shortcuts import render

from sciencecity.core import permissions
from sciencecity.portal import selectors


def home(request):
    context = {}
    if permissions.can_view_registry(request.user):
        context["registry"] = selectors.registry_overview()
        context["incubation"] = selectors.incubation_overview()
    return render(request, "portal/home.html", context)
