"""``sciencecity restore ARCHIVE [--database-url URL] [--force]``: restore, then check counts and the audit chain."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sciencecity.core.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = ("Restore a backup archive into an empty database and MEDIA_ROOT, then compare the row counts with "
            "the manifest and verify the audit chain against the archive's signed checkpoints.")

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="ARCHIVE")
        parser.add_argument("--database-url", metavar="URL",
                            help="Restore into this database instead of the configured one (a restore drill).")
        parser.add_argument("--media-root", metavar="DIR", help="Restore the uploaded files here (default MEDIA_ROOT).")
        parser.add_argument("--force", action="store_true",
                            help="Replace the contents of a non-empty database and overwrite differing files.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        try:
            result = backup_restore(archive=options["archive"], database_url=options["database_url"],
                                    force=options["force"], media_root=options["media_root"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps({
                "ok": result.ok, "count_mismatches": {k: list(v) for k, v in result.count_mismatches.items()},
                "files_restored": result.files_restored, "files_unchanged": result.files_unchanged,
                "audit": result.verify.as_dict() if result.verify else None,
            }, ensure_ascii=False, indent=1))
        else:
            rows = sum(result.counts_expected.values())
            for label, (expected, found) in result.count_mismatches.items():
                self.stderr.write(self.style.ERROR(f"COUNT: {label}: {found} rows, the backup had {expected}"))
            if result.verify and not result.verify.ok:
                for problem in result.verify.problems[:200]:
                    self.stderr.write(self.style.ERROR(f"AUDIT: [{problem.kind}] {problem.message}"))
            if result.ok:
                self.stdout.write(self.style.SUCCESS(
                    f"Restored: {rows} rows in {len(result.counts_expected)} tables match the manifest; "
                    f"{result.files_restored} files restored ({result.files_unchanged} already there); audit chain "
                    f"OK ({result.verify.checked} events, {result.verify.checkpoints} signed checkpoints)."
                ))
        if not result.ok:
            raise SystemExit(1)
