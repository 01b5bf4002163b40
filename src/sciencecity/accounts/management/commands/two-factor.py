"""``sciencecity two-factor status|reset USERNAME``: the offline recovery of a lost authenticator.

Run on the server by the operator (who holds the database): it removes the account's device and
recovery codes so that the user enrols again at the next login. The reset is audited with the
reason given (``actor`` is the command line).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sciencecity.accounts import two_factor
from sciencecity.accounts.models import User


class Command(BaseCommand):
    help = "Show or reset (lost phone) an account's two-factor authentication."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="Whether the account uses two-factor authentication.")
        status.add_argument("username")
        reset = sub.add_parser("reset", help="Remove the account's authenticator and recovery codes.")
        reset.add_argument("username")
        reset.add_argument("--reason", required=True, help="Why (recorded in the audit trail).")

    def handle(self, *args, action: str, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account {username!r}.")
        if action == "status":
            state = "on" if user.totp_enabled else "off"
            required = "required by the role" if two_factor.two_factor_mandatory(user) else "optional"
            self.stdout.write(f"{username}: two-factor authentication {state} ({required}); "
                              f"{two_factor.recovery_codes_left(user)} recovery codes left")
            return
        reason = (options.get("reason") or "").strip()
        if not reason:
            raise CommandError("Give a reason with --reason.")
        try:
            two_factor.two_factor_disable(actor=None, user=user, reason=f"server command: {reason}")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"{username}: two-factor authentication removed; the user enrols again "
                                             "at the next login."))
