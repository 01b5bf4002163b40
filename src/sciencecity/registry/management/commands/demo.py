"""``sciencecity demo --scale small|city|national [--seed N]``: create synthetic demo data."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from tqdm import tqdm

from sciencecity.core.demo import add_as_of_argument
from sciencecity.registry.demo import DEFAULT_SEED, SCALES, demo_generate


class Command(BaseCommand):
    help = _(
        "Create deterministic synthetic demo organisations and people (flagged as synthetic). "
        "Re-running with the same scale and seed changes nothing; a bigger scale adds the difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="small",
                            help=_("small ≈ 300 organisations, city ≈ 20,000, national ≈ 400,000"))
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("random seed (default %(default)s)"))
        add_as_of_argument(parser)

    def handle(self, *args, scale: str, seed: int, as_of=None, verbosity: int = 1, **options):
        plan = SCALES[scale]
        started = time.monotonic()
        with tqdm(total=plan.organisations + plan.people, unit=" rows", desc=f"demo {scale}",
                  disable=verbosity < 1, file=sys.stderr) as bar:
            result = demo_generate(scale=scale, seed=seed, today=as_of, progress=bar.update)
        if not result.created:
            self.stdout.write(_("Nothing to create: the %(scale)s demo data for seed %(seed)d is already there (0 rows).")
                              % {"scale": scale, "seed": seed})
            return
        counts = ", ".join(f"{label}: {n}" for label, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(
            _("Created %(total)d synthetic rows in %(seconds).1f s (%(counts)s).")
            % {"total": result.created, "seconds": time.monotonic() - started, "counts": counts}
        ))
