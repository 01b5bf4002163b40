"""Marketplace API, listings side: achievements and demands (read, post, change), their explained
matches, feedback on suggestions, search and notifications. The visibility and confidentiality
rules are the pages' (``transfer.selectors``): an invisible listing is 404, the full text of a
confidential demand is ``null`` for non-parties, contacts are never returned (a deal shares them)."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sciencecity.core import permissions
from sciencecity.core.api import PUBLIC_AUTH, ErrorResponse, InputSchema, Line, PageNumber
from sciencecity.registry.acting import acting_organisation_among
from sciencecity.transfer import permissions as access
from sciencecity.transfer import selectors
from sciencecity.transfer.choices import (
    FeedbackLabel,
    IpStatus,
    IpType,
    ListingStatus,
    TransferMode,
    Visibility,
)
from sciencecity.transfer.models import Achievement, TechDemand
from sciencecity.transfer.services import listings, matching

listings_router = Router(tags=["transfer"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


def _caller(context: Any) -> Any:
    request = (context or {}).get("request")
    return getattr(request, "auth", None)


class AchievementOut(Schema):
    id: int
    code: str
    owner_id: int
    owner_name: str
    title: str
    abstract: str
    sectors: list[str]
    keywords: str
    trl: int
    modes: list[str]
    visibility: str
    status: str
    is_synthetic: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    details: dict[str, str] | None = Field(None, description="IP and asking terms: logged-in business users only")

    @staticmethod
    def resolve_owner_name(obj):
        return obj.owner.name

    @staticmethod
    def resolve_sectors(obj):
        return [s.code for s in obj.sectors.all()]

    @staticmethod
    def resolve_details(obj, context):
        if not permissions.is_business_user(_caller(context)):
            return None
        return {name: getattr(obj, name) for name in ("ip_type", "ip_number", "ip_status", "ip_holders",
                                                      "inventors", "asking_terms")}


class DemandOut(Schema):
    id: int
    code: str
    organisation_id: int
    organisation_name: str
    title: str
    public_summary: str
    description: str | None = Field(None, description="null unless the caller may read the full text")
    confidential: bool
    sectors: list[str]
    keywords: str
    budget_min: Decimal | None
    budget_max: Decimal | None
    deadline: dt.date | None
    modes: list[str]
    min_trl: int | None
    status: str
    is_synthetic: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_organisation_name(obj):
        return obj.organisation.name

    @staticmethod
    def resolve_sectors(obj):
        return [s.code for s in obj.sectors.all()]

    @staticmethod
    def resolve_description(obj, context):
        user = _caller(context)
        if not obj.confidential or obj.organisation_id in permissions.organisation_ids(user):
            return obj.description
        return obj.description if access.can_read_demand_description(user, obj) else None


class AchievementIn(InputSchema):
    title: str
    abstract: str
    sectors: list[str] = []
    keywords: str = ""
    trl: int = Field(..., ge=1, le=9)
    ip_type: IpType = IpType.NONE
    ip_number: str = ""
    ip_status: IpStatus | None = None
    ip_holders: str = ""
    inventors: str = ""
    modes: list[TransferMode] = []
    asking_terms: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    visibility: Visibility = Visibility.PUBLIC
    invited: list[str] = Field([], description="registry codes of the invited organisations")


class AchievementPatch(InputSchema):
    title: str | None = None
    abstract: str | None = None
    sectors: list[str] | None = None
    keywords: str | None = None
    trl: int | None = Field(None, ge=1, le=9)
    ip_type: IpType | None = None
    ip_number: str | None = None
    ip_status: IpStatus | None = None
    ip_holders: str | None = None
    inventors: str | None = None
    modes: list[TransferMode] | None = None
    asking_terms: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    visibility: Visibility | None = None
    invited: list[str] | None = None
    status: ListingStatus | None = None
    reason: str = ""


class DemandIn(InputSchema):
    title: str
    public_summary: str
    description: str = ""
    confidential: bool = False
    sectors: list[str] = []
    keywords: str = ""
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    deadline: dt.date | None = None
    modes: list[TransferMode] = []
    min_trl: int | None = Field(None, ge=1, le=9)


class DemandPatch(InputSchema):
    title: str | None = None
    public_summary: str | None = None
    description: str | None = None
    confidential: bool | None = None
    sectors: list[str] | None = None
    keywords: str | None = None
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    deadline: dt.date | None = None
    modes: list[TransferMode] | None = None
    min_trl: int | None = Field(None, ge=1, le=9)
    status: ListingStatus | None = None
    reason: str = ""


class MatchOut(Schema):
    kind: str
    id: int
    code: str
    title: str
    score: float
    shared_terms: list[str]
    title_html: str
    snippet_html: str
    reasons: list[str]
    url: str


class FeedbackIn(InputSchema):
    label: FeedbackLabel
    demand_id: int | None = None
    achievement_id: int | None = None


class FeedbackOut(Schema):
    id: int
    label: str
    demand_id: int | None
    achievement_id: int | None


class NotificationOut(Schema):
    id: int
    message: str
    url: str
    read_at: dt.datetime | None
    created_at: dt.datetime


class ListFilters(InputSchema):
    q: Line | None = None
    sector: str | None = None
    mine: bool = False


Relaxable = Literal["trl", "modes", "sectors"]
RELAX_HELP = "Hard filters to drop: trl (minimum TRL), modes (transfer modes), sectors (field); repeatable."
RELAX_QUERY = Query([], description=RELAX_HELP)


def _visible_achievement(user: Any, pk: int) -> Achievement:
    return get_object_or_404(selectors.achievement_queryset(user).select_related("owner")
                             .prefetch_related("sectors"), pk=pk)


def _visible_demand(user: Any, pk: int) -> TechDemand:
    return get_object_or_404(selectors.demand_queryset(user).select_related("organisation")
                             .prefetch_related("sectors"), pk=pk)


def _owned(user: Any, listing: Any, may_edit) -> Any:
    """``listing`` when ``user`` may edit it (its owner's side); 403 otherwise."""
    permissions.require(may_edit(user, listing))
    return listing


def _patch(payload: Any) -> dict[str, Any]:
    """A PATCH body as a service's keywords: the fields given (``data``) and the ``reason``."""
    data = payload.dict(exclude_unset=True)
    return {"data": data, "reason": data.pop("reason", "")}


def _explained(found: dict[str, list[Any]]) -> dict[str, list[dict[str, Any]]]:
    return {kind: [r.as_dict() for r in results] for kind, results in found.items()}


# --- achievements
@listings_router.get("/achievements", response={200: list[AchievementOut], **ERRORS}, auth=PUBLIC_AUTH,
                     summary="Achievements the caller may see")
@paginate(PageNumber)
def achievement_list(request, filters: Query[ListFilters]):
    user = request.auth
    return selectors.achievement_list(user, filters.dict(exclude_none=True))


@listings_router.post("/achievements", response={201: AchievementOut, **ERRORS}, summary="Post an achievement")
def achievement_create(request, payload: AchievementIn):
    user = request.auth
    permissions.require(access.can_create_achievement(user))
    organisation = acting_organisation_among(request, permissions.organisation_ids(user))
    achievement = listings.achievement_create(actor=user, organisation=organisation, data=payload.dict())
    return Status(201, _visible_achievement(user, achievement.pk))


@listings_router.get("/achievements/{int:pk}", response={200: AchievementOut, **ERRORS}, auth=PUBLIC_AUTH,
                     summary="One achievement")
def achievement_detail(request, pk: int):
    return _visible_achievement(request.auth, pk)


@listings_router.patch("/achievements/{int:pk}", response={200: AchievementOut, **ERRORS},
                       summary="Change an achievement")
def achievement_update(request, pk: int, payload: AchievementPatch):
    user = request.auth
    achievement = _visible_achievement(user, pk)
    listings.achievement_update(actor=user, achievement=achievement, **_patch(payload))
    return _visible_achievement(user, pk)


@listings_router.get("/achievements/{int:pk}/matches", response={200: dict[str, list[MatchOut]], **ERRORS},
                     summary="Demands and enterprises for an achievement, explained (owner only)")
def achievement_matches(request, pk: int, limit: int = Query(10, ge=1, le=50),
                        relax: list[Relaxable] = RELAX_QUERY):
    user = request.auth
    achievement = _owned(user, _visible_achievement(user, pk), access.can_edit_achievement)
    return _explained(matching.matches_for_achievement(achievement, user=user, limit=limit, relax=relax))


@listings_router.get("/achievements/{int:pk}/matches/removed", response={200: dict[str, dict[str, int]], **ERRORS},
                     summary="How many demands that match the text each hard filter removes (owner only)")
def achievement_removed(request, pk: int, relax: list[Relaxable] = RELAX_QUERY):
    user = request.auth
    achievement = _owned(user, _visible_achievement(user, pk), access.can_edit_achievement)
    return {"demands": matching.achievement_removals(achievement, user=user, relax=relax)}


# --- demands
@listings_router.get("/demands", response={200: list[DemandOut], **ERRORS}, auth=PUBLIC_AUTH,
                     summary="Demands the caller may see")
@paginate(PageNumber)
def demand_list(request, filters: Query[ListFilters]):
    user = request.auth
    return selectors.demand_list(user, filters.dict(exclude_none=True))


@listings_router.post("/demands", response={201: DemandOut, **ERRORS}, summary="Post a technology demand")
def demand_create(request, payload: DemandIn):
    user = request.auth
    permissions.require(access.can_create_demand(user))
    organisation = acting_organisation_among(request, access.enterprise_organisation_ids(user))
    demand = listings.demand_create(actor=user, organisation=organisation, data=payload.dict())
    return Status(201, _visible_demand(user, demand.pk))


@listings_router.get("/demands/{int:pk}", response={200: DemandOut, **ERRORS}, auth=PUBLIC_AUTH,
                     summary="One demand (full text for the owner and deal parties when confidential)")
def demand_detail(request, pk: int):
    return _visible_demand(request.auth, pk)


@listings_router.patch("/demands/{int:pk}", response={200: DemandOut, **ERRORS}, summary="Change a demand")
def demand_update(request, pk: int, payload: DemandPatch):
    user = request.auth
    demand = _visible_demand(user, pk)
    listings.demand_update(actor=user, demand=demand, **_patch(payload))
    return _visible_demand(user, pk)


@listings_router.get("/demands/{int:pk}/matches", response={200: dict[str, list[MatchOut]], **ERRORS},
                     summary="Achievements, experts and organisations for a demand, explained (owner only)")
def demand_matches(request, pk: int, limit: int = Query(10, ge=1, le=50),
                   relax: list[Relaxable] = RELAX_QUERY):
    user = request.auth
    demand = _owned(user, _visible_demand(user, pk), access.can_edit_demand)
    return _explained(matching.matches_for_demand(demand, user=user, limit=limit, relax=relax))


@listings_router.get("/demands/{int:pk}/matches/removed", response={200: dict[str, dict[str, int]], **ERRORS},
                     summary="How many achievements that match the text each hard filter removes (owner only)")
def demand_removed(request, pk: int, relax: list[Relaxable] = RELAX_QUERY):
    user = request.auth
    demand = _owned(user, _visible_demand(user, pk), access.can_edit_demand)
    return {"achievements": matching.demand_removals(demand, user=user, relax=relax)}


# --- feedback, search, notifications
@listings_router.post("/feedback", response={201: FeedbackOut, **ERRORS}, summary="Feedback on a suggestion")
def feedback(request, payload: FeedbackIn):
    user = request.auth
    demand = get_object_or_404(TechDemand, pk=payload.demand_id) if payload.demand_id else None
    achievement = get_object_or_404(Achievement, pk=payload.achievement_id) if payload.achievement_id else None
    row = listings.feedback_set(actor=user, label=payload.label, demand=demand, achievement=achievement)
    return Status(201, {"id": row.pk, "label": row.label, "demand_id": row.demand_id,
                        "achievement_id": row.achievement_id})


class SearchParams(InputSchema):
    q: Line = Field(..., min_length=1, max_length=300)
    kind: str = Field("achievements", pattern="^(achievements|demands)$")
    sector: str = ""
    limit: int = Field(10, ge=1, le=100)


@listings_router.get("/search", response={200: list[MatchOut], **ERRORS}, auth=PUBLIC_AUTH,
                     summary="Ranked, explained search over achievements or demands")
def search(request, params: Query[SearchParams]):
    results = matching.search(params.q, kind=params.kind, user=request.auth, limit=params.limit,
                              sector=params.sector)
    return [r.as_dict() for r in results]


@listings_router.get("/notifications", response={200: list[NotificationOut], **ERRORS},
                     summary="The caller's notifications, newest first")
@paginate(PageNumber)
def notification_list(request, unread: bool = False):
    permissions.require(access.can_use_marketplace(request.auth))
    qs = selectors.notifications(request.auth)
    return qs.filter(read_at__isnull=True) if unread else qs
