"""View guards shared by the apps: re-authentication ("sudo mode") before sensitive actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from sciencecity.accounts import two_factor
from sciencecity.core import permissions


def reauthentication_redirect(request):
    """Send the user to confirm their identity, then back here (a POST is repeated by hand)."""
    target = request.get_full_path() if request.method == "GET" else request.path
    if request.method != "GET":
        messages.info(request, _("Confirm it is you, then repeat the action."))
    return redirect(f"{reverse('accounts:reauthenticate')}?{urlencode({'next': target})}")


def reauthentication_required(view=None, *, methods: tuple[str, ...] | None = None,
                              check: Callable[[Any], bool] | None = None):
    """Require a re-authentication within ``REAUTHENTICATION_MINUTES`` (password + code when enrolled).

    ``methods`` limits the guard to those HTTP methods (e.g. ``("POST",)`` for a page whose form
    creates something); by default every request to the view is guarded. Anonymous users go to
    the login page first; ``check(user)`` (a ``core.permissions`` rule) is applied before asking,
    so that someone without the permission gets 403, not a password prompt.
    """

    def decorator(view_function):
        @login_required
        @wraps(view_function)
        def wrapped(request, *args, **kwargs):
            if check is not None:
                permissions.require(check(request.user))
            if (methods is None or request.method in methods) and not two_factor.reauthentication_fresh(request):
                return reauthentication_redirect(request)
            return view_function(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator


def _token_user(request):
    from sciencecity.accounts import services

    scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
    return services.api_token_user(raw.strip()) if scheme.lower() == "bearer" else None


def require_api_reauthentication(request) -> None:
    """In the API, a browser session must have re-authenticated; a bearer token was created in one."""
    if _token_user(request) is not None:
        return  # authenticated by a working bearer token, not by the session
    if not two_factor.reauthentication_fresh(request):
        raise PermissionDenied(_("Confirm your identity (re-authenticate) in the browser first."))
