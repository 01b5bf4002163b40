"""Template filters of the plan pages: the sub-navigation shows a link only to those it opens for; parser
warnings in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template

from sciencecity.core import permissions
from sciencecity.plans import warning_text

register = template.Library()


@register.filter
def may_open_rounds(user: Any) -> bool:
    """The reporting rounds are for the bureau and the department officers (as ``views_rounds`` requires)."""
    return permissions.has_perm(user, "plans.open_rounds")


@register.filter
def shown_warning(warning: Any) -> warning_text.ShownWarning:
    """A parser warning (stored, just parsed, or kept as a dict in an upload's preview) as
    :func:`warning_text.shown` says it."""
    if isinstance(warning, dict):
        return warning_text.shown(warning.get("code", ""), warning.get("message", ""), warning.get("line"))
    return warning_text.shown(warning.code, warning.message, getattr(warning, "line", None))
