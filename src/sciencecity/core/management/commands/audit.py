"""``sciencecity audit verify|checkpoint|rotate-key|prune|export``: check, anchor, re-key, trim and ship the trail."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from sciencecity.core import selectors
from sciencecity.core.audit import (
    audit_checkpoint,
    audit_prune,
    audit_record,
    audit_verify,
    retention_days,
    retention_limit,
    to_json,
)
from sciencecity.core.audit_forms import AuditEventFilterForm
from sciencecity.core.audit_keys import AuditKeyError, rotate_key
from sciencecity.core.models import AuditAction, AuditEvent

PROGRESS_EVERY = 5000
MAX_LISTED_PROBLEMS = 200  # text output; --json lists all
FILTER_OPTIONS = (
    ("since", "From this local time (YYYY-MM-DD or 'YYYY-MM-DD HH:MM'), inclusive."),
    ("until", "Up to this local time, inclusive."),
    ("actor", "Exact actor username."),
    ("action", "Action code, e.g. login, create, export."),
    ("object_type", "Object type, e.g. registry.organisation."),
    ("object_id", "Object id."),
    ("success", "true or false."),
    ("request_id", "Request id."),
    ("ip", "Client IP address."),
    ("q", "Text in the object description or the reason."),
)


class Command(BaseCommand):
    help = ("Verify the audit chain, write a signed checkpoint, rotate the MAC key, prune events past retention, "
            "or export events for off-host storage.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True,
                                    metavar="{verify,checkpoint,rotate-key,prune,export}")
        verify = sub.add_parser("verify", help="Walk the whole chain and the signed checkpoints; exit 1 listing "
                                               "every problem.")
        verify.add_argument("--json", action="store_true", help="Print the result as JSON (every problem).")
        verify.add_argument("--checkpoint-file", metavar="FILE",
                            help="Check against these checkpoints instead of AUDIT_CHECKPOINT_FILE "
                                 "(e.g. the copy shipped off-host).")
        sub.add_parser("checkpoint", help="Append a signed checkpoint of the chain to AUDIT_CHECKPOINT_FILE "
                                          "and log it (run it from cron, e.g. hourly).")
        sub.add_parser("rotate-key", help="Add a new audit MAC key to the key file and make it current "
                                          "(old keys are kept for verification).")
        prune = sub.add_parser("prune", help="Delete events older than the retention period (AUDIT_RETENTION_DAYS).")
        prune.add_argument("--before", metavar="YYYY-MM-DD",
                           help="Delete events before this local date (not later than the retention limit).")
        export = sub.add_parser("export", help="Write matching events to a CSV or JSON-lines file.")
        export.add_argument("--format", dest="export_format", choices=("csv", "jsonl"), default="jsonl")
        export.add_argument("--out", required=True, metavar="FILE", help="File to write (created with mode 600).")
        for name, help_text in FILTER_OPTIONS:
            export.add_argument(f"--{name.replace('_', '-')}", dest=name, help=help_text)

    def handle(self, *args, **options):
        return getattr(self, f"_{options['subcommand'].replace('-', '_')}")(options)

    # --- verify
    def _verify_chain(self, options):
        total = AuditEvent.objects.count()
        show = options["verbosity"] >= 1 and total > PROGRESS_EVERY
        with tqdm(total=total, unit="events", desc="verify", file=sys.stderr, disable=not show) as bar:
            def progress(checked: int) -> None:
                bar.update(checked - bar.n)

            result = audit_verify(progress=progress, progress_every=PROGRESS_EVERY,
                                  checkpoint_file=options.get("checkpoint_file"))
            bar.update(result.checked - bar.n)
        return result

    def _fail(self, result) -> None:
        self.stderr.write(self.style.ERROR(
            f"BROKEN: {result.problem_count} problem(s) in {result.checked} audit events"
        ))
        for problem in result.problems[:MAX_LISTED_PROBLEMS]:
            where = f"audit event #{problem.event_id}" if problem.event_id else "audit chain"
            self.stderr.write(self.style.ERROR(f"  [{problem.kind}] {where}: {problem.message}"))
        if result.problem_count > MAX_LISTED_PROBLEMS:
            self.stderr.write(f"  ... and {result.problem_count - MAX_LISTED_PROBLEMS} more (use --json for all)")
        raise SystemExit(1)

    def _verify(self, options):
        result = self._verify_chain(options)
        if options.get("json"):
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
            if not result.ok:
                raise SystemExit(1)
            return
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"WARNING: {warning}"))
        if not result.ok:
            self._fail(result)
        self.stdout.write(self.style.SUCCESS(
            f"OK: {result.checked} events verified ({result.checkpoints} signed checkpoints, "
            f"{result.legacy_events} legacy)"
        ))

    # --- checkpoint
    def _checkpoint(self, options):
        # A checkpoint vouches for the chain as it is: never sign one over a chain that does not verify.
        result = self._verify_chain(options)
        if not result.ok:
            self.stderr.write("Refusing to write a checkpoint over a broken chain; investigate it first.")
            self._fail(result)
        record = audit_checkpoint(reason="command")
        self.stdout.write(self.style.SUCCESS(
            f"Checkpoint: event #{record['last_id']}, {record['count']} events, key {record['key_id']}"
        ))

    # --- rotate-key
    def _rotate_key(self, options):
        try:
            old, new = rotate_key()
        except AuditKeyError as exc:
            raise CommandError(str(exc)) from exc
        audit_record(action=AuditAction.KEY_ROTATE, object_type="core.auditkey", object_id=new,
                     object_repr=f"audit key {new}", changes={"key_id": [old, new]})
        audit_checkpoint(reason="rotate-key")
        self.stdout.write(self.style.SUCCESS(
            f"New audit key {new} is current; {old} is kept to verify older events. Back up the key file."
        ))

    # --- prune
    def _prune(self, options):
        limit = retention_limit()
        before = limit
        if options.get("before"):
            try:
                day = dt.date.fromisoformat(options["before"])
            except ValueError as exc:
                raise CommandError(f"--before must be a date YYYY-MM-DD, not {options['before']!r}") from exc
            before = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
            if before > limit:
                raise CommandError(
                    f"Refusing to delete events younger than the retention period of {retention_days()} days: "
                    f"--before may be at most {timezone.localtime(limit):%Y-%m-%d %H:%M}."
                )
        result = self._verify_chain(options)
        if not result.ok:
            self.stderr.write("Refusing to prune a broken chain; investigate it first.")
            self._fail(result)
        deleted = audit_prune(before=before)
        self.stdout.write(self.style.SUCCESS(
            f"Pruned {deleted} events recorded before {timezone.localtime(before):%Y-%m-%d %H:%M} "
            f"(retention {retention_days()} days)."
        ))

    # --- export
    def _export(self, options):
        data = {name: options[name] for name, _help in FILTER_OPTIONS if options.get(name) not in (None, "")}
        form = AuditEventFilterForm(data)
        if not form.is_valid():
            problems = "; ".join(f"--{k.replace('_', '-')}: {' '.join(v)}" for k, v in form.errors.items())
            raise CommandError(f"Invalid filter: {problems}")
        filters = form.filters()
        queryset, newest = selectors.audit_events_as_of_now(selectors.audit_events(filters))
        count = queryset.count()
        path = options["out"]
        audit_record(
            action=AuditAction.EXPORT, object_type=AuditEvent._meta.label_lower, object_repr="audit events",
            changes={"filters": selectors.active_filters(filters), "format": options["export_format"],
                     "rows": count, "up_to_event": newest, "out": os.path.abspath(path)},
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            records = tqdm(selectors.export_records(queryset.order_by("id")), total=count, unit="events",
                           desc="export", file=sys.stderr, disable=options["verbosity"] < 1 or count <= PROGRESS_EVERY)
            if options["export_format"] == "csv":
                keys = [key for key, _label in selectors.EXPORT_COLUMNS]
                writer = csv.writer(handle)
                writer.writerow(keys)
                for record in records:
                    writer.writerow([selectors.export_text(record[key]) for key in keys])
            else:
                for record in records:
                    handle.write(json.dumps(to_json(record), ensure_ascii=False, sort_keys=True) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Exported {count} events to {path}"))
