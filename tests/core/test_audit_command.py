import csv
import datetime as dt
import json
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from sciencecity.core.audit import audit_prune, audit_verify
from sciencecity.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def _run(capsys, *args):
    call_command("audit", *args)
    return capsys.readouterr().out


# --- verify
def test_verify_reports_the_number_of_events(capsys, record_event):
    for i in range(3):
        record_event(action="create", object_type="x.y", object_id=i)
    assert "OK: 3 events verified" in _run(capsys, "verify")


def test_verify_of_an_empty_chain(capsys):
    assert "OK: 0 events verified" in _run(capsys, "verify")


def test_verify_names_a_tampered_hash(capsys, record_event):
    events = [record_event(action="create", object_type="x.y", object_id=i) for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET hash = %s WHERE id = %s", ["f" * 64, events[0].pk])
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify")
    assert exc.value.code == 1
    # Event 0's content no longer matches its (rewritten) hash.
    assert f"#{events[0].pk}" in capsys.readouterr().err


def test_verify_shows_progress_on_a_large_chain(capsys, record_event, monkeypatch):
    from sciencecity.core.management.commands import audit as command

    monkeypatch.setattr(command, "PROGRESS_EVERY", 2)
    for i in range(5):
        record_event(action="create", object_type="x.y", object_id=i)
    call_command("audit", "verify")
    captured = capsys.readouterr()
    assert "OK: 5 events verified" in captured.out
    assert "5/5" in captured.err


# --- prune
def _aged_events(record_event, days_ago):
    now = timezone.now()
    return [record_event(at=now - dt.timedelta(days=d), action="create", object_type="x.y", object_id=d)
            for d in days_ago]


def test_prune_deletes_only_events_past_retention_and_the_chain_still_verifies(capsys, record_event):
    old = _aged_events(record_event, [400, 300, 191])
    young = _aged_events(record_event, [189, 10, 0])
    out = _run(capsys, "prune")
    assert "Pruned 3 events" in out
    kept = list(AuditEvent.objects.order_by("id"))
    assert [e.pk for e in kept[:3]] == [e.pk for e in young]
    prune = kept[3]
    assert prune.action == "prune"
    assert prune.changes["deleted"] == 3
    assert AuditChainHead.objects.get().anchor_event_id == old[-1].pk
    assert "OK: 4 events verified" in _run(capsys, "verify")


def test_prune_with_an_earlier_date(capsys, record_event):
    old = _aged_events(record_event, [400, 300])
    cutoff = timezone.localtime(timezone.now() - dt.timedelta(days=350)).date()
    assert "Pruned 1 events" in _run(capsys, "prune", "--before", cutoff.isoformat())
    assert not AuditEvent.objects.filter(pk=old[0].pk).exists()
    assert AuditEvent.objects.filter(pk=old[1].pk).exists()
    assert audit_verify().ok


def test_prune_refuses_a_date_within_retention(record_event, audit_chain):
    _aged_events(record_event, [400, 100])
    before = audit_chain()
    recent = timezone.localtime(timezone.now() - dt.timedelta(days=100)).date()
    with pytest.raises(CommandError, match="Refusing to delete events younger than the retention period of 190 days"):
        call_command("audit", "prune", "--before", recent.isoformat())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit", "prune", "--before", "last year")
    assert audit_chain() == before


def test_retention_never_goes_below_six_months(record_event, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    _aged_events(record_event, [200, 100])
    assert audit_prune(before=timezone.now()) == 1  # only the 200-day-old event
    assert list(AuditEvent.objects.filter(action="create").values_list("object_id", flat=True)) == ["100"]
    assert audit_verify().ok


def test_prune_refuses_a_broken_chain(capsys, record_event, audit_chain):
    events = _aged_events(record_event, [400, 300])
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE id = %s", ["x", events[0].pk])
    before = audit_chain()
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "prune")
    assert exc.value.code == 1
    assert f"#{events[0].pk}" in capsys.readouterr().err
    assert audit_chain() == before


# --- export
def test_export_jsonl_with_filters_is_recorded(tmp_path, capsys, varied_events):
    out = tmp_path / "audit.jsonl"
    assert "Exported 2 events" in _run(capsys, "export", "--out", str(out), "--action", "update")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [varied_events[2].pk, varied_events[4].pk]  # oldest first
    assert lines[0]["occurred_at"] == "2025-03-03T09:00:00+08:00"
    assert lines[0]["changes"] == {"phone": ["1", "2"]}
    assert lines[0]["hash"] == varied_events[2].hash
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    export = AuditEvent.objects.get(action="export")
    assert export.channel == "cli" and export.actor_id is None
    assert export.changes == {"filters": {"action": "update"}, "format": "jsonl", "rows": 2,
                              "up_to_event": varied_events[4].pk, "out": str(out)}
    assert audit_verify().ok


def test_export_csv(tmp_path, capsys, varied_events):
    out = tmp_path / "audit.csv"
    _run(capsys, "export", "--format", "csv", "--out", str(out), "--ip", "10.0.0.2",
         "--since", "2025-03-02", "--success", "true")
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in rows] == [varied_events[1].pk, varied_events[2].pk]
    assert rows[1]["reason"] == "typo in the phone number"
    assert rows[1]["success"] == "true"
    assert json.loads(rows[1]["changes"]) == {"phone": ["1", "2"]}


def test_export_refuses_an_invalid_filter(tmp_path, varied_events):
    out = tmp_path / "audit.csv"
    with pytest.raises(CommandError, match="--ip"):
        call_command("audit", "export", "--out", str(out), "--ip", "nonsense")
    assert not out.exists()
    assert not AuditEvent.objects.filter(action="export").exists()
