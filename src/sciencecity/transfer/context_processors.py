"""The unread count of in-site notifications (new matches, topic-watch alerts, new eligible
policies), shown in the header of every page."""

from __future__ import annotations

from sciencecity.transfer import permissions as access
from sciencecity.transfer import selectors


def unread_notifications(request):
    user = getattr(request, "user", None)
    if not access.can_use_marketplace(user):
        return {}
    return {"unread_notifications": selectors.notifications(user).filter(read_at__isnull=True).count()}
