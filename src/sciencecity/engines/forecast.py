"""Indicator progress, linear projection to the target year and status (one legend for all).

Pure Python. The status knows the indicator's direction (higher or lower is better) and the
target's comparator (≥, >, ≤, <, about/左右, range, plain "reach"). Reasons come back as a code
with parameters so the caller can word them in the user's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: "左右" (about): within this relative tolerance of the target counts as meeting it.
APPROX_TOLERANCE = 0.05
#: A projection that covers at least this share of the remaining gap is "at risk", not "off track".
AT_RISK_SHARE = 0.8

ACHIEVED, ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA = "achieved", "on_track", "at_risk", "off_track", "no_data"


@dataclass(frozen=True)
class Point:
    year: int
    value: float


@dataclass(frozen=True)
class Target:
    comparator: str  # ge gt le lt approx range eq
    year: int
    value: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Assessment:
    status: str
    reason: str
    params: dict = field(default_factory=dict)
    latest: Point | None = None
    projected: float | None = None
    slope: float | None = None
    progress: float | None = None  # share of the way from the first value to the target (0..1+)


def reference_value(target: Target, direction: str) -> float | None:
    """The single number a value is measured against."""
    if target.comparator == "range":
        return target.low if direction == "higher" else target.high
    return target.value


def meets(value: float, target: Target, direction: str) -> bool:
    """Does ``value`` satisfy the target?"""
    c = target.comparator
    t = target.value
    if c == "range":
        low, high = target.low, target.high
        if direction == "higher":
            return low is not None and value >= low
        return high is not None and value <= high
    if t is None:
        return False
    if c == "ge":
        return value >= t
    if c == "gt":
        return value > t
    if c == "le":
        return value <= t
    if c == "lt":
        return value < t
    if c == "approx":
        return value >= t * (1 - APPROX_TOLERANCE) if direction == "higher" else value <= t * (1 + APPROX_TOLERANCE)
    return value >= t if direction == "higher" else value <= t


def linear_trend(points: list[Point]) -> tuple[float, float] | None:
    """Least-squares slope and intercept over (year, value); ``None`` with fewer than two years."""
    if len({p.year for p in points}) < 2:
        return None
    n = len(points)
    mean_x = sum(p.year for p in points) / n
    mean_y = sum(p.value for p in points) / n
    sxx = sum((p.year - mean_x) ** 2 for p in points)
    sxy = sum((p.year - mean_x) * (p.value - mean_y) for p in points)
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def assess(points: list[Point], target: Target, direction: str = "higher") -> Assessment:
    """Status of an indicator from its values (baselines included) against its target."""
    points = sorted(points, key=lambda p: p.year)
    if not points:
        return Assessment(NO_DATA, "no_data")
    latest = points[-1]
    ref = reference_value(target, direction)
    first = points[0]
    progress = None
    if ref is not None and ref != first.value:
        progress = (latest.value - first.value) / (ref - first.value)
    trend = linear_trend(points)
    slope = projected = None
    if trend is not None:
        slope, intercept = trend
        projected = slope * max(target.year, latest.year) + intercept
        if not (math.isfinite(slope) and math.isfinite(projected)):
            slope = projected = None  # values near the float limit (1e308) overflow: no projection, no crash
    if progress is not None and not math.isfinite(progress):
        progress = None
    params = {"latest": latest.value, "latest_year": latest.year, "target": ref, "target_year": target.year,
              "projected": projected}
    common = {"latest": latest, "projected": projected, "slope": slope, "progress": progress}
    if meets(latest.value, target, direction):
        return Assessment(ACHIEVED, "achieved", params, **common)
    if latest.year >= target.year:
        return Assessment(OFF_TRACK, "target_year_missed", params, **common)
    if projected is None:
        return Assessment(AT_RISK, "single_value", params, **common)
    if meets(projected, target, direction):
        return Assessment(ON_TRACK, "projection_meets", params, **common)
    if ref is None:
        return Assessment(AT_RISK, "projection_short", params, **common)
    gap = ref - latest.value
    gain = projected - latest.value
    share = gain / gap if gap else 0.0
    params["share"] = share
    if share >= AT_RISK_SHARE:
        return Assessment(AT_RISK, "projection_close", params, **common)
    return Assessment(OFF_TRACK, "projection_short", params, **common)
