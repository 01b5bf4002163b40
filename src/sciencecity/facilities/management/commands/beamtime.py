"""``sciencecity beamtime allocate --proposals P.csv --capacity C.csv --out A.csv [--policy optimal|rank]``.

The command needs no models; it hands its arguments to the engine's CLI (``engines.beamtime.main``)
and exits with its status: 0, or 2 for a bad file with one error line naming the file and the row
(nothing is written then).
"""

from __future__ import annotations

import argparse
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from sciencecity.engines.beamtime import main
from sciencecity.engines.rules.i18n import translating


class Command(BaseCommand):
    help = "Facility time (beamtime) allocation from CSV files: the largest total review score within capacity."

    def add_arguments(self, parser):
        # REMAINDER: the engine's options (--proposals …) pass through call_command too.
        parser.add_argument("args", nargs=argparse.REMAINDER, metavar="allocate --proposals P.csv --capacity C.csv --out A.csv")

    def run_from_argv(self, argv):
        # argv = [prog, "beamtime", ...]: the engine's own parser reads the rest (its --help too).
        with translating(gettext):
            code = main(argv[2:], self.stdout, self.stderr)
        sys.exit(code)

    def handle(self, *args, **options):
        with translating(gettext):
            code = main(list(args), self.stdout, self.stderr)
        if code:
            raise CommandError("bad input", returncode=code)
