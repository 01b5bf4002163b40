"""The reviewer's work (评审): released assignments, scoring per rubric, decline and late conflicts
with automatic re-assignment; anonymised reviews for applicants; per-reviewer normalisation and
the ranking (排序) with its spread.

Normalisation (``call.normalise_scores``): each reviewer's weighted totals in the call become
z-scores, ``z = (total − reviewer's mean) / reviewer's standard deviation`` (population), then are
put back on the call's 0–100 scale as ``call mean + call standard deviation × z`` so that they can
be read like the raw totals. A reviewer with a single review in the call, or whose totals all
agree (no spread), gives no information about their harshness: their raw total is kept.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction
from sciencecity.programmes.choices import ApplicationState, AssignmentState, CallState, DeclineReason
from sciencecity.programmes.models import Application, Assignment, Call, Review
from sciencecity.programmes.permissions import REVIEWER_STATES, can_review, is_reviewer
from sciencecity.programmes.services.assignment import reassign_slots

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: Application states after the decision: reviews may then be shown to the applicant, anonymised.
DECIDED_STATES = (ApplicationState.FUNDED, ApplicationState.REJECTED, ApplicationState.ELIMINATED)


def my_assignments(user: Any):
    """The user's released (and submitted) assignments, newest call first."""
    if not is_reviewer(user):
        return Assignment.objects.none()
    return (Assignment.objects.filter(expert_id=user.person_id, state__in=REVIEWER_STATES)
            .select_related("application__call", "application__organisation", "application__applicant", "review")
            .order_by("-application__call__opens_on", "application__reference"))


def hides_applicant(assignment: Assignment) -> bool:
    return assignment.application.call.blind_review


def weighted_total(call: Call, scores: dict[str, Any]) -> tuple[dict[str, int], float]:
    """Validate per-criterion scores (0..max) and compute the weighted total on a 0–100 scale:
    ``100 × Σ weightᵢ·scoreᵢ/maxᵢ / Σ weightᵢ``."""
    clean: dict[str, int] = {}
    errors: dict[str, str] = {}
    weighted = Decimal(0)
    weights = Decimal(0)
    for criterion in call.criteria.all():
        raw = scores.get(str(criterion.pk), scores.get(criterion.pk))
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[f"score_{criterion.pk}"] = _("Give a score for “%(name)s”.") % {"name": criterion.name}
            continue
        if not 0 <= value <= criterion.max_score:
            errors[f"score_{criterion.pk}"] = _("The score of “%(name)s” must be between 0 and %(max)s.") % {
                "name": criterion.name, "max": criterion.max_score}
            continue
        clean[str(criterion.pk)] = value
        weighted += criterion.weight * value / criterion.max_score
        weights += criterion.weight
    if errors:
        raise ValidationError(errors)
    return clean, round(float(100 * weighted / weights), 4) if weights else 0.0


def _withdraw(*, actor: User | None, assignment: Assignment, reason: str, note: str) -> Assignment | None:
    """Decline the assignment and re-assign the application to the best eligible expert."""
    old_state = assignment.state
    assignment.state = AssignmentState.DECLINED
    assignment.decline_reason = reason
    assignment.decline_note = note[:300]
    assignment.full_clean()
    assignment.save(update_fields=["state", "decline_reason", "decline_note", "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=assignment,
                 object_repr=assignment.application.reference,
                 changes={"state": [old_state, AssignmentState.DECLINED], "decline_reason": [None, reason]},
                 reason=note)
    return reassign_slots(actor=actor, application=assignment.application, state=AssignmentState.RELEASED)


@transaction.atomic
def review_decline(*, actor: User | None, assignment: Assignment, reason: str, note: str = "") -> Assignment | None:
    """The reviewer declines (conflict / not my field / too many); returns the replacement, if any."""
    assignment = Assignment.objects.select_for_update().select_related("application__call").get(pk=assignment.pk)
    permissions.require(can_review(actor, assignment) and assignment.state == AssignmentState.RELEASED)
    if reason not in DeclineReason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    return _withdraw(actor=actor, assignment=assignment, reason=reason, note=note)


@transaction.atomic
def review_submit(*, actor: User | None, assignment: Assignment, scores: dict[str, Any], comment: str,
                  conflict_flagged: bool = False) -> Review:
    """Score each criterion with a comment; or flag a conflict found while reviewing, which
    withdraws the assignment and re-assigns the application."""
    assignment = Assignment.objects.select_for_update().select_related("application__call").get(pk=assignment.pk)
    permissions.require(can_review(actor, assignment))
    call = assignment.application.call
    if call.state != CallState.REVIEW:
        raise ValidationError(_("Reviews are accepted only while the call is under review."), code="closed")
    review = Review.objects.filter(assignment=assignment).first() or Review(assignment=assignment)
    if conflict_flagged:
        review.scores, review.total, review.conflict_flagged = {}, 0.0, True
        review.comment = comment.strip() or _("Conflict of interest found while reviewing.")
    else:
        if not comment.strip():
            raise ValidationError({"comment": _("Write a comment.")})
        review.scores, review.total = weighted_total(call, scores)
        review.comment = comment.strip()
        review.conflict_flagged = False
    review.submitted_at = timezone.now()
    review.full_clean(exclude=["scores"])  # empty when a conflict is flagged instead of scoring
    review.save()
    audit_record(action=AuditAction.UPDATE if assignment.state == AssignmentState.SUBMITTED else AuditAction.CREATE,
                 actor=actor, obj=review, object_repr=assignment.application.reference,
                 changes={"total": [None, review.total], "conflict_flagged": [None, review.conflict_flagged]})
    if conflict_flagged:
        _withdraw(actor=actor, assignment=assignment, reason=DeclineReason.CONFLICT, note=review.comment)
    elif assignment.state != AssignmentState.SUBMITTED:
        assignment.state = AssignmentState.SUBMITTED
        assignment.save(update_fields=["state", "updated_at"])
    return review


def anonymised_reviews(application: Application) -> list[dict[str, Any]]:
    """Submitted reviews as "Reviewer 1, 2 …" (no identity), only once the application is decided."""
    if application.state not in DECIDED_STATES and application.call.state != CallState.DECIDED:
        return []
    criteria = {str(c.pk): c for c in application.call.criteria.all()}
    reviews = (Review.objects.filter(assignment__application=application, assignment__state=AssignmentState.SUBMITTED,
                                     conflict_flagged=False).order_by("assignment_id"))
    return [{"label": _("Reviewer %(number)s") % {"number": number}, "total": review.total,
             "scores": [(criteria[key].name, value, criteria[key].max_score)
                        for key, value in review.scores.items() if key in criteria],
             "comment": review.comment}
            for number, review in enumerate(reviews, start=1)]


# --------------------------------------------------------------------------------------------
# Normalisation and ranking


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _std(values: list[float]) -> float:
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


@dataclass
class RankingRow:
    application: Application
    scores: list[float] = field(default_factory=list)  # reviewers' weighted totals
    normalised: list[float] = field(default_factory=list)
    rank: int = 0

    @property
    def count(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float | None:
        return round(_mean(self.scores), 4) if self.scores else None

    @property
    def score(self) -> float | None:
        """What the ranking sorts by: the mean normalised score."""
        return round(_mean(self.normalised), 4) if self.normalised else None

    @property
    def minimum(self) -> float | None:
        return min(self.scores) if self.scores else None

    @property
    def maximum(self) -> float | None:
        return max(self.scores) if self.scores else None

    @property
    def spread(self) -> float | None:
        """Standard deviation of the reviewers' totals (population)."""
        return round(_std(self.scores), 4) if self.scores else None


def normalised_totals(reviews: list[tuple[int, int, float]], *, normalise: bool = True) -> dict[tuple[int, int], float]:
    """``{(reviewer, application): score}`` from ``(reviewer, application, total)`` rows (see module doc)."""
    if not normalise or not reviews:
        return {(r, a): t for r, a, t in reviews}
    totals = [t for _r, _a, t in reviews]
    call_mean, call_std = _mean(totals), _std(totals)
    by_reviewer: dict[int, list[float]] = defaultdict(list)
    for reviewer, _application, total in reviews:
        by_reviewer[reviewer].append(total)
    result = {}
    for reviewer, application, total in reviews:
        own = by_reviewer[reviewer]
        spread = _std(own)
        if len(own) < 2 or spread == 0:
            result[(reviewer, application)] = total
        else:
            result[(reviewer, application)] = round(call_mean + call_std * (total - _mean(own)) / spread, 4)
    return result


def ranking(call: Call) -> list[RankingRow]:
    """Applications under review (or decided) ranked by mean normalised score; unreviewed last."""
    applications = list(call.applications.filter(
        state__in=(ApplicationState.UNDER_REVIEW, *DECIDED_STATES)).select_related("organisation"))
    rows = {a.pk: RankingRow(a) for a in applications}
    reviews = [(r.assignment.expert_id, r.assignment.application_id, r.total)
               for r in Review.objects.filter(assignment__application__in=applications, conflict_flagged=False,
                                              assignment__state=AssignmentState.SUBMITTED)
               .select_related("assignment").order_by("assignment_id")]
    scores = normalised_totals(reviews, normalise=call.normalise_scores)
    for reviewer, application, total in reviews:
        rows[application].scores.append(total)
        rows[application].normalised.append(scores[(reviewer, application)])
    ordered = sorted(rows.values(), key=lambda r: (r.score is None, -(r.score or 0), r.application.reference))
    for rank, row in enumerate(ordered, start=1):
        row.rank = rank
    return ordered
