"""``sciencecity facilities-release``: release the no-shows (run every few minutes from cron or the worker)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sciencecity.facilities.services.bookings import bookings_release_no_shows


class Command(BaseCommand):
    help = _("Release confirmed bookings not checked in within their grace period; the waitlist moves up.")

    def handle(self, *args, **options):
        count = bookings_release_no_shows()
        self.stdout.write(_("%(n)d no-shows released.") % {"n": count})
