"""Usage and fees from check-in/out, innovation vouchers (eligibility, cap, budget, part payment, settlement),
monthly statements (HTML, PDF, Excel), the iCal feed and the pages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sciencecity.core.models import AuditEvent
from sciencecity.facilities.models import Voucher, VoucherScheme
from sciencecity.facilities.services import bookings, vouchers
from tests.facilities.conftest import at, next_weekday


@pytest.fixture
def scheme(bureau):
    return vouchers.scheme_create(actor=bureau, data={
        "code": "CXQ-2026", "name": "2026年光明区科技创新券", "budget": Decimal("10000"),
        "cap_per_enterprise": Decimal("2000"), "max_share": Decimal("0.5"),
        "eligibility": "employees < 300 and revenue < 20000 and registered_in_district",
        "valid_until": timezone.localdate() + dt.timedelta(days=365)})


FACTS = {"employees": 45, "revenue": 3200, "registered_in_district": True}


@pytest.fixture
def voucher(scheme, sme, sme_user, bureau):
    applied = vouchers.voucher_apply(actor=sme_user, scheme=scheme, organisation=sme, requested="1000", facts=FACTS)
    return vouchers.voucher_decide(actor=bureau, voucher=applied, approve=True)


def test_eligibility_cap_and_budget(scheme, sme, sme_user, bureau):
    with pytest.raises(ValidationError) as exc:
        vouchers.voucher_apply(actor=sme_user, scheme=scheme, organisation=sme, requested="500",
                               facts={**FACTS, "employees": 450})
    assert "employees < 300" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        vouchers.voucher_apply(actor=sme_user, scheme=scheme, organisation=sme, requested="2000.01", facts=FACTS)
    assert "requested" in exc.value.message_dict
    first = vouchers.voucher_apply(actor=sme_user, scheme=scheme, organisation=sme, requested="1500", facts=FACTS)
    with pytest.raises(ValidationError):  # 1500 + 600 > cap 2000
        vouchers.voucher_apply(actor=sme_user, scheme=scheme, organisation=sme, requested="600", facts=FACTS)
    VoucherScheme.objects.filter(pk=scheme.pk).update(budget=Decimal("1200"))
    with pytest.raises(ValidationError) as exc:
        vouchers.voucher_decide(actor=bureau, voucher=first, approve=True)
    assert "1200" in str(exc.value)
    approved = vouchers.voucher_decide(actor=bureau, voucher=first, approve=True, granted="1200")
    assert (approved.state, approved.granted, approved.balance) == ("approved", Decimal("1200.00"),
                                                                    Decimal("1200.00"))


def test_a_bad_eligibility_rule_is_refused_naming_the_clause(bureau):
    with pytest.raises(ValidationError) as exc:
        vouchers.scheme_create(actor=bureau, data={"code": "X", "name": "x", "budget": 1, "cap_per_enterprise": 1,
                                                   "eligibility": "staff >= 10",
                                                   "valid_until": dt.date(2030, 1, 1)})
    assert "eligibility" in exc.value.message_dict and "staff" in str(exc.value)


def test_check_in_out_fee_voucher_part_payment_statement(instrument, sme, sme_user, voucher, bureau, client):
    day = next_weekday(1)
    booking = bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "09:00"),
                                      ends_at=at(day, "11:00"), now=at(day, "08:00") - dt.timedelta(days=1))
    assert booking.user_class == "sme"  # an enterprise holding an approved voucher with a balance
    with pytest.raises(ValidationError):
        bookings.booking_check_in(actor=sme_user, booking=booking, now=at(day, "08:30"))  # > 15 min early
    bookings.booking_check_in(actor=sme_user, booking=booking, now=at(day, "09:05"))
    usage = bookings.booking_check_out(actor=sme_user, booking=booking, now=at(day, "10:06"))
    # 09:05 → 10:06 = 61 min, billed in started quarter hours: 75 min at the SME price 300/h = 375.00
    assert (usage.minutes, usage.hourly_rate, usage.fee) == (75, Decimal("300.00"), Decimal("375.00"))
    redemption = vouchers.voucher_redeem(actor=sme_user, voucher=voucher, usage=usage)
    assert redemption.amount == Decimal("187.50")  # at most half the fee (max_share 0.5)
    voucher.refresh_from_db()
    usage.refresh_from_db()
    assert voucher.balance == Decimal("812.50") and usage.payable == Decimal("187.50")
    with pytest.raises(vouchers.VoucherSpent):
        vouchers.voucher_redeem(actor=sme_user, voucher=voucher, usage=usage, amount="10")
    voucher.refresh_from_db()
    assert voucher.balance == Decimal("812.50")
    assert vouchers.redemptions_settle(actor=bureau, redemptions=[redemption]) == 1
    assert vouchers.redemptions_settle(actor=bureau, redemptions=[redemption]) == 0
    assert AuditEvent.objects.filter(object_type="facilities.usagerecord").count() == 1
    assert AuditEvent.objects.filter(object_type="facilities.voucherredemption").count() == 2

    client.force_login(sme_user)
    month = day.strftime("%Y-%m")
    page = client.get(f"/facilities/statements/{sme.pk}/{month}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "375.00" in html and "187.50" in html
    api = client.get(f"/api/facilities/statements/{sme.pk}/{month}").json()
    assert (api["total_fee"], api["total_voucher"], api["total_payable"]) == ("375.00", "187.50", "187.50")
    pdf = client.get(f"/facilities/statements/{sme.pk}/{month}/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "光明小微科技有限公司" in text and "375.00" in text
    xlsx = client.get(f"/facilities/statements/{sme.pk}/{month}/?format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "INS-SEM-01" and rows[-1][8] == 375 and rows[-1][10] == 187.5


def test_statement_of_another_organisation_is_forbidden(client, sme, other_enterprise_user):
    client.force_login(other_enterprise_user)
    assert client.get(f"/facilities/statements/{sme.pk}/2026-01/").status_code == 403
    assert client.get(f"/api/facilities/statements/{sme.pk}/2026-01").status_code == 403


def test_no_show_is_released_and_the_waitlist_promoted(instrument, sme_user, other_enterprise_user):
    day = next_weekday(1)
    before = at(day, "07:00") - dt.timedelta(days=1)
    first = bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "09:00"),
                                    ends_at=at(day, "10:00"), now=before)
    waiting = bookings.booking_create(actor=other_enterprise_user, instrument=instrument, starts_at=at(day, "09:30"),
                                      ends_at=at(day, "10:00"), waitlist=True, now=before)
    assert waiting.state == "waitlisted"
    assert bookings.bookings_release_no_shows(instrument=instrument, now=at(day, "09:14")) == 0
    assert bookings.bookings_release_no_shows(instrument=instrument, now=at(day, "09:16")) == 1
    first.refresh_from_db()
    waiting.refresh_from_db()
    assert first.state == "no_show" and waiting.state == "confirmed"


def test_recurring_series_is_all_or_nothing(instrument, sme_user, other_enterprise_user):
    day = next_weekday(1)
    before = at(day, "07:00") - dt.timedelta(days=1)
    taken = bookings.booking_create(actor=other_enterprise_user, instrument=instrument,
                                    starts_at=at(day + dt.timedelta(days=14), "09:00"),
                                    ends_at=at(day + dt.timedelta(days=14), "10:00"), now=before)
    with pytest.raises(bookings.BookingConflict) as exc:
        bookings.booking_create_series(actor=sme_user, instrument=instrument, starts_at=at(day, "09:00"),
                                       ends_at=at(day, "10:00"), occurrences=4, now=before)
    assert exc.value.conflict.pk == taken.pk
    assert instrument.bookings.count() == 1
    made = bookings.booking_create_series(actor=sme_user, instrument=instrument, starts_at=at(day, "10:00"),
                                          ends_at=at(day, "11:00"), occurrences=3, now=before)
    assert [b.starts_at.date() for b in made] == [day, day + dt.timedelta(days=7), day + dt.timedelta(days=14)]
    assert len({b.series for b in made}) == 1


def test_approval_quota_and_training(instrument, sme_user, manager):
    instrument.approval_required = True
    instrument.weekly_quota_hours_per_user = 3
    instrument.save()
    day = next_weekday(1)
    before = at(day, "07:00") - dt.timedelta(days=1)
    b = bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "09:00"),
                                ends_at=at(day, "11:00"), now=before)
    assert b.state == "requested"
    with pytest.raises(ValidationError) as exc:  # 2 h + 2 h > 3 h a week
        bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "13:00"),
                                ends_at=at(day, "15:00"), now=before)
    assert exc.value.error_dict["end"][0].code == "quota"
    assert bookings.booking_decide(actor=manager, booking=b, approve=True).state == "confirmed"
    instrument.training_required = True
    instrument.weekly_quota_hours_per_user = 0
    instrument.save()
    with pytest.raises(ValidationError) as exc:
        bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "13:00"),
                                ends_at=at(day, "14:00"), now=before)
    assert "instrument" in exc.value.message_dict
    bookings.training_grant(actor=manager, instrument=instrument, user=sme_user, valid_until=day)
    assert bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "13:00"),
                                   ends_at=at(day, "14:00"), now=before).state == "requested"


def test_ical_feed_and_pages(client, instrument, sme_user, bureau):
    day = next_weekday(2)
    bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "09:00"),
                            ends_at=at(day, "10:30"))
    ics = client.get("/facilities/instruments/INS-SEM-01/calendar.ics")
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    body = ics.content.decode()
    start_utc = at(day, "09:00").astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start_utc}" in body and body.count("BEGIN:VEVENT") == 1
    assert "sme_user" not in body and "光明小微" not in body
    assert client.get("/facilities/?q=扫描电镜").content.decode().count("INS-SEM-01") >= 1
    assert "INS-SEM-01" not in client.get("/facilities/?q=质谱").content.decode()
    page = client.get(f"/facilities/instruments/INS-SEM-01/?view=day&day={day.isoformat()}")
    assert page.status_code == 200 and 'data-state="confirmed"' in page.content.decode()
    client.force_login(sme_user)
    assert client.get("/facilities/bookings/").status_code == 200
    assert client.get("/facilities/vouchers/").status_code == 200
    assert client.get("/facilities/openness/").status_code == 403
    client.force_login(bureau)
    assert client.get("/facilities/openness/").status_code == 200


def test_voucher_of_another_enterprise_cannot_be_spent(voucher, other_enterprise_user):
    from sciencecity.facilities.models import UsageRecord

    with pytest.raises(Exception) as exc:
        vouchers.voucher_redeem(actor=other_enterprise_user, voucher=voucher, usage=UsageRecord(pk=1))
    assert exc.type.__name__ == "PermissionDenied"
    assert Voucher.objects.get(pk=voucher.pk).balance == Decimal("1000.00")
