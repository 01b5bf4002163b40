"""Users, their roles in organisations, and personal API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sciencecity.accounts.choices import AdminChangeKind, AdminChangeState, Role
from sciencecity.core.models import BaseModel


class User(AbstractUser):
    """用户. One person, one account (no shared accounts)."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=True)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    previous_password_hashes = models.JSONField(_("previous password hashes"), default=list, blank=True)
    failed_login_count = models.PositiveIntegerField(_("failed logins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    #: Mirrors "has a confirmed :class:`TotpDevice`", so that the per-request 2FA check needs no join.
    totp_enabled = models.BooleanField(_("two-factor enabled"), default=False)
    #: Mixed into the session hash: a new value ends every session of the account (see
    #: ``accounts.services.credentials_revoke``). Empty keeps Django's own hash (sessions from before it existed).
    session_epoch = models.CharField(_("session generation"), max_length=32, blank=True, default="")
    #: Wrong second-step codes and failed re-authentications in a row. Kept apart from
    #: ``failed_login_count`` because a correct password resets that one, and knowing the password
    #: must not buy fresh guesses at the code.
    failed_code_count = models.PositiveIntegerField(_("failed codes in a row"), default=0)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    def _get_session_auth_hash(self, secret=None):
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "sciencecity.accounts.User.session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def role_set(self) -> set[str]:
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            # roles and their organisations in one query: permissions.organisation_ids reads the same rows
            rows = list(self.memberships.values_list("role", "organisation_id")) if self.pk else []
            self._membership_rows = rows
            cached = self._role_cache = {role for role, _organisation in rows}
        return cached

    def membership_rows(self) -> list[tuple[str, int | None]]:
        """(role, organisation id) of each membership, read with :meth:`role_set` (once per user object)."""
        self.role_set()
        return self._membership_rows

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set() & set(roles))


class Membership(BaseModel):
    """A role a user holds, in an organisation where the role needs one."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    organisation = models.ForeignKey(
        "registry.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["user_id", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "organisation"], name="membership_unique_user_role_organisation"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(organisation__isnull=True),
                name="membership_unique_user_role_without_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}" + (f" · {self.organisation}" if self.organisation_id else "")


class ApiToken(BaseModel):
    """个人 API 令牌. Only a SHA-256 hash of the token is stored; the token is shown once."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginThrottle(BaseModel):
    """登录失败限制. Failed sign-ins of one user name from one client address (GB/T 22239-2019 8.1.4.1 b).

    The lock is per user name *and* address, so nobody locks another person out from elsewhere;
    after ``LOGIN_MAX_FAILURES`` failures the pair waits ``LOGIN_LOCKOUT_MINUTES``, doubling at
    every further lock up to ``LOGIN_LOCKOUT_MAX_MINUTES`` (an exponential back-off, no CAPTCHA).
    Rows exist for unknown user names too, so the answer never tells whether an account exists.
    """

    username = models.CharField(_("user name"), max_length=150)
    address = models.CharField(_("client address"), max_length=64, blank=True)
    failure_count = models.PositiveIntegerField(_("failures since the last lock"), default=0)
    lock_count = models.PositiveIntegerField(_("locks in a row"), default=0)
    blocked_until = models.DateTimeField(_("blocked until"), null=True, blank=True, db_index=True)
    last_failure_at = models.DateTimeField(_("last failure"), db_index=True)

    class Meta:
        ordering = ["username", "address"]
        verbose_name = _("login throttle")
        verbose_name_plural = _("login throttles")
        constraints = [
            models.UniqueConstraint(fields=["username", "address"], name="login_throttle_unique_username_address"),
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.address or '?'}"


class AdminAccountChange(BaseModel):
    """管理员账户变更. A change to an administrator's credentials or state, which two people make (三员分立).

    The security administrator requests it; a second administrator, neither the requester nor the
    target, approves it, which carries it out. Both steps are audited.
    """

    target = models.ForeignKey(User, verbose_name=_("administrator account"), on_delete=models.PROTECT,
                               related_name="+")
    kind = models.CharField(_("change"), max_length=32, choices=AdminChangeKind.choices)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(User, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=AdminChangeState.choices,
                             default=AdminChangeState.REQUESTED)
    decided_by = models.ForeignKey(User, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("administrator account change")
        verbose_name_plural = _("administrator account changes")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.target.username}"


class TotpDevice(BaseModel):
    """两步验证设备. The TOTP secret a user's authenticator app shares with the server (RFC 6238).

    The secret is stored encrypted (AES-GCM under a key outside the database, bound to the user,
    ``accounts.two_factor``) and never shown again after enrolment. ``last_used_step`` refuses a
    replay: a code is accepted once.
    """

    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="totp_device")
    secret_encrypted = models.TextField(_("encrypted secret"))
    confirmed_at = models.DateTimeField(_("confirmed at"))
    last_used_step = models.BigIntegerField(_("last accepted time step"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")

    def __str__(self) -> str:
        return f"TOTP · {self.user}"


class RecoveryCode(BaseModel):
    """恢复码. A one-time code that stands in for the authenticator app; only a keyed hash is stored."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(_("code hash"), max_length=64)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["user_id", "id"]
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique_user_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.code_hash[:8]}…"
