"""Choices of the facilities app in one place."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InstrumentKind(models.TextChoices):
    INSTRUMENT = "instrument", _("Instrument")  # 仪器设备
    END_STATION = "end_station", _("Facility end-station / beamline")  # 大设施线站
    COMPUTING = "computing", _("Computing resource")  # 算力
    TESTING_SERVICE = "testing_service", _("Testing and certification service")  # 检验检测服务


class InstrumentStatus(models.TextChoices):
    ACTIVE = "active", _("Open for booking")
    SUSPENDED = "suspended", _("Suspended")
    RETIRED = "retired", _("Retired")


class UserClass(models.TextChoices):
    """价格类别. Who pays which price."""

    INTERNAL = "internal", _("Internal (host organisation)")  # 内部
    ACADEMIC = "academic", _("Academic")  # 高校院所
    ENTERPRISE = "enterprise", _("Enterprise")  # 企业
    SME = "sme", _("SME (voucher eligible)")  # 中小企业


class BookingState(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    CONFIRMED = "confirmed", pgettext_lazy("booking state", "Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")
    NO_SHOW = "no_show", _("No-show (released)")
    WAITLISTED = "waitlisted", _("Waitlisted")
    BEAMTIME = "beamtime", _("Allocated facility time")  # 机时分配: shifts of a facility time round


#: States in which a booking holds its slot (the no-overlap rule applies to these only).
SLOT_HOLDING_STATES = (
    BookingState.REQUESTED,
    BookingState.CONFIRMED,
    BookingState.CHECKED_IN,
    BookingState.COMPLETED,
    BookingState.BEAMTIME,
)


class VoucherState(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class SchemeStatus(models.TextChoices):
    OPEN = "open", _("Open for applications")
    CLOSED = "closed", _("Closed")


#: Plain fields a voucher scheme's eligibility rule may use (engines/rules/lang.py schema).
VOUCHER_FIELDS = {
    "employees": "number",          # 从业人数
    "revenue": "number",            # 上年营业收入 (10k CNY)
    "total_assets": "number",       # 资产总额 (10k CNY)
    "rd_staff_share": "number",     # 研发人员占比 (0–1)
    "registered_in_district": "bool",  # 注册在光明区
}


def refuse(errors: dict[str, str], code: str):
    """A ``ValidationError`` naming its fields, with ``code`` on each (the API returns it as the error code)."""
    from django.core.exceptions import ValidationError

    return ValidationError({field: ValidationError(message, code=code) for field, message in errors.items()},
                           code=code)
