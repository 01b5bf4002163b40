"""Two-factor pages: enrolment, the code after the password, re-authentication, recovery codes, disable.

``TwoFactorMiddleware`` sends users here; the services in ``accounts.two_factor`` do the work and
write the audit trail. Secrets and recovery codes are rendered into no-store responses only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sciencecity.accounts import services, two_factor
from sciencecity.accounts.decorators import reauthentication_required
from sciencecity.accounts.forms import (
    ReauthenticateForm,
    TwoFactorCodeForm,
    TwoFactorLoginForm,
    add_service_errors,
)


def _next(request: HttpRequest, default: str = "portal:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    from django.urls import reverse

    return reverse(default)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private"
    response["Pragma"] = "no-cache"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: the secret as text and as a QR code, confirmed by a first code."""
    user = request.user
    if user.totp_enabled:
        messages.info(request, _("Two-factor authentication is already set up."))
        return redirect("accounts:two_factor")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_device_confirm(request=request, code=form.cleaned_data["code"])
        except ValidationError as exc:
            add_service_errors(form, exc, default_field="code")
        else:
            return _no_store(render(request, "accounts/recovery_codes.html",
                                    {"codes": codes, "next": _next(request), "enrolled": True}))
    enrolment = two_factor.enrolment_pending(request)
    context = {"form": form, "secret": enrolment.secret, "uri": enrolment.uri, "qr_svg": two_factor.qr_svg(enrolment.uri),
               "mandatory": two_factor.two_factor_mandatory(user), "next": request.GET.get("next", "")}
    return _no_store(render(request, "accounts/two_factor_setup.html", context,
                            status=400 if request.method == "POST" else 200))


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step after the password: a code from the app or a recovery code."""
    if not request.user.totp_enabled or two_factor.session_verified(request):
        return redirect(_next(request))
    form = TwoFactorLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = two_factor.two_factor_verify(request=request, code=form.cleaned_data["code"])
        if result.ok:
            if result.code == "recovery":
                messages.warning(request, _("You used a recovery code; %(count)d are left. Generate new ones in "
                                            "your account if you are running out.") % {"count": result.recovery_codes_left})
            if services.password_change_required(request.user):
                return redirect("accounts:password_change")
            return redirect(_next(request))
        if result.code == "locked":
            messages.error(request, result.message)
            return redirect("accounts:login")
        form.add_error("code", result.message)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": request.GET.get("next", "")},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Confirm the identity again (password, and the code when enrolled) before a sensitive action."""
    form = ReauthenticateForm(request.POST or None, with_code=request.user.totp_enabled)
    if request.method == "POST" and form.is_valid():
        result = two_factor.reauthenticate(request=request, password=form.cleaned_data["password"],
                                           code=form.cleaned_data.get("code", ""))
        if result.ok:
            return redirect(_next(request))
        if result.code == "locked":
            messages.error(request, result.message)
            return redirect("accounts:login")
        form.add_error(None, result.message)
    context = {"form": form, "next": request.GET.get("next", ""),
               "reauthentication_minutes": settings.REAUTHENTICATION_MINUTES}
    return render(request, "accounts/reauthenticate.html", context, status=400 if request.method == "POST" else 200)


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    """State of the user's two-factor authentication, with regenerate and disable."""
    user = request.user
    context = {"enabled": user.totp_enabled, "mandatory": two_factor.two_factor_mandatory(user),
               "codes_left": two_factor.recovery_codes_left(user) if user.totp_enabled else 0}
    return render(request, "accounts/two_factor.html", context)


@require_POST
@reauthentication_required
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    try:
        codes = two_factor.recovery_codes_regenerate(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:two_factor")
    return _no_store(render(request, "accounts/recovery_codes.html", {"codes": codes, "enrolled": False}))


@require_POST
@reauthentication_required
def disable(request: HttpRequest) -> HttpResponse:
    try:
        two_factor.two_factor_disable(actor=request.user, user=request.user, reason="by the user",
                                      request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:two_factor")
    if two_factor.two_factor_mandatory(request.user):
        messages.warning(request, _("Two-factor authentication is off. Your role requires it: set up your new "
                                    "authenticator app now."))
        return redirect("accounts:two_factor_setup")
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:two_factor")
