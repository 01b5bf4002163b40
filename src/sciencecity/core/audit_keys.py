"""The audit trail's MAC keys: kept outside the database, named by a key id, rotatable.

Two sources, in this order:

* ``AUDIT_HMAC_KEYS`` (environment / setting): ``"k1:<secret>,k2:<secret>"``; the **last** entry is the
  current key. Rotation = append a new entry and restart. Each secret is at least 32 characters.
* otherwise a key file (``AUDIT_KEY_FILE``, default ``var/audit_keys.json``, mode 600) generated on first
  use, like the development ``SECRET_KEY``. ``sciencecity audit rotate-key`` appends a new key to it.

Old keys are never dropped: every event names the key its MAC was made with, and ``audit verify``
needs that key to check it. A database dump alone therefore cannot be used to rewrite the chain.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

MINIMUM_SECRET_LENGTH = 32


class AuditKeyError(Exception):
    """The key configuration is unusable (malformed, too short, unknown key id)."""


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    keys: dict[str, bytes]
    source: str  # "environment" or the key file's path

    def key(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)


def _parse_env(value: str) -> KeyRing:
    keys: dict[str, bytes] = {}
    current = ""
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, secret = item.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id or len(key_id) > 16 or len(secret) < MINIMUM_SECRET_LENGTH:
            raise AuditKeyError(
                f"AUDIT_HMAC_KEYS entries are 'id:secret' with an id of at most 16 characters and a secret of at "
                f"least {MINIMUM_SECRET_LENGTH} characters (entry {key_id or '?'!r})."
            )
        keys[key_id] = secret.encode("utf-8")
        current = key_id
    if not keys:
        raise AuditKeyError("AUDIT_HMAC_KEYS is set but names no key.")
    return KeyRing(current, keys, "environment")


def key_file_path() -> Path:
    return Path(getattr(settings, "AUDIT_KEY_FILE", "") or Path(settings.VAR_DIR) / "audit_keys.json")


def _write_key_file(path: Path, data: dict) -> None:
    """Write atomically with mode 600 (a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _new_key_id(existing: dict) -> str:
    n = len(existing) + 1
    while f"k{n}" in existing:
        n += 1
    return f"k{n}"


def _create_key_file(path: Path) -> None:
    """First run: a fresh random key ``k1``. Written to a temporary file and hard-linked into place, so
    that two processes never both create one and no process ever reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"current": "k1", "keys": {"k1": secrets.token_hex(32)}}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


_cache: dict[tuple, KeyRing] = {}


def _read_key_file(path: Path) -> KeyRing:
    stat = path.stat()
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
    ring = _cache.get(cache_key)
    if ring is not None:
        return ring
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {str(k): str(v).encode("utf-8") for k, v in data["keys"].items()}
        current = str(data["current"])
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise AuditKeyError(f"The audit key file {path} is not valid: {exc}") from exc
    if current not in keys:
        raise AuditKeyError(f"The audit key file {path} names current key {current!r}, which it does not hold.")
    ring = KeyRing(current, keys, str(path))
    _cache.clear()
    _cache[cache_key] = ring
    return ring


def keyring() -> KeyRing:
    """The configured keys (environment first, else the key file, created on first use)."""
    value = getattr(settings, "AUDIT_HMAC_KEYS", "")
    if value:
        return _parse_env(value)
    path = key_file_path()
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def rotate_key() -> tuple[str, str]:
    """Add a new random key to the key file and make it current. Returns ``(old id, new id)``.

    With ``AUDIT_HMAC_KEYS`` in the environment the keys are the operator's to manage: refuse.
    """
    if getattr(settings, "AUDIT_HMAC_KEYS", ""):
        raise AuditKeyError(
            "The audit keys come from AUDIT_HMAC_KEYS: append a new 'id:secret' entry there (keep the old ones) "
            "and restart the application."
        )
    old = keyring()
    path = key_file_path()
    data = {"current": old.current_id, "keys": {k: v.decode("utf-8") for k, v in old.keys.items()}}
    new_id = _new_key_id(data["keys"])
    data["keys"][new_id] = secrets.token_hex(32)
    data["current"] = new_id
    _write_key_file(path, data)
    return old.current_id, new_id
