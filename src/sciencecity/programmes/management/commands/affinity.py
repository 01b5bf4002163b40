"""``sciencecity affinity --experts DIR --submissions FILE --out scores.csv`` (openreview-expertise layout).

DIR holds one ``<expertId>.jsonl`` per expert (one publication a line, ``{"id", "content": {"title",
"abstract"}}``); FILE is ``{submissionId: {"content": {"title", "abstract"}}}``; the output rows are
``submissionId,expertId,score`` without a header, as openreview-expertise writes them.
``--method hybrid`` fuses TF-IDF with the dense model of the setting ``TEXT_EMBEDDER`` by the weights
and expert profile learned on the tune split (scores stay in (0, 1); same files); a paper whose text
has a stored vector (``PublicationVector``, the job ``programmes.embed_publications``) is not
embedded again.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from sciencecity.engines.text import affinity_scores, load_embedder, model_id
from sciencecity.engines.text.affinity import learned_hybrid_affinity
from sciencecity.engines.text.openreview_io import read_experts, read_submissions, write_scores
from sciencecity.programmes.services.paper_vectors import stored_passages


class Command(BaseCommand):
    help = "Expert–submission text affinity (Chinese and English) in the openreview-expertise file layout."

    def add_arguments(self, parser):
        parser.add_argument("--experts", required=True, metavar="DIR", help="Directory of <expertId>.jsonl files.")
        parser.add_argument("--submissions", required=True, metavar="FILE",
                            help="JSON object {submissionId: {content: {title, abstract}}}.")
        parser.add_argument("--out", required=True, metavar="FILE", help="CSV to write: submissionId,expertId,score.")
        parser.add_argument("--aggregate", choices=("max", "mean"), default="max",
                            help="Score of an expert: the closest publication (max) or the centroid (mean).")
        parser.add_argument("--method", choices=("tfidf", "hybrid"), default="tfidf",
                            help="tfidf: TF-IDF + synonyms; hybrid: fused with the dense model (learned weights).")
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
        expert_texts = {e: [p.text for p in papers] for e, papers in experts.items()}
        submission_texts = {s: p.text for s, p in submissions.items()}
        if options["method"] == "hybrid":
            embedder = load_embedder(str(getattr(settings, "TEXT_EMBEDDER", "") or "none"))
            known = {}
            if embedder is not None:
                try:
                    known = stored_passages(model_id(embedder), [t for texts in expert_texts.values() for t in texts])
                except DatabaseError:  # the files alone are enough: no database, every paper is embedded here
                    known = {}
            result = (learned_hybrid_affinity(embedder, expert_texts, submission_texts, known=known)
                      if embedder else None)
            if result is None:
                raise CommandError("--method hybrid: no dense model loads (setting TEXT_EMBEDDER) or no fusion "
                                   "weights were learned for it (bench/matching.py --fit)")
        else:
            result = affinity_scores(expert_texts, submission_texts, aggregate=options["aggregate"])
        count = write_scores(options["out"], result.rows(top_n=options["top"]))
        self.stdout.write(f"{count} scores for {len(submissions)} submissions × {len(experts)} experts "
                          f"in {time.perf_counter() - started:.2f} s → {options['out']}")
