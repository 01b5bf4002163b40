"""共享仪器 and 大设施: the catalogue of bookable instruments and end-stations, bookings that can
never overlap (enforced by the database), usage and fees."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel
from sciencecity.facilities.choices import BookingState, InstrumentKind, InstrumentStatus, UserClass

USER = settings.AUTH_USER_MODEL


class Instrument(BaseModel):
    """仪器设备 / 线站. A bookable instrument or facility end-station of a lab, platform or facility in the registry."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=InstrumentKind.choices, default=InstrumentKind.INSTRUMENT)
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
    training_required = models.BooleanField(_("training required"), default=False)
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
    user = models.ForeignKey(USER, verbose_name=_("booked by"), on_delete=models.PROTECT, related_name="bookings")
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


# 机时 (facility time proposals and allocation) lives in its own module.
from sciencecity.facilities.beamtime.models import (  # noqa: E402, F401
    BeamtimeProposal,
    BeamtimeReview,
    BeamtimeRound,
    ExperimentReport,
    RoundBeamline,
    ShiftRequest,
)
