"""Indicator metadata and targets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sciencecity.core.audit import audit_record, diff, snapshot, to_json
from sciencecity.core.models import AuditAction
from sciencecity.plans import sources
from sciencecity.plans.choices import Comparator
from sciencecity.plans.models import (
    DISTRICT_SCOPE,
    Indicator,
    TargetValue,
)
from sciencecity.plans.services.common import check_department, require_bureau

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


# --- indicator metadata
INDICATOR_FIELDS = ("unit", "direction", "comparator", "target_year", "attribute", "data_source", "owner_department",
                    "source_key", "plausible_min", "plausible_max")
NULLABLE_FIELDS = ("target_year", "owner_department", "plausible_min", "plausible_max")
#: Keys of ``data`` for the target row (TargetValue of the target year): value, low, high.
TARGET_KEYS = {"target_value": "value", "target_low": "low", "target_high": "high"}
#: Changing any of these changes the target: a reason is required.
TARGET_CHANGES = ("comparator", "target_year", *TARGET_KEYS)


def _target_row(indicator: Indicator) -> TargetValue | None:
    rows = TargetValue.objects.select_for_update().filter(indicator=indicator, scope=DISTRICT_SCOPE)
    return rows.filter(year=indicator.target_year).first() or rows.order_by("year").first()


def _check_target(indicator: Indicator, target: dict[str, float | None]) -> None:
    if all(v is None for v in target.values()):
        return
    errors: dict[str, str] = {}
    if indicator.target_year is None:
        errors["target_year"] = _("A target needs a target year.")
    if indicator.comparator == Comparator.RANGE:
        if target["low"] is None or target["high"] is None:
            errors["target_low"] = _("A range target needs a low and a high value.")
        elif target["low"] > target["high"]:
            errors["target_high"] = _("The high value of the range is below its low value.")
    elif target["value"] is None:
        errors["target_value"] = _("Enter the target value.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def indicator_update(*, actor: User | None, indicator: Indicator, data: dict[str, Any], reason: str = "") -> dict[str, list[Any]]:
    """Edit an indicator's metadata and its target (the TargetValue row of its target year). Bureau only.

    ``data`` holds any of :data:`INDICATOR_FIELDS` (``owner_department`` an Organisation or None,
    ``source_key`` a registered source or "") and ``target_value``/``target_low``/``target_high``.
    Changing the target (value, range, comparator or year) requires a reason. Audited with the old
    and new values.
    """
    require_bureau(actor)
    given, indicator = indicator, Indicator.objects.select_for_update().get(pk=indicator.pk)
    row = _target_row(indicator)
    current = {key: getattr(row, name) if row else None for key, name in TARGET_KEYS.items()}
    before = {**snapshot(indicator, INDICATOR_FIELDS), **to_json(current)}
    for key in INDICATOR_FIELDS:
        if key in data:
            value = data[key]
            setattr(indicator, key, "" if value is None and key not in NULLABLE_FIELDS else value)
    check_department(indicator.owner_department)
    if indicator.source_key and sources.get(indicator.source_key) is None:
        raise ValidationError({"source_key": _("“%(key)s” is not a registry computation.") % {
            "key": indicator.source_key}})
    indicator.full_clean()
    target = {name: (float(data[key]) if data[key] is not None else None) if key in data else current[key]
              for key, name in TARGET_KEYS.items()}
    _check_target(indicator, target)
    changes = diff(before, {**snapshot(indicator, INDICATOR_FIELDS),
                            **to_json({key: target[name] for key, name in TARGET_KEYS.items()})})
    if any(key in changes for key in TARGET_CHANGES) and not reason.strip():
        raise ValidationError({"reason": _("Changing the target of an indicator needs a reason.")})
    if not changes:
        return changes
    indicator.save()
    if all(v is None for v in target.values()):
        if row is not None:
            row.delete()
    else:
        existing = TargetValue.objects.filter(indicator=indicator, year=indicator.target_year,
                                              scope=DISTRICT_SCOPE).first()
        if row is not None and existing is not None and existing.pk != row.pk:
            row.delete()
        row = existing or row or TargetValue(indicator=indicator, scope=DISTRICT_SCOPE)
        row.year = indicator.target_year
        row.comparator = indicator.comparator
        row.value, row.low, row.high = target["value"], target["low"], target["high"]
        row.full_clean()
        row.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=indicator, changes=changes, reason=reason)
    given.refresh_from_db()
    return changes
