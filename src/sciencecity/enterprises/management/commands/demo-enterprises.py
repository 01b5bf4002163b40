"""``sciencecity demo-enterprises [--seed N]``: synthetic enterprise profiles, figures and tiers."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sciencecity.core.demo import add_as_of_argument
from sciencecity.enterprises.demo import DEFAULT_SEED, demo_generate


class Command(BaseCommand):
    help = _("Create deterministic synthetic enterprise profiles (three fiscal years, IP) for the registry's demo "
             "enterprises and compute their tiers. Re-running changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("random seed (default %(default)s)"))
        add_as_of_argument(parser)

    def handle(self, *args, seed: int, **options):
        started = time.monotonic()
        result = demo_generate(seed=seed, today=options.get("as_of"))
        if result.skipped:
            self.stdout.write(_("Enterprise demo data skipped: run “sciencecity demo” first."))
            return
        if not result.created:
            self.stdout.write(_("Nothing to create: every demo enterprise already has a profile."))
            return
        counts = ", ".join(f"{label}: {n}" for label, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(_("Created synthetic enterprise data in %(seconds).1f s (%(counts)s).")
                                             % {"seconds": time.monotonic() - started, "counts": counts}))
