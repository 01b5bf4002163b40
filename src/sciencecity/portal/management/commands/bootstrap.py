"""First-run set-up for ``make run``: administrators, bundled data and demo data. Idempotent."""

from __future__ import annotations

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from sciencecity.accounts.services import administrators_bootstrap
from sciencecity.core.demo import add_as_of_argument


class Command(BaseCommand):
    help = "Create the three administrator accounts (once) and load the bundled plan and demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--demo-scale", default="small", choices=["none", "small", "city", "national"],
                            help="Synthetic demo data to generate (default: small).")
        add_as_of_argument(parser)

    def handle(self, *args, demo_scale: str, as_of=None, **options):
        created = administrators_bootstrap()
        if created:
            self.stdout.write(self.style.WARNING(
                "Administrator accounts created. Their one-time passwords are shown ONCE; each must be changed at first login:"
            ))
            for username, role, password in created:
                self.stdout.write(f"  {role:<24} user: {username:<12} one-time password: {password}")
            self.stdout.write(
                "The system administrator creates user accounts; the security administrator grants roles; "
                "the audit administrator reads the audit trail."
            )
            self.stdout.write(
                "After the password change each administrator sets up two-factor authentication: have an "
                "authenticator app ready (the page also shows the secret as text)."
            )
        commands = get_commands()
        if "plan" in commands:
            call_command("plan", "import", "--bundled", verbosity=options.get("verbosity", 1))
        verbosity = options.get("verbosity", 1)
        dated = {"as_of": as_of} if as_of else {}
        if demo_scale != "none" and "demo" in commands:
            call_command("demo", "--scale", demo_scale, verbosity=verbosity, **dated)
        if demo_scale != "none" and "plan" in commands:
            call_command("plan", "demo-values", verbosity=verbosity, **dated)
        if demo_scale != "none" and "demo-marketplace" in commands:
            call_command("demo-marketplace", "--scale", "small" if demo_scale == "small" else "city",
                         verbosity=verbosity, **dated)
        if demo_scale != "none" and "demo-enterprises" in commands:
            call_command("demo-enterprises", verbosity=verbosity, **dated)
        if demo_scale != "none" and "demo-programmes" in commands:
            call_command("demo-programmes", verbosity=verbosity, **dated)
        if demo_scale != "none" and "demo-policies" in commands:  # after demo-enterprises (profiles) when present
            call_command("demo-policies", verbosity=verbosity, **dated)
        if demo_scale != "none" and "demo-facilities" in commands:
            call_command("demo-facilities", verbosity=verbosity, **dated)
        if demo_scale != "none" and "demo-beamtime" in commands:  # after demo (its enterprises and experts)
            call_command("demo-beamtime", verbosity=verbosity, **dated)
