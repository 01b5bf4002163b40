"""Booking services. No double booking, ever: the check for an overlapping slot-holding booking runs inside
the write transaction, which on SQLite is serialised (``BEGIN IMMEDIATE``: one writer at a time, see
``config/base.py``), and on PostgreSQL the exclusion constraint ``booking_no_overlap`` (btree_gist) refuses
the second of two concurrent inserts; either way the loser gets :class:`BookingConflict` naming the slot."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core.audit import audit_record, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.facilities import permissions
from sciencecity.facilities.choices import SLOT_HOLDING_STATES, BookingState, UserClass, refuse
from sciencecity.facilities.models import Blackout, Booking, Instrument, TrainingRecord
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: Organisation kinds that pay the academic price.
ACADEMIC_KINDS = frozenset({"university", "research_institute", "new_rd_institution", "laboratory",
                            "major_facility", "research_platform"})
#: How early before its start a booking may be checked in.
CHECK_IN_EARLY = dt.timedelta(minutes=15)
#: The longest recurring series.
MAX_OCCURRENCES = 52

BOOKING_FIELDS = ["instrument_id", "user_id", "organisation_id", "starts_at", "ends_at", "state", "user_class",
                  "purpose", "series"]


class BookingConflict(Exception):
    """The slot overlaps a booking that holds it; ``conflict`` is that booking."""

    code = "booking_conflict"

    def __init__(self, conflict: Booking | None, starts_at: dt.datetime, ends_at: dt.datetime):
        self.conflict = conflict
        self.starts_at, self.ends_at = starts_at, ends_at
        super().__init__(self.message())

    def slot(self) -> dict[str, Any]:
        c = self.conflict
        if c is None:
            return {"start": self.starts_at.isoformat(), "end": self.ends_at.isoformat()}
        return {"booking_id": c.pk, "start": timezone.localtime(c.starts_at).isoformat(),
                "end": timezone.localtime(c.ends_at).isoformat()}

    def message(self) -> str:
        slot = self.slot()
        return _("The slot is already booked: %(start)s – %(end)s.") % {"start": slot["start"], "end": slot["end"]}


def user_class_for(instrument: Instrument, organisation: Organisation | None) -> str:
    """The price class of an organisation on an instrument: the host itself is internal, universities, institutes
    and labs academic, an enterprise holding an approved innovation voucher with a balance SME, else enterprise."""
    from sciencecity.facilities.models import Voucher

    if organisation is None:
        return UserClass.ENTERPRISE
    if organisation.pk == instrument.host_id:
        return UserClass.INTERNAL
    if organisation.kind in ACADEMIC_KINDS:
        return UserClass.ACADEMIC
    if Voucher.objects.filter(organisation=organisation, state="approved", balance__gt=0).exists():
        return UserClass.SME
    return UserClass.ENTERPRISE


def _local(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value)


def check_slot(instrument: Instrument, starts_at: dt.datetime, ends_at: dt.datetime, *,
               now: dt.datetime | None = None) -> None:
    """Refuse a slot that is not bookable, naming the field: end not after start, in the past, too short or
    too long, outside the opening hours, in a blackout period."""
    if ends_at <= starts_at:
        raise refuse({"end": _("The end must be after the start.")}, code="end_before_start")
    now = now or timezone.now()
    if starts_at < now - dt.timedelta(minutes=1):
        raise refuse({"start": _("The start is in the past.")}, code="in_past")
    minutes = (ends_at - starts_at).total_seconds() / 60
    if minutes < instrument.min_booking_minutes:
        raise refuse({"end": _("A booking lasts at least %(n)d minutes.") % {"n": instrument.min_booking_minutes}},
                              code="too_short")
    if minutes > instrument.max_booking_minutes:
        raise refuse({"end": _("A booking lasts at most %(n)d minutes.") % {"n": instrument.max_booking_minutes}},
                              code="too_long")
    if not instrument.always_open:
        start, end = _local(starts_at), _local(ends_at)
        opens, closes = instrument.opens_at, instrument.closes_at
        if isinstance(opens, str):
            opens, closes = dt.time.fromisoformat(opens), dt.time.fromisoformat(closes)
        hours = {"days": instrument.open_weekdays, "opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")}
        if str(start.isoweekday()) not in instrument.open_weekdays:
            raise refuse({"start": _("The instrument is closed on that day (open on weekdays %(days)s, "
                                              "%(opens)s–%(closes)s).") % hours}, code="outside_opening_hours")
        if start.time() < opens or end.date() != start.date() or end.time() > closes:
            raise refuse({"start": _("The slot is outside the opening hours %(opens)s–%(closes)s.") % hours},
                                  code="outside_opening_hours")
    blackout = Blackout.objects.filter(instrument=instrument, starts_at__lt=ends_at, ends_at__gt=starts_at).first()
    if blackout is not None:
        raise refuse({"start": _("The instrument is unavailable from %(start)s to %(end)s: %(reason)s") % {
            "start": _local(blackout.starts_at).strftime("%Y-%m-%d %H:%M"),
            "end": _local(blackout.ends_at).strftime("%Y-%m-%d %H:%M"), "reason": blackout.reason or "—"}},
            code="blackout")


def _overlapping(instrument: Instrument, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude: int | None = None):
    qs = Booking.objects.filter(instrument=instrument, state__in=SLOT_HOLDING_STATES, starts_at__lt=ends_at,
                                ends_at__gt=starts_at)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("starts_at")


def _check_quota(instrument: Instrument, user: Any, organisation: Organisation | None,
                 starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if not (instrument.weekly_quota_hours_per_user or instrument.weekly_quota_hours_per_organisation):
        return
    local = _local(starts_at)
    week_start = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    week = Booking.objects.filter(instrument=instrument, state__in=SLOT_HOLDING_STATES, starts_at__gte=week_start,
                                  starts_at__lt=week_start + dt.timedelta(days=7))
    wanted = (ends_at - starts_at).total_seconds() / 3600

    def hours(qs) -> float:
        return sum((b.ends_at - b.starts_at).total_seconds() for b in qs.only("starts_at", "ends_at")) / 3600

    quota = instrument.weekly_quota_hours_per_user
    if quota and hours(week.filter(user=user)) + wanted > quota:
        raise refuse({"end": _("The weekly quota of %(n)d hours per user would be exceeded.") % {"n": quota}},
                              code="quota")
    quota = instrument.weekly_quota_hours_per_organisation
    if quota and organisation is not None and hours(week.filter(organisation=organisation)) + wanted > quota:
        raise refuse({"end": _("The weekly quota of %(n)d hours per organisation would be exceeded.")
                                      % {"n": quota}}, code="quota")


def _check_training(instrument: Instrument, user: Any, day: dt.date) -> None:
    if instrument.training_required and not TrainingRecord.objects.filter(
            instrument=instrument, user=user, valid_until__gte=day).exists():
        raise refuse({"instrument": _("This instrument needs training first; ask its manager.")},
                              code="training_required")


def _insert(booking: Booking) -> Booking:
    """Insert in a savepoint: on PostgreSQL a concurrent overlapping insert fails on the exclusion constraint."""
    try:
        with transaction.atomic():
            booking.save(force_insert=True)
    except IntegrityError as exc:
        if "booking_no_overlap" not in str(exc):
            raise
        conflict = _overlapping(booking.instrument, booking.starts_at, booking.ends_at).first()
        raise BookingConflict(conflict, booking.starts_at, booking.ends_at) from exc
    return booking


def _prepare(*, actor: User | None, instrument: Instrument, organisation: Organisation | None, starts_at: dt.datetime,
             ends_at: dt.datetime, purpose: str, series: str, now: dt.datetime | None) -> Booking:
    check_slot(instrument, starts_at, ends_at, now=now)
    _check_training(instrument, actor, _local(starts_at).date())
    _check_quota(instrument, actor, organisation, starts_at, ends_at)
    needs_approval = instrument.approval_required and not permissions.manages(actor, instrument)
    booking = Booking(instrument=instrument, user=actor, organisation=organisation, starts_at=starts_at,
                      ends_at=ends_at, purpose=purpose, series=series,
                      state=BookingState.REQUESTED if needs_approval else BookingState.CONFIRMED,
                      user_class=user_class_for(instrument, organisation))
    booking.full_clean(exclude=["instrument", "user", "organisation"], validate_constraints=False)
    return booking


def _acting_for(actor: User | None, organisation: Organisation | None) -> Organisation | None:
    from sciencecity.core import permissions as core_permissions

    ids = core_permissions.organisation_ids(actor)
    if organisation is not None and organisation.pk not in ids:
        raise PermissionDenied(_("You do not act for this organisation."))
    if organisation is None and ids:
        organisation = Organisation.objects.get(pk=min(ids))
    return organisation


@transaction.atomic
def booking_create(*, actor: User | None, instrument: Instrument, starts_at: dt.datetime, ends_at: dt.datetime,
                   organisation: Organisation | None = None, purpose: str = "", waitlist: bool = False,
                   now: dt.datetime | None = None) -> Booking:
    """Book a slot: 201 with a confirmed (or, where approval is required, requested) booking; a taken slot
    raises :class:`BookingConflict`, or with ``waitlist`` gives a waitlisted booking promoted when the slot frees."""
    if not permissions.can_book(actor, instrument):
        raise PermissionDenied(_("You may not book this instrument."))
    organisation = _acting_for(actor, organisation)
    starts_at, ends_at = _local(starts_at), _local(ends_at)
    bookings_release_no_shows(instrument=instrument, now=now)
    booking = _prepare(actor=actor, instrument=instrument, organisation=organisation, starts_at=starts_at,
                       ends_at=ends_at, purpose=purpose, series="", now=now)
    conflict = _overlapping(instrument, starts_at, ends_at).first()
    if conflict is not None:
        if not waitlist:
            raise BookingConflict(conflict, starts_at, ends_at)
        booking.state = BookingState.WAITLISTED
        booking.save(force_insert=True)
    else:
        _insert(booking)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=booking, acting_organisation=organisation,
                 changes={k: [None, v] for k, v in snapshot(booking, BOOKING_FIELDS).items()})
    return booking


@transaction.atomic
def booking_create_series(*, actor: User | None, instrument: Instrument, starts_at: dt.datetime, ends_at: dt.datetime,
                          occurrences: int, every_days: int = 7, organisation: Organisation | None = None,
                          purpose: str = "", now: dt.datetime | None = None) -> list[Booking]:
    """A recurring booking (every ``every_days`` days, ``occurrences`` times): all or nothing — one taken or
    unbookable occurrence refuses the whole series, naming it."""
    if not 1 <= occurrences <= MAX_OCCURRENCES:
        raise refuse({"occurrences": _("Between 1 and %(n)d occurrences.") % {"n": MAX_OCCURRENCES}},
                              code="occurrences")
    if not 1 <= every_days <= 31:
        raise refuse({"every_days": _("Repeat every 1 to 31 days.")}, code="every_days")
    if not permissions.can_book(actor, instrument):
        raise PermissionDenied(_("You may not book this instrument."))
    organisation = _acting_for(actor, organisation)
    series = uuid.uuid4().hex
    made: list[Booking] = []
    start, end = _local(starts_at), _local(ends_at)
    for n in range(occurrences):
        step = dt.timedelta(days=every_days * n)
        s, e = start + step, end + step
        try:
            booking = _prepare(actor=actor, instrument=instrument, organisation=organisation, starts_at=s, ends_at=e,
                               purpose=purpose, series=series, now=now)
        except ValidationError as exc:
            raise refuse({"occurrences": _("Occurrence %(n)d (%(day)s): %(problem)s") % {
                "n": n + 1, "day": s.strftime("%Y-%m-%d"), "problem": " ".join(exc.messages)}},
                code="occurrence") from exc
        conflict = _overlapping(instrument, s, e).first()
        if conflict is not None:
            raise BookingConflict(conflict, s, e)
        made.append(_insert(booking))
    audit_record(action=AuditAction.CREATE, actor=actor, obj=made[0], acting_organisation=organisation,
                 changes={"series": [None, series], "occurrences": [None, occurrences], "every_days": [None, every_days],
                          "booking_ids": [None, [b.pk for b in made]]})
    return made


def _locked(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("instrument").get(pk=booking.pk)


def _transition(actor: User | None, booking: Booking, new: str, *, reason: str = "", **fields: Any) -> Booking:
    old = snapshot(booking, ["state", *fields])
    booking.state = new
    for key, value in fields.items():
        setattr(booking, key, value)
    booking.save(update_fields=["state", "updated_at", *fields])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=booking, reason=reason,
                 changes={k: [old.get(k), v] for k, v in snapshot(booking, ["state", *fields]).items()})
    return booking


def _promote_waitlist(instrument: Instrument, starts_at: dt.datetime, ends_at: dt.datetime, *, actor: User | None) -> None:
    """The freed slot goes to the earliest waitlisted booking that now fits (first come, first served)."""
    for waiting in Booking.objects.filter(instrument=instrument, state=BookingState.WAITLISTED,
                                          starts_at__lt=ends_at, ends_at__gt=starts_at,
                                          starts_at__gte=timezone.now()).order_by("created_at"):
        if not _overlapping(instrument, waiting.starts_at, waiting.ends_at).exists():
            new = BookingState.REQUESTED if instrument.approval_required else BookingState.CONFIRMED
            with transaction.atomic():
                _transition(actor, waiting, new, reason="waitlist promoted")


@transaction.atomic
def booking_cancel(*, actor: User | None, booking: Booking, reason: str = "", now: dt.datetime | None = None) -> Booking:
    """Cancel before the start; after the free-cancellation deadline the booking is marked a late cancellation."""
    booking = _locked(booking)
    if not permissions.can_act_on_booking(actor, booking):
        raise PermissionDenied(_("You may not change this booking."))
    now = now or timezone.now()
    if booking.state not in (BookingState.REQUESTED, BookingState.CONFIRMED, BookingState.WAITLISTED):
        raise refuse({"state": _("Only a booking not yet started can be cancelled.")}, code="state")
    if booking.starts_at <= now:
        raise refuse({"start": _("The booking has started; check out instead.")}, code="started")
    late = booking.starts_at - now < dt.timedelta(hours=booking.instrument.cancel_notice_hours)
    holding = booking.state != BookingState.WAITLISTED
    _transition(actor, booking, BookingState.CANCELLED, reason=reason, cancelled_at=now, late_cancellation=late)
    if holding:
        _promote_waitlist(booking.instrument, booking.starts_at, booking.ends_at, actor=actor)
    return booking


@transaction.atomic
def booking_decide(*, actor: User | None, booking: Booking, approve: bool, reason: str = "") -> Booking:
    """The manager approves or rejects a requested booking; a rejection frees the slot for the waitlist."""
    booking = _locked(booking)
    if not permissions.manages(actor, booking.instrument):
        raise PermissionDenied(_("Only the instrument's managers decide on bookings."))
    if booking.state != BookingState.REQUESTED:
        raise refuse({"state": _("Only a requested booking can be approved or rejected.")}, code="state")
    if approve:
        return _transition(actor, booking, BookingState.CONFIRMED, reason=reason)
    _transition(actor, booking, BookingState.REJECTED, reason=reason)
    _promote_waitlist(booking.instrument, booking.starts_at, booking.ends_at, actor=actor)
    return booking


@transaction.atomic
def booking_check_in(*, actor: User | None, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """Check in from 15 minutes before the start until the no-show grace period has passed."""
    booking = _locked(booking)
    if not permissions.can_act_on_booking(actor, booking):
        raise PermissionDenied(_("You may not change this booking."))
    now = now or timezone.now()
    if booking.state != BookingState.CONFIRMED:
        raise refuse({"state": _("Only a confirmed booking can be checked in.")}, code="state")
    grace = dt.timedelta(minutes=booking.instrument.no_show_grace_minutes)
    if now < booking.starts_at - CHECK_IN_EARLY:
        raise refuse({"start": _("Check-in opens 15 minutes before the start.")}, code="too_early")
    if now > booking.starts_at + grace:
        raise refuse({"start": _("Too late: the slot has been released as a no-show.")}, code="too_late")
    return _transition(actor, booking, BookingState.CHECKED_IN, checked_in_at=max(now, booking.starts_at))


@transaction.atomic
def booking_check_out(*, actor: User | None, booking: Booking, now: dt.datetime | None = None):
    """Check out: the booking is completed and its usage record (fee at the user class's price) is written."""
    from sciencecity.facilities.services.usage import usage_record_create

    booking = _locked(booking)
    if not permissions.can_act_on_booking(actor, booking):
        raise PermissionDenied(_("You may not change this booking."))
    now = now or timezone.now()
    if booking.state != BookingState.CHECKED_IN:
        raise refuse({"state": _("Only a checked-in booking can be checked out.")}, code="state")
    ended = max(now, booking.checked_in_at + dt.timedelta(minutes=1))
    _transition(actor, booking, BookingState.COMPLETED, checked_out_at=ended)
    return usage_record_create(actor=actor, booking=booking)


def bookings_release_no_shows(*, instrument: Instrument | None = None, now: dt.datetime | None = None,
                              actor: User | None = None) -> int:
    """Release confirmed bookings not checked in within the grace period (state no-show); their slots go to
    the waitlist. Runs before each booking of the instrument and from ``sciencecity facilities-release``."""
    now = now or timezone.now()
    qs = Booking.objects.filter(state=BookingState.CONFIRMED, starts_at__lt=now).select_related("instrument")
    if instrument is not None:
        qs = qs.filter(instrument=instrument)
    released = 0
    for booking in qs:
        if booking.starts_at + dt.timedelta(minutes=booking.instrument.no_show_grace_minutes) >= now:
            continue
        with transaction.atomic():
            _transition(actor, booking, BookingState.NO_SHOW, reason="not checked in within the grace period")
            _promote_waitlist(booking.instrument, booking.starts_at, booking.ends_at, actor=actor)
        released += 1
    return released


@transaction.atomic
def training_grant(*, actor: User | None, instrument: Instrument, user: Any, valid_until: dt.date) -> TrainingRecord:
    if not permissions.manages(actor, instrument):
        raise PermissionDenied(_("Only the instrument's managers record training."))
    record, created = TrainingRecord.objects.update_or_create(instrument=instrument, user=user,
                                                              defaults={"valid_until": valid_until})
    audit_record(action=AuditAction.CREATE if created else AuditAction.UPDATE, actor=actor, obj=record,
                 changes={"valid_until": [None, valid_until]})
    return record


def hours_between(starts_at: dt.datetime, ends_at: dt.datetime) -> Decimal:
    return Decimal((ends_at - starts_at).total_seconds()) / Decimal(3600)


def calendar_slots(instrument: Instrument, day_from: dt.date, days: int) -> list[Booking]:
    """Slot-holding bookings of the instrument on ``days`` days from ``day_from`` (local dates)."""
    start = timezone.make_aware(dt.datetime.combine(day_from, dt.time.min))
    end = start + dt.timedelta(days=days)
    return list(Booking.objects.filter(Q(state__in=SLOT_HOLDING_STATES) | Q(state=BookingState.WAITLISTED),
                                       instrument=instrument, starts_at__lt=end, ends_at__gt=start)
                .select_related("organisation").order_by("starts_at"))
