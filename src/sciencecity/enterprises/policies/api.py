"""Policy API (/api/enterprises/policies…): the library, the live preview, the 免申即享 list and an
enterprise's own matches. Same permissions as the pages (policies.permissions)."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from ninja import Router, Schema
from ninja.responses import Status

from sciencecity.core import permissions as core_permissions
from sciencecity.core.api import ErrorResponse, InputSchema
from sciencecity.engines.rules import lang
from sciencecity.engines.rules.i18n import translating
from sciencecity.enterprises.policies import permissions, selectors, services
from sciencecity.enterprises.policies.choices import PolicyStatus
from sciencecity.enterprises.policies.models import Policy

router = Router(tags=["enterprises"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


class PolicyOut(Schema):
    id: int
    code: str
    title: str
    issuer: str
    document_number: str
    valid_from: dt.date
    valid_until: dt.date | None
    application_opens: dt.date | None
    application_closes: dt.date | None
    benefit: str
    amount_formula: str
    materials: str
    rule: str
    without_application: bool
    status: PolicyStatus
    is_synthetic: bool


class PolicyIn(InputSchema):
    code: str
    title: str
    issuer: str
    document_number: str = ""
    valid_from: dt.date
    valid_until: dt.date | None = None
    application_opens: dt.date | None = None
    application_closes: dt.date | None = None
    benefit: str
    amount_formula: str = ""
    materials: str = ""
    rule: str
    without_application: bool = False
    status: PolicyStatus = PolicyStatus.DRAFT


class PolicyPatch(InputSchema):
    title: str | None = None
    issuer: str | None = None
    document_number: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    application_opens: dt.date | None = None
    application_closes: dt.date | None = None
    benefit: str | None = None
    amount_formula: str | None = None
    materials: str | None = None
    rule: str | None = None
    without_application: bool | None = None
    status: PolicyStatus | None = None


class PreviewIn(InputSchema):
    rule: str
    amount_formula: str = ""


class PreviewOut(Schema):
    eligible: int
    unknown: int
    nearly: int
    enterprises: int
    total_amount: float | None
    sample: list[str]


class EligibleOut(Schema):
    organisation_id: int
    code: str
    name: str
    amount: float | None


class UnmetOut(Schema):
    clause: str
    status: str
    gap: float | None


class MyPolicyOut(Schema):
    policy: PolicyOut
    amount: float | None
    unmet: list[UnmetOut]


class MyPoliciesOut(Schema):
    organisation_id: int
    eligible: list[MyPolicyOut]
    nearly: list[MyPolicyOut]


def _visible(user):
    qs = Policy.objects.all()
    return qs if permissions.can_manage_policies(user) else qs.filter(status=PolicyStatus.PUBLISHED)


@router.get("/policies", response={200: list[PolicyOut], **ERRORS}, summary="Policies (published ones; all for officers)")
def policy_list(request):
    core_permissions.require(permissions.can_view_policies(request.auth))
    return _visible(request.auth).order_by("-valid_from", "code")


@router.get("/policies/{int:pk}", response={200: PolicyOut, **ERRORS}, summary="One policy")
def policy_detail(request, pk: int):
    core_permissions.require(permissions.can_view_policies(request.auth))
    return get_object_or_404(_visible(request.auth), pk=pk)


@router.post("/policies", response={201: PolicyOut, **ERRORS},
             summary="Create a policy (the rule is refused, naming the clause, when it does not validate)")
def policy_create(request, payload: PolicyIn):
    return Status(201, services.policy_create(actor=request.auth, **payload.dict()))


@router.patch("/policies/{int:pk}", response={200: PolicyOut, **ERRORS}, summary="Change a policy")
def policy_update(request, pk: int, payload: PolicyPatch):
    core_permissions.require(permissions.can_manage_policies(request.auth))
    policy = get_object_or_404(Policy, pk=pk)
    values = {k: v for k, v in payload.dict(exclude_unset=True).items()}
    return services.policy_update(actor=request.auth, policy=policy, **values)


@router.post("/policies/preview", response={200: PreviewOut, **ERRORS},
             summary="How many enterprises a rule would reach (the editor's live count)")
def policy_preview(request, payload: PreviewIn):
    core_permissions.require(permissions.can_manage_policies(request.auth))
    with translating(gettext):
        try:
            return selectors.preview(payload.rule, payload.amount_formula)
        except lang.RuleError as exc:
            from django.core.exceptions import ValidationError

            raise ValidationError({"rule": services.rule_message(exc)}) from None


@router.get("/policies/{int:pk}/eligible", response={200: list[EligibleOut], **ERRORS},
            summary="The 免申即享 list: enterprises the policy's rule holds for, with estimated amounts")
def policy_eligible(request, pk: int):
    core_permissions.require(permissions.can_view_eligible_list(request.auth))
    return [row.__dict__ for row in selectors.eligible_enterprises(get_object_or_404(Policy, pk=pk))]


@router.get("/my/policies", response={200: MyPoliciesOut, **ERRORS},
            summary="An enterprise's eligible and nearly-eligible policies (the user's enterprise)")
def my_policies(request, organisation: int | None = None):
    orgs = permissions.enterprise_organisation_ids(request.auth)
    core_permissions.require(bool(orgs) and (organisation is None or organisation in orgs))
    chosen = organisation or min(orgs)
    with translating(gettext):
        eligible, nearly = selectors.policies_for(chosen)
    as_out = lambda m: {"policy": m.policy, "amount": m.amount,  # noqa: E731
                        "unmet": [{"clause": u.clause, "status": u.status, "gap": u.gap} for u in m.unmet]}
    return {"organisation_id": chosen, "eligible": [as_out(m) for m in eligible],
            "nearly": [as_out(m) for m in nearly]}
