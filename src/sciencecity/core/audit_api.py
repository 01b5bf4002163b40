"""Read-only audit trail API for the 审计管理员 (``/api/audit/events``). There is no write endpoint."""

import datetime as dt
import ipaddress
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import field_validator

from sciencecity.core import permissions, selectors
from sciencecity.core.api import ErrorResponse, PageNumber
from sciencecity.core.audit import audit_read_record
from sciencecity.core.models import AuditAction, AuditEvent

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    occurred_at: dt.datetime
    actor_id: int | None
    actor_username: str
    acting_organisation_id: int | None
    acting_organisation_name: str
    action: str
    action_label: str
    success: bool
    object_type: str
    object_id: str
    object_repr: str
    changes: Any
    reason: str
    ip: str | None
    request_id: str
    channel: str
    previous_hash: str
    hash: str
    key_id: str = Field("", description="The audit key the hash (HMAC-SHA256) was made with; empty: legacy SHA-256.")

    @staticmethod
    def resolve_action_label(obj: AuditEvent) -> str:
        return str(obj.get_action_display())


class AuditEventFilters(Schema):
    """The same filters as the audit page."""

    since: dt.datetime | None = Field(None, description="From this time (inclusive; without offset: local time).")
    until: dt.datetime | None = Field(None, description="Up to this time (inclusive).")
    actor: str | None = Field(None, max_length=150, description="Exact actor username.")
    action: AuditAction | None = None
    object_type: str | None = Field(None, max_length=100, description="e.g. registry.organisation")
    object_id: str | None = Field(None, max_length=64)
    success: bool | None = None
    request_id: str | None = Field(None, max_length=64)
    ip: str | None = Field(None, description="Exact client IP address.")
    q: str | None = Field(None, max_length=200, description="Text in the object description or the reason.")

    @field_validator("ip")
    @classmethod
    def _valid_ip(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return str(ipaddress.ip_address(value.strip()))


@router.get(
    "/events", response=list[AuditEventOut],
    summary="List audit events (audit administrator)",
)
@paginate(PageNumber)
def event_list(request, filters: Query[AuditEventFilters]):
    permissions.require(permissions.can_read_audit(request.auth))
    values = {k: (v.value if isinstance(v, AuditAction) else v) for k, v in filters.dict().items()}
    queryset, _newest = selectors.audit_events_as_of_now(selectors.audit_events(values))
    audit_read_record(request=request, object_repr="audit event list",
                      changes={"filters": selectors.active_filters(values)})
    return queryset


@router.get(
    "/events/{event_id}", response={200: AuditEventOut, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse},
    summary="One audit event (audit administrator)",
)
def event_detail(request, event_id: int):
    permissions.require(permissions.can_read_audit(request.auth))
    event = get_object_or_404(AuditEvent, pk=event_id)
    audit_read_record(request=request, object_id=event.pk, object_repr=str(event))
    return event
