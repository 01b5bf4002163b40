"""``sciencecity plan inspect FILE [--json]`` and ``sciencecity plan import FILE|--bundled [--dry-run]``."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sciencecity.core.demo import add_as_of_argument
from sciencecity.engines import plandoc
from sciencecity.plans import services


class Command(BaseCommand):
    help = "Inspect or import a plan document (.pdf, .docx, .html, .md, .txt)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        inspect = sub.add_parser("inspect", help="Print the parsed structure.")
        inspect.add_argument("file")
        inspect.add_argument("--json", action="store_true", help="Machine-readable output.")
        imp = sub.add_parser("import", help="Store the plan (idempotent).")
        imp.add_argument("file", nargs="?")
        imp.add_argument("--bundled", action="store_true", help="Import the bundled Guangming plan.")
        imp.add_argument("--dry-run", action="store_true", help="Parse and report; write nothing.")
        imp.add_argument("--accept-ocr", action="store_true",
                         help="Store tables read from images by OCR as read, without the review page.")
        imp.add_argument("--period", metavar="FIRST-LAST", help="Plan period, e.g. 2026-2030 (default: from the document).")
        demo = sub.add_parser("demo-values", help="Synthetic indicator values, task progress and project states.")
        demo.add_argument("--years", type=int, default=10)
        demo.add_argument("--seed", type=int, default=2021)
        add_as_of_argument(demo)

    def handle(self, *args, action: str, **options):
        if action == "inspect":
            return self._inspect(options["file"], options["json"])
        if action == "import":
            return self._import(options)
        if action == "demo-values":
            from sciencecity.plans.demo import generate_values, reporting_departments
            from sciencecity.plans.selectors import current_plan

            counts = generate_values(years=options["years"], seed=options["seed"], today=options.get("as_of"))
            self.stdout.write(f"synthetic plan data: {counts}")
            plan = current_plan()
            if plan is not None:
                self.stdout.write("To report values as a department, grant the role department_officer "
                                  "(Department officer, 责任部门) in one of these organisations:")
                for code, name, indicators in reporting_departments(plan):
                    self.stdout.write(f"  {code:<10} {name}  (indicators {', '.join(indicators)})")

    def _inspect(self, file: str, as_json: bool) -> None:
        try:
            doc = plandoc.parse_file(file)
        except plandoc.PlanParseError as exc:
            raise CommandError(str(exc)) from exc
        except FileNotFoundError as exc:
            raise CommandError(f"{file}: no such file") from exc
        if as_json:
            self.stdout.write(json.dumps(doc.to_dict(), ensure_ascii=False, indent=2))
            return
        out = self.stdout.write
        out(f"{doc.title}  ({doc.source_format}, {doc.source_name})")
        out("how it was read:")
        for note in doc.notes:
            where = f"  [line {note.line}]" if note.line is not None else ""
            out(f"  {note.code}: {note.message}{where}")
        counts = doc.counts()
        out("counts: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        for chapter in doc.chapters:
            out(f"{chapter.label}、{chapter.title}  [line {chapter.line}]  tasks={len(chapter.tasks)}")
            for section in chapter.sections:
                out(f"  （{section.label}）{section.title}  [line {section.line}]  tasks={len(section.tasks)}")
                for task in section.tasks:
                    out(f"    {task.number}. {task.title}  [line {task.line}]")
        for label, items in (("goals", doc.goals), ("strategies", doc.strategies), ("measures", doc.measures)):
            out(f"{label}: " + "; ".join(s.title for s in items))
        out("indicators:")
        for ind in doc.indicators:
            target = ind.target_text or ind.target_value
            out(f"  {ind.number}. {ind.name} [{ind.unit}] {ind.comparator} {target} ({ind.target_year}) "
                f"{ind.attribute} {ind.direction}  [line {ind.line}]")
        out("boxes:")
        for box in doc.boxes:
            out(f"  专栏{box.number or '-'} {box.title}: {len(box.items)} items in {len(box.groups)} group(s)  [line {box.line}]")
        for table in doc.ocr_tables:
            source = "corrected by an officer" if table.reviewed else f"{table.engine}, {table.seconds:.1f} s, {table.method}"
            out(f"read from an image: {table.caption}  [line {table.line}]  ({source}; {table.cell_count()} cells, "
                f"{table.low_confidence_count()} below 0.9 confidence)")
            for number, row in enumerate(table.rows, 1):
                out(f"  row {number}: " + " | ".join(
                    f"{cell['text'] or '∅'} ({cell['confidence']:.2f})" for cell in row))
        out("baselines: " + "; ".join(f"#{b.indicator_number} {b.year}={b.value}" for b in doc.baselines))
        out(f"commitments: {len(doc.commitments)}")
        for c in doc.commitments:
            link = f" → indicator {c.indicator_number}" if c.indicator_number else ""
            out(f"  {c.text}{link}  [line {c.line}]")
        for w in doc.warnings:
            out(f"WARNING {w.code}: {w.message}  [line {w.line}]")

    def _import(self, options) -> None:
        if options["bundled"]:
            path = services.BUNDLED_PLAN
        elif options["file"]:
            path = Path(options["file"])
        else:
            raise CommandError("Give a FILE or --bundled.")
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        try:
            if options["bundled"] and not options["dry_run"]:
                result = services.plan_import_bundled(actor=None)
            else:
                period = None
                if options.get("period"):
                    try:
                        first, last = (int(part) for part in options["period"].split("-", 1))
                    except ValueError as exc:
                        raise CommandError("--period must look like 2026-2030") from exc
                    period = (first, last)
                result = services.plan_import(actor=None, content=path.read_bytes(), filename=path.name,
                                              dry_run=options["dry_run"], period=period,
                                              accept_ocr=options.get("accept_ocr", False))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        verb = "would import" if options["dry_run"] else ("imported" if result.created else "unchanged (already imported)")
        self.stdout.write(f"{path.name}: {verb}")
        self.stdout.write("counts: " + ", ".join(f"{k}={v}" for k, v in result.counts.items()))
        if result.host_matches:
            self.stdout.write("box items linked to the registry: " + ", ".join(f"{k}={v}" for k, v in result.host_matches.items()))
        for w in result.warnings:
            self.stdout.write(f"WARNING {w['code']}: {w['message']} [line {w['line']}]")
