"""``sciencecity demo-facilities [--as-of YYYY-MM-DD]``: synthetic shared-instrument demo data."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sciencecity.core.demo import add_as_of_argument
from sciencecity.facilities.demo import demo_generate


class Command(BaseCommand):
    help = _("Create synthetic shared-instrument data (instruments, price lists, bookings, usage, vouchers) on "
             "the registry's demo organisations. Re-running changes nothing.")

    def add_arguments(self, parser):
        add_as_of_argument(parser)

    def handle(self, *args, **options):
        result = demo_generate(today=options.get("as_of"))
        if result.skipped:
            self.stdout.write(_("Facilities demo data skipped: run “sciencecity demo” first."))
        elif not result.created:
            self.stdout.write(_("Nothing to create: the facilities demo data is already there."))
        else:
            counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items())
            self.stdout.write(self.style.SUCCESS(_("Created synthetic facilities data (%(counts)s).")
                                                 % {"counts": counts}))


