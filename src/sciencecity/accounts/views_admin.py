"""Profile, API tokens, acting organisation, user management (系统管理员) and roles (安全管理员).

Thin views: check the permission (core.permissions, the same checks as the API), call a service
or selector, render. One-time secrets (new passwords, new API tokens) are rendered straight into
the POST response, never stored and never cached, so they are shown exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sciencecity.accounts import selectors, services
from sciencecity.accounts.decorators import reauthentication_required
from sciencecity.accounts.forms import (
    ActingOrganisationForm,
    AdminChangeRequestForm,
    MembershipFilterForm,
    OptionalReasonForm,
    ReasonForm,
    RoleGrantForm,
    RoleGrantSearchForm,
    TokenCreateForm,
    UserActiveForm,
    UserCreateForm,
    UserPersonForm,
    UserSearchForm,
    add_service_errors,
    int_or_none,
)
from sciencecity.accounts.models import AdminAccountChange, ApiToken, Membership, User
from sciencecity.core import permissions
from sciencecity.registry.acting import acting_organisation

PAGE_SIZE = 50


def allowed_for(check: Callable[[Any], bool]):
    """Log in first (anonymous → login page), then require ``check(user)`` (otherwise 403)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            permissions.require(check(request.user))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _once(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A page that shows a secret once: no caching anywhere."""
    response = render(request, template, context)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private"
    response["Pragma"] = "no-cache"
    return response


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- profile and acting organisation (any logged-in user, own data)
def _profile_context(request: HttpRequest, acting_form: ActingOrganisationForm | None = None) -> dict[str, Any]:
    user = request.user
    current = acting_organisation(request)
    if acting_form is None:
        acting_form = ActingOrganisationForm(user=user, initial={"organisation": getattr(current, "pk", None)})
    return {
        "memberships": selectors.own_memberships(user),
        "acting_organisation": current,
        "acting_form": acting_form,
        "has_organisations": acting_form.fields["organisation"].queryset.exists(),
        "password_change_required": services.password_change_required(user),
        "password_changed_at": user.password_changed_at,
    }


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", _profile_context(request))


@login_required
@require_POST
def acting_organisation_set(request: HttpRequest) -> HttpResponse:
    """Store the organisation the user acts for; only one of the user's own organisations."""
    form = ActingOrganisationForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "accounts/profile.html", _profile_context(request, form), status=400)
    organisation = form.cleaned_data["organisation"]
    request.session["acting_organisation_id"] = organisation.pk
    messages.success(request, _("You now act for %(organisation)s.") % {"organisation": organisation})
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("accounts:profile")


@login_required
@reauthentication_required(methods=("POST",))
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"],
                                                   expires_at=form.expires_at())
        except ValidationError as exc:
            add_service_errors(form, exc, default_field="name")
        else:
            return _once(request, "accounts/token_created.html", {"token": token, "raw_token": raw})
    return render(request, "accounts/token_list.html", {"form": form, "tokens": selectors.own_tokens(request.user)})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of one's own tokens (the system administrator may revoke anybody's)."""
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    permissions.require(token.user_id == request.user.pk or permissions.can_manage_users(request.user))
    if token.revoked_at:
        messages.info(request, _("The token %(token)s was already revoked.") % {"token": token})
    else:
        services.api_token_revoke(actor=request.user, token=token)
        messages.success(request, _("The token %(token)s is revoked.") % {"token": token})
    if token.user_id != request.user.pk:
        return redirect("accounts:user_detail", pk=token.user_id)
    return redirect("accounts:token_list")


# --- users (系统管理员)
@allowed_for(permissions.can_manage_users)
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserSearchForm(request.GET or None)
    query, active = "", None
    if form.is_valid():
        query, active = form.cleaned_data["q"], form.active_filter()
    page = _page(request, selectors.user_list(query=query, active=active))
    return render(request, "accounts/user_list.html", {"form": form, "page": page})


@allowed_for(permissions.can_manage_users)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.user_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _once(request, "accounts/one_time_password.html",
                         {"account": user, "password": password, "created": True})
    return render(request, "accounts/user_form.html", {"form": form})


@allowed_for(permissions.can_manage_users)
@require_http_methods(["GET", "POST"])
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One account: roles, state, tokens; POST ``action`` = reset_password | set_active | unlock."""
    account = get_object_or_404(selectors.user_list(), pk=pk)
    forms = {"reset_password": OptionalReasonForm(prefix="reset"),
             "set_active": UserActiveForm(prefix="active", initial={"active": "no" if account.is_active else "yes"}),
             "unlock": OptionalReasonForm(prefix="unlock"),
             "set_person": UserPersonForm(prefix="person",
                                          initial={"person": account.person.code if account.person_id else ""})}
    action = request.POST.get("action", "")
    refused = False
    if request.method == "POST" and action in forms:
        form_class = type(forms[action])
        form = forms[action] = form_class(request.POST, prefix=forms[action].prefix)
        if form.is_valid():
            try:
                response = _user_action(request, account, action, form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:  # 三员分立: an administrator account needs two people
                form.add_error(None, str(exc))
                refused = True
            else:
                return response
    context = {"account": account, "locked": account.is_locked, "locked_until": selectors.locked_until(account),
               "alone": permissions.can_change_account_alone(request.user, account),
               "refused_forms": [forms[action]] if refused else [],
               "password_change_required": services.password_change_required(account),
               "tokens": selectors.own_tokens(account), **{f"{name}_form": f for name, f in forms.items()}}
    status = (403 if refused else 400) if request.method == "POST" else 200
    return render(request, "accounts/user_detail.html", context, status=status)


def _user_action(request: HttpRequest, account: User, action: str, data: dict[str, Any]) -> HttpResponse:
    actor = request.user
    if action == "reset_password":
        password = services.user_password_reset(actor=actor, user=account, reason=data["reason"])
        return _once(request, "accounts/one_time_password.html", {"account": account, "password": password})
    if action == "set_active":
        services.user_set_active(actor=actor, user=account, active=data["active"], reason=data["reason"])
        messages.success(request, _("The account is now active.") if data["active"]
                         else _("The account is now deactivated."))
    elif action == "set_person":
        services.user_person_set(actor=actor, user=account, person=data["person"], reason=data["reason"])
        messages.success(request, _("The linked registry person is saved."))
    else:
        services.user_unlock(actor=actor, user=account, reason=data["reason"])
        messages.success(request, _("The account is unlocked."))
    return redirect("accounts:user_detail", pk=account.pk)


# --- roles (安全管理员)
@allowed_for(permissions.can_manage_roles)
def role_list(request: HttpRequest) -> HttpResponse:
    form = MembershipFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    memberships = selectors.membership_list(
        role=filters.get("role", ""), user_query=filters.get("user_q", ""),
        organisation_query=filters.get("organisation_q", ""),
    )
    return render(request, "accounts/role_list.html",
                  {"form": form, "page": _page(request, memberships), "policy": selectors.login_policy()})


@allowed_for(permissions.can_manage_roles)
@require_http_methods(["GET", "POST"])
@reauthentication_required(check=permissions.can_manage_roles)
def role_grant(request: HttpRequest) -> HttpResponse:
    search = RoleGrantSearchForm(request.GET or None)
    queries = search.cleaned_data if search.is_valid() else {}
    form = RoleGrantForm(request.POST or None, user_query=queries.get("user_q", ""),
                         organisation_query=queries.get("organisation_q", ""),
                         initial_user=int_or_none(request.GET.get("user")))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership = services.role_grant(actor=request.user, user=data["user"], role=data["role"],
                                             organisation=data["organisation"], reason=data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc, default_field="role")
        except PermissionDenied as exc:  # the page permission passed: this is the self-grant rule
            form.add_error("user", str(exc))
        else:
            messages.success(request, _("Granted: %(membership)s.") % {"membership": membership})
            return redirect(f"{reverse('accounts:role_list')}?{urlencode({'user_q': membership.user.username})}")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/role_grant.html", {"form": form, "search": search}, status=status)


@allowed_for(permissions.can_manage_roles)
@require_http_methods(["GET", "POST"])
@reauthentication_required(check=permissions.can_manage_roles)
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("user", "organisation"), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.role_revoke(actor=request.user, membership=membership, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc, default_field="reason")
        else:
            messages.success(request, _("Revoked: %(membership)s.") % {"membership": membership})
            return redirect("accounts:role_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/role_revoke.html", {"form": form, "membership": membership}, status=status)


# --- administrator accounts: two people (三员分立)
def _admin_changes_page(request: HttpRequest, form: AdminChangeRequestForm | None, status: int = 200) -> HttpResponse:
    changes = list(selectors.admin_changes()[:PAGE_SIZE])
    now = timezone.now()
    for change in changes:
        change.expires_at = services.admin_change_expires_at(change)
        change.expired = change.expires_at <= now
        change.can_approve = permissions.can_approve_admin_change(request.user, change)
        change.can_decline = change.can_approve or change.requested_by_id == request.user.pk
    return render(request, "accounts/admin_changes.html", {"form": form, "changes": changes}, status=status)


@allowed_for(permissions.is_administrator)
@require_http_methods(["GET", "POST"])
def admin_change_list(request: HttpRequest) -> HttpResponse:
    """Requests to change an administrator account: the security administrator asks, another administrator
    approves (and so carries the change out) or declines."""
    can_request = permissions.can_manage_roles(request.user)
    form = AdminChangeRequestForm(request.POST or None, requester=request.user) if can_request else None
    if request.method == "POST":
        permissions.require(can_request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.admin_change_request(actor=request.user, target=data["target"], kind=data["kind"],
                                              reason=data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The request waits for another administrator's approval."))
                return redirect("accounts:admin_change_list")
        return _admin_changes_page(request, form, status=400)
    return _admin_changes_page(request, form)


@allowed_for(permissions.is_administrator)
@require_POST
def admin_change_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """POST ``decision`` = approve | decline. An approved password reset shows the one-time password once."""
    change = get_object_or_404(AdminAccountChange.objects.select_related("target"), pk=pk)
    decision = request.POST.get("decision", "")
    try:
        if decision == "approve":
            password = services.admin_change_approve(actor=request.user, change=change)
            if password is not None:
                return _once(request, "accounts/one_time_password.html",
                             {"account": change.target, "password": password, "two_person": True})
            messages.success(request, _("The change is approved and carried out."))
        elif decision == "decline":
            services.admin_change_decline(actor=request.user, change=change,
                                          reason=(request.POST.get("reason") or "")[:500])
            messages.success(request, _("The request is declined."))
        else:
            messages.error(request, _("Choose approve or decline."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:admin_change_list")


# --- login locks (安全管理员 owns the lockout policy; the system administrator may also lift a lock)
@allowed_for(permissions.can_unlock_logins)
@require_http_methods(["GET", "POST"])
def login_lock_list(request: HttpRequest) -> HttpResponse:
    """Sign-ins paused after repeated failures, per user name and address; POST ``username`` lifts them all."""
    form = OptionalReasonForm(request.POST or None, prefix="unlock")
    if request.method == "POST":
        username = (request.POST.get("username") or "")[:150]
        if form.is_valid() and username:
            count = services.login_unlock(actor=request.user, username=username, reason=form.cleaned_data["reason"])
            messages.success(request, _("Lifted %(count)d login lock(s) of %(username)s.")
                             % {"count": count, "username": username})
            return redirect("accounts:login_lock_list")
    locks = list(selectors.login_locks()[:200])
    return render(request, "accounts/login_locks.html",
                  {"locks": locks, "form": form, "policy": selectors.login_policy()},
                  status=400 if request.method == "POST" else 200)
