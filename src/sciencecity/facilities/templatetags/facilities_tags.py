"""Template filters of the facility pages: a link is shown only to those it opens for."""

from __future__ import annotations

from typing import Any

from django import template

from sciencecity.facilities import permissions

register = template.Library()


@register.filter
def may_use_facilities(user: Any) -> bool:
    """*My bookings* and *Innovation vouchers* open for those ``views.my_bookings`` / ``views.vouchers`` admit."""
    return permissions.can_use(user)
