"""``sciencecity demo-programmes [--seed N]``: synthetic funding-programme demo data."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sciencecity.core.demo import add_as_of_argument
from sciencecity.programmes.demo import DEFAULT_SEED, demo_generate


class Command(BaseCommand):
    help = _(
        "Create deterministic synthetic programme data on the registry's demo people: expert profiles, "
        "publications, a demand → topic, an open 揭榜挂帅 call, a 赛马式 call in review with released "
        "assignments and a decided call with funded projects. Re-running changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("random seed (default %(default)s)"))
        add_as_of_argument(parser)

    def handle(self, *args, seed: int, **options):
        result = demo_generate(seed=seed, today=options.get("as_of"))
        if result.skipped:
            self.stdout.write(_("Programme demo data skipped: run “sciencecity demo” first."))
            return
        if not result.created:
            self.stdout.write(_("Nothing to create: the programme demo data for seed %(seed)d is already there "
                                "(0 rows).") % {"seed": seed})
            return
        counts = ", ".join(f"{label}: {n}" for label, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(_("Created %(total)d synthetic programme rows (%(counts)s).")
                                             % {"total": result.created, "counts": counts}))
