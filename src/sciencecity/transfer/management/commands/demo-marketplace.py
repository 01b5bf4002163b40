"""``sciencecity demo-marketplace --scale small|city [--seed N]``: synthetic marketplace demo data."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from tqdm import tqdm

from sciencecity.core.demo import add_as_of_argument
from sciencecity.transfer.demo import DEFAULT_SEED, SCALES, demo_generate


class Command(BaseCommand):
    help = _(
        "Create deterministic synthetic marketplace data (achievements, demands, deals, registered contracts, "
        "start-ups) on the registry's demo organisations. Re-running with the same scale and seed changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="small",
                            help=_("small ≈ 60 achievements and 40 demands, city ≈ 5,000 and 2,000"))
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("random seed (default %(default)s)"))
        add_as_of_argument(parser)

    def handle(self, *args, scale: str, seed: int, verbosity: int = 1, **options):
        started = time.monotonic()
        with tqdm(total=SCALES[scale].total, unit=" rows", desc=f"marketplace {scale}",
                  disable=verbosity < 1 or scale == "small", file=sys.stderr) as bar:
            result = demo_generate(scale=scale, seed=seed, today=options.get("as_of"), progress=bar.update)
        if result.skipped:
            self.stdout.write(_("Marketplace demo data skipped: run “sciencecity demo” first."))
            return
        if not result.created:
            self.stdout.write(_("Nothing to create: the %(scale)s marketplace demo data for seed %(seed)d is "
                                "already there (0 rows).") % {"scale": scale, "seed": seed})
            return
        counts = ", ".join(f"{label}: {n}" for label, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(
            _("Created %(total)d synthetic marketplace rows in %(seconds).1f s (%(counts)s).")
            % {"total": result.created, "seconds": time.monotonic() - started, "counts": counts}
        ))
