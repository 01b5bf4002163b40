"""Registry writes. Views, API, importers and commands all call these; every write is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.registry.choices import LEGAL_ENTITY_KINDS
from sciencecity.registry.models import (
    Affiliation,
    Certification,
    Organisation,
    OrganisationAlias,
    Person,
    Relation,
    Sector,
    StatusChange,
    normalise_search_text,
)
from sciencecity.registry.validators import normalise_credit_code

ORGANISATION_FIELDS = (
    "code", "name", "name_en", "kind", "level", "status", "credit_code", "founded_on", "address",
    "district", "website", "description", "keywords", "is_synthetic",
)
CERTIFIED_FIELDS = ("kind", "level", "status", "credit_code")
PERSON_FIELDS = ("code", "name", "name_en", "categories", "title", "email", "phone", "expertise", "biography", "is_synthetic")


def organisation_search_text(org: Organisation, aliases: Iterable[str] = ()) -> str:
    parts = [org.name, org.name_en, org.code, org.credit_code or "", org.keywords, org.district, *aliases]
    return normalise_search_text(" ".join(p for p in parts if p))


def person_search_text(person: Person) -> str:
    parts = [person.name, person.name_en, person.code, person.title, " ".join(person.expertise or [])]
    return normalise_search_text(" ".join(p for p in parts if p))


def _sectors_from(values: Iterable[Any]) -> list[Sector]:
    values = list(values or [])
    if values and all(isinstance(v, Sector) for v in values):
        return values
    codes = [str(v).strip() for v in values if str(v).strip()]
    found = {s.code: s for s in Sector.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({"sectors": _("Unknown sector code(s): %(codes)s.") % {"codes": ", ".join(unknown)}})
    return [found[c] for c in codes]


def _clean_aliases(values: Iterable[str] | None, name: str) -> list[str]:
    seen: list[str] = []
    for value in values or []:
        value = str(value).strip()
        if value and value != name and value not in seen:
            seen.append(value)
    return seen


def _organisation_validate(org: Organisation) -> None:
    if org.credit_code:
        org.credit_code = normalise_credit_code(org.credit_code)
    else:
        org.credit_code = None
    exclude = ["code"] if not org.code else []
    org.full_clean(exclude=exclude)
    if org.credit_code and org.kind not in LEGAL_ENTITY_KINDS:
        # Carriers and facilities are usually not legal entities; accept a code but keep it unique.
        pass


def _snapshot_org(org: Organisation) -> dict[str, Any]:
    data = snapshot(org, [*ORGANISATION_FIELDS, "sectors"])
    data["aliases"] = sorted(org.aliases.values_list("name", flat=True)) if org.pk else []
    return data


@transaction.atomic
def organisation_create(
    *,
    actor: Any,
    data: dict[str, Any],
    acting_organisation: Any = None,
    check_permission: bool = True,
    status_date: dt.date | None = None,
) -> Organisation:
    """Create an organisation. ``data`` holds model fields plus ``sectors`` (codes) and ``aliases``."""
    if check_permission:
        permissions.require(permissions.can_create_organisation(actor))
    org = Organisation(**{k: data[k] for k in ORGANISATION_FIELDS if k in data and data[k] is not None})
    sectors = _sectors_from(data.get("sectors", []))
    aliases = _clean_aliases(data.get("aliases"), org.name)
    _organisation_validate(org)
    generated_code = not org.code
    if generated_code:
        org.code = uuid.uuid4().hex[:32]
    org.search_text = organisation_search_text(org, aliases)
    org.save()
    if generated_code:
        org.code = f"ORG{org.pk:07d}"
        org.search_text = organisation_search_text(org, aliases)
        Organisation.objects.filter(pk=org.pk).update(code=org.code, search_text=org.search_text)
    org.sectors.set(sectors)
    OrganisationAlias.objects.bulk_create([OrganisationAlias(organisation=org, name=a) for a in aliases])
    StatusChange.objects.create(
        organisation=org, from_status="", to_status=org.status, changed_on=status_date or timezone.localdate(),
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(action=AuditAction.CREATE, actor=actor, obj=org, changes=diff({}, _snapshot_org(org)),
                 acting_organisation=acting_organisation)
    return org


@transaction.atomic
def organisation_update(
    *,
    actor: Any,
    organisation: Organisation,
    data: dict[str, Any],
    reason: str = "",
    acting_organisation: Any = None,
    check_permission: bool = True,
    status_date: dt.date | None = None,
) -> dict[str, list[Any]]:
    """Update the fields present in ``data``; returns the changes (empty when nothing changed)."""
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if check_permission:
        permissions.require(permissions.can_edit_organisation(actor, org))
    before = _snapshot_org(org)
    for key in ORGANISATION_FIELDS:
        if key in data and key != "code":
            value = data[key]
            if key == "credit_code":
                value = normalise_credit_code(value) or None
            setattr(org, key, value if value is not None else ("" if key not in ("founded_on", "credit_code") else None))
    if check_permission and not permissions.can_edit_certified_fields(actor, org):
        changed = [f for f in CERTIFIED_FIELDS if before.get(f) != snapshot(org, [f])[f]]
        if changed:
            raise ValidationError(
                {f: _("Only the S&T bureau changes this certified field.") for f in changed}
            )
    aliases = _clean_aliases(data["aliases"], org.name) if "aliases" in data else list(before["aliases"])
    _organisation_validate(org)
    org.search_text = organisation_search_text(org, aliases)
    if "sectors" in data:
        org.sectors.set(_sectors_from(data["sectors"]))
    if "aliases" in data and sorted(aliases) != before["aliases"]:
        org.aliases.exclude(name__in=aliases).delete()
        existing = set(org.aliases.values_list("name", flat=True))
        OrganisationAlias.objects.bulk_create(
            [OrganisationAlias(organisation=org, name=a) for a in aliases if a not in existing]
        )
    after = _snapshot_org(org)
    changes = diff(before, after)
    if not changes:
        return {}
    org.save()
    if "status" in changes:
        StatusChange.objects.create(
            organisation=org, from_status=before["status"], to_status=org.status,
            changed_on=status_date or timezone.localdate(), note=reason[:300],
            changed_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    organisation.refresh_from_db()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=org, changes=changes, reason=reason,
                 acting_organisation=acting_organisation)
    return changes


@transaction.atomic
def relation_create(*, actor: Any, source: Organisation, kind: str, target: Organisation,
                    start_date: dt.date | None = None, end_date: dt.date | None = None, note: str = "") -> Relation:
    permissions.require(permissions.can_edit_organisation(actor, source))
    relation = Relation(source=source, kind=kind, target=target, start_date=start_date, end_date=end_date, note=note)
    if source.pk == target.pk:
        raise ValidationError({"target": _("An organisation cannot be related to itself.")})
    relation.full_clean()
    relation.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=relation,
                 changes=diff({}, snapshot(relation, ["source", "kind", "target", "start_date", "end_date", "note"])))
    return relation


@transaction.atomic
def relation_delete(*, actor: Any, relation: Relation, reason: str = "") -> None:
    permissions.require(permissions.can_edit_organisation(actor, relation.source))
    before = snapshot(relation, ["source", "kind", "target", "start_date", "end_date", "note"])
    audit_record(action=AuditAction.DELETE, actor=actor, obj=relation, changes=diff(before, {}), reason=reason)
    relation.delete()


@transaction.atomic
def certification_add(*, actor: Any, organisation: Organisation, kind: str, number: str,
                      issued_on: dt.date, expires_on: dt.date | None = None, issuer: str = "",
                      check_permission: bool = True) -> Certification:
    if check_permission:
        permissions.require(permissions.can_edit_certified_fields(actor, organisation))
    cert = Certification(organisation=organisation, kind=kind, number=number.strip(), issued_on=issued_on,
                         expires_on=expires_on, issuer=issuer)
    cert.full_clean()
    cert.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=cert,
                 changes=diff({}, snapshot(cert, ["organisation", "kind", "number", "issued_on", "expires_on", "issuer"])))
    return cert


# --- people
def _snapshot_person(person: Person) -> dict[str, Any]:
    return snapshot(person, [*PERSON_FIELDS, "sectors"])


def _person_apply(person: Person, data: dict[str, Any]) -> None:
    for key in PERSON_FIELDS:
        if key in data and key != "code":
            value = data[key]
            if key in ("categories", "expertise"):
                value = [str(v).strip() for v in (value or []) if str(v).strip()]
            elif value is None:
                value = False if key == "is_synthetic" else ""
            setattr(person, key, value)


@transaction.atomic
def person_create(*, actor: Any, data: dict[str, Any], check_permission: bool = True) -> Person:
    if check_permission:
        permissions.require(permissions.can_create_person(actor))
    person = Person(code=(data.get("code") or "").strip())
    _person_apply(person, data)
    generated = not person.code
    if generated:
        person.code = uuid.uuid4().hex[:32]
    person.full_clean()
    person.search_text = person_search_text(person)
    person.save()
    if generated:
        person.code = f"PER{person.pk:07d}"
        person.search_text = person_search_text(person)
        Person.objects.filter(pk=person.pk).update(code=person.code, search_text=person.search_text)
    if data.get("sectors"):
        person.sectors.set(_sectors_from(data["sectors"]))
    audit_record(action=AuditAction.CREATE, actor=actor, obj=person, changes=diff({}, _snapshot_person(person)))
    return person


@transaction.atomic
def person_update(*, actor: Any, person: Person, data: dict[str, Any], reason: str = "",
                  check_permission: bool = True) -> dict[str, list[Any]]:
    person = Person.objects.select_for_update().get(pk=person.pk)
    if check_permission:
        permissions.require(permissions.can_edit_person(actor, person))
    before = _snapshot_person(person)
    _person_apply(person, data)
    person.full_clean()
    person.search_text = person_search_text(person)
    if "sectors" in data:
        person.sectors.set(_sectors_from(data["sectors"]))
    changes = diff(before, _snapshot_person(person))
    if not changes:
        return {}
    person.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=person, changes=changes, reason=reason)
    return changes


@transaction.atomic
def affiliation_add(*, actor: Any, person: Person, organisation: Organisation, position: str = "",
                    start_date: dt.date | None = None, end_date: dt.date | None = None, is_primary: bool = False,
                    check_permission: bool = True) -> Affiliation:
    if check_permission:
        permissions.require(permissions.can_edit_person(actor, person) or permissions.can_edit_organisation(actor, organisation))
    affiliation = Affiliation(person=person, organisation=organisation, position=position, start_date=start_date,
                              end_date=end_date, is_primary=is_primary)
    affiliation.full_clean()
    affiliation.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=affiliation,
                 changes=diff({}, snapshot(affiliation, ["person", "organisation", "position", "start_date", "end_date", "is_primary"])))
    return affiliation


@transaction.atomic
def affiliation_end(*, actor: Any, affiliation: Affiliation, end_date: dt.date) -> None:
    permissions.require(permissions.can_edit_person(actor, affiliation.person))
    old = affiliation.end_date
    affiliation.end_date = end_date
    affiliation.full_clean()
    affiliation.save(update_fields=["end_date", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=affiliation, changes={"end_date": [old, end_date]})
