"""Excel/CSV import of enterprise figures: one row per enterprise and fiscal year, written through
``fiscal_year_save`` (audited; tiers recomputed). Upload → dry run per row → atomic confirm
(core.importing). Text in a number column, a negative amount or head count, an unknown enterprise,
or another enterprise's row in an enterprise user's file are refused naming the row and the column."""

from __future__ import annotations

import decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core import permissions as core_permissions
from sciencecity.core.importing import (
    CellProblem,
    Column,
    Importer,
    ImportError,
    RowStatus,
    choice_parser,
    normalise_label,
    parse_decimal,
    register,
    text_parser,
)
from sciencecity.enterprises import permissions, services
from sciencecity.enterprises.choices import TechnologyDomain
from sciencecity.enterprises.models import FiscalYear
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


def parse_amount(value: Any) -> decimal.Decimal:
    number = parse_decimal(value)
    if number < 0:
        raise CellProblem(ImportError.INVALID_VALUE, detail=_("“%(value)s”: must not be negative.") % {"value": value})
    return number


def parse_signed(value: Any) -> decimal.Decimal:
    return parse_decimal(value)


def parse_count(value: Any) -> int:
    number = parse_amount(value)
    if number != int(number):
        raise CellProblem(ImportError.INVALID_VALUE, detail=_("“%(value)s”: a whole number.") % {"value": value})
    return int(number)


def parse_year(value: Any) -> int:
    number = parse_decimal(value)
    if number != int(number) or not 1980 <= number <= 2100:
        raise CellProblem(ImportError.INVALID_VALUE, detail=_("“%(value)s”: a year such as 2025.") % {"value": value})
    return int(number)


def _amount(key: str, zh: str, en: str, *, parser=parse_amount, example: str = "") -> Column:
    return Column(key, [zh, en, key], parser=parser, is_text=False, example=example, width=14,
                  help=gettext_lazy("10k CNY (万元)"))


def year_columns() -> list[Column]:
    return [
        Column("organisation", ["企业编码", "Enterprise code", "企业", "统一社会信用代码"], required=True,
               parser=text_parser(300), help=gettext_lazy("Registry code, credit code or exact name of the enterprise."),
               example="ORG-GM-0001"),
        Column("year", ["年度", "Fiscal year"], required=True, parser=parse_year, is_text=False, example="2025"),
        Column("technology_domain", ["技术领域", "High-tech domain"], parser=choice_parser(TechnologyDomain.choices),
               choices=TechnologyDomain.choices, example="电子信息"),
        _amount("main_revenue", "主营业务收入", "Main business revenue", example="4900"),
        _amount("other_revenue", "其他业务收入", "Other business revenue", example="100"),
        _amount("total_income", "收入总额", "Total income", example="5100"),
        _amount("non_taxable_income", "不征税收入", "Non-taxable income", example="0"),
        _amount("high_tech_revenue", "高新技术产品（服务）收入", "High-tech product and service revenue", example="3500"),
        _amount("technical_income", "技术性收入", "Technical income", example="200"),
        _amount("rd_personnel", "研发人员人工费用", "R&D personnel", example="150"),
        _amount("rd_direct", "研发直接投入费用", "R&D direct inputs", example="40"),
        _amount("rd_depreciation", "研发折旧费用", "R&D depreciation", example="10"),
        _amount("rd_amortisation", "研发无形资产摊销", "R&D amortisation", example="0"),
        _amount("rd_design", "研发设计费用", "R&D design", example="0"),
        _amount("rd_equipment_testing", "装备调试费用与试验费用", "R&D equipment and testing", example="0"),
        _amount("rd_commissioned_domestic", "委托境内研发费用", "R&D commissioned in China", example="50"),
        _amount("rd_commissioned_abroad", "委托境外研发费用", "R&D commissioned abroad", example="0"),
        _amount("rd_other", "研发其他费用", "R&D other", example="10"),
        _amount("net_assets", "净资产", "Net assets", parser=parse_signed, example="1500"),
        _amount("total_assets", "资产总额", "Total assets", example="3000"),
        _amount("total_costs", "成本费用总额", "Total costs", example="4000"),
        Column("staff_average", ["职工总数（月平均）", "Staff (monthly average)", "职工总数"], parser=parse_amount,
               is_text=False, example="100"),
        Column("st_staff_average", ["科技人员数（月平均）", "S&T staff (monthly average)", "科技人员数"],
               parser=parse_amount, is_text=False, example="15"),
        Column("conversions", ["科技成果转化数", "Technology conversions"], parser=parse_count, is_text=False,
               example="4"),
    ]


@register
class FiscalYearImporter(Importer):
    kind = "enterprises.fiscal_year"
    label = gettext_lazy("Enterprise figures by fiscal year")
    data_sheet = "年度数据"
    unique_columns = ()
    list_url_name = "enterprises:index"

    def __init__(self) -> None:
        self.columns = year_columns()
        self._seen: dict[tuple[int, int], int] = {}

    permission = "enterprises.import_profiles"

    def row_key(self, values: dict[str, Any]) -> str:
        org = values.get("organisation")
        return f"{getattr(org, 'code', org) or ''}/{values.get('year') or ''}"

    def begin(self) -> None:
        self._organisations: dict[str, list[Organisation]] = {}
        for org in Organisation.objects.filter(kind="enterprise").only("pk", "code", "credit_code", "name", "kind"):
            for key in {org.code, org.credit_code or "", org.name}:
                if key:
                    self._organisations.setdefault(normalise_label(key), []).append(org)
        self._seen = {}

    def check_row(self, values: dict[str, Any]) -> None:
        found = self._organisations.get(normalise_label(values["organisation"]), [])
        if not found:
            raise CellProblem(ImportError.UNKNOWN_REFERENCE, field="organisation", target=_("enterprise"),
                              value=values["organisation"])
        if len(found) > 1:
            raise CellProblem(ImportError.AMBIGUOUS_REFERENCE, field="organisation", target=_("enterprises"),
                              value=values["organisation"], matches=", ".join(o.code for o in found))
        values["organisation"] = found[0]
        key = (found[0].pk, values["year"])
        if key in self._seen:
            raise CellProblem(ImportError.DUPLICATE_IN_FILE, field="year", value=f"{found[0].code} {values['year']}",
                              other_row=self._seen[key])
        self._seen[key] = len(self._seen) + 2
        staff, st = values.get("staff_average"), values.get("st_staff_average")
        if staff is not None and st is not None and st > staff:
            raise CellProblem(ImportError.INVALID_VALUE, field="st_staff_average",
                              detail=_("more S&T staff than staff."))

    def apply_row(self, values: dict[str, Any], *, actor: User | None) -> tuple[RowStatus, dict[str, Any]]:
        organisation = values["organisation"]
        if not core_permissions.is_bureau_officer(actor) and not permissions.is_member(actor, organisation):
            raise CellProblem(ImportError.INVALID_VALUE, field="organisation",
                              detail=_("you may import only your own enterprise's figures."))
        domain = values.get("technology_domain")
        if domain:
            profile = services.profile_for(organisation)
            if profile is None or profile.technology_domain != domain:
                services.profile_save_unchecked(actor=actor, organisation=organisation,
                                                data={"technology_domain": domain}, recompute=False)
        data = {k: values[k] for k in services.YEAR_FIELDS if k in values}
        _row, changes, created = services.fiscal_year_save_unchecked(actor=actor, organisation=organisation,
                                                                     year=values["year"], data=data)
        if created:
            return RowStatus.CREATED, {}
        return (RowStatus.UPDATED, changes) if changes else (RowStatus.UNCHANGED, {})

    def export_rows(self, queryset) -> list[list[Any]]:
        rows = []
        for fy in queryset.select_related("profile__organisation"):
            rows.append([fy.profile.organisation.code, fy.year, fy.profile.technology_domain,
                         *[getattr(fy, c.key) for c in self.columns[3:]]])
        return rows


__all__ = ["FiscalYear", "FiscalYearImporter"]
