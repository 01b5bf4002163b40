"""Facilities API: the instrument catalogue, bookings (create, series, cancel, decide, check-in/out),
usage, innovation vouchers and monthly statements. A taken slot is ``409 booking_conflict`` naming the
slot; a slot that cannot be booked is ``400`` with the service's error code and the field it concerns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from sciencecity.core import permissions as core_permissions
from sciencecity.core.api import PUBLIC_AUTH, ErrorResponse, InputSchema, Line, error
from sciencecity.facilities import permissions, selectors
from sciencecity.facilities.models import Booking, Instrument, UsageRecord, Voucher, VoucherScheme
from sciencecity.facilities.services import bookings, vouchers
from sciencecity.registry.models import Organisation

bookings_router = Router(tags=["facilities"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse,
          422: ErrorResponse}


def invalid(exc: ValidationError):
    """400 with the service's code and the fields it names."""
    code = getattr(exc, "code", None)
    if hasattr(exc, "error_dict"):
        details = [{"field": f, "message": " ".join(m for e in errs for m in e.messages)}
                   for f, errs in exc.error_dict.items()]
        code = code or next((e.code for errs in exc.error_dict.values() for e in errs if e.code), None)
    else:
        details = [{"field": "", "message": m} for m in exc.messages]
    message = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
    return Status(*error(400, code or "invalid", message, details))


def conflict(exc: bookings.BookingConflict):
    return Status(*error(409, "booking_conflict", exc.message(), {"conflict": exc.slot()}))


class PriceOut(Schema):
    user_class: str
    hourly_rate: Decimal


class InstrumentOut(Schema):
    code: str
    name: str
    name_en: str
    kind: str
    host_id: int
    host_name: str
    model: str
    capabilities: str
    location: str
    opens_at: dt.time
    closes_at: dt.time
    open_weekdays: str
    always_open: bool
    training_required: bool
    qualification: str
    approval_required: bool
    status: str
    cma_number: str
    cnas_number: str
    accredited_scope: str
    prices: list[PriceOut]
    photo_url: str | None
    shared_terms: list[str] = Field(default_factory=list, description="with q: the query terms the instrument shares "
                                                                      "(the matching engine's explanation)")

    @staticmethod
    def resolve_host_name(obj) -> str:
        return obj.host.name

    @staticmethod
    def resolve_photo_url(obj) -> str | None:
        return f"/facilities/instruments/{obj.code}/photo/" if obj.photo else None

    @staticmethod
    def resolve_shared_terms(obj) -> list[str]:
        match = getattr(obj, "match", None)
        return list(match.shared_terms) if match else []

    @staticmethod
    def resolve_prices(obj) -> list[dict[str, Any]]:
        return [{"user_class": p.user_class, "hourly_rate": p.hourly_rate} for p in obj.prices.all()]


class BookingIn(InputSchema):
    start: dt.datetime
    end: dt.datetime
    purpose: Line = ""
    waitlist: bool = False
    organisation_id: int | None = None


class SeriesIn(BookingIn):
    occurrences: int
    every_days: int = 7


class BookingOut(Schema):
    id: int
    instrument: str
    start: dt.datetime
    end: dt.datetime
    state: str
    user_class: str
    organisation_id: int | None
    purpose: str
    series: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    late_cancellation: bool

    @staticmethod
    def resolve_instrument(obj) -> str:
        return obj.instrument.code

    @staticmethod
    def resolve_start(obj) -> dt.datetime:
        return obj.starts_at

    @staticmethod
    def resolve_end(obj) -> dt.datetime:
        return obj.ends_at


class UsageOut(Schema):
    id: int
    booking_id: int
    instrument: str
    user_class: str
    minutes: int
    hourly_rate: Decimal
    fee: Decimal
    voucher_paid: Decimal
    payable: Decimal

    @staticmethod
    def resolve_instrument(obj) -> str:
        return obj.instrument.code


class ReasonIn(InputSchema):
    reason: Line = ""


def _instrument(code: str) -> Instrument:
    return get_object_or_404(Instrument.objects.select_related("host"), code=code)


def _organisation(request, organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    return get_object_or_404(Organisation, pk=organisation_id)


def _booking(request, booking_id: int) -> Booking:
    booking = get_object_or_404(Booking.objects.select_related("instrument"), pk=booking_id)
    core_permissions.require(permissions.can_act_on_booking(request.auth, booking))
    return booking


@bookings_router.get("/instruments", response=list[InstrumentOut], auth=PUBLIC_AUTH, summary="The catalogue")
def instrument_list(request, q: str = "", kind: str = "", host: int | None = None, accredited: str = ""):
    """The catalogue; ``kind=testing_service`` lists 检验检测 services, ``accredited=cma|cnas`` the accredited ones."""
    return selectors.instrument_search(q=q[:200], kind=kind, host_id=host, accredited=accredited)


@bookings_router.get("/instruments/{code}", response={200: InstrumentOut, 404: ErrorResponse}, auth=PUBLIC_AUTH,
                     summary="One instrument with its price list")
def instrument_detail(request, code: str):
    return _instrument(code)


@bookings_router.post("/instruments/{code}/bookings", response={201: BookingOut, **ERRORS},
                      summary="Book a slot (409 booking_conflict when it is taken)")
def booking_create(request, code: str, payload: BookingIn):
    instrument = _instrument(code)
    try:
        booking = bookings.booking_create(actor=request.auth, instrument=instrument, starts_at=payload.start,
                                          ends_at=payload.end, purpose=payload.purpose, waitlist=payload.waitlist,
                                          organisation=_organisation(request, payload.organisation_id))
    except bookings.BookingConflict as exc:
        return conflict(exc)
    except ValidationError as exc:
        return invalid(exc)
    return Status(201, booking)


@bookings_router.post("/instruments/{code}/bookings/series", response={201: list[BookingOut], **ERRORS},
                      summary="Book a recurring slot (all occurrences or none)")
def booking_series(request, code: str, payload: SeriesIn):
    instrument = _instrument(code)
    try:
        made = bookings.booking_create_series(
            actor=request.auth, instrument=instrument, starts_at=payload.start, ends_at=payload.end,
            occurrences=payload.occurrences, every_days=payload.every_days, purpose=payload.purpose,
            organisation=_organisation(request, payload.organisation_id))
    except bookings.BookingConflict as exc:
        return conflict(exc)
    except ValidationError as exc:
        return invalid(exc)
    return Status(201, made)


@bookings_router.get("/instruments/{code}/bookings", response=list[BookingOut], summary="Bookings of an instrument")
def instrument_bookings(request, code: str, day: dt.date | None = None, days: int = 7):
    instrument = _instrument(code)
    core_permissions.require(permissions.manages(request.auth, instrument))
    from django.utils import timezone

    return bookings.calendar_slots(instrument, day or timezone.localdate(), max(1, min(days, 62)))


@bookings_router.get("/bookings", response=list[BookingOut], summary="The caller's bookings and its organisations'")
def my_bookings(request):
    return selectors.bookings_of(request.auth)


def _action(request, booking_id: int, call):
    booking = _booking(request, booking_id)
    try:
        result = call(booking)
    except ValidationError as exc:
        return invalid(exc)
    return result


@bookings_router.post("/bookings/{booking_id}/cancel", response={200: BookingOut, **ERRORS}, summary="Cancel")
def booking_cancel(request, booking_id: int, payload: ReasonIn):
    return _action(request, booking_id, lambda b: bookings.booking_cancel(actor=request.auth, booking=b,
                                                                          reason=payload.reason))


@bookings_router.post("/bookings/{booking_id}/approve", response={200: BookingOut, **ERRORS}, summary="Approve")
def booking_approve(request, booking_id: int, payload: ReasonIn):
    return _action(request, booking_id, lambda b: bookings.booking_decide(actor=request.auth, booking=b, approve=True,
                                                                          reason=payload.reason))


@bookings_router.post("/bookings/{booking_id}/reject", response={200: BookingOut, **ERRORS}, summary="Reject")
def booking_reject(request, booking_id: int, payload: ReasonIn):
    return _action(request, booking_id, lambda b: bookings.booking_decide(actor=request.auth, booking=b,
                                                                          approve=False, reason=payload.reason))


@bookings_router.post("/bookings/{booking_id}/check-in", response={200: BookingOut, **ERRORS}, summary="Check in")
def booking_check_in(request, booking_id: int):
    return _action(request, booking_id, lambda b: bookings.booking_check_in(actor=request.auth, booking=b))


@bookings_router.post("/bookings/{booking_id}/check-out", response={200: UsageOut, **ERRORS},
                      summary="Check out: the usage record with its fee")
def booking_check_out(request, booking_id: int):
    return _action(request, booking_id, lambda b: bookings.booking_check_out(actor=request.auth, booking=b))


class RedeemIn(InputSchema):
    voucher: Line
    amount: Decimal | None = None


class RedemptionOut(Schema):
    voucher: str
    usage_id: int
    amount: Decimal
    balance: Decimal


@bookings_router.post("/usage/{usage_id}/voucher", response={201: RedemptionOut, **ERRORS},
                      summary="Pay part of a fee with an innovation voucher (409 voucher_spent)")
def usage_redeem(request, usage_id: int, payload: RedeemIn):
    usage = get_object_or_404(UsageRecord, pk=usage_id)
    voucher = get_object_or_404(Voucher, code=payload.voucher)
    try:
        redemption = vouchers.voucher_redeem(actor=request.auth, voucher=voucher, usage=usage, amount=payload.amount)
    except vouchers.VoucherSpent as exc:
        return Status(*error(409, "voucher_spent", str(exc)))
    except ValidationError as exc:
        return invalid(exc)
    voucher.refresh_from_db()
    return Status(201, {"voucher": voucher.code, "usage_id": usage.pk, "amount": redemption.amount,
                        "balance": voucher.balance})


class SchemeOut(Schema):
    code: str
    name: str
    budget: Decimal
    cap_per_enterprise: Decimal
    max_share: Decimal
    eligibility: str
    valid_until: dt.date
    status: str


class VoucherApplyIn(InputSchema):
    organisation_id: int
    requested: Decimal
    facts: dict[str, Any] = {}


class VoucherOut(Schema):
    code: str
    scheme: str
    organisation_id: int
    requested: Decimal
    granted: Decimal
    balance: Decimal
    state: str

    @staticmethod
    def resolve_scheme(obj) -> str:
        return obj.scheme.code


class DecideIn(InputSchema):
    approve: bool
    granted: Decimal | None = None
    reason: Line = ""


@bookings_router.get("/voucher-schemes", response=list[SchemeOut], auth=PUBLIC_AUTH, summary="Voucher schemes")
def scheme_list(request):
    return VoucherScheme.objects.all()


@bookings_router.post("/voucher-schemes/{code}/apply", response={201: VoucherOut, **ERRORS},
                      summary="Apply for an innovation voucher")
def voucher_apply(request, code: str, payload: VoucherApplyIn):
    scheme = get_object_or_404(VoucherScheme, code=code)
    organisation = get_object_or_404(Organisation, pk=payload.organisation_id)
    try:
        voucher = vouchers.voucher_apply(actor=request.auth, scheme=scheme, organisation=organisation,
                                         requested=payload.requested, facts=payload.facts)
    except ValidationError as exc:
        return invalid(exc)
    return Status(201, voucher)


@bookings_router.get("/vouchers", response=list[VoucherOut], summary="Vouchers the caller may see")
def voucher_list(request):
    return selectors.vouchers_of(request.auth)


@bookings_router.post("/vouchers/{code}/decide", response={200: VoucherOut, **ERRORS},
                      summary="Approve or reject an application (bureau)")
def voucher_decide(request, code: str, payload: DecideIn):
    voucher = get_object_or_404(Voucher, code=code)
    try:
        return vouchers.voucher_decide(actor=request.auth, voucher=voucher, approve=payload.approve,
                                       granted=payload.granted, reason=payload.reason)
    except ValidationError as exc:
        return invalid(exc)


class StatementOut(Schema):
    organisation_id: int
    month: str
    rows: list[UsageOut]
    total_fee: Decimal
    total_voucher: Decimal
    total_payable: Decimal


@bookings_router.get("/statements/{organisation_id}/{month}", response={200: StatementOut, **ERRORS},
                     summary="Monthly statement of an organisation (month as YYYY-MM)")
def statement(request, organisation_id: int, month: str):
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    core_permissions.require(permissions.can_see_statement(request.auth, organisation.pk))
    try:
        year, number = selectors.parse_month(month)
    except ValueError:
        return Status(*error(400, "invalid", _("month: use YYYY-MM."), [{"field": "month", "message": "YYYY-MM"}]))
    data = selectors.statement(organisation, year, number)
    return {"organisation_id": organisation.pk, "month": month, "rows": data.rows, "total_fee": data.total_fee,
            "total_voucher": data.total_voucher, "total_payable": data.total_payable}
