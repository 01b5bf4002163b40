"""Enterprise service pages."""

from django.shortcuts import redirect


def index(request):
    return redirect("portal:home")
