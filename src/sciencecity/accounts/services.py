"""Account services: login policy, passwords, users, roles and API tokens. Every change is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.accounts.choices import ADMIN_ROLES, ROLES_WITHOUT_ORGANISATION, Role
from sciencecity.accounts.models import ApiToken, Membership, User
from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction


# --- one-time passwords
def generate_one_time_password(length: int = 16) -> str:
    """A random password that satisfies the character-class rule."""
    alphabet = string.ascii_letters + string.digits
    specials = "!@#$%^&*-_=+"
    while True:
        chars = [secrets.choice(alphabet) for _ in range(length - 2)]
        chars += [secrets.choice(specials), secrets.choice(string.digits)]
        secrets.SystemRandom().shuffle(chars)
        pwd = "".join(chars)
        if any(c.isupper() for c in pwd) and any(c.islower() for c in pwd):
            return pwd


# --- login policy
@dataclass(frozen=True)
class LoginResult:
    user: User | None
    ok: bool
    code: str  # ok | invalid | locked | inactive
    message: str


def _lock_message(until: dt.datetime) -> str:
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    return _("Too many failed attempts: the account is locked for %(minutes)d more minutes.") % {"minutes": minutes}


def login_attempt(*, request, username: str, password: str) -> LoginResult:
    """Check a password login against the lockout policy and log the user in on success.

    GB/T 22239-2019 8.1.4.1 b: limit illegal login attempts; the default 5 failures → 30 minutes
    lock is assessor practice (settings LOGIN_MAX_FAILURES, LOGIN_LOCKOUT_MINUTES).
    """
    username = (username or "").strip()
    user = User.objects.filter(username=username).first()
    now = timezone.now()
    if user is not None and user.locked_until and user.locked_until > now:
        audit_record(action=AuditAction.LOGIN_FAILED, actor_username=username, obj=user, success=False,
                     reason="account locked")
        return LoginResult(None, False, "locked", _lock_message(user.locked_until))
    authenticated = authenticate(request, username=username, password=password) if user else None
    if authenticated is None:
        with transaction.atomic():
            if user is None:
                audit_record(action=AuditAction.LOGIN_FAILED, actor_username=username[:150], success=False,
                             reason="unknown user")
                return LoginResult(None, False, "invalid", _("Wrong user name or password."))
            user = User.objects.select_for_update().get(pk=user.pk)
            if not user.is_active:
                audit_record(action=AuditAction.LOGIN_FAILED, actor_username=username, obj=user, success=False,
                             reason="inactive account")
                return LoginResult(None, False, "invalid", _("Wrong user name or password."))
            user.failed_login_count += 1
            fields = ["failed_login_count"]
            locked = user.failed_login_count >= settings.LOGIN_MAX_FAILURES
            if locked:
                user.locked_until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
                user.failed_login_count = 0
                fields.append("locked_until")
            user.save(update_fields=fields)
            audit_record(action=AuditAction.LOGIN_FAILED, actor_username=username, obj=user, success=False,
                         reason="wrong password")
            if locked:
                audit_record(action=AuditAction.LOCKED, actor_username=username, obj=user,
                             changes={"locked_until": [None, user.locked_until]},
                             reason=f"{settings.LOGIN_MAX_FAILURES} failed logins")
                return LoginResult(None, False, "locked", _lock_message(user.locked_until))
        return LoginResult(None, False, "invalid", _("Wrong user name or password."))
    with transaction.atomic():
        User.objects.filter(pk=authenticated.pk).update(failed_login_count=0, locked_until=None)
        login(request, authenticated)
        request.session["last_seen"] = now.timestamp()
        audit_record(action=AuditAction.LOGIN, actor=authenticated, obj=authenticated)
    return LoginResult(authenticated, True, "ok", "")


def logout_user(*, request, reason: str = "") -> None:
    user = request.user
    if getattr(user, "is_authenticated", False):
        audit_record(action=AuditAction.LOGOUT, actor=user, obj=user, reason=reason)
    logout(request)


def password_expired(user: User) -> bool:
    days = settings.PASSWORD_MAX_AGE_DAYS
    if not days or user.password_changed_at is None:
        return False
    return user.password_changed_at < timezone.now() - dt.timedelta(days=days)


def password_change_required(user: User) -> bool:
    return bool(user.must_change_password or password_expired(user))


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> None:
    """The user changes their own password (required after an initial or reset password)."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("The current password is wrong.")})
    validate_password(new_password, user=user)
    _set_password(user, new_password, must_change=False)
    audit_record(action=AuditAction.PASSWORD_CHANGE, actor=user, obj=user)


def _set_password(user: User, raw: str, *, must_change: bool) -> None:
    history = [user.password, *user.previous_password_hashes][:5] if user.password else []
    user.set_password(raw)
    user.previous_password_hashes = history
    user.must_change_password = must_change
    user.password_changed_at = timezone.now()
    user.failed_login_count = 0
    user.locked_until = None
    user.save()


# --- users (系统管理员)
@transaction.atomic
def user_create(*, actor: Any, username: str, display_name: str = "", email: str = "", phone: str = "",
                person: Any = None) -> tuple[User, str]:
    """Create an account with a one-time password that must be changed at first login."""
    if actor is not None:
        permissions.require(permissions.can_manage_users(actor))
    user = User(username=username.strip(), display_name=display_name.strip(), email=email.strip(), phone=phone.strip(),
                person=person)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    one_time = generate_one_time_password()
    user.set_password(one_time)
    user.must_change_password = True
    user.password_changed_at = timezone.now()
    user.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=user,
                 changes={"username": [None, user.username], "display_name": [None, user.display_name],
                          "email": [None, user.email], **({"person": [None, person.pk]} if person else {})})
    return user, one_time


@transaction.atomic
def user_person_set(*, actor: Any, user: User, person: Any, reason: str = "") -> None:
    """Link the account to a registry person (e.g. the expert a reviewer is), or unlink it (``None``)."""
    if actor is not None:
        permissions.require(permissions.can_manage_users(actor))
    old = user.person_id
    new = person.pk if person is not None else None
    if old == new:
        return
    user.person = person
    user.save(update_fields=["person"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=user, changes={"person": [old, new]}, reason=reason)


@transaction.atomic
def user_password_reset(*, actor: Any, user: User, reason: str = "") -> str:
    if actor is not None:
        permissions.require(permissions.can_manage_users(actor))
    one_time = generate_one_time_password()
    _set_password(user, one_time, must_change=True)
    audit_record(action=AuditAction.PASSWORD_RESET, actor=actor, obj=user, reason=reason)
    return one_time


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool, reason: str) -> None:
    permissions.require(permissions.can_manage_users(actor))
    if user.pk == getattr(actor, "pk", None) and not active:
        raise ValidationError(_("You cannot deactivate your own account."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    old = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=user, changes={"is_active": [old, active]}, reason=reason)


@transaction.atomic
def user_unlock(*, actor: Any, user: User, reason: str = "") -> None:
    permissions.require(permissions.can_manage_users(actor) or permissions.can_manage_roles(actor))
    old = user.locked_until
    User.objects.filter(pk=user.pk).update(locked_until=None, failed_login_count=0)
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=user, changes={"locked_until": [old, None]}, reason=reason)


# --- roles (安全管理员)
def role_conflict(user: User, role: str) -> str | None:
    """Why ``user`` may not also hold ``role`` (三员分立), or ``None``."""
    held = set(user.memberships.values_list("role", flat=True))
    if role in ADMIN_ROLES:
        others = held - {role}
        if others:
            return _("Administrator roles are held alone (separation of duties): this account already holds %(roles)s.") % {
                "roles": ", ".join(str(Role(r).label) for r in sorted(others))
            }
    elif held & ADMIN_ROLES:
        return _("This account holds an administrator role and cannot also hold a business role.")
    return None


@transaction.atomic
def role_grant(*, actor: Any, user: User, role: str, organisation: Any = None, reason: str = "") -> Membership:
    """Grant ``role`` (in ``organisation`` where it needs one). ``actor=None`` is the command line."""
    if actor is not None:
        permissions.require(permissions.can_manage_roles(actor))
        if actor.pk == user.pk:
            raise PermissionDenied(_("Nobody grants roles to themselves."))
    role = Role(role)
    if organisation is None and role not in ROLES_WITHOUT_ORGANISATION:
        raise ValidationError({"organisation": _("The role %(role)s is held in an organisation.") % {"role": role.label}})
    if role in ADMIN_ROLES:
        organisation = None
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise grants on one account
    problem = role_conflict(user, role)
    if problem:
        raise ValidationError({"role": problem})
    if Membership.objects.filter(user=user, role=role, organisation=organisation).exists():
        raise ValidationError({"role": _("The account already holds this role.")})
    membership = Membership(user=user, role=role, organisation=organisation, granted_by=actor)
    membership.full_clean()
    membership.save()
    audit_record(action=AuditAction.ROLE_GRANT, actor=actor, obj=user,
                 changes={"role": [None, role.value], "organisation": [None, getattr(organisation, "pk", None)]},
                 reason=reason, acting_organisation=organisation)
    return membership


@transaction.atomic
def role_revoke(*, actor: Any, membership: Membership, reason: str) -> None:
    permissions.require(permissions.can_manage_roles(actor))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    audit_record(action=AuditAction.ROLE_REVOKE, actor=actor, obj=membership.user,
                 changes={"role": [membership.role, None], "organisation": [membership.organisation_id, None]},
                 reason=reason)
    membership.delete()


# --- API tokens
TOKEN_PREFIX = "sct_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Create a personal token; the plain value is returned once and never stored."""
    if not name.strip():
        raise ValidationError({"name": _("Give the token a name.")})
    secret = secrets.token_urlsafe(32)
    raw = f"{TOKEN_PREFIX}{secret}"
    token = ApiToken(user=user, name=name.strip(), prefix=raw[:12], key_hash=hash_token(raw), expires_at=expires_at)
    token.full_clean()
    token.save()
    audit_record(action=AuditAction.TOKEN_CREATE, actor=user, obj=token, changes={"name": [None, token.name]})
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    permissions.require(token.user_id == actor.pk or permissions.can_manage_users(actor))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(action=AuditAction.TOKEN_REVOKE, actor=actor, obj=token)


def api_token_user(raw: str) -> User | None:
    """The active user behind a token, or ``None``."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw), revoked_at__isnull=True).first()
    now = timezone.now()
    if token is None or not token.user.is_active or (token.expires_at and token.expires_at < now):
        return None
    if token.last_used_at is None or token.last_used_at < now - dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- bootstrap
@transaction.atomic
def administrators_bootstrap() -> list[tuple[str, str, str]]:
    """Create the three administrator accounts (三员) when none exists; return their one-time passwords."""
    created = []
    for username, role, display in (
        ("sysadmin", Role.SYSTEM_ADMIN, "系统管理员"),
        ("secadmin", Role.SECURITY_ADMIN, "安全管理员"),
        ("auditadmin", Role.AUDIT_ADMIN, "审计管理员"),
    ):
        if Membership.objects.filter(role=role).exists() or User.objects.filter(username=username).exists():
            continue
        user, password = user_create(actor=None, username=username, display_name=display)
        role_grant(actor=None, user=user, role=role, reason="first run")
        created.append((username, str(role.label), password))
    return created
