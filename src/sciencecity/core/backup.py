"""Backup and restore (GB/T 22239-2019 8.1.4.9 a): one archive with the database, the uploaded files,
the audit checkpoints and a manifest; a restore that checks counts and the audit chain.

Archive (``sciencecity-backup-YYYYmmdd-HHMMSS.tar.gz``, mode 600)::

    manifest.json              counts per model, audit head, sha256 and size of every member, MAC
    database.sqlite3           SQLite: a consistent copy made with SQLite's online backup API
    database.pgdump            PostgreSQL: ``pg_dump --format=custom`` in the snapshot the counts were taken in
    database.json              fallback (``--method dumpdata``, or PostgreSQL without a usable pg_dump),
    audit-events.jsonl         with it: the audit events, serialised exactly (dumpdata cuts microseconds)
    audit-checkpoints.jsonl    the signed audit checkpoints (AUDIT_CHECKPOINT_FILE)
    media/…                    every file under MEDIA_ROOT

The audit MAC keys are deliberately **not** in the archive: whoever holds a backup must not be able to
rewrite the chain. Keep the key file (or ``AUDIT_HMAC_KEYS``) in the secret store; a restore on
another server needs it to verify.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone

from sciencecity.core.audit import (
    VerifyResult,
    audit_checkpoint,
    audit_record,
    audit_verify,
    canonical_bytes,
    checkpoint_path,
)
from sciencecity.core.audit_keys import keyring
from sciencecity.core.models import AuditAction, AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
CHECKPOINTS = "audit-checkpoints.jsonl"
MEDIA_PREFIX = "media/"
AUDIT_EVENTS_MEMBER = "audit-events.jsonl"
DUMP_MEMBERS = {"sqlite": "database.sqlite3", "pg_dump": "database.pgdump", "dumpdata": "database.json"}
RESTORE_ALIAS = "restore_target"
# Created by ``migrate`` on any database; a dumpdata archive leaves them out (natural keys refer to them).
DUMPDATA_EXCLUDE = ("contenttypes", "auth.permission")


class BackupError(Exception):
    """A backup or restore that cannot go ahead, with what to do about it."""


# --- helpers


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _engine(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def _models() -> list:
    return sorted((m for m in apps.get_models() if m._meta.managed and not m._meta.proxy),
                  key=lambda m: m._meta.label_lower)


def _count_rows(execute) -> dict[str, int]:
    """Rows per model, with ``execute(sql) -> first column of first row`` (same SQL on both engines)."""
    return {m._meta.label_lower: int(execute(f'SELECT COUNT(*) FROM "{m._meta.db_table}"')) for m in _models()}


def _manifest_mac(manifest: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return hmac.new(key, canonical_bytes(body), hashlib.sha256).hexdigest()


def _libpq_env(conf: dict[str, Any]) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if conf.get(key):
            env[name] = str(conf[key])
    return env, str(conf["NAME"])


def _pg_tool_usable(tool: str, alias: str) -> bool:
    """``tool`` is on PATH and at least as new as the server (pg_dump refuses newer servers)."""
    path = shutil.which(tool)
    if not path:
        return False
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout
        tool_major = int(out.split()[-1].split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return False
    return tool_major >= connections[alias].pg_version // 10000


def _audit_state(execute_row) -> dict[str, Any]:
    head = execute_row(f'SELECT last_hash, anchor_hash, anchor_event_id, legacy_until_id FROM '
                       f'"{AuditChainHead._meta.db_table}" WHERE id = 1')
    last = execute_row(f'SELECT id, hash FROM "{AuditEvent._meta.db_table}" ORDER BY id DESC LIMIT 1')
    return {
        "last_id": last[0] if last else None, "last_hash": last[1] if last else None,
        "head_last_hash": head[0] if head else None, "anchor_hash": head[1] if head else None,
        "anchor_event_id": head[2] if head else 0, "legacy_until_id": head[3] if head else 0,
    }


# --- backup


def _dump_sqlite(alias: str, target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    connection = connections[alias]
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)
    finally:
        destination.close()
    copy = sqlite3.connect(target)
    try:
        counts = _count_rows(lambda sql: copy.execute(sql).fetchone()[0])
        audit = _audit_state(lambda sql: copy.execute(sql).fetchone())
    finally:
        copy.close()
    return counts, audit


def _dump_pg(alias: str, target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    """pg_dump in the very snapshot the counts are read in, so the manifest describes the dump exactly."""
    connection = connections[alias]
    if connection.in_atomic_block:
        raise BackupError("Run the backup outside a transaction.")
    env, name = _libpq_env(connection.settings_dict)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]

        def scalar(sql):
            cursor.execute(sql)
            return cursor.fetchone()[0]

        def row(sql):
            cursor.execute(sql)
            return cursor.fetchone()

        counts = _count_rows(scalar)
        audit = _audit_state(row)
        result = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
             "--file", str(target), name],
            env=env, capture_output=True, text=True, timeout=6 * 3600,
        )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return counts, audit


def _dump_dumpdata(alias: str, target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    connection = connections[alias]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")

        def scalar(sql):
            cursor.execute(sql)
            return cursor.fetchone()[0]

        def row(sql):
            cursor.execute(sql)
            return cursor.fetchone()

        counts = _count_rows(scalar)
        audit = _audit_state(row)
        with open(target, "w", encoding="utf-8") as handle:
            call_command("dumpdata", *[f"--exclude={label}" for label in (*DUMPDATA_EXCLUDE, "core.auditevent")],
                         "--natural-foreign", database=alias, stdout=handle, verbosity=0)
        # Django's JSON serialiser cuts times to milliseconds, which would break every MAC: the audit
        # events get their own exact serialisation (full microseconds, JSON values as stored).
        with open(target.with_name(AUDIT_EVENTS_MEMBER), "w", encoding="utf-8") as handle:
            for values in AuditEvent.objects.using(alias).order_by("pk").values().iterator(chunk_size=2000):
                values["occurred_at"] = values["occurred_at"].isoformat()
                handle.write(json.dumps(values, ensure_ascii=False) + "\n")
    return counts, audit


def _load_audit_events(alias: str, path: Path) -> None:
    from django.core.management.color import no_style

    def flush(batch):
        AuditEvent.objects.using(alias).bulk_create(batch)
        batch.clear()

    batch: list[AuditEvent] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            values = json.loads(line)
            values["occurred_at"] = dt.datetime.fromisoformat(values["occurred_at"])
            batch.append(AuditEvent(**values))
            if len(batch) >= 2000:
                flush(batch)
    if batch:
        flush(batch)
    connection = connections[alias]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [AuditEvent]):
            cursor.execute(sql)


def _media_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, MEDIA_PREFIX + path.relative_to(root).as_posix()


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def backup_create(*, out_dir: str | os.PathLike, method: str = "auto", actor: User | None = None,
                  using: str = "default", media_root: str | os.PathLike | None = None) -> BackupResult:
    """Write one archive into ``out_dir``: database dump, uploaded files, checkpoints, manifest.

    The backup is itself an audit event (recorded before the dump, so the archive contains it), and a
    signed checkpoint is written first so that the archive's checkpoint file covers the dumped chain.
    """
    engine = _engine(using)
    if method == "auto":
        method = "sqlite" if engine == "sqlite" else ("pg_dump" if _pg_tool_usable("pg_dump", using) else "dumpdata")
    if (method == "sqlite" and engine != "sqlite") or (method == "pg_dump" and engine != "postgresql"):
        raise BackupError(f"Method {method} does not apply to a {engine} database.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    archive = out / f"sciencecity-backup-{stamp}.tar.gz"
    media = Path(media_root or settings.MEDIA_ROOT)
    audit_record(action=AuditAction.BACKUP, actor=actor, object_type="core.backup", object_repr=archive.name,
                 changes={"archive": str(archive.resolve()), "method": method}, using=using)
    audit_checkpoint(reason="backup", using=using)
    with tempfile.TemporaryDirectory(prefix="sciencecity-backup-") as tmp:
        dump = Path(tmp) / DUMP_MEMBERS[method]
        dumper = {"sqlite": _dump_sqlite, "pg_dump": _dump_pg, "dumpdata": _dump_dumpdata}[method]
        counts, audit_state = dumper(using, dump)
        members: list[tuple[Path, str]] = [(dump, dump.name)]
        if method == "dumpdata":
            members.append((dump.with_name(AUDIT_EVENTS_MEMBER), AUDIT_EVENTS_MEMBER))
        checkpoints = Path(checkpoint_path())
        if checkpoints.is_file():
            members.append((checkpoints, CHECKPOINTS))
        members.extend(_media_files(media))
        ring = keyring()
        manifest: dict[str, Any] = {
            "format": ARCHIVE_FORMAT,
            "created_at": timezone.now().isoformat(),
            "engine": engine,
            "method": method,
            "database_member": dump.name,
            "counts": counts,
            "audit": audit_state,
            "members": {},
            "key_id": ring.current_id,
        }
        for path, name in members:
            manifest["members"][name] = {"sha256": _sha256_file(path), "size": path.stat().st_size}
        manifest["mac"] = _manifest_mac(manifest, ring.keys[ring.current_id])
        partial = archive.with_name(f".{archive.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for path, name in members:
                tar.add(path, arcname=name, recursive=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, archive)
    return BackupResult(archive, manifest)


# --- verify an archive


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def backup_verify(archive: str | os.PathLike) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """``(manifest, problems, warnings)``: every member present with its sha256, nothing extra or unsafe,
    and the manifest's MAC right when its key is configured here."""
    problems: list[str] = []
    warnings: list[str] = []
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        return None, [f"not a readable backup archive: {exc}"], warnings
    with tar:
        try:
            members = tar.getmembers()
            names = {m.name: m for m in members}
            if MANIFEST not in names:
                return None, ["the archive has no manifest.json"], warnings
            manifest = json.loads(tar.extractfile(names[MANIFEST]).read())
        except (OSError, tarfile.TarError, ValueError, EOFError) as exc:
            return None, [f"the archive is damaged: {exc}"], warnings
        if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
            return None, ["the manifest is not a format-1 sciencecity manifest"], warnings
        listed = manifest.get("members") or {}
        key = keyring().key(str(manifest.get("key_id", "")))
        if key is None:
            warnings.append(f"the manifest is signed with audit key {manifest.get('key_id')!r}, which is not "
                            f"configured here: its signature cannot be checked")
        elif not hmac.compare_digest(_manifest_mac(manifest, key), str(manifest.get("mac", ""))):
            problems.append("the manifest's signature does not verify (edited)")
        for member in members:
            if member.name == MANIFEST:
                continue
            if not _safe_member_name(member.name) or not member.isfile():
                problems.append(f"unsafe or unexpected member {member.name!r}")
            elif member.name not in listed:
                problems.append(f"member {member.name} is not in the manifest")
        for name, expected in listed.items():
            member = names.get(name)
            if member is None:
                problems.append(f"member {name} is missing")
                continue
            try:
                handle = tar.extractfile(member)
                digest = hashlib.file_digest(handle, "sha256").hexdigest() if handle else ""
            except (OSError, tarfile.TarError, EOFError) as exc:
                problems.append(f"member {name} cannot be read: {exc}")
                continue
            if digest != expected.get("sha256"):
                problems.append(f"member {name} does not match its sha256 (damaged or edited)")
        if manifest.get("database_member") not in listed:
            problems.append("the manifest names no database dump")
    return manifest, problems, warnings


# --- restore


@contextmanager
def database_alias(database_url: str | None) -> Iterator[str]:
    """The alias to restore into: ``default``, or a temporary one for ``--database-url``."""
    if not database_url:
        yield "default"
        return
    import dj_database_url
    from django.db.utils import load_backend

    conf = dj_database_url.parse(database_url)
    conf = connections.configure_settings({"default": {"ENGINE": "django.db.backends.dummy"},
                                           RESTORE_ALIAS: conf})[RESTORE_ALIAS]
    # A connection made for this restore only; it is not added to settings.DATABASES.
    connections[RESTORE_ALIAS] = load_backend(conf["ENGINE"]).DatabaseWrapper(conf, RESTORE_ALIAS)
    try:
        yield RESTORE_ALIAS
    finally:
        connections[RESTORE_ALIAS].close()
        del connections[RESTORE_ALIAS]


def _safe_extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tar.extractfile(member) as source, open(target, "wb") as handle:
        shutil.copyfileobj(source, handle)


@dataclass
class RestoreResult:
    ok: bool
    alias: str
    counts_expected: dict[str, int]
    count_mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)
    verify: VerifyResult | None = None
    files_restored: int = 0
    files_unchanged: int = 0


def backup_restore(*, archive: str | os.PathLike, database_url: str | None = None, force: bool = False,
                   media_root: str | os.PathLike | None = None, actor: User | None = None) -> RestoreResult:
    """Restore ``archive`` into an empty database (``--force`` replaces a non-empty one), restore the
    uploaded files, migrate, then compare the counts with the manifest and verify the audit chain
    against the archive's signed checkpoints. The restore is recorded in the restored audit trail."""
    manifest, problems, _warnings = backup_verify(archive)
    if problems or manifest is None:
        raise BackupError("The archive does not verify: " + "; ".join(problems))
    media = Path(media_root or settings.MEDIA_ROOT)
    with database_alias(database_url) as alias, tempfile.TemporaryDirectory(prefix="sciencecity-restore-") as tmp:
        engine = _engine(alias)
        method = manifest["method"]
        if method in ("sqlite", "pg_dump") and engine != manifest["engine"]:
            raise BackupError(f"This archive holds a {manifest['engine']} database and cannot be restored into "
                              f"{engine}; make a --method dumpdata backup to move between databases.")
        existing = connections[alias].introspection.table_names()
        if existing and not force:
            raise BackupError(f"The target database is not empty ({len(existing)} tables); restore into a new "
                              f"database, or pass --force to replace its contents.")
        work = Path(tmp)
        with tarfile.open(archive, mode="r:gz") as tar:
            dump = work / manifest["database_member"]
            _safe_extract(tar, tar.getmember(manifest["database_member"]), dump)
            if method == "dumpdata":
                _safe_extract(tar, tar.getmember(AUDIT_EVENTS_MEMBER), dump.with_name(AUDIT_EVENTS_MEMBER))
            checkpoints = None
            if CHECKPOINTS in manifest["members"]:
                checkpoints = work / CHECKPOINTS
                _safe_extract(tar, tar.getmember(CHECKPOINTS), checkpoints)
            restored = unchanged = 0
            media_members = [m for m in tar.getmembers() if m.name.startswith(MEDIA_PREFIX)]
            for member in media_members:
                target = media / member.name[len(MEDIA_PREFIX):]
                if target.is_file() and _sha256_file(target) == manifest["members"][member.name]["sha256"]:
                    unchanged += 1
                    continue
                if target.exists() and not force:
                    raise BackupError(f"{target} exists with other content; pass --force to overwrite it.")
                _safe_extract(tar, member, target)
                restored += 1
        _load_database(alias, method, dump, force=force)
        call_command("migrate", database=alias, interactive=False, verbosity=0)
        connection = connections[alias]
        with connection.cursor() as cursor:
            def scalar(sql):
                cursor.execute(sql)
                return cursor.fetchone()[0]

            counts = _count_rows(scalar)
        expected = manifest["counts"]
        mismatches = {label: (expected.get(label, 0), counts.get(label, 0))
                      for label in sorted(set(expected) | set(counts))
                      if expected.get(label, 0) != counts.get(label, 0)}
        result = audit_verify(using=alias, checkpoint_file=checkpoints or os.devnull)
        ok = result.ok and not mismatches
        audit_record(action=AuditAction.RESTORE, actor=actor, object_type="core.backup",
                     object_repr=Path(archive).name, success=ok, using=alias,
                     changes={"archive": str(Path(archive).resolve()), "created_at": manifest["created_at"],
                              "method": method, "verify_ok": result.ok, "verified_events": result.checked,
                              "count_mismatches": {k: list(v) for k, v in mismatches.items()},
                              "files_restored": restored})
        if alias == "default" and checkpoints is not None and not Path(checkpoint_path()).exists():
            shutil.copyfile(checkpoints, checkpoint_path())
        return RestoreResult(ok, alias, expected, mismatches, result, restored, unchanged)


def _load_database(alias: str, method: str, dump: Path, *, force: bool) -> None:
    connection = connections[alias]
    if method == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name in ("", ":memory:") or name.startswith("file:"):
            raise BackupError("Restore a SQLite archive into a database file (sqlite:////path/to/file.sqlite3).")
        connection.close()
        source = sqlite3.connect(dump)
        target = sqlite3.connect(name)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    elif method == "pg_dump":
        if not _pg_tool_usable("pg_restore", alias):
            raise BackupError("pg_restore (at least as new as the server) is not on PATH.")
        env, name = _libpq_env(connection.settings_dict)
        connection.close()
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                   "--dbname", name]
        if force:
            command += ["--clean", "--if-exists"]
        result = subprocess.run([*command, str(dump)], env=env, capture_output=True, text=True, timeout=6 * 3600)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    else:
        if force and connection.introspection.table_names():
            call_command("flush", database=alias, interactive=False, verbosity=0)
        call_command("migrate", database=alias, interactive=False, verbosity=0)
        with transaction.atomic(using=alias):
            call_command("loaddata", str(dump), database=alias, verbosity=0)
            _load_audit_events(alias, dump.with_name(AUDIT_EVENTS_MEMBER))


def archive_summary(manifest: dict[str, Any]) -> str:
    rows = sum(manifest.get("counts", {}).values())
    files = sum(1 for name in manifest.get("members", {}) if name.startswith(MEDIA_PREFIX))
    audit = manifest.get("audit") or {}
    created = manifest.get("created_at", "?")
    try:
        created = timezone.localtime(dt.datetime.fromisoformat(created)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        pass
    return (f"{manifest.get('engine')} via {manifest.get('method')}, made {created}: {rows} rows, "
            f"{files} uploaded files, audit up to event #{audit.get('last_id')}")
