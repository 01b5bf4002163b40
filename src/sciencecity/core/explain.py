"""Explained empty results: which filter or rule removed how many rows, and a link that relaxes it.

A page whose filters (a list's query parameters, a matching constraint, an assignment rule) leave
nothing builds one :class:`Removal` per filter and renders ``core/explained_empty.html``; the
removal counts are computed by the page's own selector with that filter dropped, so they are the
rows the user would see after one click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict


@dataclass(frozen=True)
class Removal:
    """``count`` rows were removed by ``label``; ``relax_url`` shows them (empty: not relaxable)."""

    label: str
    count: int
    relax_url: str = ""


def url_without(request: Any, *keys: str) -> str:
    """The current page with the query parameters ``keys`` (and the page number) dropped."""
    query: QueryDict = request.GET.copy()
    for key in (*keys, "page"):
        query.pop(key, None)
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


def url_adding(request: Any, key: str, value: str) -> str:
    """The current page with ``key=value`` added (kept once) and the page number dropped."""
    query: QueryDict = request.GET.copy()
    query.pop("page", None)
    values = query.getlist(key)
    if value not in values:
        query.setlist(key, [*values, value])
    return f"{request.path}?{query.urlencode()}"


def list_removals(request: Any, params: Mapping[str, str], labels: Mapping[str, str],
                  count_without: Callable[[dict[str, str]], int]) -> list[Removal]:
    """For a filtered list that came out empty: per active filter in ``labels``, how many rows
    dropping only that filter would show, and the link that drops it (largest first)."""
    removals = []
    for key, label in labels.items():
        if not params.get(key):
            continue
        relaxed = {k: v for k, v in params.items() if k != key}
        count = count_without(relaxed)
        if count:
            removals.append(Removal(str(label), count, url_without(request, key)))
    return sorted(removals, key=lambda r: -r.count)


def active_filters(params: Mapping[str, str], labels: Mapping[str, str]) -> list[str]:
    """Labels of the filters in use (to say which ones left the list empty)."""
    return [str(label) for key, label in labels.items() if params.get(key)]


def total(removals: Iterable[Removal]) -> int:
    return sum(r.count for r in removals)
