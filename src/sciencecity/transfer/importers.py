"""Bulk import of achievements and demands (CSV, Excel .xlsx or JSONL) on the generic framework of
:mod:`sciencecity.core.importing`: dry run with a per-row report, atomic apply, rows matched on
their code and written through the listing services (audited, indexed).

JSONL (one JSON object per line, keys as the column keys or headers) is turned into a table first;
its report numbers rows by line (line 1 is the first object).
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core.importing import (
    CellProblem,
    Column,
    Importer,
    ImportError,
    ImportReport,
    RowStatus,
    apply,
    choice_parser,
    dry_run,
    list_parser,
    multi_choice_parser,
    normalise_label,
    parse_date,
    parse_decimal,
    register,
    text_parser,
)
from sciencecity.registry.models import Organisation, Sector
from sciencecity.transfer.choices import IpStatus, IpType, TransferMode, Visibility
from sciencecity.transfer.models import Achievement, TechDemand
from sciencecity.transfer.services import listings

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


def _text(model: Any, name: str):
    return text_parser(model._meta.get_field(name).max_length)


def parse_trl(value: Any) -> int:
    number = parse_decimal(value)
    if number != int(number) or not 1 <= number <= 9:
        raise CellProblem(ImportError.INVALID_VALUE, detail=_("the TRL is a whole number from 1 to 9."))
    return int(number)


def parse_amount(value: Any):
    number = parse_decimal(value)
    if number < 0:
        raise CellProblem(ImportError.INVALID_VALUE, detail=_("“%(value)s”: an amount cannot be negative.")
                          % {"value": value})
    return number


def parse_bool(value: Any) -> bool:
    text = normalise_label(value)
    if text in {"1", "true", "yes", "y", "是", "保密"}:
        return True
    if text in {"0", "false", "no", "n", "否", "公开"}:
        return False
    raise CellProblem(ImportError.INVALID_CHOICE, value=str(value), allowed="是、否")


def _common_head(model: Any, owner_headers: list[str]) -> list[Column]:
    return [
        Column("code", ["编码", "Code", "id", "编号"], required=True, parser=_text(model, "code"),
               help=gettext_lazy("Stable code of the listing: rows are matched on it."), example="ACH-2025-001"),
        Column("organisation", owner_headers, required=True, parser=text_parser(300),
               help=gettext_lazy("Code, credit code or exact name of an organisation in the registry."),
               example="ORG-GM-0001"),
        Column("title", ["标题", "Title", "名称"], required=True, parser=_text(model, "title"), example="硅碳负极材料"),
    ]


def _common_tail(model: Any) -> list[Column]:
    return [
        Column("sectors", ["领域", "Fields", "sectors", "field"], parser=list_parser(),
               help=gettext_lazy("Field codes separated by ; (for example IND-BATTERY; HT-4)."), example="IND-BATTERY"),
        Column("keywords", ["关键词", "Keywords"], parser=_text(model, "keywords"), example="锂电池 负极"),
    ]


def achievement_columns() -> list[Column]:
    return [
        *_common_head(Achievement, ["成果单位", "Owner", "owner", "organisation", "单位"]),
        Column("abstract", ["摘要", "Abstract", "简介"], required=True, parser=text_parser(), width=40),
        *_common_tail(Achievement),
        Column("trl", ["成熟度", "TRL", "技术成熟度"], required=True, parser=parse_trl, is_text=False, example="6"),
        Column("ip_type", ["知识产权类型", "IP type"], parser=choice_parser(IpType.choices), choices=IpType.choices,
               default=IpType.NONE),
        Column("ip_number", ["知识产权号", "IP number", "专利号"], parser=_text(Achievement, "ip_number")),
        Column("ip_status", ["知识产权状态", "IP status"], parser=choice_parser(IpStatus.choices),
               choices=IpStatus.choices, default=""),
        Column("ip_holders", ["权利人", "IP holders"], parser=_text(Achievement, "ip_holders")),
        Column("inventors", ["发明人", "Inventors"], parser=_text(Achievement, "inventors")),
        Column("modes", ["转化方式", "Transfer modes", "modes"], parser=multi_choice_parser(TransferMode.choices),
               choices=TransferMode.choices, default=[]),
        Column("asking_terms", ["交易条件", "Asking terms"], parser=_text(Achievement, "asking_terms")),
        Column("contact_name", ["联系人", "Contact"], parser=_text(Achievement, "contact_name")),
        Column("contact_email", ["联系邮箱", "Contact email"], parser=text_parser(254)),
        Column("contact_phone", ["联系电话", "Contact phone"], parser=_text(Achievement, "contact_phone")),
        Column("visibility", ["公开范围", "Visibility"], parser=choice_parser(Visibility.choices),
               choices=Visibility.choices, default=Visibility.PUBLIC),
    ]


def demand_columns() -> list[Column]:
    return [
        *_common_head(TechDemand, ["需求企业", "Enterprise", "organisation", "企业"]),
        Column("public_summary", ["公开摘要", "Public summary", "summary", "摘要"], required=True, parser=text_parser(),
               width=40),
        Column("description", ["详细描述", "Full description", "description"], parser=text_parser(), default=""),
        Column("confidential", ["保密", "Confidential"], parser=parse_bool, default=False),
        *_common_tail(TechDemand),
        Column("budget_min", ["预算下限", "Budget from", "budget_min"], parser=parse_amount, is_text=False),
        Column("budget_max", ["预算上限", "Budget to", "budget_max", "budget"], parser=parse_amount, is_text=False),
        Column("deadline", ["需求期限", "Needed by", "deadline"], parser=parse_date, is_text=False),
        Column("modes", ["合作方式", "Preferred modes", "modes"], parser=multi_choice_parser(TransferMode.choices),
               choices=TransferMode.choices, default=[]),
        Column("min_trl", ["最低成熟度", "Minimum TRL", "min_trl"], parser=parse_trl, is_text=False),
    ]


class _ListingImporter(Importer):
    model: Any = None
    unique_columns = ("code",)

    permission = "transfer.import_listings"

    def begin(self) -> None:
        self._sector_codes = set(Sector.objects.values_list("code", flat=True))
        self._organisations: dict[str, list[Organisation]] = {}
        for org in Organisation.objects.only("pk", "code", "credit_code", "name"):
            for key in {org.code, org.credit_code or "", org.name}:
                if key:
                    self._organisations.setdefault(normalise_label(key), []).append(org)

    def check_row(self, values: dict[str, Any]) -> None:
        unknown = [c for c in values.get("sectors") or [] if c not in self._sector_codes]
        if unknown:
            raise CellProblem(ImportError.UNKNOWN_REFERENCE, field="sectors", target=_("field"),
                              value="; ".join(unknown))
        found = self._organisations.get(normalise_label(values["organisation"]), [])
        if not found:
            raise CellProblem(ImportError.UNKNOWN_REFERENCE, field="organisation", target=_("organisation"),
                              value=values["organisation"])
        if len(found) > 1:
            raise CellProblem(ImportError.AMBIGUOUS_REFERENCE, field="organisation", target=_("organisations"),
                              value=values["organisation"], matches=", ".join(o.code for o in found))
        values["organisation"] = found[0]
        low, high = values.get("budget_min"), values.get("budget_max")
        if low is not None and high is not None and low > high:
            raise CellProblem(ImportError.INVALID_VALUE, field="budget_max",
                              detail=_("the upper budget is below the lower one."))

    def apply_row(self, values: dict[str, Any], *, actor: User | None) -> tuple[RowStatus, dict[str, Any]]:
        values = dict(values)
        organisation = values.pop("organisation")
        existing = self.model.objects.filter(code=values["code"]).first()
        if existing is None:
            self.create(actor=actor, organisation=organisation, data=values)
            return RowStatus.CREATED, {}
        if self.owner_id(existing) != organisation.pk:
            raise CellProblem(ImportError.KEY_CONFLICT, field="organisation", matched=existing.code,
                              matched_by=self.column("code").label(), value=organisation.code)
        changes = self.update(actor, existing, values)
        return (RowStatus.UPDATED, changes) if changes else (RowStatus.UNCHANGED, {})


@register
class AchievementImporter(_ListingImporter):
    kind = "transfer.achievement"
    label = gettext_lazy("Achievements")
    data_sheet = "成果"
    model = Achievement

    def __init__(self) -> None:
        self.columns = achievement_columns()

    create = staticmethod(listings.achievement_create_unchecked)

    @staticmethod
    def owner_id(obj: Achievement) -> int:
        return obj.owner_id

    @staticmethod
    def update(actor: User | None, obj: Achievement, values: dict[str, Any]) -> dict[str, Any]:
        return listings.achievement_update_unchecked(actor=actor, achievement=obj, data=values,
                                           reason=_("Bulk import"))


@register
class DemandImporter(_ListingImporter):
    kind = "transfer.demand"
    label = gettext_lazy("Technology demands")
    data_sheet = "需求"
    model = TechDemand

    def __init__(self) -> None:
        self.columns = demand_columns()

    create = staticmethod(listings.demand_create_unchecked)

    @staticmethod
    def owner_id(obj: TechDemand) -> int:
        return obj.organisation_id

    @staticmethod
    def update(actor: User | None, obj: TechDemand, values: dict[str, Any]) -> dict[str, Any]:
        return listings.demand_update_unchecked(actor=actor, demand=obj, data=values,
                                      reason=_("Bulk import"))


IMPORTERS = {"achievements": AchievementImporter, "demands": DemandImporter}


# --- JSONL and the entry point of the CLI
class JsonlProblem(ValueError):
    """A line of a JSONL file is not a JSON object."""


def jsonl_to_csv(content: bytes) -> bytes:
    """One JSON object a line → CSV (lists joined with ;); blank lines are skipped but keep numbering
    (line N becomes row N + 1 under the header)."""
    records: list[dict[str, Any] | None] = []
    for number, line in enumerate(content.decode("utf-8-sig").splitlines(), start=1):
        if not line.strip():
            records.append(None)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise JsonlProblem(_("Line %(line)s is not valid JSON: %(error)s") % {"line": number,
                                                                                  "error": exc.msg}) from None
        if not isinstance(record, dict):
            raise JsonlProblem(_("Line %(line)s is not a JSON object.") % {"line": number})
        records.append(record)
    headers = list(dict.fromkeys(k for r in records if r for k in r))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for record in records:
        if record is None:
            writer.writerow(["" for _h in headers] or [""])
            continue
        writer.writerow([_cell(record.get(h)) for h in headers])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def guess_kind(content: bytes, file_name: str) -> str:
    """``demands`` when the header has a public-summary column, else ``achievements``."""
    head = content[:4096].decode("utf-8", errors="ignore").casefold()
    return "demands" if any(w in head for w in ("public_summary", "公开摘要", "public summary")) else "achievements"


def import_listings(*, content: bytes, file_name: str, kind: str, actor: User | None, dry: bool) -> ImportReport:
    """Dry run or apply (raising ``ImportRejected`` with the report when a row fails: nothing written)."""
    importer = IMPORTERS[kind]()
    is_jsonl = file_name.lower().endswith((".jsonl", ".ndjson"))
    if is_jsonl:
        content, file_name = jsonl_to_csv(content), file_name + ".csv"
    run = dry_run if dry else apply
    return run(importer, content=content, file_name=file_name, actor=actor)


def line_number(file_name: str, row: int | None) -> int | None:
    """The number to show for a report row: the line for JSONL, the spreadsheet row otherwise."""
    if row is None:
        return None
    return row - 1 if file_name.lower().endswith((".jsonl", ".ndjson")) else row
