"""Per-user re-ranking from structured feedback on past suggestions (反馈重排序).

Labels say what the user thought of a suggested listing. A profile turns them into term weights
(topics the user likes or rejects), item factors (listings to demote) and a TRL preference; the
re-ranker multiplies each candidate's score by those factors. Both are pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class FeedbackLabel(StrEnum):
    """What a user said about a suggestion."""

    INTERESTING = "interesting"
    TOO_EARLY = "too_early"
    ADVANTAGE_UNCLEAR = "advantage_unclear"
    ROUTE_TO_MARKET_UNCLEAR = "route_to_market_unclear"
    NOT_RELEVANT = "not_relevant"


TERM_SIGN = {
    FeedbackLabel.INTERESTING: 1.0,
    FeedbackLabel.TOO_EARLY: 0.3,
    FeedbackLabel.ADVANTAGE_UNCLEAR: 0.3,
    FeedbackLabel.ROUTE_TO_MARKET_UNCLEAR: 0.3,
    FeedbackLabel.NOT_RELEVANT: -1.0,
}
"""Topic signal of a label: the last three say the topic fits but the listing does not yet."""

ITEM_FACTOR = {
    FeedbackLabel.INTERESTING: 1.0,
    FeedbackLabel.TOO_EARLY: 0.7,
    FeedbackLabel.ADVANTAGE_UNCLEAR: 0.8,
    FeedbackLabel.ROUTE_TO_MARKET_UNCLEAR: 0.8,
    FeedbackLabel.NOT_RELEVANT: 0.2,
}


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    doc_id: str
    label: FeedbackLabel


@dataclass(frozen=True, slots=True)
class FeedbackProfile:
    """A user's learned preferences."""

    term_weights: Mapping[str, float] = field(default_factory=dict)
    item_factors: Mapping[str, float] = field(default_factory=dict)
    too_early_trl: int | None = None
    """Listings at or below this TRL are mildly demoted (the user found one too early)."""
    strength: float = 0.5

    @property
    def empty(self) -> bool:
        return not self.term_weights and not self.item_factors and self.too_early_trl is None


def feedback_profile(
    events: Iterable[FeedbackEvent],
    doc_terms: Mapping[str, Collection[str]],
    doc_trl: Mapping[str, int] | None = None,
    *,
    strength: float = 0.5,
) -> FeedbackProfile:
    """Build a profile from feedback events; the latest label of a listing wins."""
    latest: dict[str, FeedbackLabel] = {}
    for event in events:
        latest[event.doc_id] = FeedbackLabel(event.label)
    weights: dict[str, float] = {}
    too_early: int | None = None
    for doc_id, label in latest.items():
        terms = doc_terms.get(doc_id, ())
        if terms:
            share = TERM_SIGN[label] / math.sqrt(len(terms))
            for term in terms:
                weights[term] = weights.get(term, 0.0) + share
        if label is FeedbackLabel.TOO_EARLY and doc_trl and doc_trl.get(doc_id):
            trl = doc_trl[doc_id]
            too_early = trl if too_early is None else max(too_early, trl)
    factors = {doc_id: ITEM_FACTOR[label] for doc_id, label in latest.items() if ITEM_FACTOR[label] != 1.0}
    return FeedbackProfile({t: w for t, w in weights.items() if w}, factors, too_early, strength)


def topic_affinity(terms: Collection[str], profile: FeedbackProfile) -> float:
    """Cosine in [-1, 1] between a listing's terms and the profile's term weights."""
    if not terms or not profile.term_weights:
        return 0.0
    norm = math.sqrt(sum(w * w for w in profile.term_weights.values()))
    dot = sum(profile.term_weights.get(t, 0.0) for t in terms)
    return dot / (norm * math.sqrt(len(terms)))


def rerank(
    scored: Sequence[tuple[str, float]],
    profile: FeedbackProfile,
    doc_terms: Mapping[str, Collection[str]],
    doc_trl: Mapping[str, int] | None = None,
) -> list[tuple[str, float]]:
    """Adjusted ``(id, score)`` pairs, best first: score × item factor × TRL factor × topic factor."""
    out = []
    for doc_id, score in scored:
        factor = profile.item_factors.get(doc_id, 1.0)
        trl = (doc_trl or {}).get(doc_id, 0)
        if profile.too_early_trl is not None and 0 < trl <= profile.too_early_trl:
            factor *= 0.85
        factor *= 1.0 + profile.strength * topic_affinity(doc_terms.get(doc_id, ()), profile)
        out.append((doc_id, score * factor))
    out.sort(key=lambda pair: -pair[1])
    return out
