"""The second login step on every request: a user who needs 2FA reaches nothing else until it is done."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from sciencecity.accounts import two_factor

_ALWAYS_OPEN = ("/static/", "/i18n/", "/accounts/logout/", "/accounts/login/", "/healthz", "/readyz", "/metrics")
_VERIFY_PATH = "/accounts/two-factor/verify/"
_SETUP_PATH = "/accounts/two-factor/setup/"
#: Someone who must enrol may first change an initial password (the login policy sends them there).
_ENROLMENT_OPEN = (*_ALWAYS_OPEN, _SETUP_PATH, "/accounts/password/")


class TwoFactorMiddleware:
    """GB/T 22239-2019 8.1.4.1 d. Users with a device must give a code (or a recovery code) after the
    password; users whose role requires 2FA (``TWO_FACTOR_MANDATORY_ROLES``) and have none must enrol.
    API calls with a bearer token pass: tokens are created in a verified, re-authenticated session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if user.totp_enabled and two_factor.session_verified(request):
            return self.get_response(request)  # the common case costs no query
        if not two_factor.two_factor_required(user):
            return self.get_response(request)
        path = request.path
        is_api = path.startswith("/api/")
        if is_api and self._valid_token(request):
            return self.get_response(request)  # the token, not this half-logged-in session, authenticates
        if user.totp_enabled:
            if path.startswith((*_ALWAYS_OPEN, _VERIFY_PATH)):
                return self.get_response(request)
            if is_api:
                return JsonResponse({"error": {"code": "two_factor_required",
                                               "message": _("Enter your two-factor code before using the platform."),
                                               "details": None}}, status=403)
            return redirect(self._with_next(_VERIFY_PATH, request))
        if path.startswith(_ENROLMENT_OPEN):
            return self.get_response(request)
        from sciencecity.accounts import services

        if services.password_change_required(user):
            return self.get_response(request)  # the login policy sends them to the password change first
        if is_api:
            return JsonResponse({"error": {"code": "two_factor_enrolment_required",
                                           "message": _("Set up two-factor authentication before using the "
                                                        "platform."),
                                           "details": None}}, status=403)
        return redirect(self._with_next(_SETUP_PATH, request))

    @staticmethod
    def _valid_token(request) -> bool:
        """A working ``Authorization: Bearer`` token; a junk header must not let the session through."""
        from sciencecity.accounts import services

        scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and services.api_token_user(raw.strip()) is not None

    @staticmethod
    def _with_next(target: str, request) -> str:
        if request.method == "GET" and request.path not in ("/", reverse("portal:home")):
            return f"{target}?{urlencode({'next': request.get_full_path()})}"
        return target
