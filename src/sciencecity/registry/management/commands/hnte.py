"""``sciencecity hnte assess FILE.json [--json]``: the batch self-assessment of engines.rules.cli.

The command needs no models; it hands its arguments to the engine's CLI and exits with its
status (0, or 2 for a bad file with one error line naming the enterprise and the field).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from sciencecity.engines.rules.cli import main
from sciencecity.engines.rules.i18n import translating


class Command(BaseCommand):
    help = "High-tech enterprise and tech-SME self-assessment of a batch of enterprises (JSON file)."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*", metavar="assess FILE.json [--json]")

    def run_from_argv(self, argv):
        # argv = [prog, "hnte", ...]: the engine's own parser reads the rest, so --json and --help are its.
        # Messages in the active language (zh-Hans by default), through the project's catalogue.
        with translating(gettext):
            code = main(argv[2:], self.stdout, self.stderr)
        sys.exit(code)

    def handle(self, *args, **options):
        with translating(gettext):
            code = main(list(args), self.stdout, self.stderr)
        if code:
            raise CommandError("bad input", returncode=code)
