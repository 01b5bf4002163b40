"""Review API: assignments and assignment jobs (officers), the reviewer's work (blind-aware), ranking."""


import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status

from sciencecity.core import permissions
from sciencecity.core.api import ErrorResponse, InputSchema
from sciencecity.programmes import permissions as access
from sciencecity.programmes import selectors
from sciencecity.programmes.choices import DeclineReason
from sciencecity.programmes.models import Assignment, AssignmentJob, Call
from sciencecity.programmes.permissions import can_manage_programmes
from sciencecity.programmes.services import assignment as assignment_services
from sciencecity.programmes.services import reviews as review_services

router = Router(tags=["programmes: review"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


def _require_officer(request) -> None:
    permissions.require(can_manage_programmes(request.user))


class AssignmentOut(Schema):
    id: int
    application_id: int
    application_reference: str
    expert_id: int
    expert_name: str
    affinity: float
    state: str
    decline_reason: str
    reasons: list[str]

    @staticmethod
    def resolve_application_reference(obj):
        return obj.application.reference

    @staticmethod
    def resolve_expert_name(obj):
        return obj.expert.name

    @staticmethod
    def resolve_reasons(obj):
        return assignment_services.reason_texts(obj.reasons)


class JobOut(Schema):
    id: int
    call_id: int
    state: str
    progress: float
    stage: str
    message: str
    result: dict[str, Any]
    created_at: dt.datetime


class ReviewOut(Schema):
    total: float
    scores: dict[str, float]
    comment: str
    conflict_flagged: bool
    submitted_at: dt.datetime | None


class ReviewerAssignmentOut(Schema):
    """What a reviewer sees: in blind calls no applicant organisation, person or team."""

    id: int
    state: str
    call_code: str
    blind: bool
    reference: str
    title: str
    abstract: str
    keywords: str
    applicant_organisation: str | None
    applicant: str | None
    team: list[str] | None
    review: ReviewOut | None


def _reviewer_view(assignment: Assignment) -> dict[str, Any]:
    application = assignment.application
    blind = application.call.blind_review
    review = getattr(assignment, "review", None) if assignment.state == "submitted" else None
    return {
        "id": assignment.pk, "state": assignment.state, "call_code": application.call.code, "blind": blind,
        "reference": application.reference, "title": application.title, "abstract": application.abstract,
        "keywords": application.keywords,
        "applicant_organisation": None if blind else application.organisation.name,
        "applicant": None if blind or not application.applicant_id else application.applicant.name,
        "team": None if blind else [m.person.name for m in application.members.all()],
        "review": review,
    }


class ReviewIn(InputSchema):
    scores: dict[str, float] = {}  # half points allowed (7.5); other fractions are refused naming the step
    comment: str = ""
    conflict_flagged: bool = False


class DeclineIn(InputSchema):
    reason: DeclineReason
    note: str = ""


class DeclineOut(Schema):
    declined: int
    replacement_expert_id: int | None


class RankingRowOut(Schema):
    rank: int | None  # None: not reviewed yet
    application_id: int
    reference: str
    title: str
    reviews: int
    score: float | None
    raw_mean: float | None
    minimum: float | None
    maximum: float | None
    spread: float | None


@router.get("/calls/{call_id}/assignments", response={200: list[AssignmentOut], **ERRORS})
def call_assignments(request, call_id: int):
    _require_officer(request)
    call = get_object_or_404(Call, pk=call_id)
    return list(Assignment.objects.filter(application__call=call).select_related("application", "expert")
                .order_by("application__reference", "-affinity", "id"))


@router.post("/calls/{call_id}/assignment-jobs", response={201: JobOut, **ERRORS})
def assignment_job_run(request, call_id: int):
    _require_officer(request)
    call = get_object_or_404(Call, pk=call_id)
    return Status(201, assignment_services.assignment_run(actor=request.user, call=call))


@router.get("/assignment-jobs/{job_id}", response={200: JobOut, **ERRORS})
def assignment_job(request, job_id: int):
    _require_officer(request)
    return get_object_or_404(AssignmentJob, pk=job_id)


@router.get("/reviews", response={200: list[ReviewerAssignmentOut], **ERRORS})
def my_reviews(request):
    permissions.require(access.is_reviewer(request.user))
    assignments = review_services.my_assignments(request.user).prefetch_related("application__members__person")
    return [_reviewer_view(a) for a in assignments]


def _assignment_for_reviewer(request, assignment_id: int) -> Assignment:
    assignment = get_object_or_404(Assignment.objects.select_related("application__call"), pk=assignment_id)
    permissions.require(access.can_review(request.user, assignment))
    return assignment


@router.get("/reviews/{assignment_id}", response={200: ReviewerAssignmentOut, **ERRORS})
def review_detail(request, assignment_id: int):
    return _reviewer_view(_assignment_for_reviewer(request, assignment_id))


@router.post("/reviews/{assignment_id}", response={200: ReviewerAssignmentOut, **ERRORS})
def review_submit(request, assignment_id: int, payload: ReviewIn):
    assignment = _assignment_for_reviewer(request, assignment_id)
    review_services.review_submit(actor=request.user, assignment=assignment, scores=payload.scores,
                                  comment=payload.comment, conflict_flagged=payload.conflict_flagged)
    assignment = Assignment.objects.select_related("application__call", "review").get(pk=assignment.pk)
    return _reviewer_view(assignment)


@router.post("/reviews/{assignment_id}/decline", response={200: DeclineOut, **ERRORS})
def review_decline(request, assignment_id: int, payload: DeclineIn):
    assignment = _assignment_for_reviewer(request, assignment_id)
    replacement = review_services.review_decline(actor=request.user, assignment=assignment,
                                                 reason=payload.reason, note=payload.note)
    return {"declined": assignment.pk, "replacement_expert_id": replacement.expert_id if replacement else None}


@router.get("/calls/{call_id}/ranking", response={200: list[RankingRowOut], **ERRORS})
def call_ranking(request, call_id: int):
    _require_officer(request)
    call = get_object_or_404(Call, pk=call_id)
    return [{"rank": row.rank, "application_id": row.application.pk, "reference": row.application.reference,
             "title": row.application.title, "reviews": row.count, "score": row.score, "raw_mean": row.mean,
             "minimum": row.minimum, "maximum": row.maximum, "spread": row.spread}
            for row in selectors.ranking(call)]
