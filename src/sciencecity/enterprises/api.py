"""Enterprise services API (/api/enterprises): profiles with yearly figures (field names as in
enterprise-assessment-format.md), the self-assessments in the format's output shape, and the
bureau's tiers. Figures are visible to the enterprise's own users and the S&T bureau (each officer
read audited); other organisations get 403, unknown enterprises 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from ninja import Field, Router, Schema

from sciencecity.core import permissions as core_permissions
from sciencecity.core.api import ErrorResponse, InputSchema
from sciencecity.enterprises import cultivation, permissions, selectors, services
from sciencecity.enterprises.choices import (
    IncidentKind,
    IpAcquisition,
    IpClass,
    IpKind,
    TechnologyDomain,
    Tier,
)
from sciencecity.registry.models import Organisation

router = Router(tags=["enterprises"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}
Amount = Decimal | None


class MonthOut(Schema):
    start: int
    end: int
    st_start: int
    st_end: int


class RdIn(InputSchema):
    personnel: Amount = None
    direct: Amount = None
    depreciation: Amount = None
    amortisation: Amount = None
    design: Amount = None
    equipment_testing: Amount = None
    commissioned_domestic: Amount = None
    commissioned_abroad: Amount = None
    other: Amount = None


class MonthIn(InputSchema):
    start: int = Field(..., ge=0)
    end: int = Field(..., ge=0)
    st_start: int = Field(..., ge=0)
    st_end: int = Field(..., ge=0)


class YearIn(InputSchema):
    """One fiscal year (万元; staff as monthly averages or twelve months)."""

    main_revenue: Amount = None
    other_revenue: Amount = None
    total_income: Amount = None
    non_taxable_income: Amount = None
    high_tech_revenue: Amount = None
    technical_income: Amount = None
    rd: RdIn | None = None
    net_assets: Amount = None
    total_assets: Amount = None
    total_costs: Amount = None
    staff_average: Amount = None
    st_staff_average: Amount = None
    staff_monthly: list[MonthIn] | None = None
    conversions: int | None = None


class YearOut(Schema):
    year: int
    main_revenue: Amount
    other_revenue: Amount
    total_income: Amount
    non_taxable_income: Amount
    high_tech_revenue: Amount
    technical_income: Amount
    rd: dict[str, Amount]
    net_assets: Amount
    total_assets: Amount
    total_costs: Amount
    staff_average: Amount
    st_staff_average: Amount
    staff_monthly: list[MonthOut] | None
    conversions: int | None


class IpOut(Schema):
    ip_class: str = Field(..., alias="class")
    kind: str
    acquired: str
    number: str
    granted_on: dt.date | None


class CertificateOut(Schema):
    kind: str
    number: str
    valid_from: dt.date
    valid_until: dt.date
    valid: bool
    reminders: list[str]


class ProfileOut(Schema):
    id: str
    name: str
    registered_on: dt.date | None
    field: str | None
    standards_drafted: int | None
    incidents_declared: bool
    incidents: list[dict[str, Any]]
    years: list[YearOut]
    ip: list[dict[str, Any]]
    certificates: list[CertificateOut]
    tiers: list[str]


class ProfileIn(InputSchema):
    field: TechnologyDomain | None = None
    standards_drafted: int | None = Field(None, ge=0)
    incidents_declared: bool | None = None
    valuation: Amount = None
    resident_mainland: bool | None = None
    forbidden_industry: bool | None = None
    self_rating: dict[str, str | int] | None = None


class IpIn(InputSchema):
    ip_class: IpClass
    kind: IpKind
    acquired: IpAcquisition = IpAcquisition.OWN
    number: str = ""
    title: str = ""
    granted_on: dt.date | None = None


class IncidentIn(InputSchema):
    kind: IncidentKind
    occurred_on: dt.date
    description: str = ""


class CriteriaIn(InputSchema):
    min_sales: Amount = None
    max_sales: Amount = None
    min_growth: Decimal | None = None
    min_rd_ratio: Decimal | None = None
    max_age_years: int | None = Field(None, ge=0)
    min_valuation: Amount = None
    margin: Decimal | None = None


class MemberOut(Schema):
    code: str
    name: str
    since: dt.datetime
    reason: str


class HistoryOut(Schema):
    at: dt.datetime
    code: str
    tier: str
    change: str
    by: str | None
    reason: str
    certified: bool


def _enterprise(request, code: str, *, edit: bool = False) -> Organisation:
    org = get_object_or_404(Organisation, code=code, kind="enterprise")
    rule = permissions.can_edit_profile if edit else permissions.can_view_financials
    core_permissions.require(rule(request.auth, org))
    return org


def _year_out(fy) -> dict:
    months = list(fy.months.all())
    return {**{name: getattr(fy, name) for name in selectors.YEAR_AMOUNTS}, "year": fy.year,
            "rd": {category: getattr(fy, column) for category, column in selectors.RD_FIELDS.items()},
            "staff_monthly": [{k: getattr(m, k) for k in services.MONTH_FIELDS} for m in months] if months else None,
            "conversions": fy.conversions}


def _profile_out(org: Organisation) -> dict:
    profile = selectors.profile_of(org)
    day = dt.date.today()
    certificates = [{"kind": c.certification.kind, "number": c.certification.number, "valid_from": c.valid_from,
                     "valid_until": c.valid_until, "valid": c.valid, "reminders": [r.code for r in c.reminders]}
                    for c in selectors.certificate_statuses(org, day=day)]
    tiers = sorted(org.tier_memberships.filter(left_at__isnull=True).values_list("tier", flat=True))
    return {
        "id": org.code, "name": org.name, "registered_on": org.founded_on,
        "field": (profile.technology_domain or None) if profile else None,
        "standards_drafted": profile.standards_drafted if profile else None,
        "incidents_declared": profile.incidents_declared if profile else False,
        "incidents": [{"kind": i.kind, "occurred_on": i.occurred_on, "description": i.description}
                      for i in profile.incidents.all()] if profile else [],
        "years": [_year_out(fy) for fy in sorted(profile.fiscal_years.all(), key=lambda y: y.year)] if profile else [],
        "ip": [{"class": r.ip_class, "kind": r.kind, "acquired": r.acquired, "number": r.number,
                "granted_on": r.granted_on} for r in profile.ip_rights.all()] if profile else [],
        "certificates": certificates, "tiers": tiers}


@router.get("/profiles/{code}", response={200: ProfileOut, **ERRORS}, summary="An enterprise's profile and figures")
def profile_get(request, code: str):
    org = _enterprise(request, code)
    services.financials_read_audit(actor=request.auth, organisation=org, channel="api")
    return _profile_out(org)


@router.put("/profiles/{code}", response={200: ProfileOut, **ERRORS}, summary="Change the profile")
def profile_put(request, code: str, payload: ProfileIn):
    org = _enterprise(request, code, edit=True)
    data = payload.dict(exclude_unset=True)
    if "field" in data:
        data["technology_domain"] = data.pop("field") or ""
    services.profile_save(actor=request.auth, organisation=org, data=data)
    return _profile_out(org)


@router.put("/profiles/{code}/years/{year}", response={200: ProfileOut, **ERRORS},
            summary="Create or change one fiscal year's figures")
def year_put(request, code: str, year: int, payload: YearIn):
    org = _enterprise(request, code, edit=True)
    data = payload.dict(exclude_unset=True)
    rd = data.pop("rd", None) or {}
    months = data.pop("staff_monthly", None)
    data.update({selectors.RD_FIELDS[k]: v for k, v in rd.items()})
    services.fiscal_year_save(actor=request.auth, organisation=org, year=year, data=data, months=months)
    return _profile_out(org)


@router.post("/profiles/{code}/ip", response={201: ProfileOut, **ERRORS}, summary="Add an IP right")
def ip_post(request, code: str, payload: IpIn):
    org = _enterprise(request, code, edit=True)
    services.ip_right_create(actor=request.auth, organisation=org, data=payload.dict())
    return 201, _profile_out(org)


@router.post("/profiles/{code}/incidents", response={201: ProfileOut, **ERRORS}, summary="Declare an incident")
def incident_post(request, code: str, payload: IncidentIn):
    org = _enterprise(request, code, edit=True)
    services.incident_create(actor=request.auth, organisation=org, data=payload.dict())
    return 201, _profile_out(org)


@router.get("/profiles/{code}/assessment", response={200: dict, **ERRORS},
            summary="High-tech self-assessment and tech-SME evaluation (the format document's output)")
def assessment_get(request, code: str):
    org = _enterprise(request, code)
    services.financials_read_audit(actor=request.auth, organisation=org, channel="api")
    profile = selectors.profile_of(org)
    if profile is None:
        raise Http404("no_profile")
    result = selectors.assessment_of(profile)
    hnte_out = result.hnte.to_dict()
    hnte_out["improvements"] = [{"code": i.code, "message": i.message, "blocking": i.blocking,
                                 "points_min": i.points_min, "points_max": i.points_max, "amount": i.amount,
                                 "unit": i.unit} for i in result.hnte.improvements]
    return {"id": org.code, "assessed_on": result.day.isoformat(), "hnte": hnte_out,
            "tech_sme": result.tech_sme.to_dict()}


def _bureau(request) -> None:
    core_permissions.require(permissions.can_manage_cultivation(request.auth))


@router.get("/tiers/{tier}/members", response={200: list[MemberOut], **ERRORS}, summary="Current members of a tier")
def tier_members(request, tier: Tier):
    _bureau(request)
    return [{"code": m.organisation.code, "name": m.organisation.name, "since": m.entered_at,
             "reason": m.entered_reason} for m in selectors.current_members(tier)]


@router.get("/tiers/history", response={200: list[HistoryOut], **ERRORS}, summary="Entries and exits, newest first")
def tier_history(request, tier: Tier | None = None):
    _bureau(request)
    return [{"at": at, "code": stay.organisation.code, "tier": stay.tier, "change": change,
             "by": who.username if who else None, "reason": why, "certified": stay.certified and change == "left"}
            for at, stay, change, who, why in selectors.tier_history(tier=tier)]


@router.put("/tiers/{tier}/criteria", response={200: dict, **ERRORS},
            summary="Change a tier's criteria (every membership is recomputed by a background job: GET /api/jobs/{job})")
def tier_criteria_put(request, tier: Tier, payload: CriteriaIn):
    _bureau(request)
    row = cultivation.tier_criteria_update(actor=request.auth, tier=tier, data=payload.dict(exclude_unset=True),
                                           recompute=False)
    job = cultivation.tier_recompute_enqueue(actor=request.auth, reason=gettext("criteria of %(tier)s changed") % {
        "tier": row.get_tier_display()})
    return {name: getattr(row, name) for name in cultivation.CRITERIA_FIELDS} | {"tier": row.tier, "job": job.pk}


# Policies (政策找人 / 免申即享) and tech finance
from sciencecity.enterprises.finance.api import router as finance_router  # noqa: E402
from sciencecity.enterprises.policies.api import router as policies_router  # noqa: E402

router.add_router("", policies_router)
router.add_router("", finance_router)
