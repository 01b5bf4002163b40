"""Facility time API (``/api/facilities/beamtime/…``): rounds, proposals, feasibility, reviews, allocation,
schedule, reports. The same services and permission checks as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from sciencecity.core import permissions
from sciencecity.core.api import ErrorResponse, InputSchema
from sciencecity.core.jobs import job_status
from sciencecity.facilities.beamtime import permissions as rules
from sciencecity.facilities.beamtime import selectors, services
from sciencecity.facilities.beamtime.choices import AllocationPolicy, Feasibility
from sciencecity.facilities.beamtime.models import BeamtimeRound, ShiftRequest
from sciencecity.facilities.models import Instrument
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.models import Organisation, Person

router = Router(tags=["facilities: beamtime"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


class BeamlineOut(Schema):
    beamline: str
    name: str
    shifts: int
    reserved_shifts: int


class RoundOut(Schema):
    code: str
    title: str
    facility: str
    state: str
    closes_on: dt.date
    schedule_starts_on: dt.date
    policy: str
    beamlines: list[BeamlineOut]
    allocation: dict[str, Any]


def _round_out(round_: BeamtimeRound) -> dict[str, Any]:
    return {"code": round_.code, "title": round_.title, "facility": round_.facility.code, "state": round_.state,
            "closes_on": round_.closes_on, "schedule_starts_on": round_.schedule_starts_on, "policy": round_.policy,
            "allocation": round_.allocation,
            "beamlines": [{"beamline": b.instrument.code, "name": b.instrument.name, "shifts": b.shifts,
                           "reserved_shifts": b.reserved_shifts} for b in round_.beamlines.all()]}


class RoundIn(InputSchema):
    code: str = Field(max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(max_length=200)
    facility: str = Field(max_length=40, description="registry code of the facility")
    closes_on: dt.date
    schedule_starts_on: dt.date
    reviews_per_proposal: int = Field(2, ge=1, le=9)
    max_load: int = Field(6, ge=1, le=200)


class CapacityIn(InputSchema):
    beamline: str = Field(max_length=40, description="instrument code of the end-station")
    shifts: int = Field(ge=0, le=10_950)
    reserved_shifts: int = Field(0, ge=0, le=10_950)


class RequestIn(InputSchema):
    beamline: str = Field(max_length=40)
    shifts: int = Field(ge=1, le=10_950)


class ProposalIn(InputSchema):
    title: str = Field(max_length=300)
    abstract: str = Field(max_length=20_000)
    keywords: str = Field("", max_length=300)
    samples: str = Field(max_length=8000)
    hazards: str = Field(max_length=2000)
    safety_declared: bool
    priority: bool = False
    team: list[str] = Field(default_factory=list, max_length=50, description="registry person codes")
    requests: list[RequestIn] = Field(min_length=1, max_length=50)


class RequestOut(Schema):
    id: int
    beamline: str
    shifts_requested: int
    feasibility: str
    shifts_granted: int | None
    shifts_allocated: int
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


class ProposalOut(Schema):
    reference: str
    round: str
    organisation: str
    title: str
    state: str
    priority: bool
    score: float | None
    rank: int | None
    requests: list[RequestOut]


def _proposal_out(proposal) -> dict[str, Any]:
    return {"reference": proposal.reference, "round": proposal.round.code, "organisation": proposal.organisation.name,
            "title": proposal.title, "state": proposal.state, "priority": proposal.priority, "score": proposal.score,
            "rank": proposal.rank,
            "requests": [{"id": r.pk, "beamline": r.beamline.instrument.code, "shifts_requested": r.shifts_requested,
                          "feasibility": r.feasibility, "shifts_granted": r.shifts_granted,
                          "shifts_allocated": r.shifts_allocated, "starts_at": r.starts_at, "ends_at": r.ends_at}
                         for r in proposal.requests.select_related("beamline__instrument")]}


class FeasibilityIn(InputSchema):
    feasibility: Feasibility
    shifts_granted: int | None = Field(None, ge=0, le=10_950)
    note: str = Field("", max_length=4000)


class BeamtimeReviewIn(InputSchema):
    score: Decimal = Field(ge=1, le=5, max_digits=2, decimal_places=1)
    comment: str = Field(max_length=8000)


class BeamtimeReviewOut(Schema):
    id: int
    proposal: str
    title: str
    state: str
    score: float | None
    comment: str


class AllocateIn(InputSchema):
    policy: AllocationPolicy = AllocationPolicy.OPTIMAL


class ReportIn(InputSchema):
    summary: str = Field(max_length=8000)
    results: str = Field("", max_length=8000)
    publications: str = Field("", max_length=4000)
    shifts_used: int = Field(ge=0, le=10_950)


class SlotOut(Schema):
    beamline: str
    proposal: str
    organisation: str
    shifts: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def _require_user(request) -> None:
    permissions.require(rules.can_use_beamtime(request.user) or permissions.is_officer(request.user))


def _round(code: str) -> BeamtimeRound:
    return get_object_or_404(BeamtimeRound.objects.select_related("facility"), code=code)


def _proposal(request, reference: str):
    proposal = selectors.proposal_for(reference)
    if proposal is None or not rules.can_view_proposal(request.user, proposal):
        raise Http404
    return proposal


@router.get("/rounds", response={200: list[RoundOut], **ERRORS})
def round_list(request):
    _require_user(request)
    return [_round_out(r) for r in selectors.rounds().prefetch_related("beamlines__instrument")]


@router.post("/rounds", response={201: RoundOut, **ERRORS})
def round_create(request, payload: RoundIn):
    data = payload.dict()
    facility = get_object_or_404(Organisation, code=data.pop("facility"))
    return Status(201, _round_out(services.round_create(actor=request.user, facility=facility, data=data)))


@router.get("/rounds/{code}", response={200: RoundOut, **ERRORS})
def round_detail(request, code: str):
    _require_user(request)
    return _round_out(_round(code))


@router.put("/rounds/{code}/beamlines", response={200: RoundOut, **ERRORS})
def round_capacity(request, code: str, payload: CapacityIn):
    round_ = _round(code)
    permissions.require(rules.can_manage_round(request.user, round_))
    instrument = get_object_or_404(Instrument, code=payload.beamline, host=round_.facility)
    services.round_beamline_set(actor=request.user, round_=round_, instrument=instrument, shifts=payload.shifts,
                                reserved_shifts=payload.reserved_shifts)
    return _round_out(round_)


@router.post("/rounds/{code}/proposals", response={201: ProposalOut, **ERRORS})
def proposal_submit(request, code: str, payload: ProposalIn):
    round_ = _round(code)
    organisation = acting_organisation(request)
    permissions.require(rules.can_propose(request.user, organisation))
    lines = {b.instrument.code: b for b in round_.beamlines.select_related("instrument")}
    requests = []
    for item in payload.requests:
        if item.beamline not in lines:
            raise ValidationError({"requests": [_("Beamline %(beamline)s is not offered in this round.") % {
                "beamline": item.beamline}]})
        requests.append((lines[item.beamline], item.shifts))
    people = {p.code: p for p in Person.objects.filter(code__in=payload.team)}
    missing = [c for c in payload.team if c not in people]
    if missing:
        raise ValidationError({"team": [_("Unknown person code(s): %(codes)s") % {"codes": ", ".join(missing[:5])}]})
    data = payload.dict(exclude={"requests", "team"})
    proposal = services.proposal_submit(actor=request.user, round_=round_, organisation=organisation, data=data,
                                        requests=requests, team=[people[c] for c in dict.fromkeys(payload.team)])
    return Status(201, _proposal_out(proposal))


@router.get("/rounds/{code}/proposals", response={200: list[ProposalOut], **ERRORS})
def proposal_list(request, code: str):
    _require_user(request)
    return [_proposal_out(p) for p in selectors.visible_proposals(request.user, _round(code))
            .select_related("round")]


@router.get("/proposals/{reference}", response={200: ProposalOut, **ERRORS})
def proposal_detail(request, reference: str):
    return _proposal_out(_proposal(request, reference))


@router.post("/proposals/{reference}/requests/{request_id}/feasibility", response={200: ProposalOut, **ERRORS})
def feasibility(request, reference: str, request_id: int, payload: FeasibilityIn):
    proposal = _proposal(request, reference)
    item = get_object_or_404(ShiftRequest, pk=request_id, proposal=proposal)
    services.feasibility_assess(actor=request.user, shift_request=item, verdict=payload.feasibility,
                                shifts_granted=payload.shifts_granted, note=payload.note)
    return _proposal_out(proposal)


@router.post("/rounds/{code}/reviewers", response={200: dict[str, int], **ERRORS})
def reviewers_assign(request, code: str):
    return {"assigned": services.reviewers_assign(actor=request.user, round_=_round(code))}


@router.get("/reviews", response={200: list[BeamtimeReviewOut], **ERRORS})
def my_reviews(request):
    permissions.require(rules.is_reviewer(request.user))
    return [{"id": r.pk, "proposal": r.proposal.reference, "title": r.proposal.title, "state": r.state,
             "score": float(r.score) if r.score is not None else None, "comment": r.comment}
            for r in selectors.my_reviews(request.user)]


@router.post("/reviews/{review_id}", response={200: BeamtimeReviewOut, **ERRORS})
def review_submit(request, review_id: int, payload: BeamtimeReviewIn):
    review = get_object_or_404(selectors.my_reviews(request.user), pk=review_id)
    review = services.review_submit(actor=request.user, review=review, score=payload.score, comment=payload.comment)
    return {"id": review.pk, "proposal": review.proposal.reference, "title": review.proposal.title,
            "state": review.state, "score": float(review.score), "comment": review.comment}


@router.post("/rounds/{code}/allocation", response={202: dict[str, Any], **ERRORS})
def allocate(request, code: str, payload: AllocateIn):
    """Queue the allocation job; the answer is the job's status (``GET /api/jobs/{id}``)."""
    job = services.allocation_enqueue(actor=request.user, round_=_round(code), policy=payload.policy)
    return Status(202, job_status(job))


@router.get("/rounds/{code}/schedule", response={200: list[SlotOut], **ERRORS})
def schedule(request, code: str):
    _require_user(request)
    return [{"beamline": row["beamline"].instrument.code, "proposal": s.proposal.reference,
             "organisation": s.proposal.organisation.name, "shifts": s.shifts_allocated, "starts_at": s.starts_at,
             "ends_at": s.ends_at} for row in selectors.schedule(_round(code)) for s in row["slots"]]


@router.put("/proposals/{reference}/report", response={200: dict[str, Any], **ERRORS})
def report(request, reference: str, payload: ReportIn):
    proposal = _proposal(request, reference)
    saved = services.report_submit(actor=request.user, proposal=proposal, data=payload.dict())
    return {"proposal": proposal.reference, "shifts_used": saved.shifts_used, "summary": saved.summary}
