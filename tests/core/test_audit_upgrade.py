"""Upgrading an installation whose chain was written with the old plain SHA-256 (migrations 0003/0004)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sciencecity.core.audit import GENESIS_HASH, audit_record, audit_verify, legacy_hash, read_checkpoints
from sciencecity.core.models import AuditChainHead, AuditEvent

BEFORE = [("core", "0002_import_batches")]


@pytest.mark.django_db(transaction=True)
def test_events_written_before_the_upgrade_keep_verifying_and_later_ones_are_keyed():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    OldEvent, OldHead = old.get_model("core", "AuditEvent"), old.get_model("core", "AuditChainHead")
    previous = GENESIS_HASH
    start = dt.datetime(2025, 1, 1, 8, 0, 0, 123456, tzinfo=dt.UTC)
    for i in range(3):  # exactly what the old audit_record wrote
        event = OldEvent(occurred_at=start + dt.timedelta(minutes=i), action="update", object_type="x.y",
                         object_id=str(i), changes={"n": [i, i + 1]}, previous_hash=previous, actor_username="",
                         acting_organisation_name="", object_repr="", reason="", request_id="", channel="cli")
        event.actor_id = event.acting_organisation_id = event.ip = None
        event.hash = legacy_hash(event)
        event.save()
        previous = event.hash
    OldHead.objects.create(pk=1, last_hash=previous, anchor_hash=GENESIS_HASH)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    head = AuditChainHead.objects.get()
    last_legacy = AuditEvent.objects.order_by("-id").first().pk
    assert head.legacy_until_id == last_legacy and head.appended == 3
    # The cut-over is recorded outside the database by the migration itself.
    (upgrade,), bad = read_checkpoints()
    assert bad == [] and upgrade["reason"] == "upgrade" and upgrade["legacy_until_id"] == last_legacy
    new = audit_record(action="update", object_type="x.y", object_id=9)
    assert new.key_id
    result = audit_verify()
    assert result.ok, result.problems
    assert result.legacy_events == 3 and result.checked == 4 and result.checkpoints == 1
    # A legacy event edited afterwards is still caught (it is not blessed by the upgrade).
    AuditEvent.objects.filter(pk=last_legacy).update(reason="rewritten")
    assert [(p.kind, p.event_id) for p in audit_verify().problems] == [("edited", last_legacy)]
    # Moving the cut-over in the database (to pass off rewritten events as legacy) contradicts the checkpoint.
    AuditChainHead.objects.update(legacy_until_id=new.pk)
    assert "checkpoint_mismatch" in {p.kind for p in audit_verify().problems}
