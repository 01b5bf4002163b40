"""``sciencecity demo-policies``: synthetic policies, financial products, financing needs and matches."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sciencecity.core.demo import add_as_of_argument, demo_as_of
from sciencecity.enterprises.policies.demo import SEED, demo_generate
from sciencecity.enterprises.policies.services import policy_matches_refresh


class Command(BaseCommand):
    help = _("Create synthetic (labelled) demo policies, financial products, financing needs and matches, then "
             "match every enterprise against the policies. Re-running changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=SEED, help=_("random seed (default %(default)s)"))
        add_as_of_argument(parser)

    def handle(self, *args, seed: int, **options):
        as_of = demo_as_of(options.get("as_of"))  # the recorded demo day: a later re-run changes nothing
        result = demo_generate(seed=seed, today=as_of)
        counts = ", ".join(f"{label}: {n}" for label, n in result.counts.items())
        if result.skipped_products:
            self.stdout.write(_("No bank or fund in the registry: financial products skipped (run “sciencecity demo” "
                                "first)."))
        matched = policy_matches_refresh(today=as_of)
        self.stdout.write(self.style.SUCCESS(_("Demo policies: %(counts)s; %(created)s new policy matches.") % {
            "counts": counts, "created": matched["created"]}))
