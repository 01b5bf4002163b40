"""Tamper evidence of the audit trail (issue 9, findings 2 and 3).

Each attack is done as someone with write access to the database but not to the server's key file
would do it: raw SQL and ``queryset.update`` on the rows and on the chain head. Run on SQLite and on
PostgreSQL (``DATABASE_URL=postgres://…``): the jsonb round trip is where finding 2 showed up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import struct
import sys

import pytest
from django.core.management import call_command
from django.db import connection

from sciencecity.core import audit_keys
from sciencecity.core.audit import (
    audit_checkpoint,
    audit_prune,
    audit_record,
    audit_verify,
    canonical_bytes,
    canonical_number,
    event_mac,
    legacy_hash,
    read_checkpoints,
)
from sciencecity.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def _events(n, **fields):
    return [audit_record(action="update", object_type="x.y", object_id=i, changes={"n": [i, i + 1]}, **fields)
            for i in range(n)]


def _kinds(result):
    return sorted({p.kind for p in result.problems})


def _reread(event):
    return AuditEvent.objects.get(pk=event.pk)


def _set_head(**fields):
    AuditChainHead.objects.filter(pk=1).update(**fields)


# --- finding 2: a canonical serialisation that survives the database round trip


@pytest.mark.parametrize("value", [1e16, 1e308, -1e308, 1.5e-7, 5e-324, 0.1 + 0.2, -0.0, 2**63 + 1, 10**40,
                                   1.0, 100, 123456789012345678])
def test_numbers_from_the_json_column_hash_the_same(value):
    event = audit_record(action="update", object_type="plans.observedvalue", object_id=1,
                         changes={"value": [None, value]})
    stored = _reread(event)
    assert audit_verify().ok, (value, stored.changes)


def test_indicator_value_1e16_and_1e308_through_the_api_keep_the_chain_verifiable(client):
    """The reproduction: POST /api/plans/indicators/<id>/values {"year":2025,"value":1e16} (and 1e308) made
    ``audit verify`` report an edit on PostgreSQL. Whatever the API decides about such values, the chain holds."""
    from sciencecity.accounts.choices import Role
    from sciencecity.plans.models import Indicator, ObservedValue
    from sciencecity.plans.services import plan_import_bundled
    from sciencecity.registry.models import Organisation
    from tests.conftest import make_user

    plan = plan_import_bundled().plan
    indicator = Indicator.objects.get(plan=plan, number=5)
    # The edge now refuses numbers beyond ±10¹⁵ (and each indicator's plausible range): widen the range so the
    # largest accepted number, whose text form jsonb changes (1e15 → 1000000000000000), reaches the audit trail.
    Indicator.objects.filter(pk=indicator.pk).update(plausible_min=0, plausible_max=1e15)
    client.force_login(make_user(Role.DEPARTMENT_OFFICER, Organisation.objects.get(code="GOV-KCJ")))
    answers = []
    for value in ("1e15", "1e16", "1e308"):
        response = client.post(f"/api/plans/indicators/{indicator.pk}/values",
                               data=f'{{"year": 2025, "value": {value}}}', content_type="application/json")
        answers.append(response.status_code)
        assert response.status_code < 500
    assert answers[0] in (200, 201) and answers[1:] == [422, 422]
    assert ObservedValue.objects.get(indicator=indicator, year=2025).value == 1e15
    assert AuditEvent.objects.filter(object_type="plans.observedvalue").exists()
    result = audit_verify()
    assert result.ok, result.problems


def _random_leaf(rng):
    kind = rng.randrange(9)
    if kind == 0:
        return rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300)
    if kind == 1:
        bits = rng.getrandbits(64)
        value = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
        return value if math.isfinite(value) else 1.0
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.choice(["é", "e\u0301", "光明", "😀", "", " a\tb\n", "\\u0000", "'\""])
    if kind == 5:
        return rng.randint(-5, 5)
    if kind == 6:
        return float(rng.randint(-10**6, 10**6))
    if kind == 7:
        return rng.choice([sys.float_info.max, sys.float_info.min, sys.float_info.epsilon, 1e-7, 123.456e20])
    return str(rng.random())


def _random_tree(rng, depth=0):
    if depth > 3 or rng.random() < 0.4:
        return _random_leaf(rng)
    if rng.random() < 0.5:
        return [_random_tree(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {f"k{rng.randint(0, 50)}{rng.choice(['', 'é', '长'])}": _random_tree(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def test_many_random_numbers_and_structures_survive_the_round_trip():
    rng = random.Random(20261207)
    for i in range(200):
        audit_record(action="update", object_type="x.y", object_id=i, changes={"tree": _random_tree(rng)},
                     object_repr=f"random {i}", reason=rng.choice(["", "é", "e\u0301"]))
    result = audit_verify()
    assert result.ok, result.problems[:5]
    assert result.checked == 200


def test_canonical_numbers_are_one_string_per_value():
    assert canonical_number(1e16) == canonical_number(10**16) == "1E+16"
    assert canonical_number(1.0) == canonical_number(1) == "1"
    assert canonical_number(-0.0) == canonical_number(0) == "0"
    assert canonical_number(1e308) == canonical_number(10**308) == "1E+308"
    assert canonical_number(0.1) == "0.1"
    assert canonical_number(2**70) == str(2**70)  # no rounding to 28 digits
    # Types stay distinct: true is not 1, null is not "", the number 1 is not the text "1".
    assert len({canonical_bytes(v) for v in (True, 1, "1", None, "", 0, False)}) == 7
    # Key order and Unicode normal form do not matter.
    assert canonical_bytes({"b": 1, "a": "é"}) == canonical_bytes({"a": "e\u0301", "b": 1.0})


def test_non_finite_numbers_and_nul_never_crash_the_audit_trail():
    event = audit_record(action="update", object_type="x.y\x00", object_id=1, object_repr="a\x00b",
                         reason="r\x00", changes={"v": [float("nan"), float("inf")], "w": -math.inf,
                                                  "s": "x\x00y", "k\x00": 1})
    stored = _reread(event)
    assert stored.changes == {"v": ["NaN", "Infinity"], "w": "-Infinity", "s": "x\ufffdy", "k\ufffd": 1}
    assert stored.object_repr == "a\ufffdb"
    assert audit_verify().ok


# --- finding 3: a keyed MAC, checkpoints, and verify reports every problem


def test_events_carry_a_keyed_mac_not_a_plain_hash():
    event = _reread(_events(1)[0])
    ring = audit_keys.keyring()
    assert event.key_id == ring.current_id
    assert event.hash == event_mac(event, ring.keys[event.key_id])
    assert event.hash != legacy_hash(event)


def test_an_edited_row_is_reported(capsys):
    events = _events(5)
    AuditEvent.objects.filter(pk=events[1].pk).update(reason="nothing happened")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET object_repr = %s WHERE id = %s",
                       ["tampered", events[3].pk])
    result = audit_verify()
    assert not result.ok
    # Both edits are reported, not only the first.
    assert [(p.kind, p.event_id) for p in result.problems] == [("edited", events[1].pk), ("edited", events[3].pk)]
    assert result.broken_event_id == events[1].pk and result.last_event_id == events[0].pk
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify")
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and f"#{events[1].pk}" in err and f"#{events[3].pk}" in err


def test_a_deleted_row_is_reported():
    events = _events(5)
    AuditEvent.objects.filter(pk=events[2].pk).delete()
    result = audit_verify()
    assert [(p.kind, p.event_id) for p in result.problems] == [("link_broken", events[3].pk)]


def test_an_inserted_row_is_reported():
    events = _events(3)
    # The attacker copies a real event, changes it and links it in after events[1]; without the key
    # the best they can do is a plain SHA-256 (or a MAC with a guessed key).
    forged = _reread(events[1])
    forged.pk = None
    forged.object_repr = "forged grant"
    forged.previous_hash = events[1].hash
    forged.hash = hmac.new(b"guessed key", b"x", hashlib.sha256).hexdigest()
    forged.save(force_insert=True)
    AuditEvent.objects.filter(pk=events[2].pk).update(previous_hash=forged.hash)
    result = audit_verify()
    assert not result.ok
    assert ("edited", forged.pk) in [(p.kind, p.event_id) for p in result.problems]
    assert ("edited", events[2].pk) in [(p.kind, p.event_id) for p in result.problems]


def test_a_truncated_tail_is_caught_by_the_checkpoint():
    events = _events(6)
    audit_checkpoint(reason="test")
    more = _events(2)
    # Delete the newest four events and point the head at the newest survivor: the rows agree with each other.
    AuditEvent.objects.filter(pk__gt=events[3].pk).delete()
    _set_head(last_hash=events[3].hash)
    result = audit_verify()
    assert not result.ok
    assert ("tail_truncated", events[5].pk) in [(p.kind, p.event_id) for p in result.problems]
    assert "count_mismatch" in _kinds(result)
    assert more  # the events after the checkpoint went too


def test_a_truncated_tail_without_fixing_the_head_is_caught_by_the_head():
    events = _events(4)
    AuditEvent.objects.filter(pk=events[-1].pk).delete()
    assert _kinds(audit_verify()) == ["tail_truncated"]


def test_a_deleted_chain_head_is_caught():
    _events(2)
    AuditChainHead.objects.all().delete()
    assert "head_missing" in _kinds(audit_verify())


def test_a_truncated_head_is_caught():
    events = _events(6)
    audit_checkpoint(reason="test")
    # Delete the two oldest events and move the anchor as a prune would, without a prune.
    AuditEvent.objects.filter(pk__lte=events[1].pk).delete()
    _set_head(anchor_hash=events[1].hash, anchor_event_id=events[1].pk)
    result = audit_verify()
    assert not result.ok
    assert "head_truncated" in _kinds(result)
    assert "tail_truncated" not in _kinds(result)


def test_a_truncated_head_is_caught_even_after_a_later_periodic_checkpoint():
    events = _events(6)
    audit_checkpoint(reason="test")
    AuditEvent.objects.filter(pk__lte=events[1].pk).delete()
    _set_head(anchor_hash=events[1].hash, anchor_event_id=events[1].pk)
    _events(1)
    audit_checkpoint(reason="periodic")  # written by the application, which does not verify first
    result = audit_verify()
    assert "head_truncated" in _kinds(result)


def test_the_checkpoint_command_refuses_a_broken_chain(capsys):
    events = _events(3)
    AuditEvent.objects.filter(pk=events[0].pk).update(reason="x")
    with pytest.raises(SystemExit):
        call_command("audit", "checkpoint")
    assert "Refusing to write a checkpoint" in capsys.readouterr().err
    assert read_checkpoints() == ([], [])


def test_a_truncated_head_without_moving_the_anchor_is_caught():
    events = _events(4)
    AuditEvent.objects.filter(pk=events[0].pk).delete()
    result = audit_verify()
    assert [(p.kind, p.event_id) for p in result.problems] == [("head_truncated", events[1].pk)]


def _rehash_everything(hasher, key_id):
    """The attacker's rewrite: recompute every hash in order, and the head."""
    previous = AuditChainHead.objects.get().anchor_hash
    for event in AuditEvent.objects.order_by("pk"):
        event.previous_hash = previous
        event.key_id = key_id
        event.hash = hasher(event)
        AuditEvent.objects.filter(pk=event.pk).update(previous_hash=event.previous_hash, key_id=key_id,
                                                      hash=event.hash)
        previous = event.hash
    _set_head(last_hash=previous)


@pytest.mark.parametrize("scheme", ["plain-sha256", "guessed-key"])
def test_a_fully_rehashed_chain_without_the_key_is_caught(scheme):
    events = _events(5)
    AuditEvent.objects.filter(pk=events[2].pk).update(reason="rewritten history")
    if scheme == "plain-sha256":
        _rehash_everything(legacy_hash, "")
        expected = "legacy_after_cutover"
    else:
        key_id = AuditEvent.objects.get(pk=events[0].pk).key_id
        _rehash_everything(lambda e: event_mac(e, b"not the real key, but long enough"), key_id)
        expected = "edited"
    result = audit_verify()
    assert not result.ok
    assert [p.event_id for p in result.problems if p.kind == expected] == [e.pk for e in events]
    assert "link_broken" not in _kinds(result)  # the rows agree with each other; only the key tells


def test_a_rehashed_chain_also_contradicts_the_checkpoints():
    events = _events(3)
    audit_checkpoint(reason="test")
    _rehash_everything(legacy_hash, "")
    _set_head(legacy_until_id=events[-1].pk)  # and claims the events are legacy
    result = audit_verify()
    assert "checkpoint_mismatch" in _kinds(result)


def test_legacy_events_verify_up_to_the_cut_over():
    """Events written before the keyed scheme keep verifying with the old SHA-256, but only up to the cut-over."""
    events = _events(3)
    _rehash_everything(legacy_hash, "")  # what a pre-upgrade chain looks like
    _set_head(legacy_until_id=events[-1].pk)
    newer = _events(2)
    result = audit_verify()
    assert result.ok, result.problems
    assert result.legacy_events == 3
    assert AuditEvent.objects.get(pk=newer[0].pk).key_id != ""
    # A later event rewritten with the legacy scheme is a downgrade.
    event = AuditEvent.objects.get(pk=newer[1].pk)
    event.key_id = ""
    AuditEvent.objects.filter(pk=event.pk).update(key_id="", hash=legacy_hash(event))
    assert [(p.kind, p.event_id) for p in audit_verify().problems if p.kind != "tail_truncated"] == [
        ("legacy_after_cutover", newer[1].pk)]


def test_a_forged_or_edited_checkpoint_is_reported(settings):
    _events(2)
    record = audit_checkpoint(reason="test")
    with open(settings.AUDIT_CHECKPOINT_FILE, "a", encoding="utf-8") as handle:
        forged = dict(record, last_id=record["last_id"] + 100)
        handle.write(json.dumps(forged) + "\n")
        handle.write("not json\n")
    result = audit_verify()
    assert [p.kind for p in result.problems] == ["checkpoint_invalid", "checkpoint_invalid"]
    valid, bad = read_checkpoints()
    assert len(valid) == 1 and [n for n, _ in bad] == [2, 3]


def test_checkpoints_are_written_every_n_events_after_commit_and_logged(settings, caplog,
                                                                        django_capture_on_commit_callbacks):
    settings.AUDIT_CHECKPOINT_EVERY = 3
    with caplog.at_level("INFO", logger="sciencecity.audit.checkpoint"):
        events = []
        for _ in range(7):  # one transaction (request) each
            with django_capture_on_commit_callbacks(execute=True):
                events += _events(1)
    valid, bad = read_checkpoints()
    assert bad == []
    assert [cp["last_id"] for cp in valid] == [events[2].pk, events[5].pk]
    assert [cp["count"] for cp in valid] == [3, 6]
    assert valid[0]["last_hash"] == events[2].hash and valid[0]["reason"] == "periodic"
    logged = [r.getMessage() for r in caplog.records if r.name == "sciencecity.audit.checkpoint"]
    assert len(logged) == 2 and json.loads(logged[0].split(" ", 2)[2]) == valid[0]
    assert audit_verify().checkpoints == 2 and audit_verify().ok


def test_a_rolled_back_transaction_writes_no_checkpoint(settings, django_capture_on_commit_callbacks):
    from django.db import transaction

    settings.AUDIT_CHECKPOINT_EVERY = 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                _events(1)
                raise RuntimeError("the service failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert read_checkpoints() == ([], [])


def test_prune_writes_a_checkpoint_so_the_new_anchor_is_legitimate(record_event,
                                                                   django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    for days in (400, 300, 10):
        record_event(at=now - dt.timedelta(days=days), action="create", object_type="x.y", object_id=days)
    audit_checkpoint(reason="test")
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_prune(before=now) == 2
    valid, _bad = read_checkpoints()
    assert valid[-1]["reason"] == "prune" and valid[-1]["anchor_event_id"] == AuditChainHead.objects.get().anchor_event_id
    result = audit_verify()
    assert result.ok, result.problems


def test_verify_json_lists_every_problem(capsys):
    events = _events(4)
    AuditEvent.objects.filter(pk__in=[events[0].pk, events[2].pk]).update(reason="x")
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify", "--json")
    assert exc.value.code == 1
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is False and body["problem_count"] == 2
    assert [p["event_id"] for p in body["problems"]] == [events[0].pk, events[2].pk]


def test_checkpoint_command(capsys):
    events = _events(2)
    call_command("audit", "checkpoint")
    assert f"Checkpoint: event #{events[-1].pk}, 2 events" in capsys.readouterr().out
    call_command("audit", "verify")
    assert "OK: 2 events verified (1 signed checkpoints, 0 legacy)" in capsys.readouterr().out


# --- keys outside the database, rotation


def test_rotate_key_keeps_old_events_verifiable(settings, tmp_path, capsys):
    settings.AUDIT_KEY_FILE = str(tmp_path / "keys.json")
    old = _events(2)
    call_command("audit", "rotate-key")
    assert "New audit key k2 is current" in capsys.readouterr().out
    new = _events(2)
    assert {_reread(e).key_id for e in old} == {"k1"} and {_reread(e).key_id for e in new} == {"k2"}
    rotation = AuditEvent.objects.get(action="key_rotate")
    assert rotation.changes == {"key_id": ["k1", "k2"]}
    assert audit_verify().ok
    data = json.loads((tmp_path / "keys.json").read_text())
    assert set(data["keys"]) == {"k1", "k2"} and data["current"] == "k2"
    assert oct((tmp_path / "keys.json").stat().st_mode & 0o777) == "0o600"
    # Losing a key makes its events uncheckable, which verify says.
    del data["keys"]["k1"]
    (tmp_path / "keys.json").write_text(json.dumps(data))
    assert "unknown_key" in _kinds(audit_verify())


def test_keys_from_the_environment(settings):
    settings.AUDIT_HMAC_KEYS = f"old:{'a' * 40}, new:{'b' * 40}"
    event = _reread(_events(1)[0])
    assert event.key_id == "new"
    assert event.hash == event_mac(event, b"b" * 40)
    assert audit_verify().ok
    settings.AUDIT_HMAC_KEYS = f"new:{'b' * 40}"
    assert audit_verify().ok
    settings.AUDIT_HMAC_KEYS = "x:short"
    with pytest.raises(audit_keys.AuditKeyError, match="at least 32"):
        audit_keys.keyring()
    settings.AUDIT_HMAC_KEYS = f"new:{'b' * 40}"
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="AUDIT_HMAC_KEYS"):
        call_command("audit", "rotate-key")


def test_the_key_file_is_created_once_with_mode_600(settings, tmp_path):
    settings.AUDIT_KEY_FILE = str(tmp_path / "var" / "audit_keys.json")
    ring = audit_keys.keyring()
    assert ring.current_id == "k1" and len(ring.keys["k1"]) == 64
    assert audit_keys.keyring().keys == ring.keys
    assert oct((tmp_path / "var" / "audit_keys.json").stat().st_mode & 0o777) == "0o600"


def test_concurrent_first_runs_agree_on_one_key(settings, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    settings.AUDIT_KEY_FILE = str(tmp_path / "keys.json")
    with ThreadPoolExecutor(max_workers=8) as pool:
        rings = list(pool.map(lambda _i: audit_keys.keyring().keys, range(16)))
    assert all(ring == rings[0] for ring in rings)
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_checkpoint_lines_are_logged_even_when_the_log_level_is_warning():
    import logging

    assert logging.getLogger("sciencecity.audit.checkpoint").getEffectiveLevel() == logging.INFO
