"""Audit trail services: record an event in the caller's transaction, verify the chain, prune.

Every service that writes domain data calls :func:`audit_record` inside its own
``transaction.atomic`` block, so the event and the change commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import unicodedata
import uuid
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from sciencecity.core import context, data_versions
from sciencecity.core.audit_keys import KeyRing, keyring
from sciencecity.core.models import AuditAction, AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

logger = logging.getLogger("sciencecity.audit")
checkpoint_logger = logging.getLogger("sciencecity.audit.checkpoint")

GENESIS_HASH = "0" * 64
MAC_SCHEME = "hmac-sha256/canonical-v1"
CHECKPOINT_VERSION = 1
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


def _storable(value: Any) -> Any:
    """What both databases can store and give back unchanged.

    JSON has no NaN or infinity (PostgreSQL refuses them) and jsonb refuses the NUL character, so
    non-finite numbers become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` and NUL becomes
    U+FFFD. Input validation refuses both earlier; the audit trail must never crash on them.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def to_json(value: Any) -> Any:
    """Normalise a value to what the JSON column will give back, so the hash is reproducible."""
    return _storable(json.loads(json.dumps(value, default=_json_default, ensure_ascii=False)))


def clean_text(value: str) -> str:
    """Text as stored in the audit columns (no NUL, which PostgreSQL refuses)."""
    return (value or "").replace("\x00", "\ufffd")


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_number(value: int | float | decimal.Decimal) -> str:
    """One decimal string per numeric value, whatever form the database gives it back in.

    PostgreSQL's jsonb keeps numbers as ``numeric`` and returns ``1e16`` as ``10000000000000000`` (an
    ``int`` once parsed) and ``1.50`` as ``1.50``; SQLite returns the text it was given. The value is the
    same, so the hash must be: ``Decimal(repr(float))`` or ``Decimal(int)``, normalised (no trailing
    zeros, exponent form), with zero (and negative zero) as ``"0"``.
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)
        number = decimal.Decimal(repr(value))
    else:
        number = decimal.Decimal(value)
    if not number.is_finite():
        return str(number)
    if number.is_zero():
        return "0"
    digits = len(number.as_tuple().digits)
    return str(number.normalize(decimal.Context(prec=max(digits, 1), Emax=decimal.MAX_EMAX,
                                                Emin=decimal.MIN_EMIN)))


def _canonical(value: Any) -> Any:
    """A JSON tree where every scalar is a type-tagged string: ``z`` null, ``t``/``f`` booleans,
    ``n`` + canonical number, ``s`` + NFC text. Lists keep their order; keys are NFC and sorted on output."""
    if value is None:
        return "z"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | float | decimal.Decimal):
        return "n" + canonical_number(value)
    if isinstance(value, str):
        return "s" + unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {unicodedata.normalize("NFC", str(k)): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return "s" + unicodedata.normalize("NFC", str(value))


def canonical_bytes(value: Any) -> bytes:
    """The canonical serialisation that is hashed: stable across SQLite, PostgreSQL and Python versions."""
    return json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _canonical_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return str(value)


def legacy_hash(event: AuditEvent) -> str:
    """The original scheme (plain SHA-256 over ``json.dumps``), kept only to verify events written before
    the keyed scheme (``key_id`` empty, id up to ``AuditChainHead.legacy_until_id``)."""
    payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = _canonical_time(event.occurred_at)
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def event_mac(event: AuditEvent, key: bytes) -> str:
    """HMAC-SHA256 with ``key`` over the canonical serialisation of every hashed field and the key id."""
    payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = _canonical_time(event.occurred_at)
    payload["ip"] = _canonical_ip(event.ip)
    payload["key_id"] = event.key_id
    payload["scheme"] = MAC_SCHEME
    return hmac.new(key, canonical_bytes(payload), hashlib.sha256).hexdigest()


def compute_hash(event: AuditEvent, ring: KeyRing | None = None) -> str | None:
    """The hash ``event`` must carry: its key's MAC, or the legacy SHA-256 when it names no key.

    ``None`` when the key it names is not configured (it cannot be checked here).
    """
    if not event.key_id:
        return legacy_hash(event)
    key = (ring or keyring()).key(event.key_id)
    if key is None:
        return None
    return event_mac(event, key)


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


def _head_for_update(using: str = "default") -> AuditChainHead:
    head = AuditChainHead.objects.using(using).select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.using(using).get_or_create(
            pk=1, defaults={"last_hash": GENESIS_HASH, "anchor_hash": GENESIS_HASH}
        )
        head = AuditChainHead.objects.using(using).select_for_update().get(pk=1)
    return head


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    reason: str = "",
    acting_organisation: Any = None,
    success: bool = True,
    actor_username: str = "",
    using: str = "default",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    The event's hash is an HMAC-SHA256 with the current audit key (kept outside the database, see
    ``audit_keys``). Every ``AUDIT_CHECKPOINT_EVERY`` events a signed checkpoint is written after commit.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    ctx = context.current()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    ring = keyring()
    with transaction.atomic(using=using):
        head = _head_for_update(using)
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor=actor_obj,
            actor_username=clean_text(actor_username or (actor_obj.get_username() if actor_obj else "")),
            acting_organisation_id=getattr(acting_organisation, "pk", None),
            acting_organisation_name=clean_text(str(acting_organisation)[:300] if acting_organisation else ""),
            action=str(action),
            success=success,
            object_type=clean_text(object_type),
            object_id=clean_text(str(object_id or ""))[:64],
            object_repr=clean_text(object_repr or "")[:300],
            changes=to_json(changes or {}),
            reason=clean_text(reason or ""),
            ip=ctx.ip,
            request_id=ctx.request_id,
            channel=ctx.channel,
            previous_hash=head.last_hash,
            key_id=ring.current_id,
        )
        event.hash = event_mac(event, ring.keys[ring.current_id])
        event.save(force_insert=True, using=using)
        head.last_hash = event.hash
        head.appended += 1
        head.save(update_fields=["last_hash", "appended"], using=using)
        if success and event.object_type:  # the caches that show this kind of object are now stale
            data_versions.bump(event.object_type, using=using)
        every = checkpoint_every()
        if every and head.appended % every == 0:
            transaction.on_commit(lambda: audit_checkpoint_quietly(reason="periodic", using=using), using=using)
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
class Problem:
    """One thing wrong with the chain. ``kind`` is a stable code (see ``PROBLEM_KINDS``)."""

    kind: str
    event_id: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "event_id": self.event_id, "message": self.message}


PROBLEM_KINDS = {
    "edited": "an event's content does not match its MAC (edited, or rehashed without the key)",
    "link_broken": "an event does not point at the event before it (events deleted or inserted)",
    "head_truncated": "the oldest events were deleted without a recorded prune",
    "tail_truncated": "the newest events were deleted",
    "legacy_after_cutover": "an event after the cut-over carries the old unkeyed hash (downgrade)",
    "unknown_key": "an event names a key that is not configured",
    "checkpoint_invalid": "a checkpoint line is malformed or its signature does not verify",
    "checkpoint_mismatch": "the chain differs from what a signed checkpoint recorded (rewritten)",
    "count_mismatch": "the number of events differs from a signed checkpoint",
    "head_missing": "the chain head row was deleted",
}
MAX_REPORTED_PROBLEMS = 10000


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_event_id: int | None = None  # the first problem's event
    problem: str = ""  # the first problem's message
    last_event_id: int | None = None  # the newest event before the first problem
    problems: tuple[Problem, ...] = ()
    problem_count: int = 0  # may exceed len(problems) when more than MAX_REPORTED_PROBLEMS
    checkpoints: int = 0  # valid signed checkpoints checked against
    legacy_events: int = 0
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "checked": self.checked, "last_event_id": self.last_event_id,
            "problem_count": self.problem_count, "problems": [p.as_dict() for p in self.problems],
            "checkpoints": self.checkpoints, "legacy_events": self.legacy_events, "warnings": list(self.warnings),
        }


def _events_in_order(batch: int = 5000, using: str = "default") -> Iterator[AuditEvent]:
    last = 0
    while True:
        chunk = list(AuditEvent.objects.using(using).filter(pk__gt=last).order_by("pk")[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.count = 0

    def add(self, kind: str, event_id: int | None, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_REPORTED_PROBLEMS:
            self.items.append(Problem(kind, event_id, message))


def audit_verify(*, progress: Callable[[int], None] | None = None, progress_every: int = 5000,
                 checkpoint_file: str | os.PathLike | None = None, using: str = "default") -> VerifyResult:
    """Walk the whole chain from the anchor and report **every** problem, not just the first.

    Each event is checked for its link to the one before and for its MAC (or, up to the recorded
    cut-over, the legacy SHA-256). The chain is then compared with every signed checkpoint in
    ``checkpoint_file`` (default ``AUDIT_CHECKPOINT_FILE``), which lives outside the database: a
    deleted tail, a deleted head with a forged anchor, a rewritten chain or a moved cut-over show up
    there even when the rows themselves are self-consistent.

    ``progress(checked)`` is called every ``progress_every`` events (for a progress bar).
    """
    ring = keyring()
    head = AuditChainHead.objects.using(using).filter(pk=1).first()
    anchor_hash = head.anchor_hash if head else GENESIS_HASH
    anchor_id = head.anchor_event_id if head else 0
    legacy_until = head.legacy_until_id if head else 0
    problems = _Problems()
    checkpoints, bad_lines = read_checkpoints(checkpoint_file, ring=ring)
    for line_number, message in bad_lines:
        problems.add("checkpoint_invalid", None, f"checkpoint line {line_number}: {message}")
    wanted = {cp["last_id"] for cp in checkpoints}
    seen_hashes: dict[int, str] = {}
    ids = array("q")
    expected_previous = anchor_hash
    previous_id: int | None = None
    checked = 0
    legacy = 0
    last_good: int | None = None
    for event in _events_in_order(using=using):
        before = problems.count
        if event.pk <= anchor_id:
            problems.add("link_broken", event.pk, f"event #{event.pk} is older than the prune anchor "
                                                  f"#{anchor_id} (inserted)")
        if event.previous_hash != expected_previous:
            if previous_id is None:
                problems.add("head_truncated", event.pk, f"the oldest event #{event.pk} does not point at the "
                                                         f"chain anchor: the events before it were deleted")
            else:
                problems.add("link_broken", event.pk, f"event #{event.pk} does not point at event #{previous_id} "
                                                      f"before it: events were deleted or inserted between them")
        if not event.key_id:
            legacy += 1
            if event.pk > legacy_until:
                problems.add("legacy_after_cutover", event.pk,
                             f"event #{event.pk} carries an unkeyed hash but the keyed scheme started after "
                             f"#{legacy_until} (rewritten without the key)")
            elif legacy_hash(event) != event.hash:
                problems.add("edited", event.pk, f"event #{event.pk}: content does not match its hash (edited)")
        else:
            expected = compute_hash(event, ring)
            if expected is None:
                problems.add("unknown_key", event.pk, f"event #{event.pk} names audit key {event.key_id!r}, "
                                                      f"which is not configured")
            elif not hmac.compare_digest(expected, event.hash):
                problems.add("edited", event.pk, f"event #{event.pk}: content does not match its MAC "
                                                 f"(edited, or rehashed without the key)")
        if problems.count == before and last_good == previous_id:
            last_good = event.pk
        if event.pk in wanted:
            seen_hashes[event.pk] = event.hash
        ids.append(event.pk)
        expected_previous = event.hash
        previous_id = event.pk
        checked += 1
        if progress is not None and checked % progress_every == 0:
            progress(checked)
    if head is None and checked:
        problems.add("head_missing", None, "the chain head row is missing (deleted)")
    if head and head.last_hash != expected_previous:
        problems.add("tail_truncated", None, "the chain head names a newer event than the last one found: "
                                             "the newest events were deleted")
    _check_against_checkpoints(checkpoints, problems, seen_hashes=seen_hashes, ids=ids, anchor_id=anchor_id,
                               anchor_hash=anchor_hash, legacy_until=legacy_until)
    warnings = []
    if not checkpoints and checked:
        warnings.append("no signed checkpoint found: a deleted tail or head cannot be detected until one is "
                        "written (sciencecity audit checkpoint)")
    first = problems.items[0] if problems.items else None
    return VerifyResult(
        ok=problems.count == 0, checked=checked,
        broken_event_id=first.event_id if first else None, problem=first.message if first else "",
        last_event_id=last_good, problems=tuple(problems.items), problem_count=problems.count,
        checkpoints=len(checkpoints), legacy_events=legacy, warnings=tuple(warnings),
    )


def _check_against_checkpoints(checkpoints: list[dict], problems: _Problems, *, seen_hashes: dict[int, str],
                               ids: array, anchor_id: int, anchor_hash: str, legacy_until: int) -> None:
    sorted_ids = sorted(ids)
    for cp in checkpoints:
        when = cp["time"]
        if cp["last_id"] > anchor_id:
            found = seen_hashes.get(cp["last_id"])
            if found is None:
                problems.add("tail_truncated", cp["last_id"], f"event #{cp['last_id']}, recorded by the checkpoint "
                                                              f"of {when}, is missing: events were deleted")
            elif found != cp["last_hash"]:
                problems.add("checkpoint_mismatch", cp["last_id"],
                             f"event #{cp['last_id']} differs from the checkpoint of {when}: the chain was rewritten")
        if cp["anchor_event_id"] == anchor_id and cp["last_id"] >= anchor_id:
            present = bisect_right(sorted_ids, cp["last_id"]) - bisect_right(sorted_ids, anchor_id)
            if present != cp["count"]:
                problems.add("count_mismatch", None,
                             f"the checkpoint of {when} counted {cp['count']} events up to #{cp['last_id']}; "
                             f"{present} are there now")
    if not checkpoints:
        return
    # The anchor moves only by pruning, and a prune writes its own checkpoint: a later checkpoint (periodic,
    # written without verifying) that shows a new anchor means the oldest rows went another way.
    for earlier, later in zip(checkpoints, checkpoints[1:], strict=False):
        if later["anchor_event_id"] != earlier["anchor_event_id"] and later["reason"] != "prune":
            problems.add("head_truncated", None,
                         f"the chain anchor moved from #{earlier['anchor_event_id']} to #{later['anchor_event_id']} "
                         f"between the checkpoints of {earlier['time']} and {later['time']} without a prune")
    latest = checkpoints[-1]
    if anchor_id > latest["anchor_event_id"]:
        problems.add("head_truncated", None,
                     f"the events up to #{anchor_id} were removed, but the last checkpoint ({latest['time']}) "
                     f"recorded the anchor at #{latest['anchor_event_id']}: no prune was recorded")
    elif anchor_id < latest["anchor_event_id"] or anchor_hash != latest["anchor_hash"]:
        problems.add("checkpoint_mismatch", None,
                     f"the chain anchor (#{anchor_id}) differs from the last checkpoint's "
                     f"(#{latest['anchor_event_id']}, {latest['time']})")
    recorded = {cp.get("legacy_until_id", 0) for cp in checkpoints}
    if recorded != {legacy_until}:
        problems.add("checkpoint_mismatch", None,
                     f"the legacy cut-over is #{legacy_until} in the database but the checkpoints recorded "
                     f"{sorted(recorded)}")


# --- signed checkpoints, written outside the database


def checkpoint_every() -> int:
    from django.conf import settings

    return int(getattr(settings, "AUDIT_CHECKPOINT_EVERY", 0) or 0)


def checkpoint_path() -> str:
    from django.conf import settings

    return str(settings.AUDIT_CHECKPOINT_FILE)


def _checkpoint_mac(record: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in record.items() if k != "mac"}
    return hmac.new(key, canonical_bytes(body), hashlib.sha256).hexdigest()


CHECKPOINT_FIELDS = {"v": int, "time": str, "reason": str, "last_id": int, "last_hash": str, "count": int,
                     "anchor_event_id": int, "anchor_hash": str, "legacy_until_id": int, "key_id": str,
                     "mac": str}


def read_checkpoints(path: str | os.PathLike | None = None, *, ring: KeyRing | None = None
                     ) -> tuple[list[dict], list[tuple[int, str]]]:
    """``(valid checkpoints in file order, [(line number, problem), …])``; a missing file has none."""
    ring = ring or keyring()
    path = path or checkpoint_path()
    valid: list[dict] = []
    bad: list[tuple[int, str]] = []
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return valid, bad
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or any(
                        not isinstance(record.get(k), t) or isinstance(record.get(k), bool)
                        for k, t in CHECKPOINT_FIELDS.items()):
                    raise ValueError("missing or mistyped fields")
            except ValueError as exc:
                bad.append((number, f"malformed ({exc})"))
                continue
            key = ring.key(record["key_id"])
            if key is None:
                bad.append((number, f"signed with key {record['key_id']!r}, which is not configured"))
            elif not hmac.compare_digest(_checkpoint_mac(record, key), record["mac"]):
                bad.append((number, "signature does not verify (forged or edited)"))
            else:
                valid.append(record)
    return valid, bad


def audit_checkpoint(*, reason: str = "command", using: str = "default",
                     path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Append a signed ``{last_id, last_hash, count, anchor, time}`` line to the checkpoint file and log it.

    The head row is locked while the chain state is read, so the checkpoint is consistent with
    concurrent appends. The line also goes to the ``sciencecity.audit.checkpoint`` logger for the
    operator to ship off-host (syslog / log collector), where an attacker on this server cannot edit it.
    """
    ring = keyring()
    with transaction.atomic(using=using):
        head = _head_for_update(using)
        last = AuditEvent.objects.using(using).order_by("-pk").only("pk", "hash").first()
        count = AuditEvent.objects.using(using).filter(pk__gt=head.anchor_event_id).count()
        record: dict[str, Any] = {
            "v": CHECKPOINT_VERSION,
            "time": _canonical_time(timezone.now()),
            "reason": reason,
            "last_id": last.pk if last else head.anchor_event_id,
            "last_hash": last.hash if last else head.anchor_hash,
            "count": count,
            "anchor_event_id": head.anchor_event_id,
            "anchor_hash": head.anchor_hash,
            "legacy_until_id": head.legacy_until_id,
        }
    return append_checkpoint(record, ring=ring, path=path)


def append_checkpoint(record: dict[str, Any], *, ring: KeyRing | None = None,
                      path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Sign ``record`` (chain state without ``key_id``/``mac``) with the current key, append it to the
    checkpoint file (fsync) and log it. Returns the signed record."""
    ring = ring or keyring()
    record = dict(record, key_id=ring.current_id)
    record["mac"] = _checkpoint_mac(record, ring.keys[ring.current_id])
    line = json.dumps(record, sort_keys=True, ensure_ascii=False)
    target = str(path or checkpoint_path())
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    checkpoint_logger.info("audit checkpoint %s", line)
    return record


def audit_checkpoint_quietly(*, reason: str, using: str = "default") -> None:
    """A checkpoint after commit: a failure is logged, never raised into the request that triggered it."""
    try:
        audit_checkpoint(reason=reason, using=using)
    except Exception:  # noqa: BLE001 - the data is committed; the operator sees the error in the log
        logger.exception("could not write the audit checkpoint")


def retention_days() -> int:
    """``AUDIT_RETENTION_DAYS``, never below the legal minimum of six months."""
    from django.conf import settings

    return max(int(settings.AUDIT_RETENTION_DAYS), MINIMUM_RETENTION_DAYS)


def retention_limit() -> dt.datetime:
    """Events at or after this moment are within retention and are never pruned."""
    return timezone.now() - dt.timedelta(days=retention_days())


def audit_prune(*, before: dt.datetime, actor: User | None = None) -> int:
    """Delete events older than ``before`` (never younger than the retention setting).

    The hash of the last deleted event becomes the anchor, so the kept chain still verifies.
    """
    limit = retention_limit()
    before = min(before, limit)
    with transaction.atomic():
        # After commit, a checkpoint records the new anchor: pruning is the only legitimate way for the
        # oldest events to go, and verify treats an anchor newer than the last checkpoint as truncation.
        transaction.on_commit(lambda: audit_checkpoint_quietly(reason="prune"))
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
