"""Named indicator sources: computations over the registry and the service apps.

``plans`` never imports the service apps. Each app registers its computations in its
``AppConfig.ready`` with :func:`register`; an indicator points at one by ``source_key``. A source
also says which indicator names it fits, so an imported plan gets its links without typing.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: (year, scope) → (value, provenance in words)
Compute = Callable[[int, str], tuple[float, str]]


@dataclass(frozen=True)
class IndicatorSource:
    key: str
    label: str
    compute: Compute
    name_pattern: re.Pattern[str]
    unit: str = ""


_SOURCES: dict[str, IndicatorSource] = {}


def register(key: str, label: str, compute: Compute, *, name_pattern: str, unit: str = "") -> None:
    _SOURCES[key] = IndicatorSource(key, label, compute, re.compile(name_pattern), unit)


@dataclass(frozen=True)
class RelatedFigure:
    """A figure shown beside an indicator computed by source ``for_key`` (e.g. the high-tech reserve
    pool beside the count of certified enterprises): context on the page, never the indicator's value."""

    key: str
    for_key: str
    label: str
    compute: Compute


_RELATED: dict[str, RelatedFigure] = {}


def register_related(key: str, label: str, compute: Compute, *, for_key: str) -> None:
    _RELATED[key] = RelatedFigure(key, for_key, label, compute)


def related_figures(source_key: str, *, year: int, scope: str = "district") -> list[tuple[RelatedFigure, float, str]]:
    """(figure, value, provenance) of every figure registered beside the source ``source_key``."""
    return [(f, *f.compute(year, scope)) for f in sorted(_RELATED.values(), key=lambda f: f.key)
            if f.for_key == source_key]


def get(key: str) -> IndicatorSource | None:
    return _SOURCES.get(key)


def all_sources() -> list[IndicatorSource]:
    return sorted(_SOURCES.values(), key=lambda s: s.key)


def match(name: str) -> IndicatorSource | None:
    """The registered source whose name pattern fits an indicator name, if exactly one does."""
    found = [s for s in _SOURCES.values() if s.name_pattern.search(name or "")]
    return found[0] if len(found) == 1 else None


def compute(source: IndicatorSource, *, year: int, scope: str, plan_start: int | None = None) -> tuple[float, str]:
    """Run a source for a year and scope; sources that count "since the plan began" get its first year.

    A source opts in by accepting a ``plan_start`` keyword, so the sources of other apps keep the
    plain ``(year, scope)`` signature.
    """
    try:
        accepts = "plan_start" in inspect.signature(source.compute).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        accepts = False
    if accepts:
        return source.compute(year, scope, plan_start=plan_start)
    return source.compute(year, scope)


def source_changed(key: str, year: int, *, actor: User | None = None) -> Any:
    """The hook a service app calls when it changed what its source ``key`` counts for ``year``.

    Plans drops the dashboard's cached live value (now, and again when the caller's transaction
    commits) and recomputes the stored value of the current plan's indicator bound to ``key`` (a
    locked value stays as approved). Returns the stored value, or ``None`` when no indicator of the
    current plan uses the source. The service app needs to know nothing else of plans.
    """
    from django.db import transaction

    from sciencecity.plans import selectors, services
    from sciencecity.plans.models import Indicator

    selectors.live_value_forget(key, year)
    transaction.on_commit(lambda: selectors.live_value_forget(key, year))
    plan = selectors.current_plan()
    indicator = Indicator.objects.filter(plan=plan, source_key=key).first() if plan else None
    if indicator is None:
        return None
    return services.indicator_value_compute(actor=actor, indicator=indicator, year=year)


def cache_forget(key: str, year: int) -> None:
    """Drop the cached live value of source ``key`` for ``year`` (e.g. after generating demo data)."""
    from sciencecity.plans import selectors

    selectors.live_value_forget(key, year)
