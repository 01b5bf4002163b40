"""创新券: application against a scheme (eligibility rule over declared plain fields, cap per enterprise),
approval within the scheme's budget, redemption as part payment of a usage fee, settlement to the provider.

Never spent twice: a redemption takes the amount off the balance with one conditional ``UPDATE … WHERE
balance >= amount`` (atomic on both databases), and a usage record has at most one redemption (unique)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions as core_permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction
from sciencecity.engines.rules import lang
from sciencecity.facilities import permissions
from sciencecity.facilities.choices import VOUCHER_FIELDS, SchemeStatus, VoucherState, refuse
from sciencecity.facilities.models import UsageRecord, Voucher, VoucherRedemption, VoucherScheme
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

CENT = Decimal("0.01")


class VoucherSpent(Exception):
    """The voucher's balance does not cover the amount, or the usage is already paid by a voucher."""

    code = "voucher_spent"


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError):
        raise refuse({field: _("Enter an amount in CNY.")}, code="amount") from None
    if not amount.is_finite() or amount <= 0 or amount > Decimal("1e11"):
        raise refuse({field: _("Enter a positive amount in CNY.")}, code="amount")
    return amount


def check_rule(text: str) -> None:
    """Refuse an eligibility rule that does not parse, naming the clause."""
    if text.strip():
        try:
            lang.parse_rule(text, VOUCHER_FIELDS)
        except lang.RuleError as exc:
            raise refuse({"eligibility": str(exc)}, code="rule") from exc


def facts_record(facts: dict[str, Any]) -> dict[str, Any]:
    """Declared facts as a rule record: numbers as floats, booleans as booleans, unknown fields refused."""
    record: dict[str, Any] = {}
    for key, value in (facts or {}).items():
        kind = VOUCHER_FIELDS.get(key)
        if kind is None:
            raise refuse({"facts": _("Unknown field %(f)s.") % {"f": key}}, code="facts")
        if value in (None, ""):
            record[key] = None
        elif kind == "bool":
            record[key] = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "是")
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise refuse({"facts": _("%(f)s must be a number.") % {"f": key}}, code="facts") from None
            if number != number or abs(number) > 1e15:
                raise refuse({"facts": _("%(f)s must be a number.") % {"f": key}}, code="facts")
            record[key] = number
    return record


def eligibility(scheme: VoucherScheme, facts: dict[str, Any], today: dt.date) -> tuple[bool, list[str]]:
    """(eligible, unmet clauses) of the declared facts against the scheme's rule; unknown counts as not met."""
    if not scheme.eligibility.strip():
        return True, []
    node = lang.parse_rule(scheme.eligibility, VOUCHER_FIELDS)
    record = facts_record(facts)
    truth = lang.evaluate(node, record, today)
    if truth is True:
        return True, []
    return False, [u.clause for u in lang.explain(node, record, today)]


SCHEME_FIELDS = ["name", "budget", "cap_per_enterprise", "max_share", "eligibility", "valid_until", "status"]


def _check_scheme(scheme: VoucherScheme) -> None:
    """Refuse, naming the field, what the scheme's constraints would refuse without a field name."""
    check_rule(scheme.eligibility or "")
    share, budget, cap = scheme.max_share, scheme.budget, scheme.cap_per_enterprise
    if isinstance(share, Decimal | int | float) and not 0 < share <= 1:
        raise refuse({"max_share": _("The share a voucher may pay is above 0 and at most 1.")}, code="max_share")
    if isinstance(budget, Decimal | int | float) and budget < 0:
        raise refuse({"budget": _("The budget cannot be negative.")}, code="budget")
    if isinstance(cap, Decimal | int | float) and cap <= 0:
        raise refuse({"cap_per_enterprise": _("The cap per enterprise must be positive.")}, code="cap")


@transaction.atomic
def scheme_create(*, actor: User | None, data: dict[str, Any]) -> VoucherScheme:
    if not permissions.can_manage_vouchers(actor):
        raise PermissionDenied
    scheme = VoucherScheme(**data)
    _check_scheme(scheme)
    scheme.full_clean()
    scheme.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=scheme,
                 changes={k: [None, str(v)] for k, v in data.items()})
    return scheme


@transaction.atomic
def scheme_update(*, actor: User | None, scheme: VoucherScheme, data: dict[str, Any]) -> VoucherScheme:
    """Change a scheme (the bureau's): name, budget, cap, share, eligibility rule, validity, open or closed."""
    from sciencecity.facilities.services.catalogue import edit

    if not permissions.can_manage_vouchers(actor):
        raise PermissionDenied
    return edit(actor=actor, obj=VoucherScheme.objects.select_for_update().get(pk=scheme.pk), fields=SCHEME_FIELDS,
                data=data, check=_check_scheme)


def _next_code(scheme: VoucherScheme) -> str:
    return f"{scheme.code}-{Voucher.objects.filter(scheme=scheme).count() + 1:05d}"


@transaction.atomic
def voucher_apply(*, actor: User | None, scheme: VoucherScheme, organisation: Organisation, requested: Any,
                  facts: dict[str, Any], today: dt.date | None = None) -> Voucher:
    """An enterprise applies; refused when the scheme is closed, the enterprise not eligible or over the cap."""
    if organisation.pk not in core_permissions.organisation_ids(actor) or organisation.kind != "enterprise":
        raise PermissionDenied(_("Only an enterprise's own users apply for its vouchers."))
    today = today or timezone.localdate()
    if scheme.status != SchemeStatus.OPEN or scheme.valid_until < today:
        raise refuse({"scheme": _("The scheme is not open for applications.")}, code="closed")
    amount = _amount(requested, "requested")
    ok, unmet = eligibility(scheme, facts, today)
    if not ok:
        raise refuse({"facts": _("Not eligible: %(unmet)s") % {"unmet": "; ".join(unmet) or scheme.eligibility}},
                              code="not_eligible")
    already = Voucher.objects.filter(scheme=scheme, organisation=organisation).exclude(
        state=VoucherState.REJECTED).aggregate(s=Sum("requested"))["s"] or Decimal(0)
    if already + amount > scheme.cap_per_enterprise:
        raise refuse({"requested": _("Over the cap of %(cap)s CNY per enterprise (already %(had)s).") % {
            "cap": scheme.cap_per_enterprise, "had": already}}, code="cap")
    voucher = Voucher(code=_next_code(scheme), scheme=scheme, organisation=organisation, facts=facts,
                      requested=amount, applied_by=actor)
    voucher.full_clean(exclude=["scheme", "organisation", "applied_by"])
    voucher.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=voucher, acting_organisation=organisation,
                 changes={"scheme": [None, scheme.code], "requested": [None, amount], "facts": [None, facts]})
    return voucher


def budget_committed(scheme: VoucherScheme) -> Decimal:
    return Voucher.objects.filter(scheme=scheme, state=VoucherState.APPROVED).aggregate(
        s=Sum("granted"))["s"] or Decimal(0)


@transaction.atomic
def voucher_decide(*, actor: User | None, voucher: Voucher, approve: bool, granted: Any = None, reason: str = "") -> Voucher:
    """The bureau approves (up to the remaining budget) or rejects an application."""
    if not permissions.can_manage_vouchers(actor):
        raise PermissionDenied
    scheme = VoucherScheme.objects.select_for_update().get(pk=voucher.scheme_id)
    voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
    if voucher.state != VoucherState.APPLIED:
        raise refuse({"state": _("Only an application can be decided.")}, code="state")
    old = voucher.state
    if approve:
        amount = _amount(granted if granted not in (None, "") else voucher.requested, "granted")
        if amount > voucher.requested:
            raise refuse({"granted": _("More than requested.")}, code="granted")
        left = scheme.budget - budget_committed(scheme)
        if amount > left:
            raise refuse({"granted": _("Only %(left)s CNY of the budget is left.") % {"left": left}},
                                  code="budget")
        voucher.state, voucher.granted, voucher.balance = VoucherState.APPROVED, amount, amount
    else:
        voucher.state = VoucherState.REJECTED
    voucher.decided_at = timezone.now()
    voucher.save(update_fields=["state", "granted", "balance", "decided_at", "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=voucher, reason=reason,
                 changes={"state": [old, voucher.state], "granted": [None, voucher.granted]})
    return voucher


def redeemable(voucher: Voucher, usage: UsageRecord) -> Decimal:
    """The most this voucher may pay of this usage: the scheme's share of the fee, within the balance."""
    share = (usage.fee * voucher.scheme.max_share).quantize(CENT, rounding=ROUND_DOWN)
    return max(Decimal(0), min(share - usage.voucher_paid, voucher.balance))


@transaction.atomic
def voucher_redeem(*, actor: User | None, voucher: Voucher, usage: UsageRecord, amount: Any = None,
                   today: dt.date | None = None) -> VoucherRedemption:
    """Pay part of a usage fee with a voucher of the usage's organisation. The balance is taken with one
    conditional update; a second spend of the same money (or of the same usage) raises :class:`VoucherSpent`."""
    voucher = Voucher.objects.select_related("scheme").get(pk=voucher.pk)
    if voucher.organisation_id not in core_permissions.organisation_ids(actor):
        raise PermissionDenied(_("Only the enterprise's own users spend its vouchers."))
    if usage.organisation_id != voucher.organisation_id:
        raise refuse({"usage": _("The usage is not the voucher holder's.")}, code="usage")
    if voucher.state != VoucherState.APPROVED or voucher.scheme.valid_until < (today or timezone.localdate()):
        raise refuse({"voucher": _("The voucher is not approved or has expired.")}, code="voucher")
    limit = (usage.fee * voucher.scheme.max_share).quantize(CENT, rounding=ROUND_DOWN)
    amount = _amount(amount if amount not in (None, "") else min(limit, voucher.balance), "amount")
    if amount > limit:
        raise refuse({"amount": _("A voucher pays at most %(limit)s CNY of this fee.") % {"limit": limit}},
                              code="share")
    taken = Voucher.objects.filter(pk=voucher.pk, balance__gte=amount).update(balance=F("balance") - amount,
                                                                             updated_at=timezone.now())
    if taken != 1:
        raise VoucherSpent(_("The voucher's balance does not cover %(amount)s CNY.") % {"amount": amount})
    try:
        with transaction.atomic():
            redemption = VoucherRedemption.objects.create(voucher=voucher, usage=usage, amount=amount)
            paid = UsageRecord.objects.filter(pk=usage.pk, voucher_paid=0).update(voucher_paid=amount)
            if paid != 1:
                raise IntegrityError("usage already paid by voucher")
    except IntegrityError:
        raise VoucherSpent(_("This usage is already paid in part by a voucher.")) from None
    audit_record(action=AuditAction.CREATE, actor=actor, obj=redemption, acting_organisation=voucher.organisation,
                 changes={"voucher": [None, voucher.code], "usage": [None, usage.pk], "amount": [None, amount]})
    return redemption


@transaction.atomic
def redemptions_settle(*, actor: User | None, redemptions: list[VoucherRedemption]) -> int:
    """The bureau settles redeemed amounts to the providers; settling twice changes nothing."""
    if not permissions.can_manage_vouchers(actor):
        raise PermissionDenied
    now = timezone.now()
    pending = VoucherRedemption.objects.select_for_update().filter(pk__in=[r.pk for r in redemptions],
                                                                    settled_at__isnull=True)
    ids = list(pending.values_list("pk", flat=True))
    if not ids:
        return 0
    count = VoucherRedemption.objects.filter(pk__in=ids).update(settled_at=now)
    audit_record(action=AuditAction.UPDATE, actor=actor, object_type="facilities.voucherredemption",
                 object_id=",".join(map(str, ids))[:64], object_repr=_("Voucher settlement"),
                 changes={"settled": [None, count], "redemptions": [None, ids]})
    return count
