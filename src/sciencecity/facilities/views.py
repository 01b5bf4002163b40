"""Facilities pages: catalogue, instrument detail with calendar. Thin: permission, selector/service, render."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from sciencecity.facilities.models import Instrument


def instrument_list(request):
    instruments = Instrument.objects.select_related("host").all()
    return render(request, "facilities/instrument_list.html", {"instruments": instruments})


def instrument_detail(request, code: str):
    instrument = get_object_or_404(Instrument.objects.select_related("host"), code=code)
    return render(request, "facilities/instrument_detail.html", {"instrument": instrument})
