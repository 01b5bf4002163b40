"""Programme API, calls side: calls (public list of open calls), demands, applications (own
organisation / officers), submission with the eligibility problems, the integrity list (bureau),
and the registry pickers used by the application form. Same permissions as the pages."""


import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sciencecity.core import permissions
from sciencecity.core.api import PUBLIC_AUTH, ErrorResponse, InputSchema, Line, PageNumber, error
from sciencecity.programmes import permissions as access
from sciencecity.programmes import selectors
from sciencecity.programmes.choices import CallState, Mechanism
from sciencecity.programmes.models import Application, Call, IntegrityEntry
from sciencecity.programmes.services import applications as application_services
from sciencecity.programmes.services import calls as call_services
from sciencecity.programmes.services import integrity as integrity_services
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.models import Organisation, Person, Sector

router = Router(tags=["programmes"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


# --- calls
class CriterionSchema(Schema):
    name: str
    weight: Decimal = Field(..., gt=0)
    max_score: int = Field(10, ge=1, le=100)
    descriptors: str = ""


class FormFieldSchema(Schema):
    name: str = Field(..., pattern=r"^[-a-zA-Z0-9_]+$", max_length=40)
    label: str
    required: bool = False


class CallOut(Schema):
    id: int
    code: str
    title: str
    mechanism: str
    state: str
    opens_on: dt.date
    closes_on: dt.date
    topic_id: int | None
    max_request: Decimal | None
    reward: Decimal | None


class CallDetailOut(CallOut):
    description: str
    review_until: dt.date | None
    panel_on: dt.date | None
    notify_on: dt.date | None
    eligible_kinds: list[str]
    eligible_levels: list[str]
    eligible_districts: list[str]
    total_budget: Decimal | None
    form_fields: list[FormFieldSchema]
    criteria: list[CriterionSchema]
    reviews_per_application: int
    blind_review: bool
    acceptance_criteria: str
    teams_funded: int
    keep_per_round: int

    @staticmethod
    def resolve_criteria(obj):
        return list(obj.criteria.all())


class CallIn(InputSchema):
    title: str
    mechanism: Mechanism
    opens_on: dt.date
    closes_on: dt.date
    criteria: list[CriterionSchema] = Field(..., min_length=1)
    code: str = ""
    description: str = ""
    topic_id: int | None = None
    review_until: dt.date | None = None
    panel_on: dt.date | None = None
    notify_on: dt.date | None = None
    eligible_kinds: list[str] = []
    eligible_levels: list[str] = []
    eligible_districts: list[str] = []
    max_request: Decimal | None = None
    total_budget: Decimal | None = None
    form_fields: list[FormFieldSchema] = []
    reviews_per_application: int = Field(3, ge=1)
    min_load: int = Field(0, ge=0)
    max_load: int = Field(6, ge=1)
    require_senior: bool = False
    blind_review: bool = False
    conflict_years: int = Field(3, ge=0)
    alliance_conflicts: bool = False
    normalise_scores: bool = True
    reward: Decimal | None = None
    acceptance_criteria: str = ""
    teams_funded: int = Field(1, ge=1)
    keep_per_round: int = Field(1, ge=1)


class TransitionIn(InputSchema):
    state: CallState
    reason: str = ""


class CallFilters(InputSchema):
    state: CallState | None = None
    mechanism: Mechanism | None = None


@router.get("/calls", response={200: list[CallOut], **ERRORS}, auth=PUBLIC_AUTH,
            summary="Calls (public: the open ones; bureau officers may filter by state)")
@paginate(PageNumber)
def call_list(request, filters: Query[CallFilters]):
    user = request.auth
    if access.can_manage_programmes(user) and filters.state:
        qs = selectors.call_queryset(user, {"state": filters.state})
    else:
        qs = selectors.open_calls()
    if filters.mechanism:
        qs = qs.filter(mechanism=filters.mechanism)
    return qs


def _visible_call(request, pk: int) -> Call:
    call = get_object_or_404(Call.objects.prefetch_related("criteria"), pk=pk)
    if call.state == CallState.DRAFT and not access.can_manage_programmes(request.auth):
        raise Http404
    return call


@router.get("/calls/{int:pk}", response={200: CallDetailOut, **ERRORS}, auth=PUBLIC_AUTH, summary="One call")
def call_detail(request, pk: int):
    return _visible_call(request, pk)


@router.post("/calls", response={201: CallDetailOut, **ERRORS}, summary="Create a call (bureau)")
def call_create(request, payload: CallIn):
    permissions.require(access.can_manage_programmes(request.auth))
    data = payload.dict()
    criteria = data.pop("criteria")
    topic_id = data.pop("topic_id")
    if topic_id is not None:
        from sciencecity.programmes.models import Topic

        data["topic"] = get_object_or_404(Topic, pk=topic_id)
    call = call_services.call_create(actor=request.auth, data=data, criteria=criteria)
    return Status(201, _visible_call(request, call.pk))


@router.post("/calls/{int:pk}/transition", response={200: CallDetailOut, **ERRORS},
             summary="Move a call to its next state (bureau)")
def call_transition(request, pk: int, payload: TransitionIn):
    permissions.require(access.can_manage_programmes(request.auth))
    call = get_object_or_404(Call, pk=pk)
    call_services.call_transition(actor=request.auth, call=call, new=payload.state, reason=payload.reason)
    return _visible_call(request, pk)


# --- demands
class TopicDemandOut(Schema):
    id: int
    code: str
    title: str
    description: str
    organisation_id: int
    organisation_name: str
    sector: str | None
    expected_results: str
    budget: Decimal | None
    deadline: dt.date | None
    status: str
    topic_ids: list[int]

    @staticmethod
    def resolve_organisation_name(obj):
        return obj.organisation.name

    @staticmethod
    def resolve_sector(obj):
        return obj.sector.code if obj.sector_id else None

    @staticmethod
    def resolve_topic_ids(obj):
        return [t.pk for t in obj.topics.all()]


class TopicDemandIn(InputSchema):
    title: str
    description: str
    sector: str | None = None
    expected_results: str = ""
    budget: Decimal | None = None
    deadline: dt.date | None = None


class DemandFilters(InputSchema):
    q: Line | None = None
    status: str | None = None
    sector: str | None = None
    organisation: int | None = None


def _require_programmes(request) -> None:
    permissions.require(access.can_use_programmes(request.auth))


@router.get("/demands", response={200: list[TopicDemandOut], **ERRORS},
            summary="Technology demands (officers: all; others: their organisation's)")
@paginate(PageNumber)
def demand_list(request, filters: Query[DemandFilters]):
    _require_programmes(request)
    return selectors.demand_queryset(request.auth, filters.dict(exclude_none=True))


@router.post("/demands", response={201: TopicDemandOut, **ERRORS}, summary="Submit a technology demand")
def demand_create(request, payload: TopicDemandIn):
    permissions.require(access.can_submit_demand(request.auth))
    data = payload.dict()
    data["sector"] = get_object_or_404(Sector, code=data["sector"]) if data.get("sector") else None
    demand = call_services.demand_submit(actor=request.auth, organisation=acting_organisation(request), data=data)
    return Status(201, selectors.demand_queryset(request.auth).get(pk=demand.pk))


# --- applications
class BudgetLine(Schema):
    category: str
    amount: Decimal


class WorkSchema(Schema):
    title: str
    year: int
    venue: str = ""
    why: str


class ApplicationOut(Schema):
    id: int
    reference: str
    call_id: int
    organisation_id: int
    applicant_id: int | None
    title: str
    abstract: str
    keywords: str
    requested_amount: Decimal
    budget_lines: list[dict[str, Any]]
    answers: dict[str, Any]
    representative_works: list[dict[str, Any]]
    member_ids: list[int]
    state: str
    version: int
    submitted_at: dt.datetime | None

    @staticmethod
    def resolve_member_ids(obj):
        return [m.person_id for m in obj.members.all()]


class ApplicationIn(InputSchema):
    call_id: int
    title: str
    abstract: str
    requested_amount: Decimal = Field(..., ge=0)
    keywords: str = ""
    applicant_id: int | None = None
    member_ids: list[int] = []
    budget_lines: list[BudgetLine] = []
    answers: dict[str, str] = {}
    representative_works: list[WorkSchema] = []


class ApplicationFilters(InputSchema):
    call: int | None = None
    state: str | None = None
    q: Line | None = None


@router.get("/applications", response={200: list[ApplicationOut], **ERRORS},
            summary="Applications (officers: all; applicants: their organisation's)")
@paginate(PageNumber)
def application_list(request, filters: Query[ApplicationFilters]):
    _require_programmes(request)
    return selectors.application_queryset(request.auth, filters.dict(exclude_none=True)).prefetch_related("members")


@router.post("/applications", response={201: ApplicationOut, **ERRORS},
             summary="Start a draft application for the acting organisation")
def application_create(request, payload: ApplicationIn):
    permissions.require(access.can_apply(request.auth))
    call = get_object_or_404(Call, pk=payload.call_id)
    if call.state == CallState.DRAFT:
        raise Http404
    organisation = acting_organisation(request)
    problems = selectors.call_eligibility_problems(call, organisation)
    if problems:
        return error(400, "ineligible", _("This organisation cannot apply to the call."), problems)
    data = payload.dict()
    people = {p.pk: p for p in Person.objects.filter(pk__in=[*data["member_ids"], data["applicant_id"] or 0])}
    missing = sorted({*data["member_ids"], *([data["applicant_id"]] if data["applicant_id"] else [])} - set(people))
    if missing:
        return error(400, "invalid", _("Unknown people."), [{"field": "member_ids", "message": str(missing)}])
    application = application_services.application_create(
        actor=request.auth, call=call, organisation=organisation,
        data={"title": data["title"], "abstract": data["abstract"], "keywords": data["keywords"],
              "requested_amount": data["requested_amount"], "answers": data["answers"],
              "budget_lines": [{"category": b["category"], "amount": str(b["amount"])} for b in data["budget_lines"]],
              "representative_works": data["representative_works"],
              "applicant": people.get(data["applicant_id"])},
        members=[people[i] for i in data["member_ids"]])
    return Status(201, application)


@router.post("/applications/{int:pk}/submit", response={200: ApplicationOut, **ERRORS},
             summary="Submit (400 with the eligibility problems in details)")
def application_submit(request, pk: int):
    _require_programmes(request)
    application = get_object_or_404(Application, pk=pk)
    permissions.require(access.can_view_application(request.auth, application))
    try:
        application = application_services.application_submit(actor=request.auth, application=application)
    except ValidationError as exc:
        if getattr(exc, "code", None) == "ineligible" or not hasattr(exc, "error_dict"):
            return error(400, "ineligible", _("The application was not submitted."), exc.messages)
        raise
    return application


# --- integrity list
class IntegrityOut(Schema):
    id: int
    person_id: int | None
    organisation_id: int | None
    reason: str
    source: str
    start_date: dt.date
    end_date: dt.date | None
    in_force: bool

    @staticmethod
    def resolve_in_force(obj, context):
        today = dt.date.today()
        return obj.start_date <= today and (obj.end_date is None or obj.end_date >= today)


class IntegrityIn(InputSchema):
    person_id: int | None = None
    organisation_id: int | None = None
    reason: str
    source: str
    start_date: dt.date
    end_date: dt.date | None = None


@router.get("/integrity", response={200: list[IntegrityOut], **ERRORS}, summary="Integrity list (bureau)")
@paginate(PageNumber)
def integrity_list(request):
    permissions.require(access.can_manage_programmes(request.auth))
    return IntegrityEntry.objects.all()


@router.post("/integrity", response={201: IntegrityOut, **ERRORS}, summary="Add an integrity-list entry (bureau)")
def integrity_create(request, payload: IntegrityIn):
    permissions.require(access.can_manage_programmes(request.auth))
    person = get_object_or_404(Person, pk=payload.person_id) if payload.person_id else None
    organisation = get_object_or_404(Organisation, pk=payload.organisation_id) if payload.organisation_id else None
    entry = integrity_services.integrity_entry_add(actor=request.auth, person=person, organisation=organisation,
                                                   reason=payload.reason, source=payload.source,
                                                   start_date=payload.start_date, end_date=payload.end_date)
    return Status(201, entry)


# --- pickers for the forms
class PickOut(Schema):
    id: int
    label: str


def _person_label(person: Person) -> str:
    current = [a.organisation.name for a in person.affiliations.all() if a.is_current()]
    return f"{person.name}（{current[0]}）" if current else person.name


@router.get("/people-search", response={200: list[PickOut], **ERRORS}, url_name="programmes_people_search",
            summary="Registry people by name or code (for team members)")
def people_search(request, q: Line = ""):
    _require_programmes(request)
    return [{"id": p.pk, "label": _person_label(p)} for p in selectors.person_search(q)]


@router.get("/organisation-search", response={200: list[PickOut], **ERRORS},
            url_name="programmes_organisation_search", summary="Registry organisations by name or code")
def organisation_search(request, q: Line = ""):
    _require_programmes(request)
    return [{"id": o.pk, "label": o.name} for o in selectors.organisation_search(q)]



