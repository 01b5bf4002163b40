"""The to-do inbox (待办) on the home page: a registry that each app fills at ``ready()``.

The inbox is one home-page block (``core.inbox`` in the home-widget registry of
:mod:`sciencecity.core.navigation`); its items come from the providers registered here.

A provider is a function ``(user) -> list[InboxItem]``: pending approvals and submissions,
assigned reviews, incoming interest, overdue tasks, expiring certificates … each item links to
the page that resolves it. Core lists no app; a provider that fails is logged and skipped so that
one app cannot take the home page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxItem:
    """``count`` things of one kind wait for the user at ``url`` (``urgent``: overdue or expiring)."""

    key: str
    label: str
    count: int
    url: str
    urgent: bool = False


Provider = Callable[[Any], list[InboxItem]]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add (or replace, on reload) the provider ``name``."""
    _PROVIDERS[name] = provider


def providers() -> dict[str, Provider]:
    return dict(_PROVIDERS)


def items_for(user: Any) -> list[InboxItem]:
    """Every provider's items with a count for ``user``: urgent first, then by provider order."""
    if not getattr(user, "is_authenticated", False):
        return []
    items: list[InboxItem] = []
    for name, provider in _PROVIDERS.items():
        try:
            items.extend(item for item in provider(user) if item.count)
        except Exception:
            log.exception("inbox provider %s failed", name)
    return sorted(items, key=lambda item: not item.urgent)
