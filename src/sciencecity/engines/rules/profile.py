"""The enterprise profile of the assessment file format (enterprise-assessment-format.md) as typed
dataclasses, and a strict reader: an unknown field, a wrong type or a negative amount is a
``ProfileError`` naming the enterprise and the field; nothing is guessed.

Amounts are in 万元. Numbers are kept exact (``Fraction`` from their decimal text) so that the
rule boundaries (5,000万, 2亿, 60 %, 10 % …) are decided without binary rounding.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .i18n import _

Number = int | float | Decimal | Fraction


def q(value: Number) -> Fraction:
    """An exact fraction of ``value`` (a float is read through its shortest decimal text)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


class ProfileError(ValueError):
    """Bad input: ``enterprise`` (its id or position) and ``field`` (a dotted path) say where."""

    def __init__(self, enterprise: str, field_path: str, problem: str):
        self.enterprise, self.field, self.problem = enterprise, field_path, problem
        super().__init__(_("enterprise %(enterprise)s: field %(field)s: %(problem)s", enterprise=enterprise,
                           field=field_path, problem=problem))


RD_CATEGORIES = ("personnel", "direct", "depreciation", "amortisation", "design", "equipment_testing",
                 "commissioned_domestic", "commissioned_abroad", "other")
#: The categories done inside the firm (指引 三(六)2, all but 委托外部 and 其他费用).
RD_INTERNAL = ("personnel", "direct", "depreciation", "amortisation", "design", "equipment_testing")


@dataclass(frozen=True)
class RDExpense:
    """研究开发费用 by the eight categories of 指引 三(六)2, commissioned R&D split in China / abroad,
    as actually paid (the 80 % rule is applied by the assessment, not here)."""

    personnel: Fraction = Fraction(0)
    direct: Fraction = Fraction(0)
    depreciation: Fraction = Fraction(0)
    amortisation: Fraction = Fraction(0)
    design: Fraction = Fraction(0)
    equipment_testing: Fraction = Fraction(0)
    commissioned_domestic: Fraction = Fraction(0)
    commissioned_abroad: Fraction = Fraction(0)
    other: Fraction = Fraction(0)

    @property
    def internal(self) -> Fraction:
        return sum((getattr(self, name) for name in RD_INTERNAL), Fraction(0))


@dataclass(frozen=True)
class MonthlyStaff:
    """One month's head counts: 月初 / 月末 of all staff and of S&T staff."""

    start: Fraction
    end: Fraction
    st_start: Fraction
    st_end: Fraction


@dataclass(frozen=True)
class FiscalYear:
    """One fiscal year's figures (万元; staff as 全年月平均数 or month by month)."""

    year: int
    main_revenue: Fraction | None = None
    other_revenue: Fraction | None = None
    total_income: Fraction | None = None
    non_taxable_income: Fraction | None = None
    high_tech_revenue: Fraction | None = None
    technical_income: Fraction | None = None
    rd: RDExpense | None = None
    net_assets: Fraction | None = None
    total_assets: Fraction | None = None
    total_costs: Fraction | None = None
    staff_average: Fraction | None = None
    st_staff_average: Fraction | None = None
    staff_monthly: tuple[MonthlyStaff, ...] | None = None
    conversions: int | None = None

    @property
    def sales(self) -> Fraction | None:
        """销售收入 = 主营业务收入 + 其他业务收入 (指引 三(六), as on the CIT annual return)."""
        if self.main_revenue is None or self.other_revenue is None:
            return None
        return self.main_revenue + self.other_revenue

    @property
    def income(self) -> Fraction | None:
        """总收入 = 收入总额 − 不征税收入 (指引 三(五))."""
        if self.total_income is None or self.non_taxable_income is None:
            return None
        return self.total_income - self.non_taxable_income

    @property
    def high_tech_income(self) -> Fraction | None:
        """高新收入 = 高新技术产品（服务）收入 + 技术性收入 (指引 三(五))."""
        if self.high_tech_revenue is None or self.technical_income is None:
            return None
        return self.high_tech_revenue + self.technical_income

    def staff_averages(self) -> tuple[Fraction, Fraction] | None:
        """(职工总数, 科技人员数) as 全年月平均数 (指引 三(四)): month by month when given,
        Σ((月初 + 月末) ÷ 2) ÷ 12, else the averages as stated."""
        if self.staff_monthly is not None:
            total = sum(((m.start + m.end) / 2 for m in self.staff_monthly), Fraction(0)) / 12
            st = sum(((m.st_start + m.st_end) / 2 for m in self.staff_monthly), Fraction(0)) / 12
            return total, st
        if self.staff_average is None or self.st_staff_average is None:
            return None
        return self.staff_average, self.st_staff_average


@dataclass(frozen=True)
class IntellectualProperty:
    """One IP right: class Ⅰ or Ⅱ (指引 三(二)3), how obtained, when granted (None: unknown)."""

    ip_class: str  # "I" | "II"
    kind: str = ""
    acquired: str = "own"  # "own" | "transferred" (受让/受赠/并购)
    granted_on: dt.date | None = None


@dataclass(frozen=True)
class Certificate:
    number: str
    issued_on: dt.date


@dataclass(frozen=True)
class EnterpriseProfile:
    """What the assessments read; ``years`` are the fiscal years before ``assessed_on``'s year."""

    id: str
    assessed_on: dt.date
    name: str = ""
    registered_on: dt.date | None = None
    years: tuple[FiscalYear, ...] = ()
    ip: tuple[IntellectualProperty, ...] = ()
    standards_drafted: int | None = None
    incident_in_last_year: bool | None = None
    field: str | None = None
    hnte_certificate: Certificate | None = None
    self_rating: dict[str, str | int] = dataclass_field(default_factory=dict)

    def year(self, year: int) -> FiscalYear | None:
        return next((y for y in self.years if y.year == year), None)


# --- reading the JSON format -------------------------------------------------------------------

_PROFILE_KEYS = {"id", "name", "registered_on", "assessed_on", "years", "ip", "standards_drafted",
                 "incident_in_last_year", "field", "hnte_certificate", "self_rating"}
_YEAR_AMOUNTS = ("main_revenue", "other_revenue", "total_income", "non_taxable_income", "high_tech_revenue",
                 "technical_income", "net_assets", "total_assets", "total_costs", "staff_average",
                 "st_staff_average")
#: Amounts that may be negative (net assets = assets − liabilities); every other figure is ≥ 0.
_SIGNED = {"net_assets"}
_YEAR_KEYS = {"year", "rd", "staff_monthly", "conversions", *_YEAR_AMOUNTS}
_MONTH_KEYS = {"start", "end", "st_start", "st_end"}
_IP_KEYS = {"class", "kind", "acquired", "granted_on"}
_CERT_KEYS = {"number", "issued_on"}
#: Self-ratings of the expert-judged items: a band letter or an integer score within the item's maximum.
SELF_RATING_ITEMS: dict[str, int] = {"ip_advancedness": 8, "ip_core_support": 8, "ip_acquisition": 6,
                                     "rd_system": 6, "rd_institution": 6, "conversion_incentives": 4,
                                     "talent_development": 4}
SELF_RATING_LETTERS = {"ip_advancedness", "ip_core_support"}


class _Reader:
    def __init__(self, who: str):
        self.who = who

    def fail(self, path: str, problem: str) -> ProfileError:
        return ProfileError(self.who, path, problem)

    def keys(self, data: Any, allowed: set[str], path: str) -> dict:
        if not isinstance(data, dict):
            raise self.fail(path or "(profile)", _("expected an object"))
        unknown = sorted(set(data) - allowed)
        if unknown:
            where = f"{path}.{unknown[0]}" if path else unknown[0]
            raise self.fail(where, _("unknown field"))
        return data

    def number(self, value: Any, path: str, *, signed: bool = False) -> Fraction:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise self.fail(path, _("expected a number, got %(type)s", type=json_type(value)))
        if (isinstance(value, float) and not math.isfinite(value)) or (
                isinstance(value, Decimal) and not value.is_finite()):
            raise self.fail(path, _("expected a finite number"))
        number = q(value)
        if number < 0 and not signed:
            raise self.fail(path, _("must not be negative"))
        return number

    def integer(self, value: Any, path: str) -> int:
        number = self.number(value, path)
        if number.denominator != 1:
            raise self.fail(path, _("expected a whole number"))
        return int(number)

    def date(self, value: Any, path: str) -> dt.date:
        if not isinstance(value, str):
            raise self.fail(path, _("expected a date YYYY-MM-DD, got %(type)s", type=json_type(value)))
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(path, _("not a date YYYY-MM-DD: %(value)r", value=value)) from None

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, _("expected text, got %(type)s", type=json_type(value)))
        return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | Decimal):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list):
        return _("a list")
    return _("an object")


def profile_from_dict(data: Any, *, position: int = 1) -> EnterpriseProfile:
    """One profile of the file format; raises ``ProfileError`` naming the enterprise and field."""
    who = f"#{position}"
    if isinstance(data, dict) and isinstance(data.get("id"), str | int) and not isinstance(data.get("id"), bool):
        who = f"{data['id']!s} (#{position})"
    r = _Reader(who)
    data = r.keys(data, _PROFILE_KEYS, "")
    if "id" not in data:
        raise r.fail("id", _("missing"))
    if "assessed_on" not in data:
        raise r.fail("assessed_on", _("missing"))
    assessed_on = r.date(data["assessed_on"], "assessed_on")
    registered_on = r.date(data["registered_on"], "registered_on") if data.get("registered_on") is not None else None
    if registered_on and registered_on > assessed_on:
        raise r.fail("registered_on", _("after assessed_on"))
    years_data = data.get("years", [])
    if not isinstance(years_data, list):
        raise r.fail("years", _("expected a list"))
    years, seen = [], set()
    for i, year_data in enumerate(years_data):
        year = _year(r, year_data, f"years[{i}]")
        if year.year in seen:
            raise r.fail(f"years[{i}].year", _("%(year)s given twice", year=year.year))
        if year.year >= assessed_on.year:
            raise r.fail(f"years[{i}].year", _("%(year)s is not a fiscal year before assessed_on (%(assessed)s)",
                                                         year=year.year, assessed=assessed_on.year))
        seen.add(year.year)
        years.append(year)
    ip_data = data.get("ip", [])
    if not isinstance(ip_data, list):
        raise r.fail("ip", _("expected a list"))
    ip = tuple(_ip(r, item, f"ip[{i}]") for i, item in enumerate(ip_data))
    standards = r.integer(data["standards_drafted"], "standards_drafted") if data.get(
        "standards_drafted") is not None else None
    incident = data.get("incident_in_last_year")
    if incident is not None and not isinstance(incident, bool):
        raise r.fail("incident_in_last_year", _("expected true/false, got %(type)s", type=json_type(incident)))
    field_name = r.text(data["field"], "field").strip() or None if data.get("field") is not None else None
    cert = None
    if data.get("hnte_certificate") is not None:
        c = r.keys(data["hnte_certificate"], _CERT_KEYS, "hnte_certificate")
        if "issued_on" not in c:
            raise r.fail("hnte_certificate.issued_on", _("missing"))
        cert = Certificate(number=r.text(c.get("number", ""), "hnte_certificate.number"),
                           issued_on=r.date(c["issued_on"], "hnte_certificate.issued_on"))
    rating = {}
    for key, value in r.keys(data.get("self_rating") or {}, set(SELF_RATING_ITEMS), "self_rating").items():
        path = f"self_rating.{key}"
        if isinstance(value, str) and key in SELF_RATING_LETTERS:
            if value not in ("A", "B", "C", "D", "E"):
                raise r.fail(path, _("expected a band A–E, got %(value)r", value=value))
            rating[key] = value
        else:
            score = r.integer(value, path)
            if score > SELF_RATING_ITEMS[key]:
                raise r.fail(path, _("at most %(points)s points", points=SELF_RATING_ITEMS[key]))
            rating[key] = score
    return EnterpriseProfile(id=str(data["id"]), name=r.text(data.get("name", ""), "name"),
                             registered_on=registered_on, assessed_on=assessed_on,
                             years=tuple(sorted(years, key=lambda y: y.year)), ip=ip, standards_drafted=standards,
                             incident_in_last_year=incident, field=field_name, hnte_certificate=cert,
                             self_rating=rating)


def _year(r: _Reader, data: Any, path: str) -> FiscalYear:
    data = r.keys(data, _YEAR_KEYS, path)
    if "year" not in data:
        raise r.fail(f"{path}.year", _("missing"))
    values: dict[str, Any] = {"year": r.integer(data["year"], f"{path}.year")}
    for name in _YEAR_AMOUNTS:
        if data.get(name) is not None:
            values[name] = r.number(data[name], f"{path}.{name}", signed=name in _SIGNED)
    if data.get("rd") is not None:
        rd = r.keys(data["rd"], set(RD_CATEGORIES), f"{path}.rd")
        values["rd"] = RDExpense(**{k: r.number(v, f"{path}.rd.{k}") for k, v in rd.items() if v is not None})
    if data.get("staff_monthly") is not None:
        months = data["staff_monthly"]
        if not isinstance(months, list) or len(months) != 12:
            raise r.fail(f"{path}.staff_monthly", _("expected the twelve months of the year"))
        parsed = []
        for i, month in enumerate(months):
            m = r.keys(month, _MONTH_KEYS, f"{path}.staff_monthly[{i}]")
            for key in sorted(_MONTH_KEYS - set(m)):
                raise r.fail(f"{path}.staff_monthly[{i}].{key}", _("missing"))
            parsed.append(MonthlyStaff(**{k: r.number(m[k], f"{path}.staff_monthly[{i}].{k}") for k in _MONTH_KEYS}))
        values["staff_monthly"] = tuple(parsed)
    if data.get("conversions") is not None:
        values["conversions"] = r.integer(data["conversions"], f"{path}.conversions")
    year = FiscalYear(**values)
    averages = year.staff_averages()
    if averages and averages[1] > averages[0]:
        raise r.fail(f"{path}.st_staff_average", _("more S&T staff than staff"))
    return year


def _ip(r: _Reader, data: Any, path: str) -> IntellectualProperty:
    data = r.keys(data, _IP_KEYS, path)
    ip_class = data.get("class")
    if ip_class not in ("I", "II"):
        raise r.fail(f"{path}.class", _('expected "I" or "II", got %(value)r', value=ip_class))
    acquired = data.get("acquired", "own")
    if acquired not in ("own", "transferred"):
        raise r.fail(f"{path}.acquired", _('expected "own" or "transferred", got %(value)r', value=acquired))
    granted = r.date(data["granted_on"], f"{path}.granted_on") if data.get("granted_on") is not None else None
    return IntellectualProperty(ip_class=ip_class, kind=r.text(data.get("kind", ""), f"{path}.kind"),
                                acquired=acquired, granted_on=granted)


def profiles_from_document(document: Any) -> list[EnterpriseProfile]:
    """``{"enterprises": [PROFILE, ...]}`` or a single PROFILE; every profile is read before any is used."""
    if isinstance(document, dict) and "enterprises" in document:
        if set(document) != {"enterprises"}:
            extra = sorted(set(document) - {"enterprises"})[0]
            raise ProfileError("(file)", extra, _("unknown field"))
        items = document["enterprises"]
        if not isinstance(items, list):
            raise ProfileError("(file)", "enterprises", _("expected a list"))
    else:
        items = [document]
    return [profile_from_dict(item, position=i + 1) for i, item in enumerate(items)]
