"""Queryset base for models whose rows are filtered by the permission registry."""

from __future__ import annotations

from typing import Any

from django.db import models

from sciencecity.core import permissions


class RestrictedQuerySet(models.QuerySet):
    """A queryset with ``restrict(user, action)``: only the rows the user may act on.

    Subclass it (``class WidgetQuerySet(RestrictedQuerySet)``) and set
    ``objects = WidgetQuerySet.as_manager()``; the action's scope is registered by the app
    (:func:`sciencecity.core.permissions.register`).
    """

    def restrict(self, user: Any, action: str) -> RestrictedQuerySet:
        return permissions.restrict(self, user, action)
