"""``sciencecity backup [--out DIR] [--method …]`` and ``sciencecity backup --verify ARCHIVE``."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sciencecity.core.backup import BackupError, archive_summary, backup_create, backup_verify


class Command(BaseCommand):
    help = ("Write one archive (database dump, uploaded files, audit checkpoints, manifest with counts and "
            "sha256) or check an existing one.")

    def add_arguments(self, parser):
        parser.add_argument("--out", metavar="DIR", help="Folder for the archive (default: var/backups).")
        parser.add_argument("--method", choices=("auto", "sqlite", "pg_dump", "dumpdata"), default="auto",
                            help="auto: SQLite's online backup API on SQLite; pg_dump custom format on PostgreSQL "
                                 "when pg_dump is on PATH and not older than the server, else Django's dumpdata "
                                 "(also portable between SQLite and PostgreSQL).")
        parser.add_argument("--verify", metavar="ARCHIVE", help="Check ARCHIVE (every member's sha256, the "
                                                                 "manifest's signature) instead of making one.")

    def handle(self, *args, **options):
        if options["verify"]:
            manifest, problems, warnings = backup_verify(options["verify"])
            for warning in warnings:
                self.stderr.write(self.style.WARNING(f"WARNING: {warning}"))
            if problems:
                for problem in problems:
                    self.stderr.write(self.style.ERROR(f"BROKEN: {problem}"))
                raise SystemExit(1)
            self.stdout.write(self.style.SUCCESS(f"OK: {options['verify']}: {archive_summary(manifest)}"))
            return
        out = options["out"] or str(settings.VAR_DIR / "backups")
        try:
            result = backup_create(out_dir=out, method=options["method"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Backup written: {result.path} ({archive_summary(result.manifest)})"))
