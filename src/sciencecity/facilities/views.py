"""Facilities pages: catalogue, instrument with its day/week calendar and booking form, iCal feed, my bookings
with check-in/out and voucher payment, monthly statements (HTML, PDF, Excel), vouchers, openness.
Thin: permission, form, service or selector, render."""

from __future__ import annotations

import datetime as dt
import mimetypes

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions as core_permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.facilities import forms, permissions, selectors
from sciencecity.facilities.choices import InstrumentKind
from sciencecity.facilities.exports import ical_feed, statement_pdf, statement_xlsx
from sciencecity.facilities.models import Booking, Instrument, UsageRecord, Voucher, VoucherScheme
from sciencecity.facilities.services import bookings, catalogue, vouchers
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.models import Organisation

User = get_user_model()


def instrument_list(request):
    q, kind = request.GET.get("q", "")[:100], request.GET.get("kind", "")
    accredited = request.GET.get("accredited", "")
    instruments = selectors.instrument_search(q=q, kind=kind if kind in InstrumentKind.values else "",
                                              accredited=accredited)
    return render(request, "facilities/instrument_list.html", {
        "instruments": instruments, "q": q, "kind": kind, "kinds": InstrumentKind.choices, "accredited": accredited,
        "may_add": core_permissions.has_perm(request.user, "facilities.add_instruments")})


def _calendar(instrument: Instrument, day: dt.date, view: str) -> list[dict]:
    days = 7 if view == "week" else 1
    first = day - dt.timedelta(days=day.weekday()) if view == "week" else day
    slots = bookings.calendar_slots(instrument, first, days)
    result = []
    for n in range(days):
        d = first + dt.timedelta(days=n)
        result.append({"day": d, "open": instrument.always_open or str(d.isoweekday()) in instrument.open_weekdays,
                       "bookings": [b for b in slots if timezone.localtime(b.starts_at).date() == d]})
    return result


def instrument_detail(request, code: str):
    instrument = get_object_or_404(Instrument.objects.select_related("host", "manager"), code=code)
    view = request.GET.get("view", "week")
    view = view if view in ("day", "week") else "week"
    try:
        day = dt.date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    form = forms.BookingForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect("accounts:login")
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["occurrences"] > 1:
                    made = bookings.booking_create_series(
                        actor=request.user, instrument=instrument, starts_at=data["start"], ends_at=data["end"],
                        occurrences=data["occurrences"], purpose=data["purpose"],
                        organisation=acting_organisation(request))
                    messages.success(request, _("%(n)d bookings made.") % {"n": len(made)})
                else:
                    booking = bookings.booking_create(
                        actor=request.user, instrument=instrument, starts_at=data["start"], ends_at=data["end"],
                        purpose=data["purpose"], waitlist=data["waitlist"], organisation=acting_organisation(request))
                    messages.success(request, _("Booking %(state)s.") % {"state": booking.get_state_display()})
                return redirect("facilities:my_bookings")
            except bookings.BookingConflict as exc:
                form.add_error("start", exc.message())
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("You may not book this instrument."))
    manages = permissions.manages(request.user, instrument)
    pending = (Booking.objects.filter(instrument=instrument, state="requested").select_related("organisation", "user")
               if manages else [])
    return render(request, "facilities/instrument_detail.html", {
        "instrument": instrument, "form": form, "view": view, "day": day, "calendar": _calendar(instrument, day, view),
        "previous": day - dt.timedelta(days=7 if view == "week" else 1),
        "next": day + dt.timedelta(days=7 if view == "week" else 1),
        "prices": instrument.prices.all(), "can_book": permissions.can_book(request.user, instrument),
        "manages": manages, "pending": pending,
        "blackouts": instrument.blackouts.filter(ends_at__gte=timezone.now())[:10]})


def instrument_photo(request, code: str):
    """The instrument's photo (public, like the catalogue)."""
    instrument = get_object_or_404(Instrument, code=code)
    if not instrument.photo:
        raise Http404
    try:
        handle = instrument.photo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, content_type=mimetypes.guess_type(instrument.photo.name)[0] or "image/jpeg")


def instrument_ical(request, code: str):
    """iCal feed of the instrument's booked slots (no names: busy times only)."""
    instrument = get_object_or_404(Instrument, code=code)
    since = timezone.localdate() - dt.timedelta(days=30)
    slots = bookings.calendar_slots(instrument, since, 120)
    return HttpResponse(ical_feed(instrument, [b for b in slots if b.state != "waitlisted"]),
                        content_type="text/calendar; charset=utf-8")


@login_required
def my_bookings(request):
    core_permissions.require(permissions.can_use(request.user))
    rows = list(selectors.bookings_of(request.user)[:200])
    orgs = core_permissions.organisation_ids(request.user)
    usable = Voucher.objects.filter(organisation_id__in=orgs, state="approved", balance__gt=0)
    return render(request, "facilities/my_bookings.html", {
        "bookings": rows, "vouchers": usable, "now": timezone.now(), "month": timezone.localdate().strftime("%Y-%m"),
        "organisation": acting_organisation(request)})


ACTIONS = {
    "cancel": lambda user, b: bookings.booking_cancel(actor=user, booking=b),
    "check-in": lambda user, b: bookings.booking_check_in(actor=user, booking=b),
    "check-out": lambda user, b: bookings.booking_check_out(actor=user, booking=b),
    "approve": lambda user, b: bookings.booking_decide(actor=user, booking=b, approve=True),
    "reject": lambda user, b: bookings.booking_decide(actor=user, booking=b, approve=False),
}


@login_required
@require_POST
def booking_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    booking = get_object_or_404(Booking.objects.select_related("instrument"), pk=pk)
    core_permissions.require(permissions.can_act_on_booking(request.user, booking))
    try:
        ACTIONS[action](request.user, booking)
        messages.success(request, _("Done."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/facilities/") else "facilities:my_bookings")


@login_required
@require_POST
def usage_pay(request, pk: int):
    usage = get_object_or_404(UsageRecord, pk=pk)
    form = forms.RedeemForm(request.POST)
    if form.is_valid():
        voucher = Voucher.objects.filter(code=form.cleaned_data["voucher"]).first()
        if voucher is None:
            messages.error(request, _("Unknown voucher."))
        else:
            try:
                r = vouchers.voucher_redeem(actor=request.user, voucher=voucher, usage=usage,
                                            amount=form.cleaned_data["amount"])
                messages.success(request, _("%(amount)s CNY paid by voucher %(code)s.") % {"amount": r.amount,
                                                                                           "code": voucher.code})
            except (ValidationError, vouchers.VoucherSpent) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.error(request, _("Enter a voucher code and an amount."))
    return redirect("facilities:my_bookings")


@login_required
def statement(request, organisation_id: int, month: str):
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    core_permissions.require(permissions.can_see_statement(request.user, organisation.pk))
    try:
        year, number = selectors.parse_month(month)
    except ValueError:
        raise Http404 from None
    data = selectors.statement(organisation, year, number)
    fmt = request.GET.get("format", "")
    if fmt in ("pdf", "xlsx"):
        from sciencecity.core.audit import audit_record
        from sciencecity.core.models import AuditAction

        audit_record(action=AuditAction.EXPORT, actor=request.user, obj=organisation,
                     changes={"statement": [None, month], "format": [None, fmt]})
        name = f"statement-{organisation.code}-{month}.{fmt}"
        if fmt == "pdf":
            response = HttpResponse(statement_pdf(data), content_type="application/pdf")
        else:
            response = HttpResponse(statement_xlsx(data).read(), content_type=(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "facilities/statement.html", {"statement": data, "organisation": organisation,
                                                         "month": month})


@login_required
def voucher_index(request):
    core_permissions.require(permissions.can_use(request.user))
    organisation = acting_organisation(request)
    form = forms.VoucherApplyForm(request.POST or None)
    schemes = VoucherScheme.objects.all()
    if request.method == "POST" and "scheme" in request.POST:
        scheme = get_object_or_404(VoucherScheme, code=request.POST["scheme"])
        if form.is_valid() and organisation is not None:
            try:
                voucher = vouchers.voucher_apply(actor=request.user, scheme=scheme, organisation=organisation,
                                                 requested=form.cleaned_data["requested"], facts=form.facts())
                messages.success(request, _("Application %(code)s submitted.") % {"code": voucher.code})
                return redirect("facilities:vouchers")
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
    rows = selectors.vouchers_of(request.user)
    burn = [{"scheme": s, "committed": vouchers.budget_committed(s), **selectors.scheme_burn(s)} for s in schemes]
    return render(request, "facilities/vouchers.html", {
        "schemes": schemes, "form": form, "vouchers": rows, "burn": burn, "organisation": organisation,
        "bureau": permissions.can_manage_vouchers(request.user),
        "unsettled": selectors.unsettled_redemptions() if permissions.can_manage_vouchers(request.user) else []})


@login_required
@require_POST
def voucher_decide(request, code: str):
    voucher = get_object_or_404(Voucher, code=code)
    try:
        vouchers.voucher_decide(actor=request.user, voucher=voucher, approve=request.POST.get("approve") == "1",
                                granted=request.POST.get("granted") or None)
        messages.success(request, _("Decision recorded."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("facilities:vouchers")


@login_required
@require_POST
def voucher_settle(request):
    count = vouchers.redemptions_settle(actor=request.user, redemptions=list(selectors.unsettled_redemptions()))
    messages.success(request, _("%(n)d redemptions settled to the providers.") % {"n": count})
    return redirect("facilities:vouchers")


@login_required
def openness(request):
    core_permissions.require(permissions.can_view_openness(request.user))
    today = timezone.localdate()
    try:
        days = max(7, min(int(request.GET.get("days", 90)), 366))
    except ValueError:
        days = 90
    data = selectors.openness(since=today - dt.timedelta(days=days), until=today + dt.timedelta(days=1))
    hosts = data["hosts"]
    chart = {"labels": [h.name for h in hosts], "utilisation": [h.utilisation for h in hosts],
             "external_share": [h.external_share for h in hosts], "sme_hours": [round(h.sme_hours, 1) for h in hosts],
             "names": {"utilisation": _("Utilisation") + " %", "external_share": _("External-user share") + " %",
                       "sme_hours": _("SME hours")}}
    return render(request, "facilities/openness.html", {"data": data, "days": days, "today": today, "chart": chart})


# --------------------------------------------------------------------------------------------
# Catalogue management: facility managers edit their instruments; the bureau its voucher schemes.


def _host_choices(user):
    if core_permissions.is_bureau_officer(user):
        return Organisation.objects.exclude(kind="enterprise").order_by("name")
    return Organisation.objects.filter(memberships__user=user, memberships__role=Role.FACILITY_MANAGER).distinct()


@login_required
def instrument_new(request):
    core_permissions.require(request.user, "facilities.add_instruments")
    form = forms.InstrumentForm(request.POST or None, create=True, hosts=_host_choices(request.user),
                                initial={"opens_at": "08:00", "closes_at": "20:00", "open_weekdays": "12345",
                                         "kind": InstrumentKind.INSTRUMENT, "status": "active",
                                         "min_booking_minutes": 30, "max_booking_minutes": 480,
                                         "cancel_notice_hours": 24, "no_show_grace_minutes": 15,
                                         "weekly_quota_hours_per_user": 0, "weekly_quota_hours_per_organisation": 0})
    if request.method == "POST" and form.is_valid():
        try:
            instrument = catalogue.instrument_create(actor=request.user, host=form.cleaned_data["host"],
                                                     code=form.cleaned_data["code"], data=form.data_for_service())
            messages.success(request, _("Instrument %(code)s added; now set its price list.") % {
                "code": instrument.code})
            return redirect("facilities:instrument_edit", instrument.code)
        except ValidationError as exc:
            apply_validation_error(form, exc)
    return render(request, "facilities/form_page.html", {
        "title": _("Add an instrument"), "form": form, "testid": "instrument-form",
        "back": reverse("facilities:index")})


@login_required
def instrument_edit(request, code: str):
    instrument = get_object_or_404(Instrument.objects.select_related("host"), code=code)
    core_permissions.require(request.user, "facilities.manage_instrument", instrument)
    which = request.POST.get("form", "") if request.method == "POST" else ""
    details = forms.InstrumentForm(request.POST if which == "details" else None, initial=model_to_dict(instrument))
    prices = forms.PriceListForm(request.POST if which == "prices" else None, initial={
        f"price_{p.user_class}": p.hourly_rate for p in instrument.prices.all()})
    training = forms.TrainingForm(request.POST if which == "training" else None)
    photo = forms.PhotoForm(request.POST if which == "photo" else None, request.FILES if which == "photo" else None)
    form = {"details": details, "prices": prices, "training": training, "photo": photo}.get(which)
    if form is not None and form.is_valid():
        try:
            if which == "details":
                catalogue.instrument_update(actor=request.user, instrument=instrument, data=form.data_for_service())
            elif which == "prices":
                catalogue.price_list_set(actor=request.user, instrument=instrument, rates=form.rates())
            elif which == "photo":
                catalogue.instrument_photo_set(actor=request.user, instrument=instrument,
                                               upload=form.cleaned_data["photo"])
            else:
                trainee = User.objects.filter(username=form.cleaned_data["username"]).first()
                if trainee is None:
                    raise ValidationError({"username": _("No user with this user name.")})
                bookings.training_grant(actor=request.user, instrument=instrument, user=trainee,
                                        valid_until=form.cleaned_data["valid_until"])
            messages.success(request, _("Saved."))
            return redirect("facilities:instrument_edit", instrument.code)
        except ValidationError as exc:
            apply_validation_error(form, exc)
    return render(request, "facilities/instrument_edit.html", {
        "instrument": instrument, "details": details, "prices": prices, "training": training, "photo": photo,
        "trained": instrument.trainings.select_related("user").order_by("-valid_until")[:50]})


@login_required
def scheme_edit(request, code: str = ""):
    core_permissions.require(request.user, "facilities.manage_vouchers")
    scheme = get_object_or_404(VoucherScheme, code=code) if code else None
    form = forms.SchemeForm(request.POST or None, create=scheme is None,
                            initial=model_to_dict(scheme) if scheme else {"max_share": "0.5", "status": "open"})
    if request.method == "POST" and form.is_valid():
        try:
            if scheme is None:
                vouchers.scheme_create(actor=request.user, data=form.cleaned_data)
            else:
                vouchers.scheme_update(actor=request.user, scheme=scheme, data=form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("facilities:vouchers")
        except ValidationError as exc:
            apply_validation_error(form, exc)
    return render(request, "facilities/form_page.html", {
        "title": _("Edit voucher scheme %(code)s") % {"code": code} if scheme else _("New voucher scheme"),
        "form": form, "testid": "scheme-form", "back": reverse("facilities:vouchers")})
