"""Fixtures for the audit trail tests: events with a known time, address and request id."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from sciencecity.core import context
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditEvent


def _record_event(*, at: dt.datetime | None = None, ip: str | None = None, request_id: str = "", **fields) -> AuditEvent:
    """``audit_record`` as if it happened at ``at`` in a request from ``ip`` with ``request_id``."""
    token = context.activate(context.RequestContext(request_id=request_id, ip=ip, channel="web"))
    try:
        if at is None:
            return audit_record(**fields)
        with mock.patch("django.utils.timezone.now", return_value=at):
            return audit_record(**fields)
    finally:
        context.deactivate(token)


@pytest.fixture
def record_event(db):
    return _record_event


@pytest.fixture
def audit_chain(db):
    """The chain as ``[(id, hash), …]`` (to show that nothing changed)."""
    return lambda: list(AuditEvent.objects.order_by("id").values_list("id", "hash"))


@pytest.fixture(params=["enterprise_user", "bureau", "sysadmin", "secadmin"])
def refused_user(request, db):
    """Every signed-in user who is not the audit administrator (including the other two 三员)."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def varied_events(db, bureau, enterprise_user, record_event):
    """Six events differing in every filterable field, oldest first."""
    base = timezone.make_aware(dt.datetime(2025, 3, 1, 9, 0))
    return [
        record_event(at=base, ip="10.0.0.1", request_id="req-aaaa-0001", action="login", actor=bureau,
                     object_type="accounts.user", object_id=bureau.pk, object_repr="officer"),
        record_event(at=base + dt.timedelta(days=1), ip="10.0.0.2", request_id="req-aaaa-0002", action="create",
                     actor=bureau, object_type="registry.organisation", object_id=7, object_repr="光明实验室",
                     changes={"name": [None, "光明实验室"]}),
        record_event(at=base + dt.timedelta(days=2), ip="10.0.0.2", request_id="req-aaaa-0003", action="update",
                     actor=enterprise_user, object_type="registry.organisation", object_id=7,
                     object_repr="光明实验室", changes={"phone": ["1", "2"]}, reason="typo in the phone number"),
        record_event(at=base + dt.timedelta(days=3), ip="2001:db8::1", request_id="req-aaaa-0004",
                     action="login_failed", success=False, actor_username="mallory", object_type="accounts.user",
                     object_repr="mallory"),
        record_event(at=base + dt.timedelta(days=4), ip="10.0.0.3", request_id="req-aaaa-0005", action="update",
                     actor=bureau, object_type="registry.person", object_id=3, object_repr="张三",
                     changes={"email": ["a@example.org", "b@example.org"]}),
        record_event(at=base + dt.timedelta(days=5), ip="10.0.0.1", request_id="req-aaaa-0006", action="delete",
                     actor=bureau, object_type="registry.organisation", object_id=8, object_repr="旧机构",
                     reason="duplicate of 光明实验室"),
    ]
