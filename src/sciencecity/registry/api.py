"""Registry REST API: organisations, people, sectors. Same permissions as the UI (core.permissions)."""


import datetime as dt

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sciencecity.core import permissions
from sciencecity.core.api import ErrorResponse, InputSchema, Line, PageNumber
from sciencecity.registry import selectors, services
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.choices import Level, OrganisationKind, OrganisationStatus
from sciencecity.registry.models import Affiliation, Organisation, Person, Sector

router = Router(tags=["registry"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


class SectorOut(Schema):
    code: str
    name: str
    name_en: str
    group: str
    parent: str | None = None

    @staticmethod
    def resolve_parent(obj):
        return obj.parent.code if obj.parent_id else None


class OrganisationOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    level: str
    status: str
    sectors: list[str]
    credit_code: str | None
    founded_on: dt.date | None
    district: str
    address: str
    website: str
    is_synthetic: bool

    @staticmethod
    def resolve_sectors(obj):
        return [s.code for s in obj.sectors.all()]


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    changed_on: dt.date
    note: str


class RelationOut(Schema):
    kind: str
    direction: str
    organisation_id: int
    organisation_name: str
    start_date: dt.date | None
    end_date: dt.date | None


class CertificationOut(Schema):
    kind: str
    number: str
    issued_on: dt.date
    expires_on: dt.date | None
    issuer: str


class OrganisationDetailOut(OrganisationOut):
    description: str
    keywords: str
    aliases: list[str]
    status_history: list[StatusChangeOut]
    relations: list[RelationOut]
    certifications: list[CertificationOut]

    @staticmethod
    def resolve_aliases(obj):
        return [a.name for a in obj.aliases.all()]

    @staticmethod
    def resolve_status_history(obj):
        return list(obj.status_history.all())

    @staticmethod
    def resolve_certifications(obj):
        return list(obj.certifications.all())

    @staticmethod
    def resolve_relations(obj):
        rows = [
            {"kind": r.kind, "direction": "out", "organisation_id": r.target_id, "organisation_name": r.target.name,
             "start_date": r.start_date, "end_date": r.end_date}
            for r in obj.relations_out.select_related("target")
        ]
        rows += [
            {"kind": r.kind, "direction": "in", "organisation_id": r.source_id, "organisation_name": r.source.name,
             "start_date": r.start_date, "end_date": r.end_date}
            for r in obj.relations_in.select_related("source")
        ]
        return rows


class OrganisationFilters(InputSchema):
    q: Line | None = None
    kind: OrganisationKind | None = None
    level: Level | None = None
    status: OrganisationStatus | None = None
    sector: str | None = None
    district: str | None = None
    synthetic: bool | None = None


class OrganisationIn(InputSchema):
    name: str
    kind: OrganisationKind
    code: str = ""
    name_en: str = ""
    level: Level = Level.NONE
    status: OrganisationStatus = OrganisationStatus.OPERATING
    sectors: list[str] = []
    credit_code: str | None = None
    founded_on: dt.date | None = None
    address: str = ""
    district: str = ""
    website: str = ""
    description: str = ""
    keywords: str = ""
    aliases: list[str] = []


class OrganisationPatch(InputSchema):
    name: str | None = None
    name_en: str | None = None
    kind: OrganisationKind | None = None
    level: Level | None = None
    status: OrganisationStatus | None = None
    sectors: list[str] | None = None
    credit_code: str | None = None
    founded_on: dt.date | None = None
    address: str | None = None
    district: str | None = None
    website: str | None = None
    description: str | None = None
    keywords: str | None = None
    aliases: list[str] | None = None
    reason: str = ""


def _require_registry(request) -> None:
    permissions.require(permissions.can_view_registry(request.auth))


@router.get("/sectors", response=list[SectorOut], summary="Sector vocabulary")
def sector_list(request):
    _require_registry(request)
    return list(Sector.objects.select_related("parent"))


@router.get("/organisations", response={200: list[OrganisationOut], **ERRORS}, summary="List and search organisations")
@paginate(PageNumber)
def organisation_list(request, filters: Query[OrganisationFilters]):
    _require_registry(request)
    return selectors.organisation_queryset(filters.dict(exclude_none=True)).prefetch_related("sectors")


def _organisation_detail(pk: int) -> Organisation:
    return get_object_or_404(
        Organisation.objects.prefetch_related("sectors", "aliases", "status_history", "certifications"), pk=pk
    )


@router.get("/organisations/{int:pk}", response={200: OrganisationDetailOut, **ERRORS}, summary="One organisation")
def organisation_detail(request, pk: int):
    _require_registry(request)
    return _organisation_detail(pk)


@router.post("/organisations", response={201: OrganisationDetailOut, **ERRORS}, summary="Create an organisation")
def organisation_create(request, payload: OrganisationIn):
    org = services.organisation_create(actor=request.auth, data=payload.dict(),
                                       acting_organisation=acting_organisation(request))
    return Status(201, _organisation_detail(org.pk))


@router.patch("/organisations/{int:pk}", response={200: OrganisationDetailOut, **ERRORS}, summary="Update an organisation")
def organisation_update(request, pk: int, payload: OrganisationPatch):
    _require_registry(request)
    org = get_object_or_404(Organisation, pk=pk)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    services.organisation_update(actor=request.auth, organisation=org, data=data, reason=reason,
                                 acting_organisation=acting_organisation(request))
    return _organisation_detail(pk)


# --- people
class AffiliationOut(Schema):
    organisation_id: int
    organisation_name: str
    position: str
    start_date: dt.date | None
    end_date: dt.date | None

    @staticmethod
    def resolve_organisation_name(obj):
        return obj.organisation.name


class PersonOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    categories: list[str]
    title: str
    expertise: list[str]
    sectors: list[str]
    affiliations: list[AffiliationOut]
    is_synthetic: bool
    email: str | None = None
    phone: str | None = None

    @staticmethod
    def resolve_sectors(obj):
        return [s.code for s in obj.sectors.all()]

    @staticmethod
    def resolve_affiliations(obj):
        return list(obj.affiliations.all())

    @staticmethod
    def resolve_email(obj, context):
        return obj.email if permissions.can_view_person_contact(context["request"].auth, obj) else None

    @staticmethod
    def resolve_phone(obj, context):
        return obj.phone if permissions.can_view_person_contact(context["request"].auth, obj) else None


class PersonFilters(InputSchema):
    q: Line | None = None
    category: str | None = None
    sector: str | None = None
    organisation: int | None = None
    synthetic: bool | None = None


class PersonIn(InputSchema):
    name: str
    code: str = ""
    name_en: str = ""
    categories: list[str] = []
    title: str = ""
    email: str = ""
    phone: str = ""
    expertise: list[str] = []
    biography: str = ""
    sectors: list[str] = []


class PersonPatch(InputSchema):
    name: str | None = None
    name_en: str | None = None
    categories: list[str] | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    expertise: list[str] | None = None
    biography: str | None = None
    sectors: list[str] | None = None
    reason: str = ""


def _people():
    return Person.objects.prefetch_related(
        "sectors", Prefetch("affiliations", queryset=Affiliation.objects.select_related("organisation"))
    )


@router.get("/people", response={200: list[PersonOut], **ERRORS}, summary="List and search people")
@paginate(PageNumber)
def person_list(request, filters: Query[PersonFilters]):
    _require_registry(request)
    return selectors.person_queryset(filters.dict(exclude_none=True)).prefetch_related(
        "sectors", Prefetch("affiliations", queryset=Affiliation.objects.select_related("organisation"))
    )


@router.get("/people/{int:pk}", response={200: PersonOut, **ERRORS}, summary="One person")
def person_detail(request, pk: int):
    _require_registry(request)
    return get_object_or_404(_people(), pk=pk)


@router.post("/people", response={201: PersonOut, **ERRORS}, summary="Create a person")
def person_create(request, payload: PersonIn):
    person = services.person_create(actor=request.auth, data=payload.dict())
    return Status(201, get_object_or_404(_people(), pk=person.pk))


@router.patch("/people/{int:pk}", response={200: PersonOut, **ERRORS}, summary="Update a person")
def person_update(request, pk: int, payload: PersonPatch):
    _require_registry(request)
    person = get_object_or_404(Person, pk=pk)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    services.person_update(actor=request.auth, person=person, data=data, reason=reason)
    return get_object_or_404(_people(), pk=pk)


from sciencecity.registry.api_imports import router as imports_router  # noqa: E402

router.add_router("", imports_router)
