"""Read-side queries for accounts: user and membership lists, own tokens, the login policy in force."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from sciencecity.accounts.choices import ADMIN_ROLES, AdminChangeState
from sciencecity.accounts.models import AdminAccountChange, ApiToken, LoginThrottle, Membership, User
from sciencecity.core import permissions
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation

#: How many matches an organisation or user picker offers at once.
PICKER_LIMIT = 50


def user_list(*, query: str = "", active: bool | None = None) -> QuerySet[User]:
    """Accounts matching ``query`` (user name, display name, e-mail, phone) with their roles prefetched."""
    users = User.objects.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("organisation").order_by("role"))
    )
    for term in (query or "").split():
        users = users.filter(
            Q(username__icontains=term) | Q(display_name__icontains=term) | Q(email__icontains=term)
            | Q(phone__icontains=term)
        )
    if active is not None:
        users = users.filter(is_active=active)
    now = timezone.now()
    login_locked = LoginThrottle.objects.filter(username=OuterRef("username"), blocked_until__gt=now)
    return users.annotate(
        is_locked=_flag(Q(locked_until__gt=now) | Q(Exists(login_locked))),
        login_locked_until=Subquery(login_locked.order_by("-blocked_until").values("blocked_until")[:1]),
        is_administrator_account=Exists(Membership.objects.filter(user=OuterRef("pk"), role__in=list(ADMIN_ROLES))),
    ).order_by("username")


def administrator_accounts() -> QuerySet[User]:
    """Accounts that hold one of the three administrator roles (active or not)."""
    return User.objects.filter(memberships__role__in=list(ADMIN_ROLES)).distinct().order_by("username")


def admin_changes(*, pending_only: bool = False) -> QuerySet[AdminAccountChange]:
    """Two-person administrator account changes, newest first, with ``expires_at`` computed by the caller."""
    changes = AdminAccountChange.objects.select_related("target", "requested_by", "decided_by")
    if pending_only:
        changes = changes.filter(state=AdminChangeState.REQUESTED)
    return changes.order_by("-created_at", "-pk")


def login_locks() -> QuerySet[LoginThrottle]:
    """User name and address pairs whose sign-in is paused now, latest first."""
    return LoginThrottle.objects.filter(blocked_until__gt=timezone.now()).order_by("-blocked_until", "username")


def locked_until(user: User):
    """When the last login lock of ``user`` (from any address, or account-wide) ends, or ``None``."""
    now = timezone.now()
    ends = [t for t in LoginThrottle.objects.filter(username=user.username, blocked_until__gt=now)
            .values_list("blocked_until", flat=True)]
    if user.locked_until and user.locked_until > now:
        ends.append(user.locked_until)
    return max(ends, default=None)


def _flag(condition: Q) -> Case:
    """A true/false column (never NULL, also when the compared field is NULL)."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def membership_list(
    *, role: str = "", user_query: str = "", organisation_query: str = "", user_id: int | None = None
) -> QuerySet[Membership]:
    """Memberships filtered by role, account (name search or id) and organisation (registry search)."""
    memberships = Membership.objects.select_related("user", "organisation", "granted_by")
    if role:
        memberships = memberships.filter(role=role)
    if user_id:
        memberships = memberships.filter(user_id=user_id)
    for term in (user_query or "").split():
        memberships = memberships.filter(
            Q(user__username__icontains=term) | Q(user__display_name__icontains=term)
        )
    if organisation_query:
        memberships = memberships.filter(organisation__in=Organisation.objects.search(organisation_query))
    return memberships.order_by("user__username", "role", "organisation__name")


def own_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation").order_by("role", "organisation__name")


def acting_organisation_choices(user: User) -> QuerySet[Organisation]:
    """The organisations a user may act for (business roles only)."""
    return Organisation.objects.filter(pk__in=permissions.organisation_ids(user)).order_by("name")


def own_tokens(user: User) -> QuerySet[ApiToken]:
    """A user's tokens, newest first, each with ``is_expired``."""
    return ApiToken.objects.filter(user=user).annotate(
        is_expired=_flag(Q(expires_at__lt=timezone.now()))
    ).order_by("-created_at")


def organisation_choices(query: str, *, selected_id: int | None = None) -> list[Organisation]:
    """Up to :data:`PICKER_LIMIT` organisations matching ``query``, plus the selected one; without a query the
    government departments (where officer roles are granted), so the picker is usable before any search."""
    if query.strip():
        found = list(Organisation.objects.search(query).order_by("name")[:PICKER_LIMIT])
    else:
        found = list(Organisation.objects.filter(kind=OrganisationKind.GOVERNMENT_DEPARTMENT).order_by("name")[:PICKER_LIMIT])
    if selected_id and all(o.pk != selected_id for o in found):
        found = list(Organisation.objects.filter(pk=selected_id)) + found
    return found


def user_choices(query: str, *, selected_id: int | None = None) -> list[User]:
    """Up to :data:`PICKER_LIMIT` accounts matching ``query``, plus the selected one."""
    found = list(user_list(query=query)[:PICKER_LIMIT]) if query.strip() else []
    if selected_id and all(u.pk != selected_id for u in found):
        found = list(User.objects.filter(pk=selected_id)) + found
    return found


@dataclass(frozen=True)
class LoginPolicy:
    """The login policy in force (GB/T 22239-2019 8.1.4.1 a–b, 8.1.4.3), from the settings."""

    password_min_length: int
    password_max_age_days: int
    login_max_failures: int
    login_lockout_minutes: int
    login_lockout_max_minutes: int
    session_idle_timeout_minutes: int
    audit_retention_days: int


def login_policy() -> LoginPolicy:
    return LoginPolicy(
        password_min_length=settings.PASSWORD_MIN_LENGTH,
        password_max_age_days=settings.PASSWORD_MAX_AGE_DAYS,
        login_max_failures=settings.LOGIN_MAX_FAILURES,
        login_lockout_minutes=settings.LOGIN_LOCKOUT_MINUTES,
        login_lockout_max_minutes=max(settings.LOGIN_LOCKOUT_MINUTES, settings.LOGIN_LOCKOUT_MAX_MINUTES),
        session_idle_timeout_minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES,
        audit_retention_days=settings.AUDIT_RETENTION_DAYS,
    )
