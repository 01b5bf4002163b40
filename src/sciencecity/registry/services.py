"""Registry writes. Views, API, importers and commands all call these; every write is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import bulk, permissions
from sciencecity.core.audit import audit_record, diff, snapshot, to_json
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

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

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
def _organisation_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    acting_organisation: Any = None,
    check_permission: bool,
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


def organisation_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    acting_organisation: Any = None,
    status_date: dt.date | None = None,
) -> Organisation:
    """:func:`_organisation_create` for a user: the actor's permission is checked first."""
    return _organisation_create(actor=actor, data=data, acting_organisation=acting_organisation,
                                status_date=status_date, check_permission=True)


def organisation_create_unchecked(**kwargs: Any) -> Organisation:
    """Internal: :func:`organisation_create` without the permission check (importers, services that checked already)."""
    return _organisation_create(**kwargs, check_permission=False)


@transaction.atomic
def _organisation_update(
    *,
    actor: User | None,
    organisation: Organisation,
    data: dict[str, Any],
    reason: str = "",
    acting_organisation: Any = None,
    check_permission: bool,
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


def organisation_update(
    *,
    actor: User | None,
    organisation: Organisation,
    data: dict[str, Any],
    reason: str = "",
    acting_organisation: Any = None,
    status_date: dt.date | None = None,
) -> dict[str, list[Any]]:
    """:func:`_organisation_update` for a user: the actor's permission is checked first."""
    return _organisation_update(actor=actor, organisation=organisation, data=data, reason=reason,
                                acting_organisation=acting_organisation, status_date=status_date,
                                check_permission=True)


def organisation_update_unchecked(**kwargs: Any) -> dict[str, list[Any]]:
    """Internal: :func:`organisation_update` without the permission check (importers, services that checked already)."""
    return _organisation_update(**kwargs, check_permission=False)


@dataclass
class OrganisationWrite:
    """One row of a bulk write: ``data`` as for :func:`organisation_create` (``existing`` None) or
    :func:`organisation_update` (``existing`` the matched organisation)."""

    row: int
    key: str
    data: dict[str, Any]
    existing: Organisation | None = None


def _organisation_check(org: Organisation, checked: Iterable[str] = ()) -> None:
    """:func:`_organisation_validate` without the uniqueness queries (the bulk caller guarantees them)
    and without re-running the validators of the fields in ``checked`` (the caller validated them)."""
    org.credit_code = normalise_credit_code(org.credit_code) if org.credit_code else None
    exclude = [*checked, *(["code"] if not org.code else [])]
    org.full_clean(exclude=exclude or None, validate_unique=False, validate_constraints=False)


def _state(org: Organisation, sector_ids: Iterable[int], aliases: Iterable[str]) -> dict[str, Any]:
    """What :func:`_snapshot_org` returns, from values in memory."""
    data = to_json({name: getattr(org, name) for name in ORGANISATION_FIELDS})
    data["sectors"] = sorted(sector_ids)
    data["aliases"] = sorted(aliases)
    return data


@transaction.atomic
def organisations_bulk_write(*, actor: User | None, items: list[OrganisationWrite], sector_ids: dict[str, int],
                             reason: str = "", write: bool = True, checked: Iterable[str] = ()) -> list[Any]:
    """Create and update many organisations with a fixed number of queries (spreadsheet imports).

    Each item has exactly the effect of :func:`organisation_create` or :func:`organisation_update`
    (fields, sectors, aliases, status history, generated codes) except auditing: the caller records
    ONE audit event for the whole write, listing every created and updated organisation. Uniqueness
    of codes and credit codes is the caller's duty (the importer matches on them and refuses
    duplicates in a file). Returns, per item, ``(RowStatus, organisation, changes)`` or the
    :class:`ValidationError` of that item (nothing of it is written). With ``write=False`` nothing is
    written at all: the outcomes are what a write would do (a dry run needs no queries per row).
    ``checked`` names fields whose values the caller has already validated (choices, credit code).
    """
    checked = tuple(checked)
    from sciencecity.core.importing import RowStatus

    user = actor if getattr(actor, "is_authenticated", False) else None
    today = timezone.localdate()
    existing_ids = [item.existing.pk for item in items if item.existing is not None]
    current_sectors: dict[int, list[int]] = {}
    for org_id, sector_id in Organisation.sectors.through.objects.filter(
            organisation_id__in=existing_ids).values_list("organisation_id", "sector_id"):
        current_sectors.setdefault(org_id, []).append(sector_id)
    current_aliases: dict[int, list[str]] = {}
    for org_id, name in OrganisationAlias.objects.filter(organisation_id__in=existing_ids).values_list(
            "organisation_id", "name"):
        current_aliases.setdefault(org_id, []).append(name)

    outcomes: list[Any] = []
    creates: list[tuple[Organisation, list[int], list[str], bool]] = []
    updates: list[tuple[Organisation, dict[str, list[Any]], list[int], list[str]]] = []
    for item in items:
        data = item.data
        try:
            unknown = [c for c in data.get("sectors") or [] if c not in sector_ids]
            if unknown:
                raise ValidationError({"sectors": _("Unknown sector code(s): %(codes)s.")
                                       % {"codes": ", ".join(unknown)}})
            new_sectors = [sector_ids[c] for c in data.get("sectors") or []]
            if item.existing is None:
                org = Organisation(**{k: data[k] for k in ORGANISATION_FIELDS if k in data and data[k] is not None})
                aliases = _clean_aliases(data.get("aliases"), org.name)
                _organisation_check(org, checked)
                generated = not org.code
                if generated:
                    org.code = uuid.uuid4().hex[:32]
                org.search_text = organisation_search_text(org, aliases)
                creates.append((org, list(dict.fromkeys(new_sectors)), aliases, generated))
                outcomes.append((RowStatus.CREATED, org, {}))
                continue
            org = item.existing
            before = _state(org, current_sectors.get(org.pk, []), current_aliases.get(org.pk, []))
            for key in ORGANISATION_FIELDS:
                if key in data and key != "code":
                    value = data[key]
                    if key == "credit_code":
                        value = normalise_credit_code(value) or None
                    setattr(org, key, value if value is not None
                            else ("" if key not in ("founded_on", "credit_code") else None))
            aliases = _clean_aliases(data["aliases"], org.name) if "aliases" in data else list(before["aliases"])
            _organisation_check(org, checked)
            org.search_text = organisation_search_text(org, aliases)
            sectors_after = new_sectors if "sectors" in data else before["sectors"]
            changes = diff(before, _state(org, set(sectors_after), aliases))
            if changes:
                updates.append((org, changes, sorted(set(sectors_after)), aliases))
            outcomes.append((RowStatus.UPDATED if changes else RowStatus.UNCHANGED, org, changes))
        except ValidationError as exc:
            outcomes.append(exc)

    if not write:
        return outcomes
    if creates:
        _insert_organisations(creates, user=user, today=today)
    if updates:
        _update_organisations(updates, user=user, today=today, reason=reason)
    return outcomes


def _insert_organisations(creates: list[tuple[Organisation, list[int], list[str], bool]], *, user: Any,
                          today: dt.date) -> None:
    fields = [f.attname for f in Organisation._meta.concrete_fields if not f.primary_key]
    bulk.insert_many(Organisation, ({name: getattr(org, name) for name in fields} for org, *_rest in creates))
    codes = [org.code for org, *_rest in creates]
    pks: dict[str, int] = {}
    for start in range(0, len(codes), bulk.CHUNK):
        pks.update(Organisation.objects.filter(code__in=codes[start:start + bulk.CHUNK]).values_list("code", "pk"))
    generated_orgs = []
    for org, _sectors, aliases, generated in creates:
        org.pk = pks[org.code]
        org._state.adding = False
        if generated:
            org.code = f"ORG{org.pk:07d}"
            org.search_text = organisation_search_text(org, aliases)
            generated_orgs.append(org)
    bulk.update_many(Organisation, generated_orgs, ["code", "search_text"])
    through = Organisation.sectors.through
    bulk.insert_many(through, ({"organisation_id": org.pk, "sector_id": sid}
                               for org, sectors, _aliases, _g in creates for sid in sectors))
    bulk.insert_many(OrganisationAlias, ({"organisation_id": org.pk, "name": a}
                                         for org, _sectors, aliases, _g in creates for a in aliases))
    bulk.insert_many(StatusChange, ({"organisation_id": org.pk, "from_status": "", "to_status": org.status,
                                     "changed_on": today, "note": "", "changed_by_id": getattr(user, "pk", None)}
                                    for org, *_rest in creates))


def _update_organisations(updates: list[tuple[Organisation, dict[str, list[Any]], list[int], list[str]]], *,
                          user: Any, today: dt.date, reason: str) -> None:
    fields = sorted({name for _org, changes, _s, _a in updates for name in changes if name in ORGANISATION_FIELDS})
    bulk.update_many(Organisation, [org for org, *_rest in updates], [*fields, "search_text"])
    through = Organisation.sectors.through
    resectored = [(org, sectors) for org, changes, sectors, _a in updates if "sectors" in changes]
    if resectored:
        through.objects.filter(organisation_id__in=[org.pk for org, _s in resectored]).delete()
        bulk.insert_many(through, ({"organisation_id": org.pk, "sector_id": sid}
                                   for org, sectors in resectored for sid in sectors))
    renamed = [(org, aliases) for org, changes, _s, aliases in updates if "aliases" in changes]
    if renamed:
        OrganisationAlias.objects.filter(organisation_id__in=[org.pk for org, _a in renamed]).delete()
        bulk.insert_many(OrganisationAlias, ({"organisation_id": org.pk, "name": a}
                                             for org, aliases in renamed for a in aliases))
    bulk.insert_many(StatusChange, ({"organisation_id": org.pk, "from_status": changes["status"][0],
                                     "to_status": org.status, "changed_on": today, "note": reason[:300],
                                     "changed_by_id": getattr(user, "pk", None)}
                                    for org, changes, _s, _a in updates if "status" in changes))


@transaction.atomic
def relation_create(*, actor: User | None, source: Organisation, kind: str, target: Organisation,
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
def relation_delete(*, actor: User | None, relation: Relation, reason: str = "") -> None:
    permissions.require(permissions.can_edit_organisation(actor, relation.source))
    before = snapshot(relation, ["source", "kind", "target", "start_date", "end_date", "note"])
    audit_record(action=AuditAction.DELETE, actor=actor, obj=relation, changes=diff(before, {}), reason=reason)
    relation.delete()


@transaction.atomic
def _certification_add(*, actor: User | None, organisation: Organisation, kind: str, number: str,
                      issued_on: dt.date, expires_on: dt.date | None = None, issuer: str = "",
                      check_permission: bool) -> Certification:
    if check_permission:
        permissions.require(permissions.can_edit_certified_fields(actor, organisation))
    cert = Certification(organisation=organisation, kind=kind, number=number.strip(), issued_on=issued_on,
                         expires_on=expires_on, issuer=issuer)
    cert.full_clean()
    cert.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=cert,
                 changes=diff({}, snapshot(cert, ["organisation", "kind", "number", "issued_on", "expires_on", "issuer"])))
    return cert


def certification_add(
    *,
    actor: User | None,
    organisation: Organisation,
    kind: str,
    number: str,
    issued_on: dt.date,
    expires_on: dt.date | None = None,
    issuer: str = "",
) -> Certification:
    """:func:`_certification_add` for a user: the actor's permission is checked first."""
    return _certification_add(actor=actor, organisation=organisation, kind=kind, number=number,
                              issued_on=issued_on, expires_on=expires_on, issuer=issuer,
                              check_permission=True)


def certification_add_unchecked(**kwargs: Any) -> Certification:
    """Internal: :func:`certification_add` without the permission check (importers, services that checked already)."""
    return _certification_add(**kwargs, check_permission=False)


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
def _person_create(*, actor: User | None, data: dict[str, Any], check_permission: bool) -> Person:
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


def person_create(*, actor: User | None, data: dict[str, Any]) -> Person:
    """:func:`_person_create` for a user: the actor's permission is checked first."""
    return _person_create(actor=actor, data=data, check_permission=True)


def person_create_unchecked(**kwargs: Any) -> Person:
    """Internal: :func:`person_create` without the permission check (importers, services that checked already)."""
    return _person_create(**kwargs, check_permission=False)


@transaction.atomic
def _person_update(*, actor: User | None, person: Person, data: dict[str, Any], reason: str = "",
                  check_permission: bool) -> dict[str, list[Any]]:
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


def person_update(
    *,
    actor: User | None,
    person: Person,
    data: dict[str, Any],
    reason: str = "",
) -> dict[str, list[Any]]:
    """:func:`_person_update` for a user: the actor's permission is checked first."""
    return _person_update(actor=actor, person=person, data=data, reason=reason, check_permission=True)


def person_update_unchecked(**kwargs: Any) -> dict[str, list[Any]]:
    """Internal: :func:`person_update` without the permission check (importers, services that checked already)."""
    return _person_update(**kwargs, check_permission=False)


@transaction.atomic
def _affiliation_add(*, actor: User | None, person: Person, organisation: Organisation, position: str = "",
                    start_date: dt.date | None = None, end_date: dt.date | None = None, is_primary: bool = False,
                    check_permission: bool) -> Affiliation:
    if check_permission:
        permissions.require(permissions.can_edit_person(actor, person) or permissions.can_edit_organisation(actor, organisation))
    affiliation = Affiliation(person=person, organisation=organisation, position=position, start_date=start_date,
                              end_date=end_date, is_primary=is_primary)
    affiliation.full_clean()
    affiliation.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=affiliation,
                 changes=diff({}, snapshot(affiliation, ["person", "organisation", "position", "start_date", "end_date", "is_primary"])))
    return affiliation


def affiliation_add(
    *,
    actor: User | None,
    person: Person,
    organisation: Organisation,
    position: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    is_primary: bool = False,
) -> Affiliation:
    """:func:`_affiliation_add` for a user: the actor's permission is checked first."""
    return _affiliation_add(actor=actor, person=person, organisation=organisation, position=position,
                            start_date=start_date, end_date=end_date, is_primary=is_primary,
                            check_permission=True)


def affiliation_add_unchecked(**kwargs: Any) -> Affiliation:
    """Internal: :func:`affiliation_add` without the permission check (importers, services that checked already)."""
    return _affiliation_add(**kwargs, check_permission=False)


@transaction.atomic
def affiliation_end(*, actor: User | None, affiliation: Affiliation, end_date: dt.date) -> None:
    permissions.require(permissions.can_edit_person(actor, affiliation.person))
    old = affiliation.end_date
    affiliation.end_date = end_date
    affiliation.full_clean()
    affiliation.save(update_fields=["end_date", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=affiliation, changes={"end_date": [old, end_date]})
