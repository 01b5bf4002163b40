"""Excel/CSV import and export of organisations and people (the columns of the templates).

Organisations are matched on their unified social credit code, else on their code; people on
their code. Writes go through :mod:`sciencecity.registry.services`, so every row is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core.importing import (
    NAME_LIST_SEPARATORS,
    CellProblem,
    Column,
    Importer,
    ImportError,
    ImportReport,
    Progress,
    RowResult,
    RowStatus,
    choice_parser,
    list_parser,
    multi_choice_parser,
    normalise_label,
    parse_date,
    register,
    text_parser,
    validation_problems,
)
from sciencecity.registry import services
from sciencecity.registry.choices import Level, OrganisationKind, OrganisationStatus, PersonCategory
from sciencecity.registry.models import Affiliation, Organisation, OrganisationAlias, Person, Sector
from sciencecity.registry.validators import credit_code_problem, normalise_credit_code

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

EXPORT_CHUNK = 2000
#: Rows written per round of set-based queries by the bulk organisation import.
BULK_CHUNK = 1000
#: Fields whose import parsers already enforce the model's validators (choices, credit code, date, and
#: the maximum lengths, which the text parsers take from the model): full_clean skips them.
PARSER_CHECKED_FIELDS = ("code", "name", "name_en", "kind", "level", "status", "credit_code", "founded_on",
                         "address", "district", "keywords")


def _max(model: Any, name: str) -> int:
    return model._meta.get_field(name).max_length


def _text(model: Any, name: str):
    return text_parser(_max(model, name))


def parse_credit_code(value: Any) -> str:
    code = normalise_credit_code(text_parser()(value))
    problem = credit_code_problem(code)
    if problem:
        raise CellProblem(ImportError.INVALID_CREDIT_CODE, value=code, detail=problem)
    return code


def _zh_label(choices: Any, value: str) -> str:
    with translation.override("zh-hans"):
        return str(dict(choices.choices).get(value, value))


def _organisation_columns() -> list[Column]:
    return [
        Column("code", ["编码", "Code", "机构编码", "organisation code"], parser=_text(Organisation, "code"),
               help=gettext_lazy("Stable code of the organisation in the registry. Rows are matched on the credit "
                                 "code, else on this code; give at least one of the two."), example="ORG-GM-0001"),
        Column("name", ["名称", "Name", "机构名称", "organisation name"], required=True,
               parser=_text(Organisation, "name"), help=gettext_lazy("Full registered name."),
               example="深圳市光明示例科技有限公司", width=32),
        Column("name_en", ["英文名称", "English name", "name (English)"], parser=_text(Organisation, "name_en"),
               example="Shenzhen Guangming Example Technology Co., Ltd.", width=32),
        Column("kind", ["类型", "Kind", "机构类型", "type"], required=True, parser=choice_parser(OrganisationKind.choices),
               choices=OrganisationKind.choices, help=gettext_lazy("Kind of organisation: pick from the list."),
               example=_zh_label(OrganisationKind, OrganisationKind.ENTERPRISE)),
        Column("level", ["级别", "Level"], parser=choice_parser(Level.choices), choices=Level.choices,
               default=Level.NONE, help=gettext_lazy("Level of recognition; blank means no level."),
               example=_zh_label(Level, Level.MUNICIPAL)),
        Column("status", ["状态", "Status"], parser=choice_parser(OrganisationStatus.choices),
               choices=OrganisationStatus.choices, default=OrganisationStatus.OPERATING,
               help=gettext_lazy("Blank means operating."), example=_zh_label(OrganisationStatus,
                                                                              OrganisationStatus.OPERATING)),
        Column("credit_code", ["统一社会信用代码", "Unified social credit code", "信用代码", "credit code", "USCC"],
               parser=parse_credit_code, width=22, example="91440300MA5XXXXXXX",
               help=gettext_lazy("18 characters per GB 32100-2015, checked with its check character. Legal "
                                 "entities only.")),
        Column("founded_on", ["成立日期", "Founded on", "成立时间", "founding date"], parser=parse_date,
               is_text=False, help=gettext_lazy("Date as YYYY-MM-DD."), example="2019-06-18"),
        Column("address", ["地址", "Address", "注册地址"], parser=_text(Organisation, "address"), width=32,
               example="深圳市光明区光明街道示例路1号"),
        Column("district", ["所在区", "District", "区"], parser=_text(Organisation, "district"), example="光明区"),
        Column("website", ["网站", "Website", "网址"], parser=_text(Organisation, "website"),
               example="https://www.example.cn"),
        Column("sectors", ["领域", "Sectors", "产业领域", "行业"], parser=list_parser(),
               help=gettext_lazy("Sector codes or names separated by ; (for example IND-AI; RF-INFO)."),
               example="IND-AI; HT-1", width=24),
        Column("aliases", ["别名", "Aliases", "曾用名"], parser=list_parser(NAME_LIST_SEPARATORS, 300),
               help=gettext_lazy("Other names (former names, abbreviations) separated by ;."),
               example="光明示例科技", width=24),
        Column("keywords", ["关键词", "Keywords"], parser=_text(Organisation, "keywords"), example="机器视觉 传感器"),
        Column("description", ["简介", "Description", "描述", "介绍"], parser=text_parser(), width=40,
               example="从事机器视觉传感器研发。"),
    ]


def _sector_codes(sector_ids: list[int]) -> list[str]:
    codes = dict(Sector.objects.filter(pk__in=sector_ids).values_list("pk", "code"))
    return [codes.get(pk, str(pk)) for pk in sector_ids]


def _readable_changes(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    readable = dict(changes)
    if "sectors" in readable:
        readable["sectors"] = [_sector_codes(ids or []) for ids in readable["sectors"]]
    return readable


@register
class OrganisationImporter(Importer):
    kind = "registry.organisation"
    label = gettext_lazy("Organisations")
    data_sheet = "机构"
    unique_columns = ("code", "credit_code")
    list_url_name = "registry:organisation_list"
    upload_url_name = "registry:organisation_import"
    batch_url_name = "registry:import_batch_detail"

    def __init__(self) -> None:
        self.columns = _organisation_columns()
        self._sectors: dict[str, list[Sector]] = {}

    permission = "registry.import"

    def begin(self) -> None:
        self._sectors = {}
        for sector in Sector.objects.all():
            for name in {sector.code, sector.name, sector.name_en}:
                if name:
                    bucket = self._sectors.setdefault(normalise_label(name), [])
                    if sector not in bucket:
                        bucket.append(sector)

    def _sector_codes(self, values: list[str]) -> list[str]:
        codes: list[str] = []
        for value in values:
            found = self._sectors.get(normalise_label(value), [])
            exact = [s for s in found if normalise_label(s.code) == normalise_label(value)]
            found = exact or found
            if not found:
                raise CellProblem(ImportError.UNKNOWN_REFERENCE, field="sectors", target=_("sector"), value=value)
            if len(found) > 1:
                raise CellProblem(ImportError.AMBIGUOUS_REFERENCE, field="sectors", target=_("sectors"), value=value,
                                  matches=", ".join(s.code for s in found))
            if found[0].code not in codes:
                codes.append(found[0].code)
        return codes

    def check_row(self, values: dict[str, Any]) -> None:
        if not values.get("code") and not values.get("credit_code"):
            raise CellProblem(ImportError.KEY_REQUIRED, field="code" if "code" in values else "",
                              columns=f"{self.column('code').label()}、{self.column('credit_code').label()}")
        if values.get("sectors"):
            values["sectors"] = self._sector_codes(values["sectors"])

    def match(self, values: dict[str, Any]) -> Organisation | None:
        credit_code, code = values.get("credit_code"), values.get("code")
        if credit_code:
            org = Organisation.objects.filter(credit_code=credit_code).first()
            if org is not None:
                if code and code != org.code:
                    raise CellProblem(ImportError.KEY_CONFLICT, field="code", matched=f"{org.code} {org.name}",
                                      matched_by=self.column("credit_code").label(), value=code)
                return org
        return Organisation.objects.filter(code=code).first() if code else None

    bulk = True

    def apply_rows(self, rows: list[tuple[int, dict[str, Any]]], *, actor: User | None, report: ImportReport,
                   progress: Progress | None = None, write: bool = True) -> list[list[Any]]:
        """Write every row with set-based queries (see :func:`services.organisations_bulk_write`)."""
        sector_ids = dict(Sector.objects.values_list("code", "pk"))
        sector_codes = {pk: code for code, pk in sector_ids.items()}
        audit_rows: list[list[Any]] = []
        matched_rows: dict[int, int] = {}
        for start in range(0, len(rows), BULK_CHUNK):
            chunk = rows[start:start + BULK_CHUNK]
            by_credit = {o.credit_code: o for o in Organisation.objects.filter(
                credit_code__in=[v["credit_code"] for _n, v in chunk if v.get("credit_code")])}
            by_code = {o.code: o for o in Organisation.objects.filter(
                code__in=[v["code"] for _n, v in chunk if v.get("code")])}
            items: list[services.OrganisationWrite] = []
            for number, values in chunk:
                key = self.row_key(values)
                try:
                    org = self._match_in(values, by_credit, by_code)
                    if org is not None and org.pk in matched_rows:
                        raise CellProblem(ImportError.DUPLICATE_IN_FILE, field="code", value=org.code,
                                          other_row=matched_rows[org.pk])
                except CellProblem as problem:
                    label = self.column(problem.field).label() if problem.field else ""
                    report.add_problem(row=number, problem=problem, label=label, key=key)
                    continue
                if org is not None:
                    matched_rows[org.pk] = number
                data = values if org is None else {k: v for k, v in values.items() if k != "code"}
                items.append(services.OrganisationWrite(row=number, key=key, data=data, existing=org))
            outcomes = services.organisations_bulk_write(actor=actor, items=items, sector_ids=sector_ids,
                                                         reason=_("Spreadsheet import"), write=write,
                                                         checked=PARSER_CHECKED_FIELDS)
            for item, outcome in zip(items, outcomes, strict=True):
                if isinstance(outcome, ValidationError):
                    for name, problem in validation_problems(outcome, self):
                        report.add_problem(row=item.row, problem=problem,
                                           label=self.column(name).label() if name else "", key=item.key)
                    continue
                status, org, changes = outcome
                readable = dict(changes)
                if "sectors" in readable:
                    readable["sectors"] = [[sector_codes.get(pk, str(pk)) for pk in ids or []]
                                           for ids in readable["sectors"]]
                report.results.append(RowResult(row=item.row, status=status.value, key=item.key,
                                                changes=readable if status == RowStatus.UPDATED else {}))
                if status == RowStatus.CREATED:
                    audit_rows.append([item.row, status.value, org.pk, org.code])
                elif status == RowStatus.UPDATED:
                    audit_rows.append([item.row, status.value, org.pk, org.code, changes])
            if progress is not None:
                progress(min(start + BULK_CHUNK, len(rows)), len(rows))
        return audit_rows

    def _match_in(self, values: dict[str, Any], by_credit: dict[str, Organisation],
                  by_code: dict[str, Organisation]) -> Organisation | None:
        """:meth:`match` over organisations loaded for a whole chunk (no query per row)."""
        credit_code, code = values.get("credit_code"), values.get("code")
        if credit_code:
            org = by_credit.get(credit_code)
            if org is not None:
                if code and code != org.code:
                    raise CellProblem(ImportError.KEY_CONFLICT, field="code", matched=f"{org.code} {org.name}",
                                      matched_by=self.column("credit_code").label(), value=code)
                return org
        return by_code.get(code) if code else None

    def apply_row(self, values: dict[str, Any], *, actor: User | None) -> tuple[RowStatus, dict[str, Any]]:
        org = self.match(values)
        if org is None:
            services.organisation_create_unchecked(actor=actor, data=values)
            return RowStatus.CREATED, {}
        data = {k: v for k, v in values.items() if k != "code"}
        changes = services.organisation_update_unchecked(actor=actor, organisation=org, data=data,
                                               reason=_("Spreadsheet import"))
        return (RowStatus.UPDATED, _readable_changes(changes)) if changes else (RowStatus.UNCHANGED, {})

    def export_rows(self, queryset: QuerySet[Organisation]) -> Iterator[list[Any]]:
        """Rows in the column order, in chunks of plain values (no model instances: 20,000 rows in seconds)."""
        with translation.override("zh-hans"):
            kinds, levels, statuses = (
                {k: str(v) for k, v in choices.choices} for choices in (OrganisationKind, Level, OrganisationStatus)
            )
        fields = ("pk", "code", "name", "name_en", "kind", "level", "status", "credit_code", "founded_on", "address",
                  "district", "website", "keywords", "description")
        for chunk in _chunks(queryset.order_by("code").values_list(*fields)):
            ids = [row[0] for row in chunk]
            sectors = _grouped(Organisation.sectors.through.objects.filter(organisation_id__in=ids)
                               .values_list("organisation_id", "sector__code"))
            aliases = _grouped(OrganisationAlias.objects.filter(organisation_id__in=ids)
                               .values_list("organisation_id", "name"))
            for (pk, code, name, name_en, kind, level, status, credit, founded, address, district, website,
                 keywords, description) in chunk:
                yield [
                    code, name, name_en, kinds.get(kind, kind), levels.get(level, level),
                    statuses.get(status, status), credit or "", founded, address, district, website,
                    sorted(sectors.get(pk, [])), sorted(aliases.get(pk, [])), keywords, description,
                ]


def _chunks(rows: Iterable[Any], size: int = EXPORT_CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows.iterator(chunk_size=size) if isinstance(rows, QuerySet) else rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _grouped(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


# --- people
def _person_columns() -> list[Column]:
    return [
        Column("code", ["编码", "Code", "人员编码", "person code"], required=True, parser=_text(Person, "code"),
               help=gettext_lazy("Stable code of the person; rows are matched on it."), example="PER-GM-0001"),
        Column("name", ["姓名", "Name"], required=True, parser=_text(Person, "name"), example="张三"),
        Column("name_en", ["英文名", "English name", "英文姓名"], parser=_text(Person, "name_en"), example="Zhang San"),
        Column("categories", ["类别", "Categories", "人员类别"], parser=multi_choice_parser(PersonCategory.choices),
               choices=PersonCategory.choices,
               help=gettext_lazy("One or more categories separated by ;."),
               example=_zh_label(PersonCategory, PersonCategory.RESEARCHER)),
        Column("title", ["职称", "Title"], parser=_text(Person, "title"), example="研究员"),
        Column("email", ["邮箱", "Email", "电子邮箱", "e-mail"], parser=text_parser(254), example="zhangsan@example.cn",
               width=24),
        Column("phone", ["电话", "Phone", "联系电话", "手机"], parser=_text(Person, "phone"), example="0755-12345678"),
        Column("expertise", ["专长", "Expertise", "研究方向", "专长关键词"], parser=list_parser(),
               help=gettext_lazy("Expertise keywords separated by ;."), example="机器视觉; 传感器", width=24),
        Column("organisation", ["所在机构", "Organisation", "工作单位", "单位"], parser=text_parser(300),
               help=gettext_lazy("Code, credit code or exact name of an organisation in the registry. A new "
                                 "affiliation is added when the person is not yet affiliated with it."),
               example="ORG-GM-0001", width=28),
        Column("position", ["职务", "Position"], parser=_text(Affiliation, "position"),
               help=gettext_lazy("Position in that organisation (used when the affiliation is new)."),
               example="首席科学家"),
    ]


PERSON_DATA_KEYS = ("code", "name", "name_en", "categories", "title", "email", "phone", "expertise")


def _current(affiliation: Affiliation, today: dt.date) -> bool:
    return affiliation.end_date is None or affiliation.end_date >= today


@register
class PersonImporter(Importer):
    kind = "registry.person"
    label = gettext_lazy("People")
    data_sheet = "人员"
    unique_columns = ("code",)
    list_url_name = "registry:person_list"
    upload_url_name = "registry:person_import"
    batch_url_name = "registry:import_batch_detail"

    def __init__(self) -> None:
        self.columns = _person_columns()

    permission = "registry.import"

    def organisation(self, value: str) -> Organisation:
        found = Organisation.objects.filter(code=value).first() or Organisation.objects.filter(
            credit_code=normalise_credit_code(value)).first()
        if found is not None:
            return found
        named = list(Organisation.objects.filter(Q(name=value))[:5])
        if not named:
            raise CellProblem(ImportError.UNKNOWN_REFERENCE, field="organisation", target=_("organisation"),
                              value=value)
        if len(named) > 1:
            raise CellProblem(ImportError.AMBIGUOUS_REFERENCE, field="organisation", target=_("organisations"),
                              value=value, matches=", ".join(o.code for o in named))
        return named[0]

    def apply_row(self, values: dict[str, Any], *, actor: User | None) -> tuple[RowStatus, dict[str, Any]]:
        organisation = self.organisation(values["organisation"]) if values.get("organisation") else None
        data = {k: values[k] for k in PERSON_DATA_KEYS if k in values}
        person = Person.objects.filter(code=values["code"]).first()
        if person is None:
            person = services.person_create_unchecked(actor=actor, data=data)
            status, changes = RowStatus.CREATED, {}
        else:
            changes = services.person_update_unchecked(actor=actor, person=person, data=data,
                                             reason=_("Spreadsheet import"))
            status = RowStatus.UPDATED if changes else RowStatus.UNCHANGED
        if organisation is not None:
            today = dt.date.today()
            affiliations = list(person.affiliations.all())
            if not any(a.organisation_id == organisation.pk and _current(a, today) for a in affiliations):
                position = values.get("position") or ""
                services.affiliation_add_unchecked(
                    actor=actor, person=person, organisation=organisation, position=position,
                    is_primary=not any(_current(a, today) for a in affiliations))
                if status != RowStatus.CREATED:
                    status = RowStatus.UPDATED
                    changes["affiliation"] = [None, f"{organisation.code} {organisation.name} {position}".strip()]
        return status, changes

    def export_rows(self, queryset: QuerySet[Person]) -> Iterator[list[Any]]:
        """Rows in the column order; the organisation is that of the first current affiliation (primary first)."""
        with translation.override("zh-hans"):
            categories = {k: str(v) for k, v in PersonCategory.choices}
        today = dt.date.today()
        fields = ("pk", "code", "name", "name_en", "categories", "title", "email", "phone", "expertise")
        for chunk in _chunks(queryset.order_by("code").values_list(*fields)):
            current: dict[int, tuple[str, str]] = {}
            affiliations = (
                Affiliation.objects.filter(person_id__in=[row[0] for row in chunk])
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
                .order_by("-is_primary", "-start_date", "id")
                .values_list("person_id", "organisation__code", "position")
            )
            for person_id, organisation_code, position in affiliations:
                current.setdefault(person_id, (organisation_code, position))
            for pk, code, name, name_en, person_categories, title, email, phone, expertise in chunk:
                organisation_code, position = current.get(pk, ("", ""))
                yield [
                    code, name, name_en, [categories.get(c, c) for c in person_categories or []], title, email,
                    phone, list(expertise or []), organisation_code, position,
                ]


IMPORTERS_BY_SLUG = {"organisations": OrganisationImporter, "people": PersonImporter}
