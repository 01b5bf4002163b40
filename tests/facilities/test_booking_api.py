"""Booking through the API: 201, 409 booking_conflict naming the slot, 400 naming the field, nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from sciencecity.core.models import AuditEvent
from sciencecity.facilities.models import Blackout, Booking
from tests.facilities.conftest import at, next_weekday

URL = "/api/facilities/instruments/INS-SEM-01/bookings"


@pytest.fixture
def api(client, sme_user):
    client.force_login(sme_user)
    return client


def post(api, start, end, **extra):
    return api.post(URL, {"start": start.isoformat(), "end": end.isoformat(), **extra},
                    content_type="application/json")


def test_book_then_overlap_is_409_naming_the_slot(api, instrument, sme):
    day = next_weekday(2)
    first = post(api, at(day, "09:00"), at(day, "11:00"))
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["state"] == "confirmed" and body["organisation_id"] == sme.pk
    assert body["user_class"] == "enterprise"
    second = post(api, at(day, "10:30"), at(day, "12:00"))
    assert second.status_code == 409
    err = second.json()["error"]
    assert err["code"] == "booking_conflict"
    assert err["details"]["conflict"]["booking_id"] == body["id"]
    assert err["details"]["conflict"]["start"] == at(day, "09:00").isoformat()
    assert err["details"]["conflict"]["end"] == at(day, "11:00").isoformat()
    assert Booking.objects.count() == 1
    # touching ends do not overlap: [09:00, 11:00) and [11:00, 12:00)
    assert post(api, at(day, "11:00"), at(day, "12:00")).status_code == 201


@pytest.mark.parametrize(("start", "end", "field", "code"), [
    ("10:00", "09:00", "end", "end_before_start"),
    ("10:00", "10:00", "end", "end_before_start"),
    ("07:00", "09:00", "start", "outside_opening_hours"),
    ("19:00", "21:00", "start", "outside_opening_hours"),
    ("09:00", "09:10", "end", "too_short"),
    ("08:00", "17:00", "end", "too_long"),
])
def test_bad_slots_are_400_naming_the_field_and_write_nothing(api, instrument, start, end, field, code):
    day = next_weekday(2)
    events = AuditEvent.objects.count()
    response = post(api, at(day, start), at(day, end))
    assert response.status_code == 400, response.content
    err = response.json()["error"]
    assert err["code"] == code
    assert err["details"][0]["field"] == field
    assert Booking.objects.count() == 0 and AuditEvent.objects.count() == events


def test_weekend_and_blackout_are_refused(api, instrument):
    day = next_weekday(2)
    saturday = day + dt.timedelta(days=6 - day.isoweekday())
    response = post(api, at(saturday, "09:00"), at(saturday, "10:00"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "outside_opening_hours"
    Blackout.objects.create(instrument=instrument, starts_at=at(day, "12:00"), ends_at=at(day, "14:00"),
                            reason="年度维护")
    response = post(api, at(day, "13:00"), at(day, "15:00"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "blackout"
    assert "年度维护" in response.json()["error"]["message"]


def test_past_and_malformed_dates(api, instrument):
    response = post(api, at(dt.date(2020, 1, 6), "09:00"), at(dt.date(2020, 1, 6), "10:00"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "in_past"
    response = api.post(URL, {"start": "tomorrow", "end": "2030-01-01T10:00"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "start"


def test_anonymous_and_admin_cannot_book(client, instrument, sysadmin):
    day = next_weekday(2)
    assert post(client, at(day, "09:00"), at(day, "10:00")).status_code == 401
    client.force_login(sysadmin)
    assert post(client, at(day, "09:00"), at(day, "10:00")).status_code == 403


def test_waitlist_promoted_when_the_slot_is_cancelled(api, instrument, other_enterprise_user, client):
    day = next_weekday(3)
    first = post(api, at(day, "09:00"), at(day, "10:00")).json()
    from django.test import Client

    other = Client()
    other.force_login(other_enterprise_user)
    waiting = post(other, at(day, "09:00"), at(day, "10:00"), waitlist=True)
    assert waiting.status_code == 201 and waiting.json()["state"] == "waitlisted"
    cancel = api.post(f"/api/facilities/bookings/{first['id']}/cancel", {"reason": "改期"},
                      content_type="application/json")
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled"
    assert Booking.objects.get(pk=waiting.json()["id"]).state == "confirmed"


def test_testing_services_are_listed_with_accreditations_and_ordered_like_instruments(api, lab, sme):
    from tests.facilities.conftest import make_instrument

    make_instrument(lab, code="TS-BAT-01", name="锂电池安全性能检测", kind="testing_service",
                    cma_number="CMA 202119000001", accredited_scope="GB 31241 过充 短路 挤压")
    make_instrument(lab, code="INS-XRD-01", name="X射线衍射仪")
    listed = api.get("/api/facilities/instruments?kind=testing_service&accredited=cma").json()
    assert [i["code"] for i in listed] == ["TS-BAT-01"] and listed[0]["cma_number"] == "CMA 202119000001"
    assert [i["code"] for i in api.get("/api/facilities/instruments?q=挤压").json()] == ["TS-BAT-01"]
    assert api.get("/api/facilities/instruments?accredited=cnas").json() == []
    day = next_weekday(2)
    response = api.post("/api/facilities/instruments/TS-BAT-01/bookings",
                        {"start": at(day, "09:00").isoformat(), "end": at(day, "12:00").isoformat(),
                         "purpose": "送检 18650 电芯 6 只"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["purpose"] == "送检 18650 电芯 6 只"
    page = api.get("/facilities/?kind=testing_service&accredited=cma").content.decode()
    assert "TS-BAT-01" in page and "INS-XRD-01" not in page
