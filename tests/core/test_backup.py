"""Backup and restore drills: back up real data with an uploaded file, restore into a fresh database,
compare counts and verify the audit chain (SQLite into a new SQLite file; PostgreSQL into a new database
that the test creates and drops)."""

from __future__ import annotations

import json
import shutil
import tarfile
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, connections

from sciencecity.accounts.choices import Role
from sciencecity.core.audit import audit_checkpoint, audit_verify
from sciencecity.core.backup import BackupError, backup_create, backup_restore, backup_verify, database_alias
from sciencecity.core.models import AuditEvent
from sciencecity.plans.services import plan_import_bundled
from tests.conftest import make_organisation, make_user

pytestmark = pytest.mark.django_db(transaction=True)
EVIDENCE = b"%PDF-1.4 evidence of the 2025 value\n" + bytes(range(256))


@pytest.fixture
def data(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    plan_import_bundled()
    make_user(Role.BUREAU_OFFICER, make_organisation(name="备份测试机构"))
    name = default_storage.save("plans/evidence/2025/证明.pdf", ContentFile(EVIDENCE))
    audit_checkpoint(reason="test")
    return name


@pytest.fixture
def fresh_database_url(tmp_path):
    """A new, empty database of the same kind as the test database, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    conf = connection.settings_dict
    name = f"pg_audit_drill_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{conf['USER']}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _restored_counts(url):
    with database_alias(url) as alias:
        events = list(AuditEvent.objects.using(alias).order_by("id").values_list("action", flat=True))
        return events, connections[alias].vendor


@pytest.mark.parametrize("method", ["auto", "dumpdata"])
def test_restore_drill(data, fresh_database_url, tmp_path, method, capsys):
    result = backup_create(out_dir=tmp_path / "backups", method=method)
    manifest = result.manifest
    native = {"sqlite": "sqlite", "postgresql": "pg_dump" if shutil.which("pg_dump") else "dumpdata"}
    expected_method = native[connection.vendor] if method == "auto" else method
    assert manifest["method"] == expected_method
    assert oct(result.path.stat().st_mode & 0o777) == "0o600"
    assert manifest["counts"]["plans.task"] == 54
    assert manifest["counts"]["core.auditevent"] == AuditEvent.objects.count()
    assert manifest["audit"]["last_id"] == AuditEvent.objects.order_by("-id").first().pk
    assert f"media/{data}" in manifest["members"] and "audit-checkpoints.jsonl" in manifest["members"]
    backup_event = AuditEvent.objects.filter(action="backup").get()
    assert backup_event.changes["method"] == expected_method
    assert backup_verify(result.path)[1] == []

    restored_media = tmp_path / "restored-media"
    call_command("restore", str(result.path), "--database-url", fresh_database_url, "--media-root",
                 str(restored_media), "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["count_mismatches"] == {}
    assert report["audit"]["ok"] is True and report["audit"]["checkpoints"] >= 2
    assert report["files_restored"] == 1
    assert (restored_media / data).read_bytes() == EVIDENCE
    actions, vendor = _restored_counts(fresh_database_url)
    assert vendor == connection.vendor
    assert actions.count("backup") == 1 and actions[-1] == "restore"
    assert len(actions) == manifest["counts"]["core.auditevent"] + 1
    with database_alias(fresh_database_url) as alias:
        assert audit_verify(using=alias).ok
        restore_event = AuditEvent.objects.using(alias).get(action="restore")
        assert restore_event.success and restore_event.changes["verify_ok"] is True
        assert restore_event.changes["files_restored"] == 1
    # The source is untouched and still verifies.
    assert audit_verify().ok


def test_restore_refuses_a_non_empty_database(data, fresh_database_url, tmp_path):
    archive = backup_create(out_dir=tmp_path / "backups").path
    backup_restore(archive=archive, database_url=fresh_database_url, media_root=tmp_path / "m1")
    with pytest.raises(BackupError, match="not empty"):
        backup_restore(archive=archive, database_url=fresh_database_url, media_root=tmp_path / "m2")
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive), "--database-url", fresh_database_url)
    # --force replaces it (the first restore's own "restore" event is gone with it).
    result = backup_restore(archive=archive, database_url=fresh_database_url, media_root=tmp_path / "m1",
                            force=True)
    assert result.ok and result.files_unchanged == 1
    actions, _vendor = _restored_counts(fresh_database_url)
    assert actions.count("restore") == 1


def test_a_damaged_or_edited_archive_is_refused(data, fresh_database_url, tmp_path, capsys):
    archive = backup_create(out_dir=tmp_path / "backups").path
    call_command("backup", "--verify", str(archive))
    assert "OK:" in capsys.readouterr().out
    edited = tmp_path / "edited.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(edited, "w:gz") as target:
        for member in source.getmembers():
            content = source.extractfile(member).read()
            if member.name.startswith("media/"):
                content = b"replaced evidence"
                member.size = len(content)
            import io

            target.addfile(member, io.BytesIO(content))
    with pytest.raises(SystemExit) as exc:
        call_command("backup", "--verify", str(edited))
    assert exc.value.code == 1
    assert "does not match its sha256" in capsys.readouterr().err
    with pytest.raises(BackupError, match="does not verify"):
        backup_restore(archive=edited, database_url=fresh_database_url, media_root=tmp_path / "m")
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    assert backup_verify(tmp_path / "junk.tar.gz")[1][0].startswith("not a readable backup archive")


def test_backup_command_writes_the_archive(data, tmp_path, capsys):
    call_command("backup", "--out", str(tmp_path / "out"))
    out = capsys.readouterr().out
    assert out.startswith("Backup written: ")
    archives = list((tmp_path / "out").glob("sciencecity-backup-*.tar.gz"))
    assert len(archives) == 1 and str(archives[0]) in out


def test_restore_reports_a_chain_that_was_already_broken_in_the_backup(data, fresh_database_url, tmp_path, capsys):
    victim = AuditEvent.objects.order_by("id")[3]
    AuditEvent.objects.filter(pk=victim.pk).update(reason="edited before the backup")
    archive = backup_create(out_dir=tmp_path / "backups").path
    with pytest.raises(SystemExit) as exc:
        call_command("restore", str(archive), "--database-url", fresh_database_url, "--media-root",
                     str(tmp_path / "m"))
    assert exc.value.code == 1
    assert f"event #{victim.pk}" in capsys.readouterr().err
    with database_alias(fresh_database_url) as alias:
        restore_event = AuditEvent.objects.using(alias).get(action="restore")
        assert restore_event.success is False and restore_event.changes["verify_ok"] is False
