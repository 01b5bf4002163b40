"""Indicator values and reporting rounds: set, compute, submit, approve, return and reopen."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.plans import sources
from sciencecity.plans.choices import (
    SubmissionStatus,
    ValueSource,
    ValueStatus,
)
from sciencecity.plans.models import (
    DISTRICT_SCOPE,
    Indicator,
    ObservedValue,
    Plan,
    ReportingRound,
    RoundSubmission,
)
from sciencecity.plans.permissions import can_enter_value
from sciencecity.plans.services.common import require_bureau
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


# --- indicator values and reporting rounds
def indicator_department(indicator: Indicator) -> Organisation | None:
    return indicator.owner_department


def check_plausible(indicator: Indicator, value: float) -> None:
    """Refuse a value outside the indicator's plausible range (NaN and infinities included), naming both."""
    low, high = indicator.plausible_range()
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise ValidationError({"value": _(
            "%(value)s is outside the plausible range of “%(name)s” (%(low)s to %(high)s %(unit)s); check the "
            "figure, or ask the bureau to widen the range.") % {
            "value": value, "name": indicator.name, "low": f"{low:g}", "high": f"{high:g}", "unit": indicator.unit}})


@transaction.atomic
def _indicator_value_set(*, actor: User | None, indicator: Indicator, year: int, value: float, source: str = ValueSource.MANUAL,
                        scope: str = DISTRICT_SCOPE, note: str = "", provenance: str = "",
                        check_permission: bool, is_synthetic: bool = False) -> tuple[ObservedValue, bool]:
    """Set an observed value (a draft until its round is approved). Locked (approved) values refuse.

    Returns the value and whether anything changed.
    """
    if check_permission:
        permissions.require(can_enter_value(actor, indicator))
    if value is None:
        raise ValidationError({"value": _("Enter a number.")})
    check_plausible(indicator, value)
    current = ObservedValue.objects.select_for_update().filter(indicator=indicator, year=year, scope=scope).first()
    if current is not None and current.locked:
        raise ValidationError({"value": _("The %(year)s value of “%(name)s” is approved and locked; the bureau must "
                                          "re-open it with a reason first.") % {"year": year, "name": indicator.name}})
    if current is not None and current.value == float(value) and current.note == note and current.source == source:
        return current, False
    before = snapshot(current, ["value", "source", "status", "note"]) if current else {}
    obj = current or ObservedValue(indicator=indicator, year=year, scope=scope)
    obj.value = float(value)
    obj.source = source
    obj.note = note[:300]
    obj.provenance = provenance or obj.provenance
    obj.status = ValueStatus.DRAFT
    obj.is_synthetic = is_synthetic
    obj.entered_by = actor if getattr(actor, "is_authenticated", False) else None
    obj.full_clean()
    obj.save()
    audit_record(action=AuditAction.UPDATE if current else AuditAction.CREATE, actor=actor, obj=obj,
                 object_repr=f"{indicator.name} {year}",
                 changes=diff(before, snapshot(obj, ["value", "source", "status", "note"])))
    return obj, True


def indicator_value_set(
    *,
    actor: User | None,
    indicator: Indicator,
    year: int,
    value: float,
    source: str = ValueSource.MANUAL,
    scope: str = DISTRICT_SCOPE,
    note: str = "",
    provenance: str = "",
    is_synthetic: bool = False) -> tuple[ObservedValue, bool]:
    """:func:`_indicator_value_set` for a user: the actor's permission is checked first."""
    return _indicator_value_set(actor=actor, indicator=indicator, year=year, value=value, source=source,
                                scope=scope, note=note, provenance=provenance, is_synthetic=is_synthetic,
                                check_permission=True)


def indicator_value_set_unchecked(**kwargs: Any) -> tuple[ObservedValue, bool]:
    """Internal: :func:`indicator_value_set` without the permission check (importers, services that checked already)."""
    return _indicator_value_set(**kwargs, check_permission=False)


@transaction.atomic
def indicator_value_compute(*, actor: User | None, indicator: Indicator, year: int) -> ObservedValue | None:
    """Store the registry computation of an indicator for a year, with its provenance.

    ``None`` when there is no computation, or when the registry counts nothing for that year and no
    value is stored yet: a year without data never becomes a stored 0 (a stored value that drops to 0,
    e.g. after a cancelled contract, is updated)."""
    source = sources.get(indicator.source_key)
    if source is None:
        return None
    value, provenance = sources.compute(source, year=year, scope=DISTRICT_SCOPE, plan_start=indicator.plan.start_year)
    current = ObservedValue.objects.filter(indicator=indicator, year=year, scope=DISTRICT_SCOPE).first()
    if current is not None and current.locked:
        return current
    if not value and current is None:
        return None
    obj, _changed = indicator_value_set_unchecked(actor=actor, indicator=indicator, year=year, value=value,
                                        source=ValueSource.COMPUTED, provenance=provenance)
    return obj


@transaction.atomic
def round_open(*, actor: User | None, plan: Plan, year: int, deadline: dt.date) -> ReportingRound:
    require_bureau(actor)
    rnd, created = ReportingRound.objects.get_or_create(plan=plan, year=year, defaults={"deadline": deadline})
    if created:
        departments = Organisation.objects.filter(owned_indicators__plan=plan).distinct()
        RoundSubmission.objects.bulk_create([RoundSubmission(round=rnd, department=d) for d in departments])
        audit_record(action=AuditAction.CREATE, actor=actor, obj=rnd,
                     changes={"year": [None, year], "deadline": [None, deadline],
                              "departments": [None, [d.pk for d in departments]]})
    return rnd


def _submission_for(rnd: ReportingRound, department: Organisation) -> RoundSubmission:
    submission, _ = RoundSubmission.objects.get_or_create(round=rnd, department=department)
    return submission


def _transition(actor: User | None, submission: RoundSubmission, new: str, *, allowed_from: tuple[str, ...],
                comment: str = "") -> RoundSubmission:
    if submission.status not in allowed_from:
        raise ValidationError(_("A submission that is “%(status)s” cannot become “%(new)s”.") % {
            "status": submission.get_status_display(), "new": SubmissionStatus(new).label})
    old = submission.status
    submission.status = new
    submission.comment = comment
    now = timezone.now()
    if new == SubmissionStatus.SUBMITTED:
        submission.submitted_at, submission.submitted_by = now, actor
    else:
        submission.decided_at, submission.decided_by = now, actor
    submission.save()
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=submission,
                 object_repr=f"{submission.round} · {submission.department}",
                 changes={"status": [old, new]}, reason=comment, acting_organisation=_acting_for(actor, submission))
    if new in (SubmissionStatus.APPROVED, SubmissionStatus.RETURNED):
        _notify_department(submission)
    return submission


def _acting_for(actor: User | None, submission: RoundSubmission) -> Organisation | None:
    """The organisation ``actor`` acts for on ``submission``: its department when the actor belongs to it,
    else the actor's own (the bureau approving), never the target's (issue 11 obs. 9)."""
    ids = permissions.organisation_ids(actor)
    if submission.department_id in ids:
        return submission.department
    return Organisation.objects.filter(pk__in=ids).order_by("pk").first()


def _notify_department(submission: RoundSubmission) -> None:
    """The department's accounts learn that the bureau approved or returned their submission."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from sciencecity.core.notifications import notification_send

    if submission.status == SubmissionStatus.APPROVED:
        message = _("Your %(round)s submission was approved.") % {"round": submission.round.year}
    else:
        message = _("Your %(round)s submission was returned for revision: %(comment)s") % {
            "round": submission.round.year, "comment": submission.comment[:120]}
    users = get_user_model().objects.filter(is_active=True, memberships__organisation_id=submission.department_id)
    notification_send(users=users.distinct(), message=message, category="round",
                      url=reverse("plans:round_detail", args=[submission.round_id]))


def _department_values(submission: RoundSubmission):
    return ObservedValue.objects.filter(indicator__plan=submission.round.plan,
                                        indicator__owner_department=submission.department,
                                        year=submission.round.year)


@transaction.atomic
def submission_submit(*, actor: User | None, rnd: ReportingRound, department: Organisation) -> RoundSubmission:
    """A department submits its values for the round's year."""
    if not (permissions.is_bureau_officer(actor) or department.pk in permissions.organisation_ids(actor)):
        raise PermissionDenied
    submission = _submission_for(rnd, department)
    _department_values(submission).filter(status=ValueStatus.DRAFT).update(status=ValueStatus.SUBMITTED)
    return _transition(actor, submission, SubmissionStatus.SUBMITTED,
                       allowed_from=(SubmissionStatus.DRAFT, SubmissionStatus.RETURNED))


@transaction.atomic
def submission_approve(*, actor: User | None, submission: RoundSubmission) -> RoundSubmission:
    """The bureau approves: the department's values for that year are locked."""
    require_bureau(actor)
    values = _department_values(submission).exclude(status=ValueStatus.APPROVED)
    values.update(status=ValueStatus.APPROVED, approved_by=actor, approved_at=timezone.now())
    return _transition(actor, submission, SubmissionStatus.APPROVED, allowed_from=(SubmissionStatus.SUBMITTED,))


@transaction.atomic
def submission_return(*, actor: User | None, submission: RoundSubmission, comment: str) -> RoundSubmission:
    require_bureau(actor)
    if not comment.strip():
        raise ValidationError({"comment": _("Say what the department should revise.")})
    _department_values(submission).filter(status=ValueStatus.SUBMITTED).update(status=ValueStatus.DRAFT)
    return _transition(actor, submission, SubmissionStatus.RETURNED, allowed_from=(SubmissionStatus.SUBMITTED,),
                       comment=comment)


@transaction.atomic
def value_reopen(*, actor: User | None, value: ObservedValue, reason: str) -> ObservedValue:
    """Unlock an approved value; the reason is required and audited."""
    require_bureau(actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Re-opening an approved value needs a reason.")})
    if not value.locked:
        return value
    value.status = ValueStatus.DRAFT
    value.approved_by = None
    value.approved_at = None
    value.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=value, object_repr=f"{value.indicator.name} {value.year}",
                 changes={"status": [ValueStatus.APPROVED, ValueStatus.DRAFT]}, reason=reason)
    return value
