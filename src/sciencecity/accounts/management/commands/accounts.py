"""``sciencecity accounts recover-admin USERNAME``: offline recovery of an administrator account on the server."""

from __future__ import annotations

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sciencecity.accounts.services import admin_account_recover


def _operator() -> str:
    """The operating-system account that runs the command (recorded in the audit trail)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    sudo = os.environ.get("SUDO_USER")
    return f"{sudo} (as {name})" if sudo and sudo != name else name


class Command(BaseCommand):
    help = "Account recovery that needs shell access to the server (三员分立: no administrator resets another alone)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{recover-admin}")
        recover = sub.add_parser(
            "recover-admin",
            help="Give an administrator account a new one-time password, lift its login locks and activate it; "
                 "its sessions and API tokens end. Audited (channel cli).",
        )
        recover.add_argument("username", help="The administrator account (system, security or audit administrator).")
        recover.add_argument("--reason", required=True, help="Why (recorded in the audit trail), e.g. a ticket number.")

    def handle(self, *args, **options):
        if options["subcommand"] != "recover-admin":  # pragma: no cover - argparse restricts the choice
            raise CommandError(f"unknown subcommand {options['subcommand']}")
        try:
            password = admin_account_recover(username=options["username"], reason=options["reason"],
                                             operator=_operator())
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.WARNING(
            f"One-time password for {options['username']} (shown ONCE; it must be changed at first login):"
        ))
        self.stdout.write(password)
