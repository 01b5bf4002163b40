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
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.accounts.choices import (
    ADMIN_ROLES,
    ROLES_WITHOUT_ORGANISATION,
    AdminChangeKind,
    AdminChangeState,
    Role,
)
from sciencecity.accounts.models import AdminAccountChange, ApiToken, LoginThrottle, Membership, User
from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.middleware import client_ip
from sciencecity.core.models import AuditAction

# --- one-time passwords
#: Letters and digits that cannot be mistaken for one another when read aloud or copied by hand:
#: no 0/O/o, 1/l/I, 5/S, 2/Z, 8/B (issue 11: one-time passwords mixed l, I and O).
UNAMBIGUOUS_LETTERS = "".join(c for c in string.ascii_letters if c not in "OoIlSZB")
UNAMBIGUOUS_DIGITS = "34679"
ONE_TIME_PASSWORD_SPECIALS = "!@#$%&*+=?"


def generate_one_time_password(length: int = 16) -> str:
    """A random password that satisfies the character-class rule, from an unambiguous alphabet."""
    alphabet = UNAMBIGUOUS_LETTERS + UNAMBIGUOUS_DIGITS
    while True:
        chars = [secrets.choice(alphabet) for _ in range(length - 2)]
        chars += [secrets.choice(ONE_TIME_PASSWORD_SPECIALS), secrets.choice(UNAMBIGUOUS_DIGITS)]
        secrets.SystemRandom().shuffle(chars)
        pwd = "".join(chars)
        if any(c.isupper() for c in pwd) and any(c.islower() for c in pwd):
            return pwd


# --- login policy
@dataclass(frozen=True)
class LoginResult:
    user: User | None
    ok: bool
    code: str  # ok | invalid | locked (internal: the page shows the same message for every failure)
    message: str


def login_failed_message() -> str:
    """One answer for every failure: a wrong password, an unknown user, a locked or inactive account.

    It never tells whether an account exists or is locked; it only states the policy.
    """
    return _(
        "Wrong user name or password. After %(failures)d failed attempts, signing in with this user name "
        "from this address pauses for %(minutes)d minutes or longer."
    ) % {"failures": settings.LOGIN_MAX_FAILURES, "minutes": settings.LOGIN_LOCKOUT_MINUTES}


def _lock_minutes(lock_count: int) -> int:
    """The exponential back-off: the n-th lock of a pair in a row lasts LOGIN_LOCKOUT_MINUTES × 2^(n-1), capped."""
    base = settings.LOGIN_LOCKOUT_MINUTES
    ceiling = max(base, getattr(settings, "LOGIN_LOCKOUT_MAX_MINUTES", base))
    return min(ceiling, base * 2 ** min(max(lock_count - 1, 0), 20))


#: Throttle rows with no failure for this long (and no lock in force) are forgotten.
THROTTLE_FORGET_AFTER = dt.timedelta(days=1)


def _throttle_failure(*, username: str, address: str, now: dt.datetime, user: User | None) -> LoginThrottle:
    """Count one failure of (user name, address); lock the pair at LOGIN_MAX_FAILURES. Caller holds a transaction."""
    LoginThrottle.objects.filter(last_failure_at__lt=now - THROTTLE_FORGET_AFTER).filter(
        Q(blocked_until__isnull=True) | Q(blocked_until__lt=now)
    ).delete()
    throttle, _created = LoginThrottle.objects.select_for_update().get_or_create(
        username=username, address=address, defaults={"last_failure_at": now}
    )
    throttle.failure_count += 1
    throttle.last_failure_at = now
    if throttle.failure_count >= settings.LOGIN_MAX_FAILURES:
        throttle.lock_count += 1
        throttle.failure_count = 0
        throttle.blocked_until = now + dt.timedelta(minutes=_lock_minutes(throttle.lock_count))
        audit_record(action=AuditAction.LOCKED, actor_username=username, obj=user,
                     object_type="" if user else User._meta.label_lower,
                     object_repr="" if user else username,
                     changes={"locked_until": [None, throttle.blocked_until], "address": address,
                              "lock_count": throttle.lock_count},
                     reason=f"{settings.LOGIN_MAX_FAILURES} failed logins")
    throttle.save()
    return throttle


def login_attempt(*, request, username: str, password: str) -> LoginResult:
    """Check a password login against the lockout policy and log the user in on success.

    GB/T 22239-2019 8.1.4.1 b: limit illegal login attempts. Failures count per user name and
    client address (:class:`LoginThrottle`): LOGIN_MAX_FAILURES failures lock that pair for
    LOGIN_LOCKOUT_MINUTES, doubling at each further lock; a stranger elsewhere cannot lock the
    account out. Every attempt runs exactly one password hash (Django's backend hashes a dummy
    password for an unknown user) before anything else, and every failure gets the same message,
    so neither the time nor the answer tells whether an account exists or is locked.
    """
    username = (username or "").strip()[:150]
    address = client_ip(request) or ""
    authenticated = authenticate(request, username=username, password=password or "")
    now = timezone.now()
    user = authenticated or User.objects.filter(username=username).first()
    failed = LoginResult(None, False, "invalid", login_failed_message())
    with transaction.atomic():
        throttle = LoginThrottle.objects.select_for_update().filter(username=username, address=address).first()
        blocked = bool(throttle and throttle.blocked_until and throttle.blocked_until > now)
        if blocked or (user is not None and user.locked_until and user.locked_until > now):
            audit_record(action=AuditAction.LOGIN_FAILED, actor_username=username, obj=user, success=False,
                         object_type="" if user else User._meta.label_lower, object_repr="" if user else username,
                         reason="account locked", changes={"address": address})
            return LoginResult(None, False, "locked", failed.message)
        if authenticated is None:
            if user is None:
                reason = "unknown user"
            elif not user.is_active:
                reason = "inactive account"
            else:
                reason = "wrong password"
                User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
            audit_record(action=AuditAction.LOGIN_FAILED, actor_username=username, obj=user, success=False,
                         object_type="" if user else User._meta.label_lower, object_repr="" if user else username,
                         reason=reason, changes={"address": address})
            throttle = _throttle_failure(username=username, address=address, now=now, user=user)
            locked = bool(throttle.blocked_until and throttle.blocked_until > now)
            return LoginResult(None, False, "locked" if locked else "invalid", failed.message)
        LoginThrottle.objects.filter(username=username, address=address).delete()
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
    # The view keeps the session it runs in (update_session_auth_hash); every other one ends.
    credentials_revoke(actor=user, user=user, reason="password change")


def credentials_revoke(*, actor: User | None, user: User, reason: str) -> list[int]:
    """End every session of ``user`` and revoke every API token (after a password reset or change,
    a deactivation or a role removal). Returns the revoked token ids; audited when there were any.

    Sessions end because the session hash mixes in ``User.session_epoch``, which changes here;
    a view that must keep its own session calls ``update_session_auth_hash`` afterwards.
    """
    now = timezone.now()
    token_ids = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("pk")
                     .values_list("pk", flat=True))
    if token_ids:
        ApiToken.objects.filter(pk__in=token_ids).update(revoked_at=now)
        audit_record(action=AuditAction.TOKEN_REVOKE, actor=actor, obj=user,
                     changes={"tokens": token_ids, "sessions_ended": True}, reason=reason)
    user.session_epoch = secrets.token_hex(16)
    User.objects.filter(pk=user.pk).update(session_epoch=user.session_epoch)
    return token_ids


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
def user_create(*, actor: User | None, username: str, display_name: str = "", email: str = "", phone: str = "",
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


def _refuse_administrator_target(*, actor: User | None, user: User, action: str, attempted: str, reason: str) -> None:
    """三员分立: an administrator account is never changed by one person. Audit the refusal, then refuse.

    Called outside the service's transaction, so that the refusal stays in the audit trail.
    """
    if actor is None or permissions.can_change_account_alone(actor, user):
        return
    permissions.require(permissions.can_manage_users(actor))
    audit_record(action=action, actor=actor, obj=user, success=False, changes={"attempted": attempted},
                 reason=f"refused: administrator accounts change only with two people; given reason: {reason}"[:2000])
    raise PermissionDenied(_("This is an administrator account: its password and state change only with two "
                             "people (a request by the security administrator, approved by another administrator)."))


def user_person_set(*, actor: User | None, user: User, person: Any, reason: str = "") -> None:
    """Link the account to a registry person (e.g. the expert a reviewer is), or unlink it (``None``)."""
    if actor is not None:
        permissions.require(permissions.can_manage_users(actor))
    _refuse_administrator_target(actor=actor, user=user, action=AuditAction.UPDATE, attempted="set_person",
                                 reason=reason)
    with transaction.atomic():
        old = user.person_id
        new = person.pk if person is not None else None
        if old == new:
            return
        user.person = person
        user.save(update_fields=["person"])
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=user, changes={"person": [old, new]}, reason=reason)


def user_password_reset(*, actor: User | None, user: User, reason: str = "") -> str:
    """A new one-time password for an ordinary account (system administrator); ends its sessions and tokens."""
    if actor is not None:
        permissions.require(permissions.can_manage_users(actor))
    _refuse_administrator_target(actor=actor, user=user, action=AuditAction.PASSWORD_RESET,
                                 attempted="reset_password", reason=reason)
    with transaction.atomic():
        one_time = _reset_password(actor=actor, user=user, reason=reason)
    return one_time


def _reset_password(*, actor: User | None, user: User, reason: str, changes: dict[str, Any] | None = None) -> str:
    one_time = generate_one_time_password()
    _set_password(user, one_time, must_change=True)
    LoginThrottle.objects.filter(username=user.username).delete()
    audit_record(action=AuditAction.PASSWORD_RESET, actor=actor, obj=user, reason=reason, changes=changes)
    credentials_revoke(actor=actor, user=user, reason="password reset")
    return one_time


def user_set_active(*, actor: User | None, user: User, active: bool, reason: str) -> None:
    permissions.require(permissions.can_manage_users(actor))
    if user.pk == getattr(actor, "pk", None) and not active:
        raise ValidationError(_("You cannot deactivate your own account."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    _refuse_administrator_target(actor=actor, user=user, action=AuditAction.UPDATE, attempted="set_active",
                                 reason=reason)
    with transaction.atomic():
        _set_active(actor=actor, user=user, active=active, reason=reason)


def _set_active(*, actor: User | None, user: User, active: bool, reason: str, changes: dict[str, Any] | None = None) -> None:
    old = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=user,
                 changes={"is_active": [old, active], **(changes or {})}, reason=reason)
    if not active:
        credentials_revoke(actor=actor, user=user, reason="account deactivated")


@transaction.atomic
def user_unlock(*, actor: User | None, user: User, reason: str = "") -> None:
    """Lift every login lock of the account (all addresses). Unlocking changes no credential."""
    permissions.require(permissions.can_unlock_logins(actor))
    login_unlock(actor=actor, username=user.username, reason=reason)


@transaction.atomic
def login_unlock(*, actor: User | None, username: str, reason: str = "") -> int:
    """Lift the login locks of ``username`` from every address (security or system administrator)."""
    permissions.require(permissions.can_unlock_logins(actor))
    user = User.objects.filter(username=username).first()
    now = timezone.now()
    throttles = list(LoginThrottle.objects.select_for_update().filter(username=username))
    locked = [t for t in throttles if t.blocked_until and t.blocked_until > now]
    old = max([t.blocked_until for t in locked] + ([user.locked_until] if user and user.locked_until else []),
              default=None)
    LoginThrottle.objects.filter(pk__in=[t.pk for t in throttles]).delete()
    if user is not None:
        User.objects.filter(pk=user.pk).update(locked_until=None, failed_login_count=0)
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=user,
                 object_type="" if user else User._meta.label_lower, object_repr="" if user else username,
                 changes={"locked_until": [old, None], "addresses": sorted(t.address for t in locked)},
                 reason=reason)
    return len(locked)


# --- administrator accounts: two people (三员分立)
def admin_change_expires_at(change: AdminAccountChange) -> dt.datetime:
    return change.created_at + dt.timedelta(hours=settings.ADMIN_CHANGE_REQUEST_HOURS)


@transaction.atomic
def admin_change_request(*, actor: User | None, target: User, kind: str, reason: str) -> AdminAccountChange:
    """The security administrator asks for a change to another administrator's account."""
    permissions.require(permissions.can_manage_roles(actor))
    kind = AdminChangeKind(kind)
    if not permissions.is_administrator_account(target):
        raise ValidationError({"target": _("This is not an administrator account: the system administrator "
                                           "changes it directly.")})
    if target.pk == actor.pk:
        raise ValidationError({"target": _("Nobody requests a change of their own administrator account; "
                                           "ask another security administrator or use the offline recovery "
                                           "command on the server.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason.")})
    if kind == AdminChangeKind.DEACTIVATE and not target.is_active:
        raise ValidationError({"kind": _("The account is already inactive.")})
    if kind == AdminChangeKind.ACTIVATE and target.is_active:
        raise ValidationError({"kind": _("The account is already active.")})
    User.objects.select_for_update().filter(pk=target.pk).first()  # one pending request per account and change
    since = timezone.now() - dt.timedelta(hours=settings.ADMIN_CHANGE_REQUEST_HOURS)
    if AdminAccountChange.objects.filter(target=target, kind=kind, state=AdminChangeState.REQUESTED,
                                         created_at__gt=since).exists():
        raise ValidationError({"kind": _("The same change is already waiting for approval.")})
    change = AdminAccountChange(target=target, kind=kind, reason=reason.strip(), requested_by=actor)
    change.full_clean()
    change.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=change, reason=change.reason,
                 changes={"target": [None, target.pk], "kind": [None, kind.value],
                          "state": [None, AdminChangeState.REQUESTED.value]})
    return change


def _decide(*, actor: User | None, change: AdminAccountChange, state: str, reason: str = "") -> None:
    old = change.state
    change.state = state
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=change, changes={"state": [old, state]},
                 reason=reason)


def _refuse_decision(*, actor: User | None, change: AdminAccountChange, attempted: str) -> None:
    """Audit a refused approval or decline (outside any transaction, so the record stays), then refuse."""
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=change, success=False,
                 changes={"attempted": attempted},
                 reason="refused: only another administrator, neither the requester nor the target, decides")
    raise PermissionDenied(_("Only another administrator, neither the requester nor the account's holder, "
                             "approves this change."))


def admin_change_approve(*, actor: User | None, change: AdminAccountChange) -> str | None:
    """A second administrator approves, which carries the change out; returns the one-time password of a reset.

    The password is shown to the approver only (once), who hands it to the account's holder.
    """
    if not permissions.can_approve_admin_change(actor, change):
        _refuse_decision(actor=actor, change=change, attempted="approve")
    return _admin_change_approve(actor=actor, change=change)


@transaction.atomic
def _admin_change_approve(*, actor: User | None, change: AdminAccountChange) -> str | None:
    change = AdminAccountChange.objects.select_for_update().select_related("target", "requested_by").get(pk=change.pk)
    permissions.require(permissions.can_approve_admin_change(actor, change))
    if change.state != AdminChangeState.REQUESTED:
        raise ValidationError(_("This request has already been decided."))
    if admin_change_expires_at(change) <= timezone.now():
        raise ValidationError(_("This request has expired; ask for a new one."))
    target = User.objects.select_for_update().get(pk=change.target_id)
    trail = {"change": change.pk, "requested_by": change.requested_by.username}
    _decide(actor=actor, change=change, state=AdminChangeState.APPROVED)
    if change.kind == AdminChangeKind.RESET_PASSWORD:
        return _reset_password(actor=actor, user=target, reason=change.reason, changes=trail)
    active = change.kind == AdminChangeKind.ACTIVATE
    if target.is_active != active:
        _set_active(actor=actor, user=target, active=active, reason=change.reason, changes=trail)
    return None


def admin_change_decline(*, actor: User | None, change: AdminAccountChange, reason: str = "") -> None:
    """The requester withdraws the request, or an administrator who could approve it declines it."""
    if not (change.requested_by_id == getattr(actor, "pk", None) or permissions.can_approve_admin_change(actor, change)):
        _refuse_decision(actor=actor, change=change, attempted="decline")
    with transaction.atomic():
        change = AdminAccountChange.objects.select_for_update().get(pk=change.pk)
        if change.state != AdminChangeState.REQUESTED:
            raise ValidationError(_("This request has already been decided."))
        _decide(actor=actor, change=change, state=AdminChangeState.DECLINED, reason=reason)


@transaction.atomic
def admin_account_recover(*, username: str, reason: str, operator: str) -> str:
    """Offline recovery on the server (``sciencecity accounts recover-admin``): a new one-time password for an
    administrator account, its locks lifted and the account active. Audited with channel ``cli``.

    Whoever runs it has shell access to the server, which is the second factor of this path.
    """
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None or not permissions.is_administrator_account(user):
        raise ValidationError(_("%(username)s is not an administrator account.") % {"username": username})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason.")})
    trail = {"offline_recovery": True, "operator": operator[:150]}
    if not user.is_active:
        _set_active(actor=None, user=user, active=True, reason=reason, changes=trail)
    User.objects.filter(pk=user.pk).update(locked_until=None)
    return _reset_password(actor=None, user=user, reason=reason, changes=trail)


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
def role_grant(*, actor: User | None, user: User, role: str, organisation: Any = None, reason: str = "") -> Membership:
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
                 reason=reason)  # the administrator acts for no organisation; the target's is in ``changes``
    return membership


@transaction.atomic
def role_revoke(*, actor: User | None, membership: Membership, reason: str) -> None:
    permissions.require(permissions.can_manage_roles(actor))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    audit_record(action=AuditAction.ROLE_REVOKE, actor=actor, obj=membership.user,
                 changes={"role": [membership.role, None], "organisation": [membership.organisation_id, None]},
                 reason=reason)
    membership.delete()
    credentials_revoke(actor=actor, user=membership.user, reason="role removed")


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
