"""Programme API: panel decisions, notification, public disclosure, funded projects and milestones."""


import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.errors import HttpError

from sciencecity.core import permissions
from sciencecity.core.api import PUBLIC_AUTH, ErrorResponse, InputSchema
from sciencecity.programmes import permissions as access
from sciencecity.programmes import selectors
from sciencecity.programmes.models import Application, Call, FundedProject, ProjectMilestone
from sciencecity.programmes.permissions import can_manage_programmes
from sciencecity.programmes.services import decisions as decision_services
from sciencecity.programmes.services import projects as project_services
from sciencecity.registry.models import Person

router = Router(tags=["programmes"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


class RankedDecisionOut(Schema):
    application: int
    reference: str
    title: str
    organisation: str
    requested_amount: Decimal
    score: float | None
    mean: float | None
    spread: float | None
    reviews: int
    outcome: str | None
    amount: Decimal | None
    votes_for: int | None
    votes_against: int | None
    votes_abstain: int | None
    rationale: str | None


class DecisionIn(InputSchema):
    application: int
    outcome: str
    amount: Decimal | None = None
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0
    rationale: str = ""


class NotifyIn(InputSchema):
    start_date: dt.date
    end_date: dt.date
    managers: dict[int, str]  # application id → person code of the 项目经理人


class MilestoneOut(Schema):
    id: int
    order: int
    title: str
    deliverables: str
    due_date: dt.date
    tranche: Decimal
    state: str
    paid: Decimal | None = None

    @staticmethod
    def resolve_paid(obj):
        payment = getattr(obj, "payment", None)
        return payment.amount if payment else None


class ProjectOut(Schema):
    id: int
    code: str
    title: str
    organisation: str
    call: str
    mechanism: str
    amount: Decimal
    manager: str | None
    start_date: dt.date
    end_date: dt.date
    state: str
    is_frontier: bool
    outcome: str
    milestones: list[MilestoneOut]

    @staticmethod
    def resolve_title(obj):
        return obj.application.title

    @staticmethod
    def resolve_organisation(obj):
        return obj.application.organisation.name

    @staticmethod
    def resolve_call(obj):
        return obj.application.call.code

    @staticmethod
    def resolve_mechanism(obj):
        return obj.application.call.mechanism

    @staticmethod
    def resolve_manager(obj):
        return obj.manager.name if obj.manager_id else None

    @staticmethod
    def resolve_milestones(obj):
        return list(obj.milestones.all())


class DisclosureOut(Schema):
    """Public data only: no reviewers, scores or votes."""

    call: str
    call_title: str
    mechanism: str
    project: str
    organisation: str
    title: str
    amount: Decimal
    date: dt.date
    state: str


class MilestoneActionIn(InputSchema):
    text: str = ""


class MilestoneRowIn(InputSchema):
    title: str
    deliverables: str = ""
    due_date: dt.date
    tranche: Decimal = Decimal(0)


class MilestonePlanIn(InputSchema):
    milestones: list[MilestoneRowIn]
    reason: str


class PromoteIn(InputSchema):
    amount: Decimal
    manager: str  # person code of the 项目经理人
    reason: str
    start_date: dt.date | None = None
    end_date: dt.date | None = None


def _call_for_officer(request, pk: int) -> Call:
    permissions.require(can_manage_programmes(request.auth))
    return get_object_or_404(Call, pk=pk)


def _decision_rows(call: Call) -> list[dict]:
    panel = decision_services.current_panel(call)
    decisions = {d.application_id: d for d in panel.decisions.all()} if panel else {}
    rows = []
    for row in selectors.ranking_rows(call):
        a, d = row.application, decisions.get(row.application.pk)
        rows.append({"application": a.pk, "reference": a.reference, "title": a.title,
                     "organisation": a.organisation.name, "requested_amount": a.requested_amount, "score": row.score,
                     "mean": row.mean, "spread": row.spread, "reviews": row.count, "outcome": d.outcome if d else None,
                     "amount": d.amount if d else None, "votes_for": d.votes_for if d else None,
                     "votes_against": d.votes_against if d else None, "votes_abstain": d.votes_abstain if d else None,
                     "rationale": d.rationale if d else None})
    return rows


@router.get("/calls/{pk}/decisions", response={200: list[RankedDecisionOut], **ERRORS})
def decisions_list(request, pk: int):
    """The panel's ranked list with the recorded decisions (bureau)."""
    return _decision_rows(_call_for_officer(request, pk))


@router.post("/calls/{pk}/decisions", response={200: list[RankedDecisionOut], **ERRORS})
def decisions_record(request, pk: int, payload: list[DecisionIn]):
    """Record decisions of the current panel (outcome, amount, votes, rationale); all or none."""
    from django.db import transaction

    call = _call_for_officer(request, pk)
    with transaction.atomic():
        for item in payload:
            application = get_object_or_404(call.applications, pk=item.application)
            decision_services.decision_record(actor=request.auth, call=call, application=application,
                                              data=item.dict(exclude={"application"}))
    return _decision_rows(call)


@router.post("/calls/{pk}/notify", response={200: list[ProjectOut], **ERRORS})
def decisions_notify(request, pk: int, payload: NotifyIn):
    """Decide and notify: funded applications become projects with their project manager."""
    call = _call_for_officer(request, pk)
    people = {p.code: p for p in Person.objects.filter(code__in=list(payload.managers.values()))}
    managers = {int(k): people[v] for k, v in payload.managers.items() if v in people}
    return decision_services.decisions_notify(actor=request.auth, call=call, managers=managers,
                                              start_date=payload.start_date, end_date=payload.end_date)


@router.get("/disclosure", response={200: list[DisclosureOut], **ERRORS}, auth=PUBLIC_AUTH)
def disclosure(request):
    """资金公示 (public)."""
    return [{"call": p.application.call.code, "call_title": p.application.call.title,
             "mechanism": p.application.call.mechanism, "project": p.code,
             "organisation": p.application.organisation.name, "title": p.application.title, "amount": p.amount,
             "date": p.start_date, "state": p.state} for p in decision_services.disclosure_rows()]


@router.get("/projects", response={200: list[ProjectOut], **ERRORS})
def project_list(request):
    """Funded projects: all for the bureau; the organisation's own (and managed ones) for others."""
    permissions.require(permissions.is_business_user(request.auth))
    return list(project_services.visible_projects(request.auth).prefetch_related("milestones__payment"))


@router.post("/projects/{pk}/milestones/{mid}/{action}", response={200: MilestoneOut, **ERRORS})
def milestone_action(request, pk: int, mid: int, action: str, payload: MilestoneActionIn | None = None):
    """submit (text = report) / accept (releases the tranche) / reject (text = note)."""
    project = get_object_or_404(FundedProject, pk=pk)
    permissions.require(access.can_view_project(request.auth, project))
    milestone = get_object_or_404(ProjectMilestone, pk=mid, project=project)
    if action not in project_services.MILESTONE_ACTIONS:
        raise HttpError(404, "unknown action")
    project_services.milestone_action(actor=request.auth, milestone=milestone, action=action,
                                      text=payload.text if payload else "")
    return ProjectMilestone.objects.select_related("payment").get(pk=milestone.pk)


def _project_out(pk: int) -> FundedProject:
    return (FundedProject.objects.select_related("application__call", "application__organisation", "manager")
            .prefetch_related("milestones__payment").get(pk=pk))


@router.put("/projects/{pk}/milestones", response={200: ProjectOut, **ERRORS})
def milestone_plan_set(request, pk: int, payload: MilestonePlanIn):
    """Replace the pending milestones (bureau or the project manager); the others stay."""
    project = get_object_or_404(FundedProject, pk=pk)
    permissions.require(access.can_view_project(request.auth, project))
    project_services.milestone_plan_set(actor=request.auth, project=project, reason=payload.reason,
                                        milestones=[row.dict() for row in payload.milestones])
    return _project_out(project.pk)


@router.post("/applications/{pk}/promote", response={200: ProjectOut, **ERRORS})
def reserve_promote(request, pk: int, payload: PromoteIn):
    """Fund a reserve-list application of a decided call (bureau)."""
    permissions.require(can_manage_programmes(request.auth))
    application = get_object_or_404(Application, pk=pk)
    project = decision_services.reserve_promote(
        actor=request.auth, application=application, amount=payload.amount, reason=payload.reason,
        manager=Person.objects.filter(code=payload.manager).first() if payload.manager else None,
        start_date=payload.start_date, end_date=payload.end_date)
    return _project_out(project.pk)
