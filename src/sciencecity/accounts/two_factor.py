"""Two-factor authentication (TOTP + recovery codes) and re-authentication ("sudo mode").

GB/T 22239-2019 8.1.4.1 d: two authentication techniques, one of them cryptographic. The second
step runs after a successful password login (``accounts.services.login_attempt`` is untouched):
the session is marked verified only by :func:`two_factor_verify`, and ``TwoFactorMiddleware``
lets an unverified session of a user who needs 2FA reach nothing but the code, enrolment and
logout pages. Re-authentication (password + code) opens a short window (``REAUTHENTICATION_MINUTES``)
for role changes, exports, API token creation and two-factor key changes.

Secrets are encrypted with AES-GCM under a key outside the database (``TWO_FACTOR_KEY``, default
derived from ``SECRET_KEY``; old keys in ``TWO_FACTOR_KEY_FALLBACKS`` still decrypt), bound to the
user id so a ciphertext copied to another row does not decrypt. Recovery codes are stored as an
HMAC under the same key. Every step is audited.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.accounts.models import RecoveryCode, TotpDevice, User
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction
from sciencecity.engines import totp

RECOVERY_CODE_COUNT = 10
SESSION_VERIFIED = "two_factor_verified_user"
SESSION_PENDING_SECRET = "two_factor_pending_secret"
SESSION_REAUTHENTICATED_AT = "reauthenticated_at"


# --- policy
def two_factor_mandatory(user: Any) -> bool:
    """Whether the user's roles require TOTP (setting ``TWO_FACTOR_MANDATORY_ROLES``)."""
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*settings.TWO_FACTOR_MANDATORY_ROLES))


def two_factor_required(user: Any) -> bool:
    """Whether a session of ``user`` must pass the second step: enrolled, or obliged to enrol."""
    return bool(getattr(user, "is_authenticated", False) and (user.totp_enabled or two_factor_mandatory(user)))


def session_verified(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated
                and request.session.get(SESSION_VERIFIED) == user.pk)


@receiver(user_logged_in)
def _new_login_is_unverified(sender, request, user, **kwargs) -> None:
    """Every login (password, or ``force_login`` in tests) starts without the second step or sudo."""
    if request is not None and hasattr(request, "session"):
        for key in (SESSION_VERIFIED, SESSION_PENDING_SECRET, SESSION_REAUTHENTICATED_AT):
            request.session.pop(key, None)


def reauthentication_fresh(request) -> bool:
    """Whether the session re-authenticated within ``REAUTHENTICATION_MINUTES``."""
    at = request.session.get(SESSION_REAUTHENTICATED_AT)
    try:
        return at is not None and time.time() - float(at) < settings.REAUTHENTICATION_MINUTES * 60
    except (TypeError, ValueError):
        return False


# --- keys and encryption
def _keys() -> list[bytes]:
    """Current key first, then fallbacks (rotation): each a 32-byte key derived from the configured value."""
    if settings.TWO_FACTOR_KEY:
        raw = [settings.TWO_FACTOR_KEY, *settings.TWO_FACTOR_KEY_FALLBACKS]
    else:
        raw = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []), *settings.TWO_FACTOR_KEY_FALLBACKS]
    return [hashlib.sha256(b"sciencecity.two_factor:" + str(value).encode("utf-8")).digest() for value in raw]


def _subkey(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, purpose.encode("ascii"), hashlib.sha256).digest()


def encrypt_secret(secret: str, *, user_id: int) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_subkey(_keys()[0], "totp-secret")).encrypt(nonce, secret.encode("ascii"), f"user:{user_id}".encode())
    return "v1$" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt_secret(value: str, *, user_id: int) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not value.startswith("v1$"):
        raise ValueError("unknown secret format")
    blob = base64.urlsafe_b64decode(value[3:])
    for key in _keys():
        try:
            plain = AESGCM(_subkey(key, "totp-secret")).decrypt(blob[:12], blob[12:], f"user:{user_id}".encode())
        except InvalidTag:
            continue
        return plain.decode("ascii")
    raise ValueError("no configured key decrypts the secret")


def _recovery_hashes(code: str) -> list[str]:
    return [totp.hash_recovery_code(code, key=_subkey(key, "recovery-code")) for key in _keys()]


# --- enrolment
@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


def enrolment_pending(request) -> Enrolment:
    """The secret being enrolled in this session (created on first call, kept encrypted in the session)."""
    user = request.user
    stored = request.session.get(SESSION_PENDING_SECRET)
    secret = None
    if stored:
        try:
            secret = decrypt_secret(stored, user_id=user.pk)
        except ValueError:
            secret = None
    if secret is None:
        secret = totp.random_secret()
        request.session[SESSION_PENDING_SECRET] = encrypt_secret(secret, user_id=user.pk)
    return Enrolment(secret=secret, uri=totp.provisioning_uri(secret, account=user.username,
                                                              issuer=settings.TWO_FACTOR_ISSUER))


def qr_svg(data: str) -> str:
    """The QR code of ``data`` as an inline SVG element (drawn here, no network, no script)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=5, border=4, xmldecl=False, svgns=True,
                                     title="otpauth QR code", dark="#000", light="#fff")
    return buffer.getvalue().decode("utf-8")


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [totp.random_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_recovery_hashes(c)[0]) for c in codes])
    return codes


def totp_device_confirm(*, request, code: str) -> list[str]:
    """Confirm the pending secret with a first code: store the device, return 10 recovery codes (shown once).

    A wrong code raises ``ValidationError`` (and is audited); it does not count toward the lockout,
    since whoever enrols holds the secret anyway.
    """
    if request.user.totp_enabled:
        raise ValidationError({"code": _("Two-factor authentication is already set up for this account.")})
    pending = enrolment_pending(request)
    step = totp.match_step(pending.secret, code)
    if step is None:
        with transaction.atomic():
            _audit_failure(request.user, "enrolment: wrong code")
        raise ValidationError({"code": _("The code is not right. Check the time on your phone and try the "
                                         "current code.")})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=request.user.pk)
        now = timezone.now()
        TotpDevice.objects.filter(user=user).delete()
        device = TotpDevice(user=user, secret_encrypted=encrypt_secret(pending.secret, user_id=user.pk),
                            confirmed_at=now, last_used_step=step, last_used_at=now)
        device.full_clean()
        device.save()
        codes = _new_recovery_codes(user)
        User.objects.filter(pk=user.pk).update(totp_enabled=True, failed_code_count=0)
        audit_record(action=AuditAction.TWO_FACTOR_ENROL, actor=user, obj=user,
                     changes={"totp_enabled": [False, True], "recovery_codes": [None, RECOVERY_CODE_COUNT]})
    request.user.totp_enabled = True
    request.session.pop(SESSION_PENDING_SECRET, None)
    _mark_verified(request)
    return codes


def _audit_failure(user: User, reason: str) -> None:
    """A refused code is recorded even though the caller's transaction then rolls back nothing else."""
    audit_record(action=AuditAction.TWO_FACTOR_FAILED, actor=user, obj=user, success=False, reason=reason)


def _mark_verified(request) -> None:
    request.session[SESSION_VERIFIED] = request.user.pk
    request.session[SESSION_REAUTHENTICATED_AT] = None
    request.session.cycle_key()


# --- verification (the second step of a login)
@dataclass(frozen=True)
class CodeResult:
    ok: bool
    code: str  # totp | recovery | invalid | locked
    message: str = ""
    recovery_codes_left: int | None = None


def _lock_message(until: dt.datetime) -> str:
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    return _("Too many failed attempts: the account is locked for %(minutes)d more minutes.") % {"minutes": minutes}


def _check_code(user: User, code: str) -> tuple[str, int | None]:
    """``("totp", remaining)``, ``("recovery", remaining)`` or ``("invalid", None)``; consumes what it accepts.

    Runs inside the caller's transaction with the user row locked.
    """
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        return "invalid", None
    secret = decrypt_secret(device.secret_encrypted, user_id=user.pk)
    step = totp.match_step(secret, code, after_step=device.last_used_step)
    if step is not None:
        device.last_used_step = step
        device.last_used_at = timezone.now()
        device.save(update_fields=["last_used_step", "last_used_at", "updated_at"])
        return "totp", None
    if totp.normalise_recovery_code(code) and len(totp.normalise_recovery_code(code)) == 12:
        hashes = _recovery_hashes(code)
        recovery = (RecoveryCode.objects.select_for_update()
                    .filter(user=user, code_hash__in=hashes, used_at__isnull=True).first())
        if recovery is not None:
            recovery.used_at = timezone.now()
            recovery.save(update_fields=["used_at", "updated_at"])
            return "recovery", RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
    return "invalid", None


def _count_failure(request, user: User, reason: str, *, audit_as_code: bool = True) -> CodeResult:
    """A wrong code: count it; at ``LOGIN_MAX_FAILURES`` lock the account like failed passwords do and log out.

    ``audit_as_code=False`` when the caller records the failure itself (re-authentication).
    """
    user.failed_code_count += 1
    locked = user.failed_code_count >= settings.LOGIN_MAX_FAILURES
    fields = ["failed_code_count"]
    if locked:
        user.locked_until = timezone.now() + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        user.failed_code_count = 0
        fields.append("locked_until")
    user.save(update_fields=fields)
    if audit_as_code:
        _audit_failure(user, reason)
    if locked:
        audit_record(action=AuditAction.LOCKED, actor=user, obj=user,
                     changes={"locked_until": [None, user.locked_until]},
                     reason=f"{settings.LOGIN_MAX_FAILURES} failed codes")
        return CodeResult(False, "locked", _lock_message(user.locked_until))
    return CodeResult(False, "invalid", _("The code is not right."))


def _logout_when_locked(request, result: CodeResult) -> CodeResult:
    """A locked account's session ends (after the transaction that recorded the lock has committed)."""
    if result.code == "locked":
        logout(request)
    return result


def two_factor_verify(*, request, code: str) -> CodeResult:
    """The second step of a login: a TOTP code (once) or an unused recovery code marks the session verified.

    A wrong code counts toward the lockout (``LOGIN_MAX_FAILURES``); locking ends the session.
    """
    with transaction.atomic():
        result = _two_factor_verify(request, code)
    return _logout_when_locked(request, result)


def _two_factor_verify(request, code: str) -> CodeResult:
    user = User.objects.select_for_update().get(pk=request.user.pk)
    if user.locked_until and user.locked_until > timezone.now():
        return CodeResult(False, "locked", _lock_message(user.locked_until))
    kind, remaining = _check_code(user, code)
    if kind == "invalid":
        return _count_failure(request, user, "login: wrong code")
    User.objects.filter(pk=user.pk).update(failed_code_count=0)
    _mark_verified(request)
    if kind == "recovery":
        audit_record(action=AuditAction.RECOVERY_CODE_USE, actor=user, obj=user,
                     changes={"recovery_codes_left": [remaining + 1, remaining]}, reason="login")
        return CodeResult(True, kind, recovery_codes_left=remaining)
    audit_record(action=AuditAction.TWO_FACTOR_VERIFY, actor=user, obj=user, reason="login")
    return CodeResult(True, kind)


# --- re-authentication ("sudo mode")
def reauthenticate(*, request, password: str, code: str = "") -> CodeResult:
    """Password (+ code when enrolled) again: opens the re-authentication window of this session.

    Failures count toward the lockout like wrong codes at login; locking ends the session.
    """
    with transaction.atomic():
        result = _reauthenticate(request, password, code)
    return _logout_when_locked(request, result)


def _reauthenticate(request, password: str, code: str) -> CodeResult:
    user = User.objects.select_for_update().get(pk=request.user.pk)
    if user.locked_until and user.locked_until > timezone.now():
        return CodeResult(False, "locked", _lock_message(user.locked_until))
    if not user.check_password(password or ""):
        result = _count_failure(request, user, "re-authentication: wrong password", audit_as_code=False)
        audit_record(action=AuditAction.REAUTHENTICATE, actor=user, obj=user, success=False, reason="wrong password")
        return result if result.code == "locked" else CodeResult(False, "invalid", _("The password or the code is "
                                                                                      "not right."))
    kind = "password"
    remaining = None
    if user.totp_enabled:
        kind, remaining = _check_code(user, code)
        if kind == "invalid":
            result = _count_failure(request, user, "re-authentication: wrong code", audit_as_code=False)
            audit_record(action=AuditAction.REAUTHENTICATE, actor=user, obj=user, success=False, reason="wrong code")
            return result if result.code == "locked" else CodeResult(False, "invalid", _("The password or the code "
                                                                                          "is not right."))
    User.objects.filter(pk=user.pk).update(failed_code_count=0)
    request.session[SESSION_REAUTHENTICATED_AT] = time.time()
    if kind == "recovery":
        audit_record(action=AuditAction.RECOVERY_CODE_USE, actor=user, obj=user,
                     changes={"recovery_codes_left": [remaining + 1, remaining]}, reason="re-authentication")
    audit_record(action=AuditAction.REAUTHENTICATE, actor=user, obj=user, reason=kind)
    return CodeResult(True, kind, recovery_codes_left=remaining)


# --- key changes (need a fresh re-authentication; the views check it)
@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Replace every recovery code with 10 new ones (shown once)."""
    if not user.totp_enabled:
        raise ValidationError(_("Two-factor authentication is not set up for this account."))
    codes = _new_recovery_codes(user)
    audit_record(action=AuditAction.RECOVERY_CODES_REGENERATE, actor=user, obj=user,
                 changes={"recovery_codes": [None, RECOVERY_CODE_COUNT]})
    return codes


@transaction.atomic
def two_factor_disable(*, actor: User | None, user: User, reason: str = "", request=None) -> None:
    """Remove the device and the recovery codes. A user whose role requires 2FA must enrol again at once.

    ``actor`` is the user themselves (after re-authentication) or ``None`` for the server command
    (a lost phone: ``sciencecity two-factor reset USERNAME``).
    """
    if not user.totp_enabled and not TotpDevice.objects.filter(user=user).exists():
        raise ValidationError(_("Two-factor authentication is not set up for this account."))
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).update(totp_enabled=False)
    user.totp_enabled = False
    if request is not None:
        request.session.pop(SESSION_VERIFIED, None)
    audit_record(action=AuditAction.TWO_FACTOR_DISABLE, actor=actor, obj=user,
                 changes={"totp_enabled": [True, False]}, reason=reason)


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
