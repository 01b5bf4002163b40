"""共享仪器 and 大设施: the catalogue of bookable instruments and end-stations, bookings that can
never overlap (enforced by the database), usage and fees."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel
from sciencecity.facilities.choices import (
    BookingState,
    InstrumentKind,
    InstrumentStatus,
    SchemeStatus,
    UserClass,
    VoucherState,
)

USER = settings.AUTH_USER_MODEL


class Instrument(BaseModel):
    """仪器设备 / 线站. A bookable instrument or facility end-station of a lab, platform or facility in the registry."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=InstrumentKind.choices, default=InstrumentKind.INSTRUMENT)
    host = models.ForeignKey("registry.Organisation", verbose_name=_("host organisation"), on_delete=models.PROTECT,
                             related_name="instruments")
    model = models.CharField(_("make and model"), max_length=200, blank=True)
    capabilities = models.TextField(_("capabilities"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    manager = models.ForeignKey(USER, verbose_name=_("instrument manager"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="managed_instruments")
    opens_at = models.TimeField(_("opens at"), default="08:00")
    closes_at = models.TimeField(_("closes at"), default="20:00")
    open_weekdays = models.CharField(_("open weekdays (ISO digits, 1=Monday)"), max_length=7, default="12345")
    always_open = models.BooleanField(_("open around the clock"), default=False)
    rules = models.TextField(_("rules of use"), blank=True)
    cma_number = models.CharField(_("CMA certificate number"), max_length=40, blank=True)
    cnas_number = models.CharField(_("CNAS accreditation number"), max_length=40, blank=True)
    accredited_scope = models.TextField(_("accredited scope (tests and standards)"), blank=True)
    training_required = models.BooleanField(_("training required"), default=False)
    qualification = models.TextField(_("training and qualifications required"), blank=True)
    photo = models.FileField(_("photo"), upload_to="facilities/instruments/", blank=True)
    approval_required = models.BooleanField(_("bookings need approval"), default=False)
    min_booking_minutes = models.PositiveIntegerField(_("shortest booking (minutes)"), default=30)
    max_booking_minutes = models.PositiveIntegerField(_("longest booking (minutes)"), default=8 * 60)
    weekly_quota_hours_per_user = models.PositiveIntegerField(_("weekly quota per user (hours, 0 = none)"), default=0)
    weekly_quota_hours_per_organisation = models.PositiveIntegerField(
        _("weekly quota per organisation (hours, 0 = none)"), default=0)
    cancel_notice_hours = models.PositiveIntegerField(_("free cancellation until (hours before start)"), default=24)
    no_show_grace_minutes = models.PositiveIntegerField(_("no-show released after (minutes)"), default=15)
    status = models.CharField(_("status"), max_length=10, choices=InstrumentStatus.choices,
                              default=InstrumentStatus.ACTIVE)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        constraints = [
            models.CheckConstraint(condition=models.Q(min_booking_minutes__gte=1), name="instrument_min_booking_positive"),
            models.CheckConstraint(condition=models.Q(max_booking_minutes__gte=models.F("min_booking_minutes")),
                                   name="instrument_max_booking_at_least_min"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InstrumentPrice(BaseModel):
    """收费标准. The hourly price of an instrument for one user class (CNY per hour)."""

    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.CASCADE,
                                   related_name="prices")
    user_class = models.CharField(_("user class"), max_length=12, choices=UserClass.choices)
    hourly_rate = models.DecimalField(_("price per hour (CNY)"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["instrument", "user_class"]
        verbose_name = _("price")
        verbose_name_plural = _("price list")
        constraints = [
            models.UniqueConstraint(fields=["instrument", "user_class"], name="instrument_price_unique_class"),
            models.CheckConstraint(condition=models.Q(hourly_rate__gte=0), name="instrument_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.user_class} {self.hourly_rate}"


class Blackout(BaseModel):
    """停机时段. A period in which an instrument cannot be booked (maintenance, holidays)."""

    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.CASCADE,
                                   related_name="blackouts")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("blackout period")
        verbose_name_plural = _("blackout periods")
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="blackout_end_after_start")]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class Booking(BaseModel):
    """预约. One booked slot of an instrument. Slot-holding bookings of one instrument never overlap:
    a PostgreSQL exclusion constraint (btree_gist) and, on SQLite, a check in a serialised write transaction."""

    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT,
                                   related_name="bookings")
    user = models.ForeignKey(USER, verbose_name=_("booked by"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="bookings")  # empty only for allocated facility time without a submitter
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("organisation"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="instrument_bookings")
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    state = models.CharField(_("state"), max_length=12, choices=BookingState.choices, default=BookingState.CONFIRMED,
                             db_index=True)
    user_class = models.CharField(_("user class"), max_length=12, choices=UserClass.choices,
                                  default=UserClass.ENTERPRISE)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    series = models.CharField(_("recurring series"), max_length=36, blank=True, db_index=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    late_cancellation = models.BooleanField(_("cancelled after the free-cancellation deadline"), default=False)
    shift_request = models.OneToOneField("facilities.ShiftRequest", verbose_name=_("allocated facility time"),
                                         null=True, blank=True, on_delete=models.CASCADE, related_name="booking")
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [models.Index(fields=["instrument", "starts_at"], name="booking_instrument_start")]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="booking_end_after_start")]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class TrainingRecord(BaseModel):
    """上机培训. A user's training on an instrument that requires it, valid until a date."""

    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.CASCADE,
                                   related_name="trainings")
    user = models.ForeignKey(USER, verbose_name=_("user"), on_delete=models.CASCADE, related_name="instrument_trainings")
    valid_until = models.DateField(_("valid until"))

    class Meta:
        ordering = ["instrument", "user"]
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        constraints = [models.UniqueConstraint(fields=["instrument", "user"], name="training_unique_user")]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.user}"


class UsageRecord(BaseModel):
    """使用记录. What a completed booking used and costs: from check-in to check-out, at the price of its user class."""

    booking = models.OneToOneField(Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="usage")
    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT,
                                   related_name="usage_records")
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("organisation"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="instrument_usage")
    user_class = models.CharField(_("user class"), max_length=12, choices=UserClass.choices)
    started_at = models.DateTimeField(_("checked in at"))
    ended_at = models.DateTimeField(_("checked out at"))
    minutes = models.PositiveIntegerField(_("billed minutes"))
    hourly_rate = models.DecimalField(_("price per hour (CNY)"), max_digits=12, decimal_places=2)
    fee = models.DecimalField(_("fee (CNY)"), max_digits=12, decimal_places=2)
    voucher_paid = models.DecimalField(_("paid by innovation voucher (CNY)"), max_digits=12, decimal_places=2,
                                       default=0)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        constraints = [
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="usage_fee_not_negative"),
            models.CheckConstraint(condition=models.Q(voucher_paid__gte=0, voucher_paid__lte=models.F("fee")),
                                   name="usage_voucher_within_fee"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.started_at:%Y-%m-%d} {self.fee}"

    @property
    def payable(self):
        return self.fee - self.voucher_paid


class VoucherScheme(BaseModel):
    """创新券方案. A budget of innovation vouchers with an eligibility rule, a cap per enterprise and the share
    of a fee a voucher may pay."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    budget = models.DecimalField(_("budget (CNY)"), max_digits=14, decimal_places=2)
    cap_per_enterprise = models.DecimalField(_("cap per enterprise (CNY)"), max_digits=12, decimal_places=2)
    max_share = models.DecimalField(_("largest share of a fee paid by voucher"), max_digits=4, decimal_places=2,
                                    default=Decimal("0.5"))
    eligibility = models.TextField(_("eligibility rule"), blank=True)
    valid_until = models.DateField(_("vouchers valid until"))
    status = models.CharField(_("status"), max_length=8, choices=SchemeStatus.choices, default=SchemeStatus.OPEN)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("voucher scheme")
        verbose_name_plural = _("voucher schemes")
        constraints = [
            models.CheckConstraint(condition=models.Q(budget__gte=0, cap_per_enterprise__gt=0),
                                   name="scheme_amounts_positive"),
            models.CheckConstraint(condition=models.Q(max_share__gt=0, max_share__lte=1), name="scheme_share_range"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Voucher(BaseModel):
    """创新券. An enterprise's application for and, once approved, its balance of innovation vouchers."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    scheme = models.ForeignKey(VoucherScheme, verbose_name=_("scheme"), on_delete=models.PROTECT,
                               related_name="vouchers")
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                     related_name="innovation_vouchers")
    facts = models.JSONField(_("declared facts"), default=dict)
    requested = models.DecimalField(_("amount requested (CNY)"), max_digits=12, decimal_places=2)
    granted = models.DecimalField(_("amount granted (CNY)"), max_digits=12, decimal_places=2, default=0)
    balance = models.DecimalField(_("balance (CNY)"), max_digits=12, decimal_places=2, default=0)
    state = models.CharField(_("state"), max_length=10, choices=VoucherState.choices, default=VoucherState.APPLIED)
    applied_by = models.ForeignKey(USER, verbose_name=_("applied by"), null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("innovation voucher")
        verbose_name_plural = _("innovation vouchers")
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0, balance__lte=models.F("granted")),
                                   name="voucher_balance_within_grant"),
            models.CheckConstraint(condition=models.Q(requested__gt=0), name="voucher_requested_positive"),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherRedemption(BaseModel):
    """创新券抵扣. Part of a usage fee paid by a voucher; settled to the provider (the host) by the bureau."""

    voucher = models.ForeignKey(Voucher, verbose_name=_("voucher"), on_delete=models.PROTECT,
                                related_name="redemptions")
    usage = models.OneToOneField(UsageRecord, verbose_name=_("usage record"), on_delete=models.PROTECT,
                                 related_name="redemption")
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2)
    settled_at = models.DateTimeField(_("settled to the provider at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("voucher redemption")
        verbose_name_plural = _("voucher redemptions")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="redemption_amount_positive")]

    def __str__(self) -> str:
        return f"{self.voucher.code} {self.amount}"


# 机时 (facility time proposals and allocation) lives in its own module.
from sciencecity.facilities.beamtime.models import (  # noqa: E402, F401
    BeamtimeProposal,
    BeamtimeReview,
    BeamtimeRound,
    ExperimentReport,
    RoundBeamline,
    ShiftRequest,
)
