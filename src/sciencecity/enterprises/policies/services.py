"""Writes of the policy library: policies (rule validated at save time) and the remembered matches
that notify enterprises of new eligible policies. Every write is audited in its transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.accounts.choices import Role
from sciencecity.accounts.models import User
from sciencecity.core import permissions as core_permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.core.notifications import notification_send
from sciencecity.engines.rules import fields, lang
from sciencecity.engines.rules.i18n import translating
from sciencecity.enterprises.policies import permissions, selectors
from sciencecity.enterprises.policies.choices import PolicyStatus
from sciencecity.enterprises.policies.models import Policy, PolicyMatch

POLICY_FIELDS = ("code", "title", "issuer", "document_number", "valid_from", "valid_until", "application_opens",
                 "application_closes", "benefit", "amount_formula", "materials", "rule", "without_application",
                 "status")


def rule_message(exc: lang.RuleError) -> str:
    """A refused rule in the user's language, naming the clause and where it is."""
    if exc.clause:
        return _("%(where)s, clause «%(clause)s»: %(message)s") % {
            "where": exc.where or _("rule"), "clause": exc.clause, "message": exc.message}
    return exc.message


def check_rule(rule: str, amount_formula: str = "") -> None:
    """Raise ``ValidationError`` on the ``rule`` or ``amount_formula`` field when it does not parse,
    names an unknown field or compares text with a number."""
    from django.utils.translation import gettext

    with translating(gettext):
        try:
            lang.parse_rule(rule, fields.SCHEMA)
        except lang.RuleError as exc:
            raise ValidationError({"rule": rule_message(exc)}, code="invalid_rule") from None
        if amount_formula and amount_formula.strip():
            try:
                lang.parse_amount(amount_formula, fields.SCHEMA)
            except lang.RuleError as exc:
                raise ValidationError({"amount_formula": rule_message(exc)}, code="invalid_formula") from None


def _check_dates(policy: Policy) -> None:
    if policy.application_opens and policy.application_closes and policy.application_closes < policy.application_opens:
        raise ValidationError({"application_closes": _("Before the opening date.")})
    if policy.valid_until and policy.valid_from and policy.valid_until < policy.valid_from:
        raise ValidationError({"valid_until": _("Before the start of validity.")})


@transaction.atomic
def policy_create(*, actor: User, **values: Any) -> Policy:
    core_permissions.require(permissions.can_manage_policies(actor))
    unknown = set(values) - set(POLICY_FIELDS) - {"is_synthetic"}
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    policy = Policy(**values, created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _check_dates(policy)
    policy.full_clean()
    check_rule(policy.rule, policy.amount_formula)
    policy.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=policy, changes=diff(None, snapshot(policy,
                                                                                                 POLICY_FIELDS)))
    if policy.status == PolicyStatus.PUBLISHED:
        transaction.on_commit(lambda: policy_matches_refresh(actor=None, policy_ids=[policy.pk]))
    return policy


@transaction.atomic
def policy_update(*, actor: User, policy: Policy, **values: Any) -> Policy:
    core_permissions.require(permissions.can_manage_policies(actor))
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    before = snapshot(policy, POLICY_FIELDS)
    for name, value in values.items():
        setattr(policy, name, value)
    _check_dates(policy)
    policy.full_clean()
    check_rule(policy.rule, policy.amount_formula)
    changes = diff(before, snapshot(policy, POLICY_FIELDS))
    if not changes:
        return policy
    policy.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=policy, changes=changes)
    pk = policy.pk
    transaction.on_commit(lambda: policy_matches_refresh(actor=None, policy_ids=[pk]))
    return policy


@transaction.atomic
def policy_withdraw(*, actor: User, policy: Policy, reason: str) -> Policy:
    """撤回: take a draft or published policy out of force, with the reason (audited as a state change).

    Its remembered matches are dropped in the same transaction (counted in the audit event), so it
    leaves every "my policies" page; the policy itself stays, for the record."""
    core_permissions.require(actor, "enterprises.withdraw_policy", policy)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the policy is withdrawn.")})
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.status == PolicyStatus.WITHDRAWN:
        raise ValidationError({"status": _("The policy is withdrawn already.")})
    before = policy.status
    policy.status = PolicyStatus.WITHDRAWN
    policy.save(update_fields=["status", "updated_at"])
    removed, _by_model = PolicyMatch.objects.filter(policy=policy).delete()
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=policy, reason=reason[:500],
                 changes={"status": [before, PolicyStatus.WITHDRAWN.value], "matches_removed": removed})
    return policy


@transaction.atomic
def policy_matches_refresh(*, actor: User | None = None, policy_ids: list[int] | None = None,
                           today: dt.date | None = None) -> dict[str, int]:
    """Evaluate the published policies (or ``policy_ids``) over every enterprise in one pass; remember
    new matches and notify the enterprise's users once, forget matches that no longer hold. Returns
    the counts ``{"created", "removed", "notified"}`` (also the audit event's changes)."""
    today = today or timezone.localdate()
    policies = selectors.published_policies(today)
    if policy_ids is not None:
        policies = policies.filter(pk__in=policy_ids)
    policies, compiled = selectors.compile_policies(policies)
    existing_qs = PolicyMatch.objects.all() if policy_ids is None else PolicyMatch.objects.filter(
        policy_id__in=policy_ids)
    existing = {(m.policy_id, m.organisation_id): m for m in existing_qs}
    found: dict[tuple[int, int], float | None] = {}
    if compiled:
        from sciencecity.engines.rules import vector

        columns = selectors.enterprise_table(today=today)
        result = vector.evaluate_all(compiled, columns.table, today, costs=False)
        for row, policy in enumerate(policies):
            indices, amounts = result.amounts[row]
            for i, amount in zip(indices.tolist(), amounts.tolist(), strict=True):
                found[(policy.pk, columns.organisation_ids[i])] = None if amount != amount else round(amount, 2)
    gone = [m.pk for key, m in existing.items() if key not in found]
    PolicyMatch.objects.filter(pk__in=gone).delete()
    new = [PolicyMatch(policy_id=p, organisation_id=o, amount=None if a is None else Decimal(str(a)))
           for (p, o), a in found.items() if (p, o) not in existing]
    PolicyMatch.objects.bulk_create(new, batch_size=1000)
    notified = _notify_new(new, {p.pk: p for p in policies})
    counts = {"created": len(new), "removed": len(gone), "notified": notified}
    if new or gone:
        audit_record(action=AuditAction.UPDATE, actor=actor, object_type=PolicyMatch._meta.label_lower,
                     object_repr=_("policy matches"), changes={k: [None, v] for k, v in counts.items()})
    return counts


def _notify_new(new: list[PolicyMatch], policies: dict[int, Policy]) -> int:
    if not new:
        return 0
    by_org: dict[int, list[int]] = {}
    for match in new:
        by_org.setdefault(match.organisation_id, []).append(match.policy_id)
    users = {}
    for user in User.objects.filter(is_active=True, memberships__role=Role.ENTERPRISE_USER,
                                    memberships__organisation_id__in=list(by_org)).distinct():
        for org_id in user.memberships.filter(role=Role.ENTERPRISE_USER).values_list("organisation_id", flat=True):
            if org_id in by_org:
                users.setdefault(user.pk, (user, []))[1].extend(by_org[org_id])
    url = reverse("enterprises:my_policies")
    by_policy: dict[int, list] = {}
    for user, policy_ids in users.values():
        for policy_id in policy_ids:
            by_policy.setdefault(policy_id, []).append(user)
    sent = 0
    for policy_id, recipients in by_policy.items():
        sent += len(notification_send(users=recipients, url=url, category="policy",
                                      message=_("New eligible policy: %(title)s") % {"title": policies[policy_id].title}))
    return sent
