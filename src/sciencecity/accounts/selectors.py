"""Read-side queries for accounts: user and membership lists, own tokens, the login policy in force."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, Case, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from sciencecity.accounts.models import ApiToken, Membership, User
from sciencecity.core import permissions
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
    return users.annotate(is_locked=_flag(Q(locked_until__gt=timezone.now()))).order_by("username")


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
    """Up to :data:`PICKER_LIMIT` organisations matching ``query``, plus the selected one."""
    found = list(Organisation.objects.search(query).order_by("name")[:PICKER_LIMIT]) if query.strip() else []
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
    session_idle_timeout_minutes: int
    audit_retention_days: int


def login_policy() -> LoginPolicy:
    return LoginPolicy(
        password_min_length=settings.PASSWORD_MIN_LENGTH,
        password_max_age_days=settings.PASSWORD_MAX_AGE_DAYS,
        login_max_failures=settings.LOGIN_MAX_FAILURES,
        login_lockout_minutes=settings.LOGIN_LOCKOUT_MINUTES,
        session_idle_timeout_minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES,
        audit_retention_days=settings.AUDIT_RETENTION_DAYS,
    )
