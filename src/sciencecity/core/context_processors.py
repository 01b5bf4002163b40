"""Navigation shown in the base layout: the entries the apps registered that this user may use.

Core lists no app here: every app contributes its entries in its own ``navigation.py``
(:mod:`sciencecity.core.navigation`).
"""

from __future__ import annotations

from sciencecity.core import navigation as menus


def navigation(request):
    user = getattr(request, "user", None)
    path = request.path
    nav = []
    for item in menus.menu_items(user):
        url = item.href()
        active = url != "/" and path.startswith(url) or (url == "/" and path == "/")
        nav.append({"key": item.key, "label": item.label, "url": url, "active": active, "group": item.group})
    from sciencecity.core.notifications import unread_count

    return {"nav_items": nav, "nav_menu": menus.grouped(nav),
            "unread_notifications": unread_count(user) if user is not None else 0}
