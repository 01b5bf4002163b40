"""``sciencecity transfer import FILE [--kind achievements|demands] [--dry-run]``,
``sciencecity transfer search "QUERY" [--kind achievements|demands] [--limit N] [--json]`` and
``sciencecity transfer watch-alerts`` and ``sciencecity transfer reindex [--kind …] [--full]`` (the
shared search index of ``SEARCH_BACKEND``, written here instead of by the job worker).

The import reads CSV, Excel (.xlsx) or JSONL; it prints one line per problem (row, field, code,
message) and a summary, writes nothing unless every row is valid, and exits with status 1 on
errors. The search prints ranked ids, codes, titles and scores (all active listings: an operator's
tool), or a JSON list with the explanations.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sciencecity.core.importing import ImportRejected, RowStatus
from sciencecity.transfer import importers
from sciencecity.transfer.services import matching, search_backends, watch

KINDS = ("achievements", "demands")


class Command(BaseCommand):
    help = "Bulk import and search of marketplace listings; topic-watch alerts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Import achievements or demands (CSV, .xlsx, JSONL).")
        imp.add_argument("file")
        imp.add_argument("--kind", choices=KINDS, help="Default: guessed from the header.")
        imp.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        search = sub.add_parser("search", help="Ranked search over the listings.")
        search.add_argument("query")
        search.add_argument("--kind", choices=KINDS, default="achievements")
        search.add_argument("--limit", type=int, default=10)
        search.add_argument("--json", action="store_true", help="Machine-readable output.")
        sub.add_parser("watch-alerts", help="Notify watchers of items created since their last alert.")
        reindex = sub.add_parser("reindex", help="Bring the shared search index (SEARCH_BACKEND) up to the tables.")
        reindex.add_argument("--kind", choices=KINDS, action="append", help="Default: both.")
        reindex.add_argument("--full", action="store_true", help="Rebuild from every row.")

    def handle(self, *args, action: str, **options):
        if action == "import":
            return self._import(Path(options["file"]), options["kind"], options["dry_run"])
        if action == "search":
            return self._search(options["query"], options["kind"], options["limit"], options["json"])
        if action == "reindex":
            if search_backends.backend_name() == "memory":
                raise CommandError("SEARCH_BACKEND is 'memory': each process builds its own index")
            for kind in options["kind"] or KINDS:
                self.stdout.write(json.dumps(search_backends.reindex(kind, full=options["full"])))
            return None
        self.stdout.write(f"notifications: {watch.watch_alerts_run()}")

    def _import(self, path: Path, kind: str | None, dry: bool) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        content = path.read_bytes()
        kind = kind or importers.guess_kind(content, path.name)
        try:
            report = importers.import_listings(content=content, file_name=path.name, kind=kind, actor=None, dry=dry)
        except importers.JsonlProblem as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        except ImportRejected as rejected:
            report = rejected.report
        for result in report.results:
            if result.status in (RowStatus.ERROR, RowStatus.WARNING):
                row = importers.line_number(path.name, result.row)
                self.stdout.write(f"row {row if row is not None else '-'}\t{result.field or '-'}\t{result.code}\t"
                                  f"{result.message}")
        counts = report.counts
        if report.has_errors:
            verb = "rejected, nothing written"
        else:
            verb = "dry run, nothing written" if dry else "imported"
        self.stdout.write(f"{path.name} ({kind}): {verb}: created={counts['created']} updated={counts['updated']} "
                          f"unchanged={counts['unchanged']} errors={counts['error']}")
        if report.has_errors:
            raise CommandError(f"{counts['error']} row(s) with errors")

    def _search(self, query: str, kind: str, limit: int, as_json: bool) -> None:
        results = matching.search(query, kind=kind, limit=max(1, limit), restrict_visibility=False)
        if as_json:
            rows = [{"id": r.id, "code": r.obj.code, "title": r.obj.title, "score": round(r.score, 4),
                     "shared_terms": list(r.shared_terms), "reasons": r.reasons} for r in results]
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        for rank, r in enumerate(results, start=1):
            self.stdout.write(f"{rank}\t{r.id}\t{r.obj.code}\t{r.score:.3f}\t{r.obj.title}")
        if not results:
            self.stdout.write("no match")
