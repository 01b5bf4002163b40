"""The integrity list (科研诚信): entries on people or organisations that block applications and
expert duty while in force. Every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.programmes.models import IntegrityEntry

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

FIELDS = ["person", "organisation", "reason", "source", "start_date", "end_date"]


@transaction.atomic
def integrity_entry_add(*, actor: User | None, person=None, organisation=None, reason: str, source: str,
                        start_date: dt.date, end_date: dt.date | None = None) -> IntegrityEntry:
    permissions.require(permissions.is_bureau_officer(actor))
    entry = IntegrityEntry(person=person, organisation=organisation, reason=reason.strip(), source=source.strip(),
                           start_date=start_date, end_date=end_date)
    if person is None and organisation is None:
        raise ValidationError(_("Name the person or the organisation."))
    entry.full_clean()
    entry.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=entry, object_repr=str(person or organisation),
                 changes=diff({}, snapshot(entry, FIELDS)))
    return entry


@transaction.atomic
def integrity_entry_end(*, actor: User | None, entry: IntegrityEntry, end_date: dt.date, reason: str) -> IntegrityEntry:
    permissions.require(permissions.is_bureau_officer(actor))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    before = snapshot(entry, FIELDS)
    entry.end_date = end_date
    entry.full_clean()
    entry.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=entry, changes=diff(before, snapshot(entry, FIELDS)),
                 reason=reason)
    return entry


def listed_people(person_ids, day: dt.date | None = None) -> set[int]:
    return set(IntegrityEntry.objects.in_force(day).filter(person_id__in=list(person_ids))
               .values_list("person_id", flat=True))


def listed_organisation(organisation_id: int, day: dt.date | None = None) -> bool:
    return IntegrityEntry.objects.in_force(day).filter(Q(organisation_id=organisation_id)).exists()
