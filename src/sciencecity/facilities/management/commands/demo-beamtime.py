"""``sciencecity demo-beamtime [--seed N]``: synthetic facility time (机时) demo data."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sciencecity.core.demo import add_as_of_argument
from sciencecity.facilities.beamtime.demo import DEFAULT_SEED, demo_generate


class Command(BaseCommand):
    help = _("Create a synthetic facility time round on the registry's demo enterprises and experts: four "
             "beamlines, proposals with feasibility and reviews, shifts allocated. Re-running changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("random seed (default %(default)s)"))
        add_as_of_argument(parser)

    def handle(self, *args, seed: int, **options):
        result = demo_generate(seed=seed, today=options.get("as_of"))
        if result.skipped:
            self.stdout.write(_("Facility time demo data skipped: run “sciencecity demo” first."))
            return
        if not result.created:
            self.stdout.write(_("Nothing to create: the facility time demo data is already there (0 rows)."))
            return
        counts = ", ".join(f"{label}: {n}" for label, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(_("Created %(total)d synthetic facility time rows (%(counts)s).")
                                             % {"total": result.created, "counts": counts}))
