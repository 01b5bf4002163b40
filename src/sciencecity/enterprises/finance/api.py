"""Tech-finance API (/api/enterprises/finance…): products, needs, matching and the pipeline's
transitions. Same permissions as the pages (finance.permissions); others' records are 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status

from sciencecity.core import permissions as core_permissions
from sciencecity.core.api import ErrorResponse, InputSchema
from sciencecity.enterprises.finance import permissions, selectors, services
from sciencecity.enterprises.finance.choices import MatchState, NeedStatus, ProductKind, ProductStatus
from sciencecity.enterprises.finance.models import FinancialProduct
from sciencecity.registry.models import Organisation

router = Router(tags=["enterprises"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


class ProductOut(Schema):
    id: int
    code: str
    name: str
    kind: ProductKind
    provider_id: int
    min_amount: Decimal | None
    max_amount: Decimal | None
    term_months: int | None
    rate_note: str
    description: str
    rule: str
    status: ProductStatus
    is_synthetic: bool


class ProductIn(InputSchema):
    code: str
    name: str
    kind: ProductKind
    provider_id: int
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    term_months: int | None = None
    rate_note: str = ""
    description: str = ""
    rule: str


class NeedOut(Schema):
    id: int
    code: str
    organisation_id: int
    kind: str
    amount: Decimal
    purpose: str
    status: NeedStatus


class NeedIn(InputSchema):
    organisation_id: int
    kind: ProductKind | None = None
    amount: Decimal
    purpose: str


class FinanceMatchOut(Schema):
    id: int
    code: str
    need_id: int
    product_id: int
    state: MatchState
    funded_amount: Decimal | None
    funded_on: dt.date | None
    decline_reason: str


class FinanceMatchIn(InputSchema):
    need_id: int
    product_id: int


class FinanceActionIn(InputSchema):
    amount: Decimal | None = None
    funded_on: dt.date | None = None
    reason: str = ""


class GrowthComponentOut(Schema):
    code: str
    weight: int
    value: float | None
    points: float
    note: str


class GrowthOut(Schema):
    organisation_id: int
    total: float
    components: list[GrowthComponentOut]


@router.get("/finance/products", response={200: list[ProductOut], **ERRORS}, summary="Financial products")
def product_list(request):
    core_permissions.require(permissions.can_view_finance(request.auth))
    return FinancialProduct.objects.order_by("kind", "code")


@router.post("/finance/products", response={201: ProductOut, **ERRORS}, summary="Create a financial product")
def product_create(request, payload: ProductIn):
    values = payload.dict()
    provider = get_object_or_404(Organisation, pk=values.pop("provider_id"))
    return Status(201, services.product_create(actor=request.auth, provider=provider, **values))


@router.get("/finance/products/{int:pk}/needs", response={200: list[NeedOut], **ERRORS},
            summary="Open needs whose enterprise meets the product's rule (matching from the product side)")
def product_needs(request, pk: int):
    product = get_object_or_404(FinancialProduct, pk=pk)
    core_permissions.require(permissions.can_manage_product(request.auth, product))
    return [fit.need for fit in selectors.needs_for_product(product)]


@router.get("/finance/needs", response={200: list[NeedOut], **ERRORS}, summary="Financing needs you may see")
def need_list(request):
    return permissions.need_queryset(request.auth)


@router.post("/finance/needs", response={201: NeedOut, **ERRORS}, summary="Post a financing need")
def need_create(request, payload: NeedIn):
    organisation = get_object_or_404(Organisation, pk=payload.organisation_id)
    return Status(201, services.need_create(actor=request.auth, organisation=organisation, amount=payload.amount,
                                            purpose=payload.purpose, kind=payload.kind or ""))


@router.get("/finance/needs/{int:pk}/products", response={200: list[ProductOut], **ERRORS},
            summary="Products whose rule the need's enterprise meets (matching from the need side)")
def need_products(request, pk: int):
    need = get_object_or_404(permissions.need_queryset(request.auth), pk=pk)
    core_permissions.require(permissions.can_request(request.auth, need))
    fits, _nearly = selectors.products_for_need(need)
    return [fit.product for fit in fits]


@router.get("/finance/matches", response={200: list[FinanceMatchOut], **ERRORS}, summary="Matches you may see")
def match_list(request):
    return permissions.match_queryset(request.auth)


@router.post("/finance/matches", response={201: FinanceMatchOut, **ERRORS}, summary="Request a product for a need")
def match_create(request, payload: FinanceMatchIn):
    need = get_object_or_404(permissions.need_queryset(request.auth), pk=payload.need_id)
    product = get_object_or_404(FinancialProduct, pk=payload.product_id)
    return Status(201, services.match_request(actor=request.auth, need=need, product=product))


@router.post("/finance/matches/{int:pk}/{action}", response={200: FinanceMatchOut, **ERRORS},
             summary="A pipeline transition: introduce, due_diligence, fund (amount, funded_on), decline (reason)")
def match_action(request, pk: int, action: str, payload: FinanceActionIn):
    match = get_object_or_404(permissions.match_queryset(request.auth), pk=pk)
    if action == "introduce":
        return services.match_introduce(actor=request.auth, match=match)
    if action == "due_diligence":
        return services.match_start_due_diligence(actor=request.auth, match=match)
    if action == "fund":
        return services.match_fund(actor=request.auth, match=match, amount=payload.amount, funded_on=payload.funded_on)
    if action == "decline":
        return services.match_decline(actor=request.auth, match=match, reason=payload.reason)
    raise Http404


@router.get("/finance/growth/{int:organisation_id}", response={200: GrowthOut, **ERRORS},
            summary="An enterprise's growth score with each component (own enterprise or bureau officer)")
def growth_score(request, organisation_id: int):
    from sciencecity.enterprises.policies.permissions import enterprise_organisation_ids

    core_permissions.require(core_permissions.is_bureau_officer(request.auth)
                             or organisation_id in enterprise_organisation_ids(request.auth))
    score = selectors.growth_for(organisation_id)
    if score is None:
        raise Http404
    return {"organisation_id": organisation_id, "total": score.total_points, "components": [
        {"code": c.component.code, "weight": c.component.weight, "value": None if c.value is None else float(c.value),
         "points": round(float(c.points), 2), "note": c.note} for c in score.components]}
