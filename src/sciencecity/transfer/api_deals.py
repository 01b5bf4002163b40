"""Marketplace API, deals side: deals and their transitions, technology contracts (multipart with
the written contract), technology brokers and the incubation pipeline. Same permissions as the
pages (services.deals / services.incubation); a deal of other organisations is 404."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from sciencecity.core import permissions
from sciencecity.core.api import ErrorResponse, InputSchema, PageNumber
from sciencecity.registry.models import Organisation
from sciencecity.transfer import permissions as access
from sciencecity.transfer import selectors
from sciencecity.transfer.choices import ContractType, DealState
from sciencecity.transfer.models import Deal, TechDemand
from sciencecity.transfer.services import deals as services
from sciencecity.transfer.services import incubation as incubation_services

deals_router = Router(tags=["transfer"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


# --- deals
class PartiesOut(Schema):
    seller_id: int
    seller_name: str
    buyer_id: int
    buyer_name: str

    @staticmethod
    def resolve_seller_name(obj):
        return obj.seller.name

    @staticmethod
    def resolve_buyer_name(obj):
        return obj.buyer.name


class DealOut(PartiesOut):
    id: int
    code: str
    state: DealState
    achievement_id: int | None
    demand_id: int | None
    broker_id: int | None
    message: str
    contact_consent: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactOut(Schema):
    organisation: str
    name: str
    email: str
    phone: str


class NoteOut(Schema):
    id: int
    author: str
    text: str
    created_at: dt.datetime

    @staticmethod
    def resolve_author(obj):
        return str(obj.author) if obj.author_id else ""


class DealDetailOut(DealOut):
    actions: list[str]
    contacts: dict[str, ContactOut] | None
    notes: list[NoteOut]

    @staticmethod
    def resolve_notes(obj):
        return list(obj.notes.select_related("author"))


class DealIn(InputSchema):
    achievement_id: int
    message: str = Field("", max_length=2000)
    demand_id: int | None = None
    broker_id: int | None = None
    buyer_id: int | None = Field(None, description="The enterprise acting as buyer (default: the acting one)")


class DealActionIn(InputSchema):
    text: str = Field("", max_length=4000, description="The note (action 'note')")
    reason: str = Field("", max_length=500, description="Why (actions 'decline', 'agree', 'close')")
    broker_id: int | None = Field(None, description="The broker (action 'broker'; null clears it)")


class DealFilters(InputSchema):
    state: DealState | None = None


def _deal(request, pk: int) -> Deal:
    return get_object_or_404(services.deal_queryset(request.auth), pk=pk)


def _deal_detail(request, deal: Deal) -> Deal:
    """The deal with what the user may do next and, after consent, both sides' contacts."""
    user = request.auth
    deal.actions = services.available_actions(user, deal)
    deal.contacts = services.deal_contacts(deal) if access.can_see_contacts(user, deal) else None
    return deal


@deals_router.get("/deals", response={200: list[DealOut], **ERRORS},
                  summary="Deals the user's organisations are party to (bureau: all)")
@paginate(PageNumber)
def deal_list(request, filters: Query[DealFilters]):
    permissions.require(access.can_use_marketplace(request.auth))
    qs = services.deal_queryset(request.auth)
    return qs.filter(state=filters.state) if filters.state else qs


@deals_router.get("/deals/{int:pk}", response={200: DealDetailOut, **ERRORS}, summary="One deal")
def deal_detail(request, pk: int):
    return _deal_detail(request, _deal(request, pk))


@deals_router.post("/deals", response={201: DealDetailOut, **ERRORS},
                   summary="Express interest in an achievement (enterprise users, for their enterprise)")
def deal_create(request, payload: DealIn):
    user = request.auth
    permissions.require(access.can_express_interest(user))
    enterprises = access.enterprise_organisation_ids(user)
    buyer_id = payload.buyer_id or min(enterprises)
    permissions.require(buyer_id in enterprises)
    achievement = get_object_or_404(selectors.achievement_queryset(user), pk=payload.achievement_id)
    demand = get_object_or_404(TechDemand, pk=payload.demand_id) if payload.demand_id else None
    deal = services.deal_express_interest(actor=user, achievement=achievement, buyer=Organisation.objects.get(pk=buyer_id),
                                          message=payload.message, demand=demand, broker=payload.broker_id)
    return Status(201, _deal_detail(request, _deal(request, deal.pk)))


@deals_router.post("/deals/{int:pk}/{action}", response={200: DealDetailOut, **ERRORS},
                   summary="A transition: accept, decline, negotiate, note, agree, close or broker")
def deal_action(request, pk: int, action: str, payload: DealActionIn):
    user, deal = request.auth, _deal(request, pk)
    if action in ("accept", "negotiate"):
        getattr(services, f"deal_{action}")(actor=user, deal=deal)
    elif action in ("decline", "agree", "close"):
        getattr(services, f"deal_{action}")(actor=user, deal=deal, reason=payload.reason)
    elif action == "note":
        services.deal_note_add(actor=user, deal=deal, text=payload.text)
    elif action == "broker":
        services.deal_broker_set(actor=user, deal=deal, broker=payload.broker_id)
    else:
        raise Http404
    return _deal_detail(request, _deal(request, pk))


# --- contracts
class ContractOut(PartiesOut):
    id: int
    deal_id: int | None
    contract_type: ContractType
    title: str
    amount: Decimal
    technical_income: Decimal
    registration_number: str
    signed_on: dt.date
    registered_on: dt.date
    is_synthetic: bool


class ContractIn(InputSchema):
    contract_type: ContractType
    title: str = Field(..., max_length=200)
    amount: Decimal = Field(..., description="Contract amount, 10k CNY")
    technical_income: Decimal = Field(..., description="技术性收入, 10k CNY (≤ amount)")
    registration_number: str
    signed_on: dt.date
    registered_on: dt.date
    deal_id: int | None = Field(None, description="The agreed deal (its parties are the contract's)")
    seller_id: int | None = Field(None, description="Without a deal: the seller (an organisation you act for)")
    buyer_id: int | None = Field(None, description="Without a deal: the buyer")


@deals_router.get("/contracts", response={200: list[ContractOut], **ERRORS},
                  summary="Registered technology contracts (bureau: all; others: their organisations')")
@paginate(PageNumber)
def contract_list(request):
    permissions.require(access.can_use_marketplace(request.auth))
    return services.contract_queryset(request.auth)


@deals_router.post("/contracts", response={201: ContractOut, **ERRORS},
                   summary="Register a technology contract (multipart: fields and contract_file), filed by the seller")
def contract_create(request, payload: Form[ContractIn], contract_file: File[UploadedFile] = None):
    user = request.auth
    data = payload.dict()
    deal = _deal(request, payload.deal_id) if payload.deal_id else None
    seller = buyer = None
    if deal is None:
        permissions.require(access.can_file_contract(user))
        seller = get_object_or_404(Organisation, pk=payload.seller_id) if payload.seller_id else None
        buyer = get_object_or_404(Organisation, pk=payload.buyer_id) if payload.buyer_id else None
    contract = services.contract_register(actor=user, data=data, contract_file=contract_file, deal=deal,
                                          seller=seller, buyer=buyer)
    return Status(201, services.contract_queryset(user).get(pk=contract.pk))


# --- brokers
class BrokerOut(Schema):
    id: int
    name: str
    deals_by_state: dict[str, int]
    open_deals: int
    contracts_registered: int
    amount_brokered: Decimal


@deals_router.get("/brokers", response={200: list[BrokerOut], **ERRORS},
                  summary="Technology brokers (技术经纪人) with their pipeline and figures")
def broker_list(request):
    permissions.require(access.can_use_marketplace(request.auth))
    return [{"id": r.person.pk, "name": r.person.name, "deals_by_state": r.by_state, "open_deals": r.open_deals,
             "contracts_registered": r.registered, "amount_brokered": r.amount} for r in selectors.broker_figures()]


# --- incubation
class StageCountOut(Schema):
    stage: str
    label: str
    count: int


class CohortOut(Schema):
    year: int
    entered: int
    graduated: int
    rate: float | None


class StartupOut(Schema):
    organisation_id: int
    name: str
    stage: str
    carrier_id: int | None
    achievement_id: int | None
    stages: list[dict]


class IncubationOut(Schema):
    stages: list[StageCountOut]
    cohorts: list[CohortOut]
    graduation_rate: float | None
    startups: list[StartupOut]


@deals_router.get("/incubation", response={200: IncubationOut, **ERRORS},
                  summary="The incubation pipeline: start-ups per stage, graduation by cohort, start-ups with their path")
def incubation(request):
    permissions.require(access.can_view_incubation(request.auth))
    cohorts = incubation_services.cohorts()
    return {
        "stages": [{"stage": s, "label": label, "count": n} for s, label, n in incubation_services.stage_counts()],
        "cohorts": [{"year": c.year, "entered": c.entered, "graduated": c.graduated, "rate": c.rate} for c in cohorts],
        "graduation_rate": incubation_services.graduation_rate(cohorts),
        "startups": [{"organisation_id": s.organisation_id, "name": s.organisation.name, "stage": s.stage,
                      "carrier_id": s.carrier_id, "achievement_id": s.achievement_id,
                      "stages": [{"stage": st.stage, "carrier_id": st.carrier_id, "entered_on": st.entered_on,
                                  "left_on": st.left_on} for st in s.stages.all()]}
                     for s in incubation_services.startups()],
    }
