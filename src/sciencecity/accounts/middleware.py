"""Login policy on every request: idle timeout and forced password change."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from sciencecity.accounts import services

_EXEMPT_PREFIXES = ("/static/", "/i18n/", "/accounts/logout/", "/accounts/password/", "/healthz", "/readyz", "/metrics")


class LoginPolicyMiddleware:
    """GB/T 22239-2019 8.1.4.1 b: log out idle sessions (default 30 minutes, SESSION_IDLE_TIMEOUT_MINUTES)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last_seen = request.session.get("last_seen")
            idle = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            if last_seen is not None and idle and now - float(last_seen) > idle:
                services.logout_user(request=request, reason="idle timeout")
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"error": {"code": "session_expired", "message": _("The session expired; log in again.")}},
                        status=401,
                    )
                messages.info(request, _("You were logged out after a period of inactivity."))
                return redirect(f"{reverse('accounts:login')}?next={request.path}")
            if last_seen is None or now - float(last_seen) > 60:
                # Written at most once a minute, so that a page view is not a session write.
                request.session["last_seen"] = now
            if not request.path.startswith(_EXEMPT_PREFIXES) and services.password_change_required(user):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"error": {"code": "password_change_required",
                                   "message": _("Change your password before using the platform.")}},
                        status=403,
                    )
                return redirect("accounts:password_change")
        return self.get_response(request)
