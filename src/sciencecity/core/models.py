"""Shared model base and the append-only audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Abstract base: every domain row knows when it was created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class StoredVector(BaseModel):
    """Abstract: the dense vector (语义向量) of a text under one embedding model (``name==version``),
    float32 bytes, with the SHA-1 of the text embedded (a vector of an older text is stale)."""

    model = models.CharField(_("embedding model"), max_length=120)
    text_hash = models.CharField(_("text hash"), max_length=40)
    dim = models.PositiveIntegerField(_("dimensions"))
    vector = models.BinaryField(_("vector (float32)"))

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    LOGIN = "login", _("Log in")
    LOGOUT = "logout", _("Log out")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKED = "locked", _("Account locked")
    PASSWORD_CHANGE = "password_change", _("Password change")
    PASSWORD_RESET = "password_reset", _("Password reset")
    ROLE_GRANT = "role_grant", _("Role granted")
    ROLE_REVOKE = "role_revoke", _("Role revoked")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")
    TOKEN_CREATE = "token_create", _("API token created")
    TOKEN_REVOKE = "token_revoke", _("API token revoked")
    AUDIT_VIEW = "audit_view", _("Audit trail read")
    PRUNE = "prune", _("Audit events pruned")
    GENERATE = "generate", _("Synthetic data generated")
    TRANSITION = "transition", _("State change")
    KEY_ROTATE = "key_rotate", _("Audit key rotated")
    BACKUP = "backup", _("Backup")
    RESTORE = "restore", _("Restore")
    TWO_FACTOR_ENROL = "two_factor_enrol", _("Two-factor authentication enrolled")
    TWO_FACTOR_VERIFY = "two_factor_verify", _("Two-factor code accepted")
    TWO_FACTOR_FAILED = "two_factor_failed", _("Two-factor code refused")
    RECOVERY_CODE_USE = "recovery_code_use", _("Recovery code used")
    RECOVERY_CODES_REGENERATE = "recovery_codes_regen", _("Recovery codes regenerated")
    TWO_FACTOR_DISABLE = "two_factor_disable", _("Two-factor authentication disabled")
    REAUTHENTICATE = "reauthenticate", _("Re-authentication")
    FINANCIALS_VIEW = "financials_view", _("Enterprise financial figures read")


class AuditEvent(models.Model):
    """审计事件. One append-only, hash-chained record of something that happened.

    ``hash`` is an HMAC-SHA256, with the audit key named by ``key_id`` (kept outside the database),
    over a canonical serialisation of every field below and the previous event's hash, so editing or
    deleting a row breaks the chain at that row, and rewriting the chain needs the key
    (``sciencecity audit verify``). Events from before the keyed scheme have an empty ``key_id`` and a
    plain SHA-256 (accepted only up to ``AuditChainHead.legacy_until_id``). No UI or API path edits
    or deletes events; in production the database role should also lack UPDATE/DELETE on this
    table (docs/deploy.md).
    """

    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_username = models.CharField(_("actor username"), max_length=150, blank=True, db_index=True)
    acting_organisation_id = models.BigIntegerField(_("acting organisation id"), null=True, blank=True)
    acting_organisation_name = models.CharField(_("acting organisation"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices, db_index=True)
    success = models.BooleanField(_("success"), default=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=8, blank=True)
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    key_id = models.CharField(_("audit key id"), max_length=16, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row that serialises appends to the audit chain and anchors pruning.

    ``last_hash`` is the hash of the newest event; ``anchor_hash`` is the hash that the oldest
    kept event must point at (the genesis value, or the last pruned event's hash).
    ``legacy_until_id`` is the cut-over: events up to it may carry the old unkeyed SHA-256.
    ``appended`` counts appends (a signed checkpoint is written every ``AUDIT_CHECKPOINT_EVERY``).
    Signed checkpoints outside the database record all of these, so changing them here is detected.
    """

    last_hash = models.CharField(_("last hash"), max_length=64)
    anchor_hash = models.CharField(_("anchor hash"), max_length=64)
    anchor_event_id = models.BigIntegerField(_("last pruned event id"), default=0)
    legacy_until_id = models.BigIntegerField(_("last event with the legacy unkeyed hash"), default=0)
    appended = models.BigIntegerField(_("events appended"), default=0)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit chain head {self.last_hash[:12]}"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Being checked (dry run in the background)")
    DRY_RUN = "dry_run", _("Dry run, awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected (the dry run found errors)")
    FAILED = "failed", _("Failed at confirmation")


class ImportBatch(BaseModel):
    """导入批次. One uploaded spreadsheet, its dry-run report and whether it was confirmed.

    The file's bytes are kept with the batch so that the confirm applies exactly the file that was
    checked (``sha256`` identifies it in the audit trail).
    """

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    content = models.BinaryField(_("file content"), editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.DRY_RUN,
                              db_index=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"


class DemoReference(BaseModel):
    """演示数据基准日. The day every synthetic demo generator counts from, recorded on the first run.

    Demo rows carry dates (founding, certificate issue, affiliation end, call deadlines) relative to
    a reference day. Taking that day from the calendar made the same seed give other rows on other
    days; it is therefore recorded once (the day of the first run, or ``--as-of``) and every later
    run of any generator reuses it, so re-running tomorrow changes nothing.
    """

    name = models.CharField(_("name"), max_length=32, unique=True)
    as_of = models.DateField(_("reference date"))

    class Meta:
        verbose_name = _("demo data reference date")
        verbose_name_plural = _("demo data reference dates")

    def __str__(self) -> str:
        return f"{self.name}: {self.as_of.isoformat()}"


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Job(BaseModel):
    """后台任务. Long work (a large import, an assignment …) run by ``sciencecity worker`` out of the request.

    ``kind`` names a registered job kind (:mod:`sciencecity.core.jobs`); ``params`` are its JSON
    arguments; the worker writes ``progress_done``/``progress_total``, ``message`` and, when done,
    ``result``. A job whose worker died is queued again by the next worker start (``attempts``).
    """

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=JobState.choices, default=JobState.QUEUED,
                             db_index=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    message = models.CharField(_("message"), max_length=1000, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [models.Index(fields=["state", "id"], name="job_state_id_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class Notification(BaseModel):
    """站内通知. A message for one user with a link to the page that acts on it (new match, interest
    received, review assigned, application returned or approved, topic alert)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="notifications")
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    category = models.CharField(_("category"), max_length=32, blank=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.message


class DataVersion(models.Model):
    """A counter per kind of audited object (``registry.organisation``), raised by every audited write.

    Caches of pages and dashboards put the counters of the kinds they show in their keys
    (:mod:`sciencecity.core.data_versions`), so a write empties exactly the caches that showed the old
    data, in every worker at once, and nothing else. Raised in the write's own transaction by
    ``audit_record``: a rolled-back write raises nothing.
    """

    area = models.CharField(_("object type"), max_length=100, primary_key=True)
    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")

    def __str__(self) -> str:
        return f"{self.area} v{self.version}"
