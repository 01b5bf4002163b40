"""The organisation a request acts for (UI session choice or the API's ``X-Acting-Organisation`` header)."""

from __future__ import annotations

from django.http import HttpRequest

from sciencecity.core import permissions
from sciencecity.registry.models import Organisation


def acting_organisation(request: HttpRequest):
    """The organisation the user acts for: header ``X-Acting-Organisation`` or the session's choice."""
    user = request.user
    ids = permissions.organisation_ids(user)
    wanted = request.headers.get("X-Acting-Organisation") or (
        request.session.get("acting_organisation_id") if hasattr(request, "session") else None
    )
    try:
        wanted_id = int(wanted) if wanted else None
    except (TypeError, ValueError):
        wanted_id = None
    chosen = wanted_id if wanted_id in ids else (min(ids) if ids else None)
    return Organisation.objects.filter(pk=chosen).first() if chosen else None


def acting_organisation_among(request: HttpRequest, allowed_ids: set[int]) -> Organisation:
    """The organisation the request acts for among ``allowed_ids``: the chosen one when it is allowed,
    else the lowest allowed id; ``PermissionDenied`` (403 in the UI and the API alike) when there is none."""
    chosen = acting_organisation(request)
    if chosen is not None and chosen.pk in allowed_ids:
        return chosen
    organisation = Organisation.objects.filter(pk__in=allowed_ids).order_by("pk").first()
    permissions.require(organisation is not None)
    return organisation
