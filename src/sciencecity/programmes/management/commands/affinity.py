"""``sciencecity affinity --experts DIR --submissions FILE --out scores.csv`` (openreview-expertise layout).

DIR holds one ``<expertId>.jsonl`` per expert (one publication a line, ``{"id", "content": {"title",
"abstract"}}``); FILE is ``{submissionId: {"content": {"title", "abstract"}}}``; the output rows are
``submissionId,expertId,score`` without a header, as openreview-expertise writes them.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from sciencecity.engines.text import affinity_scores
from sciencecity.engines.text.openreview_io import read_experts, read_submissions, write_scores


class Command(BaseCommand):
    help = "Expert–submission text affinity (Chinese and English) in the openreview-expertise file layout."

    def add_arguments(self, parser):
        parser.add_argument("--experts", required=True, metavar="DIR", help="Directory of <expertId>.jsonl files.")
        parser.add_argument("--submissions", required=True, metavar="FILE",
                            help="JSON object {submissionId: {content: {title, abstract}}}.")
        parser.add_argument("--out", required=True, metavar="FILE", help="CSV to write: submissionId,expertId,score.")
        parser.add_argument("--aggregate", choices=("max", "mean"), default="max",
                            help="Score of an expert: the closest publication (max) or the centroid (mean).")
        parser.add_argument("--top", type=int, default=None, metavar="N",
                            help="Keep only the best N experts per submission.")

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            experts = read_experts(options["experts"])
            submissions = read_submissions(options["submissions"])
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        if not experts:
            raise CommandError(f"{options['experts']}: no <expertId>.jsonl file")
        result = affinity_scores({e: [p.text for p in papers] for e, papers in experts.items()},
                                 {s: p.text for s, p in submissions.items()}, aggregate=options["aggregate"])
        count = write_scores(options["out"], result.rows(top_n=options["top"]))
        self.stdout.write(f"{count} scores for {len(submissions)} submissions × {len(experts)} experts "
                          f"in {time.perf_counter() - started:.2f} s → {options['out']}")
