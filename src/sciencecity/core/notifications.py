"""In-site notifications (站内通知) with an unread count, and e-mail through Django's mail backend.

Every app notifies through :func:`notification_send`; the e-mail goes out after the transaction
commits (a rolled-back action sends nothing), to users with an address, when
``settings.NOTIFICATION_EMAIL`` is on — with the console backend by default, so nothing leaves the
machine until a real backend is configured. A failing mail server never fails the action.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core.models import Notification

log = logging.getLogger(__name__)
MESSAGE_LENGTH = 300


def notification_send(*, users: Iterable[Any], message: str, url: str = "", category: str = "") -> list[Notification]:
    """Notify each distinct active user once; e-mail them after commit (see the module docstring)."""
    recipients: dict[int, Any] = {}
    for user in users:
        if user is not None and getattr(user, "is_active", False) and user.pk not in recipients:
            recipients[user.pk] = user
    if not recipients:
        return []
    rows = Notification.objects.bulk_create([
        Notification(user=user, message=message[:MESSAGE_LENGTH], url=url[:300], category=category)
        for user in recipients.values()
    ])
    addresses = [user.email for user in recipients.values() if getattr(user, "email", "")]
    if addresses and getattr(settings, "NOTIFICATION_EMAIL", True):
        transaction.on_commit(lambda: _email(addresses, message, url))
    return rows


def _email(addresses: list[str], message: str, url: str) -> None:
    subject = _("Science City Innovation Platform: %(message)s") % {"message": message[:60]}
    body = f"{message}\n\n{url}" if url else message
    try:
        send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses])
    except Exception:  # the notification is in the site; a mail server problem must not fail the action
        log.exception("notification e-mail failed")


def notification_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications (all, or ``ids``) as read; returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def notifications(user: Any) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    return Notification.objects.filter(user=user)


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
