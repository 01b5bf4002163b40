"""Writes of tech finance: products, needs, and the matchmaking pipeline as an explicit state machine::

    requested ──introduce──▶ introduced ──due_diligence──▶ due_diligence ──fund──▶ funded
        │                        │                              │
        └────────────────────────┴────────── decline ───────────┴──▶ declined

Every transition is a service with its permission check (``finance.permissions.available_actions``)
and an audit event in the same transaction. Funded amounts feed the ``enterprises.finance_funded``
indicator source.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.accounts.models import User
from sciencecity.core import permissions as core_permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.engines.rules import vector
from sciencecity.enterprises.finance import permissions
from sciencecity.enterprises.finance.choices import MatchState, NeedStatus
from sciencecity.enterprises.finance.models import FinanceMatch, FinancialProduct, FinancingNeed
from sciencecity.enterprises.policies.services import check_rule
from sciencecity.registry.models import Organisation

PRODUCT_FIELDS = ("code", "name", "kind", "provider", "min_amount", "max_amount", "term_months", "rate_note",
                  "description", "rule", "status")
NEED_FIELDS = ("organisation", "kind", "amount", "purpose", "status")


def _next_code(model, prefix: str) -> str:
    last = model.objects.filter(code__startswith=f"{prefix}-").order_by("-code").values_list("code", flat=True).first()
    tail = last.rsplit("-", 1)[1] if last else ""
    return f"{prefix}-{(int(tail) + 1 if tail.isdigit() else 1):05d}"


def _check_product_rule(product: FinancialProduct) -> None:
    try:
        check_rule(product.rule)
    except ValidationError as exc:
        raise ValidationError({"rule": exc.message_dict["rule"]}, code="invalid_rule") from None


@transaction.atomic
def product_create(*, actor: User, provider: Organisation, **values: Any) -> FinancialProduct:
    core_permissions.require(permissions.can_manage_product(actor, provider_id=provider.pk))
    product = FinancialProduct(provider=provider, **values)
    product.full_clean()
    _check_product_rule(product)
    product.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=product,
                 changes=diff(None, snapshot(product, PRODUCT_FIELDS)))
    return product


@transaction.atomic
def product_update(*, actor: User, product: FinancialProduct, **values: Any) -> FinancialProduct:
    core_permissions.require(permissions.can_manage_product(actor, product))
    product = FinancialProduct.objects.select_for_update().get(pk=product.pk)
    before = snapshot(product, PRODUCT_FIELDS)
    for name, value in values.items():
        if name not in PRODUCT_FIELDS or name == "provider":
            raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": name})
        setattr(product, name, value)
    product.full_clean()
    _check_product_rule(product)
    changes = diff(before, snapshot(product, PRODUCT_FIELDS))
    if changes:
        product.save()
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=product, changes=changes)
    return product


@transaction.atomic
def need_create(*, actor: User, organisation: Organisation, amount: Decimal, purpose: str, kind: str = "",
                is_synthetic: bool = False) -> FinancingNeed:
    core_permissions.require(permissions.can_post_need(actor, organisation.pk))
    need = FinancingNeed(code=_next_code(FinancingNeed, "FN"), organisation=organisation, amount=amount,
                         purpose=purpose, kind=kind, is_synthetic=is_synthetic,
                         created_by=actor if getattr(actor, "is_authenticated", False) else None)
    need.full_clean()
    need.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=need, changes=diff(None, snapshot(need, NEED_FIELDS)))
    return need


@transaction.atomic
def need_close(*, actor: User, need: FinancingNeed) -> FinancingNeed:
    core_permissions.require(permissions.can_post_need(actor, need.organisation_id))
    need = FinancingNeed.objects.select_for_update().get(pk=need.pk)
    if need.status == NeedStatus.CLOSED:
        return need
    need.status = NeedStatus.CLOSED
    need.save(update_fields=["status", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=need, changes={"status": [NeedStatus.OPEN,
                                                                                        NeedStatus.CLOSED]})
    return need


def product_verdict(product: FinancialProduct, organisation_id: int) -> tuple[int, list]:
    """The product's rule for one enterprise: (truth 0 false / 1 unknown / 2 true, unmet clauses)."""
    from sciencecity.enterprises.policies import selectors as policy_selectors

    columns = policy_selectors.enterprise_table(organisation_ids=[organisation_id])
    if not columns.organisation_ids:
        return vector.UNKNOWN, []
    compiled = vector.compile_policy(str(product.pk), product.rule, policy_selectors.fields.SCHEMA)
    result = vector.evaluate_all([compiled], columns.table, columns.today)
    truth = int(result.truth[0, 0])
    unmet = [] if truth == vector.TRUE else result.explain(columns.table, 0, 0, columns.today)
    return truth, unmet


@transaction.atomic
def match_request(*, actor: User, need: FinancingNeed, product: FinancialProduct) -> FinanceMatch:
    """An enterprise (or the bureau as matchmaker) asks for ``product`` for ``need``. Refused when the
    product's rule is not met (unknown data are left to due diligence) or the pair already exists."""
    core_permissions.require(permissions.can_request(actor, need))
    if need.status != NeedStatus.OPEN:
        raise ValidationError(_("The financing need is closed."), code="need_closed")
    if product.status != "active":
        raise ValidationError(_("The product is closed."), code="product_closed")
    if FinanceMatch.objects.filter(need=need, product=product).exists():
        raise ValidationError(_("This need has already been brought to this product."), code="duplicate")
    truth, unmet = product_verdict(product, need.organisation_id)
    if truth == vector.FALSE:
        raise ValidationError(_("The enterprise does not meet the product's conditions: %(clauses)s") % {
            "clauses": "; ".join(u.clause for u in unmet)}, code="not_eligible")
    match = FinanceMatch(code=_next_code(FinanceMatch, "FM"), need=need, product=product,
                         created_by=actor if getattr(actor, "is_authenticated", False) else None)
    match.full_clean()
    match.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=match,
                 changes={"need": [None, need.code], "product": [None, product.code],
                          "state": [None, MatchState.REQUESTED]})
    return match


def _move(actor: User, match: FinanceMatch, action: str, new: str, reason: str = "", **fields: Any) -> FinanceMatch:
    match = FinanceMatch.objects.select_for_update().select_related("need", "product").get(pk=match.pk)
    involved = core_permissions.is_bureau_officer(actor) or permissions.is_provider(actor, match) \
        or permissions.is_applicant(actor, match)
    if not involved:
        raise PermissionDenied("permission_denied")
    if action not in permissions.available_actions(actor, match):
        if match.state not in _ALLOWED_FROM[action]:
            raise ValidationError(_("A match that is “%(old)s” cannot become “%(new)s”.") % {
                "old": MatchState(match.state).label, "new": MatchState(new).label}, code="invalid_transition")
        raise PermissionDenied("permission_denied")
    changes = {"state": [match.state, new]}
    match.state = new
    for name, value in fields.items():
        changes[name] = [getattr(match, name), value]
        setattr(match, name, value)
    match.full_clean()
    match.save(update_fields=["state", *fields, "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=match, changes=changes, reason=reason)
    return match


_ALLOWED_FROM = {
    "introduce": (MatchState.REQUESTED,),
    "due_diligence": (MatchState.INTRODUCED,),
    "fund": (MatchState.DUE_DILIGENCE,),
    "decline": permissions.OPEN_STATES,
}


@transaction.atomic
def match_introduce(*, actor: User, match: FinanceMatch) -> FinanceMatch:
    return _move(actor, match, "introduce", MatchState.INTRODUCED)


@transaction.atomic
def match_start_due_diligence(*, actor: User, match: FinanceMatch) -> FinanceMatch:
    return _move(actor, match, "due_diligence", MatchState.DUE_DILIGENCE)


@transaction.atomic
def match_fund(*, actor: User, match: FinanceMatch, amount: Decimal, funded_on: dt.date | None = None
               ) -> FinanceMatch:
    try:
        amount = Decimal(amount)
    except (TypeError, ValueError, ArithmeticError):
        raise ValidationError({"funded_amount": _("Enter a number.")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"funded_amount": _("The funded amount must be more than zero.")})
    funded_on = funded_on or timezone.localdate()
    if funded_on > timezone.localdate():
        raise ValidationError({"funded_on": _("The funding date cannot be in the future.")})
    return _move(actor, match, "fund", MatchState.FUNDED, funded_amount=amount, funded_on=funded_on)


@transaction.atomic
def match_decline(*, actor: User, match: FinanceMatch, reason: str) -> FinanceMatch:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"decline_reason": _("Say why.")})
    return _move(actor, match, "decline", MatchState.DECLINED, reason=reason, decline_reason=reason[:500])

