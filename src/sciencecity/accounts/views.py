"""Login, logout and password change. User, role and token management live in ``views_admin``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.accounts import services
from sciencecity.accounts.forms import LoginForm, PasswordChangeForm


def _safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.login_attempt(
            request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if result.ok:
            if services.password_change_required(result.user):
                messages.warning(request, _("Change your initial or expired password before you continue."))
                return redirect("accounts:password_change")
            return redirect(_safe_next(request))
        form.add_error(None, result.message)
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")})


@require_POST
def logout_view(request):
    services.logout_user(request=request)
    messages.info(request, _("You have logged out."))
    return redirect("accounts:login")


@login_required
def password_change_view(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error("new_password", exc.messages)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("portal:home")
    return render(request, "accounts/password_change.html", {"form": form})
