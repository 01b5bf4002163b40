"""Writes of listings: achievements (科技成果) and technology demands (技术需求), audited.

Each write updates the process's matching index at once (other processes catch up through the
index's staleness check), notifies the owners of matching listings of the other side, and alerts
topic watches that the new listing matches.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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


def _temporary_code() -> str:
    return "TMP-" + uuid.uuid4().hex[:30]


def _after_write(kind: str, obj: Any, *, created: bool) -> None:
    from sciencecity.transfer.services import matching, watch

    matching.listing_changed(kind, obj)
    if created and obj.status == ListingStatus.ACTIVE:
        matching.notify_new_listing(kind, obj)
        watch.alert_new_listing(kind, obj)


# --- the two sides: what differs between an achievement and a demand when it is written
@dataclass(frozen=True)
class ListingSide:
    """One side of the marketplace, as its writes see it; the writes below are the same for both."""

    kind: str  # the matching index's name: "achievements" / "demands"
    model: type[Achievement] | type[TechDemand]
    fields: tuple[str, ...]
    owner: str  # the organisation field
    prefix: str  # of generated codes: ACH-000001
    may_create: Callable[[Any, Organisation], bool]
    may_edit: Callable[[Any, Any], bool]
    #: many-to-many fields given by codes (or ids), with the function that resolves them
    relations: dict[str, Callable[[Any], list]] = field(default_factory=dict)
    #: fields an update may clear (``None``); the others keep their value when given ``None``
    nullable: frozenset[str] = frozenset()
    check: Callable[[Any], None] | None = None


ACHIEVEMENTS = ListingSide(
    kind="achievements", model=Achievement, fields=ACHIEVEMENT_FIELDS, owner="owner", prefix="ACH",
    may_create=access.can_create_achievement, may_edit=access.can_edit_achievement,
    relations={"sectors": _sectors, "invited": _organisations},
)
DEMANDS = ListingSide(
    kind="demands", model=TechDemand, fields=DEMAND_FIELDS, owner="organisation", prefix="DEM",
    may_create=access.can_create_demand, may_edit=access.can_edit_demand, relations={"sectors": _sectors},
    nullable=frozenset({"budget_min", "budget_max", "deadline", "min_trl"}), check=_check_budget,
)


def _snapshot(side: ListingSide, listing: Any) -> dict[str, Any]:
    data = snapshot(listing, [*side.fields, side.owner])
    for name in side.relations:
        data[name] = sorted(getattr(listing, name).values_list("code", flat=True))
    return data


@transaction.atomic
def _listing_create(side: ListingSide, *, actor: User | None, organisation: Organisation, data: dict[str, Any],
                    check_permission: bool) -> Any:
    """Post a listing for ``organisation`` (the acting organisation). ``data``: model fields plus the
    side's relations (``sectors`` as codes; for achievements ``invited``, organisation ids or codes)."""
    if check_permission:
        permissions.require(side.may_create(actor, organisation))
    listing = side.model(**{side.owner: organisation},
                         **{k: data[k] for k in side.fields if k in data and data[k] is not None})
    listing.modes = _check_modes(listing.modes, "modes")
    related = {name: resolve(data.get(name)) for name, resolve in side.relations.items()}
    if side.check is not None:
        side.check(listing)
    generated = not listing.code
    if generated:
        listing.code = _temporary_code()
    listing.full_clean()
    listing.save()
    if generated:
        listing.code = f"{side.prefix}-{listing.pk:06d}"
        side.model.objects.filter(pk=listing.pk).update(code=listing.code)
    for name, values in related.items():
        getattr(listing, name).set(values)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=listing, changes=diff({}, _snapshot(side, listing)),
                 acting_organisation=organisation)
    _after_write(side.kind, listing, created=True)
    return listing


@transaction.atomic
def _listing_update(side: ListingSide, *, actor: User | None, listing: Any, data: dict[str, Any], reason: str = "",
                    check_permission: bool) -> dict[str, list[Any]]:
    """Change a listing (the code and owner stay); returns the changes (empty: nothing changed)."""
    if check_permission:
        permissions.require(side.may_edit(actor, listing))
    before = _snapshot(side, listing)
    for name in side.fields:
        if name in data and name != "code" and (data[name] is not None or name in side.nullable):
            setattr(listing, name, data[name])
    listing.modes = _check_modes(listing.modes, "modes")
    related = {name: resolve(data[name]) for name, resolve in side.relations.items() if name in data}
    if side.check is not None:
        side.check(listing)
    listing.full_clean()
    listing.save()
    for name, values in related.items():
        getattr(listing, name).set(values)
    changes = diff(before, _snapshot(side, listing))
    if changes:
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=listing, changes=changes, reason=reason,
                     acting_organisation=getattr(listing, side.owner))
        _after_write(side.kind, listing, created=False)
    return changes


def _listing_close(side: ListingSide, *, actor: User | None, listing: Any, check_permission: bool) -> dict[str, Any]:
    return _listing_update(side, actor=actor, listing=listing, data={"status": ListingStatus.CLOSED},
                           check_permission=check_permission)


# --- achievements
def achievement_create(*, actor: User | None, organisation: Organisation, data: dict[str, Any]) -> Achievement:
    """Post an achievement: :func:`_listing_create` for a user, the actor's permission checked first."""
    return _listing_create(ACHIEVEMENTS, actor=actor, organisation=organisation, data=data, check_permission=True)


def achievement_create_unchecked(**kwargs: Any) -> Achievement:
    """Internal: :func:`achievement_create` without the permission check (importers, services that checked already)."""
    return _listing_create(ACHIEVEMENTS, **kwargs, check_permission=False)


def achievement_update(*, actor: User | None, achievement: Achievement, data: dict[str, Any],
                       reason: str = "") -> dict[str, list[Any]]:
    """:func:`_listing_update` for a user: the actor's permission is checked first."""
    return _listing_update(ACHIEVEMENTS, actor=actor, listing=achievement, data=data, reason=reason,
                           check_permission=True)


def achievement_update_unchecked(*, achievement: Achievement, **kwargs: Any) -> dict[str, list[Any]]:
    """Internal: :func:`achievement_update` without the permission check (importers, services that checked already)."""
    return _listing_update(ACHIEVEMENTS, listing=achievement, **kwargs, check_permission=False)


def achievement_close(*, actor: User | None, achievement: Achievement) -> dict[str, Any]:
    """:func:`_listing_close` for a user: the actor's permission is checked first."""
    return _listing_close(ACHIEVEMENTS, actor=actor, listing=achievement, check_permission=True)


def achievement_close_unchecked(*, achievement: Achievement, **kwargs: Any) -> dict[str, Any]:
    """Internal: :func:`achievement_close` without the permission check (importers, services that checked already)."""
    return _listing_close(ACHIEVEMENTS, listing=achievement, **kwargs, check_permission=False)


# --- demands
def demand_create(*, actor: User | None, organisation: Organisation, data: dict[str, Any]) -> TechDemand:
    """Post a technology demand for an enterprise: :func:`_listing_create` for a user, permission checked first."""
    return _listing_create(DEMANDS, actor=actor, organisation=organisation, data=data, check_permission=True)


def demand_create_unchecked(**kwargs: Any) -> TechDemand:
    """Internal: :func:`demand_create` without the permission check (importers, services that checked already)."""
    return _listing_create(DEMANDS, **kwargs, check_permission=False)


def demand_update(*, actor: User | None, demand: TechDemand, data: dict[str, Any],
                  reason: str = "") -> dict[str, list[Any]]:
    """:func:`_listing_update` for a user: the actor's permission is checked first."""
    return _listing_update(DEMANDS, actor=actor, listing=demand, data=data, reason=reason, check_permission=True)


def demand_update_unchecked(*, demand: TechDemand, **kwargs: Any) -> dict[str, list[Any]]:
    """Internal: :func:`demand_update` without the permission check (importers, services that checked already)."""
    return _listing_update(DEMANDS, listing=demand, **kwargs, check_permission=False)


def demand_close(*, actor: User | None, demand: TechDemand) -> dict[str, Any]:
    """:func:`_listing_close` for a user: the actor's permission is checked first."""
    return _listing_close(DEMANDS, actor=actor, listing=demand, check_permission=True)


def demand_close_unchecked(*, demand: TechDemand, **kwargs: Any) -> dict[str, Any]:
    """Internal: :func:`demand_close` without the permission check (importers, services that checked already)."""
    return _listing_close(DEMANDS, listing=demand, **kwargs, check_permission=False)


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
