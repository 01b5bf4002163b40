"""The reviewer's work (评审): released assignments, scoring per rubric, decline and late conflicts
with automatic re-assignment; anonymised reviews for applicants. The normalised ranking (排序) is a
read: :func:`sciencecity.programmes.selectors.ranking`.
"""

from __future__ import annotations

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


#: Reviewers score in half points (7.5), as paper review forms do; finer steps are refused with this step named.
SCORE_STEP = Decimal("0.5")


def _score_value(raw: Any) -> Decimal | None:
    """The score as a number, or None when it is missing or not a finite number."""
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def weighted_total(call: Call, scores: dict[str, Any]) -> tuple[dict[str, int | float], float]:
    """Validate per-criterion scores (0..max in steps of :data:`SCORE_STEP`) and compute the weighted total on
    a 0–100 scale: ``100 × Σ weightᵢ·scoreᵢ/maxᵢ / Σ weightᵢ``. Whole scores are kept as integers, half
    points as 7.5."""
    clean: dict[str, int | float] = {}
    errors: dict[str, str] = {}
    weighted = Decimal(0)
    weights = Decimal(0)
    for criterion in call.criteria.all():
        raw = scores.get(str(criterion.pk), scores.get(criterion.pk))
        value = _score_value(raw)
        if value is None:
            errors[f"score_{criterion.pk}"] = _("Give a score for “%(name)s”.") % {"name": criterion.name}
            continue
        if not 0 <= value <= criterion.max_score:
            errors[f"score_{criterion.pk}"] = _("The score of “%(name)s” must be between 0 and %(max)s.") % {
                "name": criterion.name, "max": criterion.max_score}
            continue
        if value % SCORE_STEP:
            errors[f"score_{criterion.pk}"] = _(
                "The score of “%(name)s” goes in steps of %(step)s (for example 7 or 7.5); %(value)s is not allowed."
            ) % {"name": criterion.name, "step": SCORE_STEP, "value": value}
            continue
        clean[str(criterion.pk)] = int(value) if value == value.to_integral_value() else float(value)
        weighted += Decimal(criterion.weight) * value / criterion.max_score
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
