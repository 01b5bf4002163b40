"""Helpers shared by the programme services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


def transition(*, actor: User | None, obj: models.Model, field: str, new: str, allowed_from: tuple[str, ...],
               reason: str = "", labels: type[models.TextChoices] | None = None) -> None:
    """Move ``obj.<field>`` to ``new`` if its current state allows it; audited."""
    old = getattr(obj, field)
    if old not in allowed_from:
        label_old = labels(old).label if labels else old
        label_new = labels(new).label if labels else new
        raise ValidationError(_("Cannot go from “%(old)s” to “%(new)s”.") % {"old": label_old, "new": label_new},
                              code="invalid_transition")
    setattr(obj, field, new)
    obj.save(update_fields=[field, "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=obj, changes={field: [old, new]}, reason=reason)


def next_code(model: type[models.Model], prefix: str, field: str = "code") -> str:
    """``PREFIX-0001``-style codes, one more than the highest with that prefix."""
    last = (model.objects.filter(**{f"{field}__startswith": f"{prefix}-"}).order_by(f"-{field}")
            .values_list(field, flat=True).first())
    number = int(last.rsplit("-", 1)[1]) + 1 if last and last.rsplit("-", 1)[1].isdigit() else 1
    return f"{prefix}-{number:04d}"
