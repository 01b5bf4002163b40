"""Reads of the audit trail shared by the audit pages, the API and the ``audit`` command."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sciencecity.core.audit import to_json
from sciencecity.core.models import AuditEvent

#: Filter names understood by :func:`audit_events` (the same in the UI, the API and the CLI).
AUDIT_FILTERS = (
    "since", "until", "actor", "action", "object_type", "object_id", "success", "request_id", "ip", "q",
)
_EXACT = {
    "actor": "actor_username",
    "action": "action",
    "object_type": "object_type",
    "object_id": "object_id",
    "request_id": "request_id",
    "ip": "ip",
}


def _aware(value: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def active_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters that restrict anything (empty strings and ``None`` dropped), JSON-ready."""
    return to_json({k: v for k, v in (filters or {}).items() if k in AUDIT_FILTERS and v not in (None, "")})


def audit_events(filters: Mapping[str, Any] | None = None) -> QuerySet[AuditEvent]:
    """Audit events matching ``filters``, newest first.

    ``since``/``until``: datetimes (naive ones are local time), both inclusive; ``actor``: exact
    username; ``action``, ``object_type``, ``object_id``, ``request_id``, ``ip``: exact;
    ``success``: ``True``/``False``; ``q``: text in the object description or the reason.
    """
    filters = {k: v for k, v in (filters or {}).items() if k in AUDIT_FILTERS and v not in (None, "")}
    queryset = AuditEvent.objects.order_by("-id")
    if "since" in filters:
        queryset = queryset.filter(occurred_at__gte=_aware(filters["since"]))
    if "until" in filters:
        queryset = queryset.filter(occurred_at__lte=_aware(filters["until"]))
    exact = {column: str(filters[name]).strip() for name, column in _EXACT.items() if name in filters}
    if exact:
        queryset = queryset.filter(**exact)
    if "success" in filters:
        queryset = queryset.filter(success=bool(filters["success"]))
    text = str(filters.get("q", "")).strip()
    if text:
        queryset = queryset.filter(Q(object_repr__icontains=text) | Q(reason__icontains=text))
    return queryset


# --- export rows (CSV, JSON lines, Excel)
EXPORT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", _("ID")),
    ("occurred_at", _("time")),
    ("actor_username", _("actor")),
    ("acting_organisation_id", _("acting organisation id")),
    ("acting_organisation_name", _("acting organisation")),
    ("action", _("action")),
    ("action_label", _("action (label)")),
    ("success", _("success")),
    ("object_type", _("object type")),
    ("object_id", _("object id")),
    ("object_repr", _("object")),
    ("changes", _("changes")),
    ("reason", _("reason")),
    ("ip", _("IP address")),
    ("request_id", _("request id")),
    ("channel", _("channel")),
    ("previous_hash", _("previous hash")),
    ("hash", _("hash")),
    ("key_id", _("audit key id")),
)


def export_record(event: AuditEvent) -> dict[str, Any]:
    """One event as a flat dict keyed like :data:`EXPORT_COLUMNS` (time in local time)."""
    return {
        "id": event.pk,
        "occurred_at": timezone.localtime(event.occurred_at),
        "actor_username": event.actor_username,
        "acting_organisation_id": event.acting_organisation_id,
        "acting_organisation_name": event.acting_organisation_name,
        "action": event.action,
        "action_label": str(event.get_action_display()),
        "success": event.success,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "reason": event.reason,
        "ip": event.ip or "",
        "request_id": event.request_id,
        "channel": event.channel,
        "previous_hash": event.previous_hash,
        "hash": event.hash,
        "key_id": event.key_id,
    }


def export_records(queryset: QuerySet[AuditEvent], chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    for event in queryset.iterator(chunk_size=chunk_size):
        yield export_record(event)


def audit_events_as_of_now(queryset: QuerySet[AuditEvent]) -> tuple[QuerySet[AuditEvent], int | None]:
    """Fix ``queryset`` to the events that exist now, so the reader's own event is not in it.

    Returns the fixed queryset and the id of its newest event.
    """
    newest = queryset.values_list("pk", flat=True).first()
    if newest is None:
        return queryset.none(), None
    return queryset.filter(pk__lte=newest), newest


def export_text(value: Any) -> str:
    """A cell value as text for CSV (JSON for ``changes``, ISO 8601 with offset for times)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
