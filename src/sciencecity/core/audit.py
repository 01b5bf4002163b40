"""Audit trail services: record an event in the caller's transaction, verify the chain, prune.

Every service that writes domain data calls :func:`audit_record` inside its own
``transaction.atomic`` block, so the event and the change commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from sciencecity.core import context
from sciencecity.core.models import AuditAction, AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
# 《网络安全法》第二十一条(三): network logs are kept for no less than six months.
MINIMUM_RETENTION_DAYS = 184
HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_username",
    "acting_organisation_id",
    "acting_organisation_name",
    "action",
    "success",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "ip",
    "request_id",
    "channel",
    "previous_hash",
)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or ""
    return str(value)


def to_json(value: Any) -> Any:
    """Normalise a value to what the JSON column will give back, so the hash is reproducible."""
    return json.loads(json.dumps(value, default=_json_default, ensure_ascii=False))


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(event: AuditEvent) -> str:
    payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = _canonical_time(event.occurred_at)
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Field values of ``instance`` (many-to-many as sorted id lists), JSON-normalised."""
    meta = instance._meta
    names = list(fields) if fields is not None else [f.name for f in meta.concrete_fields]
    values: dict[str, Any] = {}
    for name in names:
        field = meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(instance.pk and getattr(instance, name).values_list("pk", flat=True) or [])
        elif field.is_relation:
            values[name] = getattr(instance, field.attname)
        else:
            values[name] = getattr(instance, name)
    return to_json(values)


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose values differ."""
    old = old or {}
    new = new or {}
    changed: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changed[key] = [old.get(key), new.get(key)]
    return changed


def _head_for_update() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(
            pk=1, defaults={"last_hash": GENESIS_HASH, "anchor_hash": GENESIS_HASH}
        )
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    reason: str = "",
    acting_organisation: Any = None,
    success: bool = True,
    actor_username: str = "",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    ctx = context.current()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        head = _head_for_update()
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor=actor_obj,
            actor_username=actor_username or (actor_obj.get_username() if actor_obj else ""),
            acting_organisation_id=getattr(acting_organisation, "pk", None),
            acting_organisation_name=str(acting_organisation)[:300] if acting_organisation else "",
            action=str(action),
            success=success,
            object_type=object_type,
            object_id=str(object_id or ""),
            object_repr=(object_repr or "")[:300],
            changes=to_json(changes or {}),
            reason=reason or "",
            ip=ctx.ip,
            request_id=ctx.request_id,
            channel=ctx.channel,
            previous_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def audit_read_record(*, request: Any, object_id: str | int = "", object_repr: str = "",
                      changes: dict[str, Any] | None = None) -> AuditEvent | None:
    """Record that ``request`` read the audit trail (GB/T 22239-2019 8.1.4.3 a), once per request."""
    if getattr(request, "_audit_read_recorded", False):
        return None
    request._audit_read_recorded = True
    return audit_record(
        action=AuditAction.AUDIT_VIEW, actor=request.user, object_type=AuditEvent._meta.label_lower,
        object_id=object_id, object_repr=object_repr, changes=changes,
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    problem: str = ""
    last_event_id: int | None = None  # the newest event that verified


def _events_in_order(batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        chunk = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk")[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


def audit_verify(*, progress: Callable[[int], None] | None = None, progress_every: int = 5000) -> VerifyResult:
    """Walk the chain from the anchor; report the first event whose link or content is broken.

    ``progress(checked)`` is called every ``progress_every`` events (for a progress bar).
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    expected_previous = head.anchor_hash if head else GENESIS_HASH
    checked = 0
    last_event_id = None
    for event in _events_in_order():
        if event.previous_hash != expected_previous:
            return VerifyResult(False, checked, event.pk, "previous_hash does not match the event before it",
                                last_event_id)
        if compute_hash(event) != event.hash:
            return VerifyResult(False, checked, event.pk, "content does not match its hash (edited)", last_event_id)
        expected_previous = event.hash
        last_event_id = event.pk
        checked += 1
        if progress is not None and checked % progress_every == 0:
            progress(checked)
    if head and checked and head.last_hash != expected_previous:
        return VerifyResult(False, checked, None, "the newest events were deleted (chain head mismatch)",
                            last_event_id)
    return VerifyResult(True, checked, last_event_id=last_event_id)


def retention_days() -> int:
    """``AUDIT_RETENTION_DAYS``, never below the legal minimum of six months."""
    from django.conf import settings

    return max(int(settings.AUDIT_RETENTION_DAYS), MINIMUM_RETENTION_DAYS)


def retention_limit() -> dt.datetime:
    """Events at or after this moment are within retention and are never pruned."""
    return timezone.now() - dt.timedelta(days=retention_days())


def audit_prune(*, before: dt.datetime, actor: Any = None) -> int:
    """Delete events older than ``before`` (never younger than the retention setting).

    The hash of the last deleted event becomes the anchor, so the kept chain still verifies.
    """
    limit = retention_limit()
    before = min(before, limit)
    with transaction.atomic():
        head = _head_for_update()
        doomed = AuditEvent.objects.filter(occurred_at__lt=before).order_by("-pk")
        newest = doomed.first()
        if newest is None:
            return 0
        count = AuditEvent.objects.filter(pk__lte=newest.pk).count()
        AuditEvent.objects.filter(pk__lte=newest.pk).delete()
        head.anchor_hash = newest.hash
        head.anchor_event_id = newest.pk
        head.save(update_fields=["anchor_hash", "anchor_event_id"])
        audit_record(
            action=AuditAction.PRUNE,
            actor=actor,
            object_type="core.auditevent",
            object_id=newest.pk,
            changes={"deleted": count, "before": before},
            reason=f"retention {retention_days()} days",
        )
    return count
