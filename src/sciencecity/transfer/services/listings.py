"""Writes of listings: achievements (科技成果) and technology demands (技术需求), audited.

Each write updates the process's matching index at once (other processes catch up through the
index's staleness check), notifies the owners of matching listings of the other side, and alerts
topic watches that the new listing matches.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.registry.models import Organisation, Sector
from sciencecity.transfer import permissions as access
from sciencecity.transfer.choices import FeedbackLabel, ListingStatus, TransferMode
from sciencecity.transfer.models import Achievement, MatchFeedback, TechDemand

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

ACHIEVEMENT_FIELDS = (
    "code", "title", "abstract", "keywords", "trl", "ip_type", "ip_number", "ip_status", "ip_holders", "inventors",
    "modes", "asking_terms", "contact_name", "contact_email", "contact_phone", "visibility", "status", "is_synthetic",
)
DEMAND_FIELDS = (
    "code", "title", "public_summary", "description", "confidential", "keywords", "budget_min", "budget_max",
    "deadline", "modes", "min_trl", "status", "is_synthetic",
)


def _sectors(codes: Any) -> list[Sector]:
    codes = [c for c in (codes or []) if c]
    found = {s.code: s for s in Sector.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({"sectors": _("Unknown field code(s): %(codes)s.") % {"codes": ", ".join(unknown)}})
    return [found[c] for c in codes]


def _organisations(codes_or_ids: Any) -> list[Organisation]:
    values = [v for v in (codes_or_ids or []) if v not in (None, "")]
    ids = [int(v) for v in values if isinstance(v, int) or str(v).isdigit()]
    codes = [str(v) for v in values if not (isinstance(v, int) or str(v).isdigit())]
    orgs = list(Organisation.objects.filter(pk__in=ids)) + list(Organisation.objects.filter(code__in=codes))
    if len({o.pk for o in orgs}) != len(values):
        raise ValidationError({"invited": _("Unknown organisation(s) among the invited.")})
    return orgs


def _check_modes(modes: Any, field: str) -> list[str]:
    modes = list(dict.fromkeys(modes or []))
    bad = [m for m in modes if m not in TransferMode.values]
    if bad:
        raise ValidationError({field: _("Unknown transfer mode(s): %(modes)s.") % {"modes": ", ".join(bad)}})
    return modes


def _check_budget(demand: TechDemand) -> None:
    errors = {}
    for name in ("budget_min", "budget_max"):
        value = getattr(demand, name)
        if value is not None and Decimal(value) < 0:
            errors[name] = _("The budget cannot be negative.")
    if not errors and demand.budget_min is not None and demand.budget_max is not None \
            and demand.budget_min > demand.budget_max:
        errors["budget_max"] = _("The upper budget is below the lower one.")
    if demand.min_trl is not None and not 1 <= demand.min_trl <= 9:
        errors["min_trl"] = _("The TRL is between 1 and 9.")
    if errors:
        raise ValidationError(errors)


def _achievement_snapshot(achievement: Achievement) -> dict[str, Any]:
    data = snapshot(achievement, [*ACHIEVEMENT_FIELDS, "owner"])
    data["sectors"] = sorted(achievement.sectors.values_list("code", flat=True))
    data["invited"] = sorted(achievement.invited.values_list("code", flat=True))
    return data


def _demand_snapshot(demand: TechDemand) -> dict[str, Any]:
    data = snapshot(demand, [*DEMAND_FIELDS, "organisation"])
    data["sectors"] = sorted(demand.sectors.values_list("code", flat=True))
    return data


def _temporary_code() -> str:
    return "TMP-" + uuid.uuid4().hex[:30]


def _after_write(kind: str, obj: Any, *, created: bool) -> None:
    from sciencecity.transfer.services import matching, watch

    matching.listing_changed(kind, obj)
    if created and obj.status == ListingStatus.ACTIVE:
        matching.notify_new_listing(kind, obj)
        watch.alert_new_listing(kind, obj)


# --- achievements
@transaction.atomic
def _achievement_create(*, actor: User | None, organisation: Organisation, data: dict[str, Any],
                       check_permission: bool) -> Achievement:
    """Post an achievement for ``organisation`` (the acting organisation). ``data``: model fields plus
    ``sectors`` (codes) and ``invited`` (organisation ids or codes)."""
    if check_permission:
        permissions.require(access.can_create_achievement(actor, organisation))
    achievement = Achievement(owner=organisation, **{k: data[k] for k in ACHIEVEMENT_FIELDS
                                                     if k in data and data[k] is not None})
    achievement.modes = _check_modes(achievement.modes, "modes")
    sectors, invited = _sectors(data.get("sectors")), _organisations(data.get("invited"))
    generated = not achievement.code
    if generated:
        achievement.code = _temporary_code()
    achievement.full_clean()
    achievement.save()
    if generated:
        achievement.code = f"ACH-{achievement.pk:06d}"
        Achievement.objects.filter(pk=achievement.pk).update(code=achievement.code)
    achievement.sectors.set(sectors)
    achievement.invited.set(invited)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=achievement,
                 changes=diff({}, _achievement_snapshot(achievement)), acting_organisation=organisation)
    _after_write("achievements", achievement, created=True)
    return achievement


def achievement_create(
    *,
    actor: User | None,
    organisation: Organisation,
    data: dict[str, Any],
) -> Achievement:
    """:func:`_achievement_create` for a user: the actor's permission is checked first."""
    return _achievement_create(actor=actor, organisation=organisation, data=data, check_permission=True)


def achievement_create_unchecked(**kwargs: Any) -> Achievement:
    """Internal: :func:`achievement_create` without the permission check (importers, services that checked already)."""
    return _achievement_create(**kwargs, check_permission=False)


@transaction.atomic
def _achievement_update(*, actor: User | None, achievement: Achievement, data: dict[str, Any], reason: str = "",
                       check_permission: bool) -> dict[str, list[Any]]:
    """Change an achievement (the code and owner stay); returns the changes (empty: nothing changed)."""
    if check_permission:
        permissions.require(access.can_edit_achievement(actor, achievement))
    before = _achievement_snapshot(achievement)
    for name in ACHIEVEMENT_FIELDS:
        if name in data and name != "code" and data[name] is not None:
            setattr(achievement, name, data[name])
    achievement.modes = _check_modes(achievement.modes, "modes")
    sectors = _sectors(data["sectors"]) if "sectors" in data else None
    invited = _organisations(data["invited"]) if "invited" in data else None
    achievement.full_clean()
    achievement.save()
    if sectors is not None:
        achievement.sectors.set(sectors)
    if invited is not None:
        achievement.invited.set(invited)
    changes = diff(before, _achievement_snapshot(achievement))
    if changes:
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=achievement, changes=changes, reason=reason,
                     acting_organisation=achievement.owner)
        _after_write("achievements", achievement, created=False)
    return changes


def achievement_update(
    *,
    actor: User | None,
    achievement: Achievement,
    data: dict[str, Any],
    reason: str = "",
) -> dict[str, list[Any]]:
    """:func:`_achievement_update` for a user: the actor's permission is checked first."""
    return _achievement_update(actor=actor, achievement=achievement, data=data, reason=reason,
                               check_permission=True)


def achievement_update_unchecked(**kwargs: Any) -> dict[str, list[Any]]:
    """Internal: :func:`achievement_update` without the permission check (importers, services that checked already)."""
    return _achievement_update(**kwargs, check_permission=False)


def _achievement_close(*, actor: User | None, achievement: Achievement, check_permission: bool) -> dict[str, Any]:
    return _achievement_update(actor=actor, achievement=achievement, data={"status": ListingStatus.CLOSED},
                               reason="", check_permission=check_permission)


def achievement_close(*, actor: User | None, achievement: Achievement) -> dict[str, Any]:
    """:func:`_achievement_close` for a user: the actor's permission is checked first."""
    return _achievement_close(actor=actor, achievement=achievement, check_permission=True)


def achievement_close_unchecked(**kwargs: Any) -> dict[str, Any]:
    """Internal: :func:`achievement_close` without the permission check (importers, services that checked already)."""
    return _achievement_close(**kwargs, check_permission=False)


# --- demands
@transaction.atomic
def _demand_create(*, actor: User | None, organisation: Organisation, data: dict[str, Any],
                  check_permission: bool) -> TechDemand:
    """Post a technology demand for an enterprise; ``data``: model fields plus ``sectors`` (codes)."""
    if check_permission:
        permissions.require(access.can_create_demand(actor, organisation))
    demand = TechDemand(organisation=organisation, **{k: data[k] for k in DEMAND_FIELDS
                                                      if k in data and data[k] is not None})
    demand.modes = _check_modes(demand.modes, "modes")
    sectors = _sectors(data.get("sectors"))
    _check_budget(demand)
    generated = not demand.code
    if generated:
        demand.code = _temporary_code()
    demand.full_clean()
    demand.save()
    if generated:
        demand.code = f"DEM-{demand.pk:06d}"
        TechDemand.objects.filter(pk=demand.pk).update(code=demand.code)
    demand.sectors.set(sectors)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=demand, changes=diff({}, _demand_snapshot(demand)),
                 acting_organisation=organisation)
    _after_write("demands", demand, created=True)
    return demand


def demand_create(*, actor: User | None, organisation: Organisation, data: dict[str, Any]) -> TechDemand:
    """:func:`_demand_create` for a user: the actor's permission is checked first."""
    return _demand_create(actor=actor, organisation=organisation, data=data, check_permission=True)


def demand_create_unchecked(**kwargs: Any) -> TechDemand:
    """Internal: :func:`demand_create` without the permission check (importers, services that checked already)."""
    return _demand_create(**kwargs, check_permission=False)


@transaction.atomic
def _demand_update(*, actor: User | None, demand: TechDemand, data: dict[str, Any], reason: str = "",
                  check_permission: bool) -> dict[str, list[Any]]:
    if check_permission:
        permissions.require(access.can_edit_demand(actor, demand))
    before = _demand_snapshot(demand)
    nullable = {"budget_min", "budget_max", "deadline", "min_trl"}
    for name in DEMAND_FIELDS:
        if name in data and name != "code" and (data[name] is not None or name in nullable):
            setattr(demand, name, data[name])
    demand.modes = _check_modes(demand.modes, "modes")
    sectors = _sectors(data["sectors"]) if "sectors" in data else None
    _check_budget(demand)
    demand.full_clean()
    demand.save()
    if sectors is not None:
        demand.sectors.set(sectors)
    changes = diff(before, _demand_snapshot(demand))
    if changes:
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=demand, changes=changes, reason=reason,
                     acting_organisation=demand.organisation)
        _after_write("demands", demand, created=False)
    return changes


def demand_update(
    *,
    actor: User | None,
    demand: TechDemand,
    data: dict[str, Any],
    reason: str = "",
) -> dict[str, list[Any]]:
    """:func:`_demand_update` for a user: the actor's permission is checked first."""
    return _demand_update(actor=actor, demand=demand, data=data, reason=reason, check_permission=True)


def demand_update_unchecked(**kwargs: Any) -> dict[str, list[Any]]:
    """Internal: :func:`demand_update` without the permission check (importers, services that checked already)."""
    return _demand_update(**kwargs, check_permission=False)


def _demand_close(*, actor: User | None, demand: TechDemand, check_permission: bool) -> dict[str, Any]:
    return _demand_update(actor=actor, demand=demand, data={"status": ListingStatus.CLOSED},
                          reason="", check_permission=check_permission)


def demand_close(*, actor: User | None, demand: TechDemand) -> dict[str, Any]:
    """:func:`_demand_close` for a user: the actor's permission is checked first."""
    return _demand_close(actor=actor, demand=demand, check_permission=True)


def demand_close_unchecked(**kwargs: Any) -> dict[str, Any]:
    """Internal: :func:`demand_close` without the permission check (importers, services that checked already)."""
    return _demand_close(**kwargs, check_permission=False)


# --- feedback on suggestions
@transaction.atomic
def feedback_set(*, actor: User | None, label: str, demand: TechDemand | None = None,
                 achievement: Achievement | None = None) -> MatchFeedback:
    """Store (or change) the user's feedback on a suggested pair; the latest label counts."""
    permissions.require(access.can_use_marketplace(actor))
    if label not in FeedbackLabel.values:
        raise ValidationError({"label": _("Unknown feedback label.")})
    if demand is None and achievement is None:
        raise ValidationError(_("Feedback needs a demand or an achievement."))
    for obj, can_view in ((demand, access.can_view_demand), (achievement, access.can_view_achievement)):
        if obj is not None:
            permissions.require(can_view(actor, obj))
    feedback, created = MatchFeedback.objects.update_or_create(
        user=actor, demand=demand, achievement=achievement, defaults={"label": label})
    audit_record(action=AuditAction.CREATE if created else AuditAction.UPDATE, actor=actor, obj=feedback,
                 object_repr=f"{demand.code if demand else '-'} ↔ {achievement.code if achievement else '-'}",
                 changes={"label": [None, label]})
    return feedback
