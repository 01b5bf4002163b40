"""Facility managers keep their catalogue entries in the UI: instruments (details, hours, rules, training and
qualification requirements), price lists and training records; the bureau its voucher schemes. Every write is
a service with a permission check and an audit event; bad input names the field and writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.facilities.models import Instrument, InstrumentPrice, TrainingRecord, VoucherScheme
from sciencecity.facilities.services import bookings, catalogue, vouchers
from tests.conftest import make_organisation, make_user
from tests.facilities.conftest import at, next_weekday

DETAILS = {"form": "details", "name": "场发射扫描电镜", "name_en": "FE-SEM", "kind": "instrument",
           "model": "Zeiss Sigma 300", "capabilities": "形貌 成分", "keywords": "", "location": "A101",
           "opens_at": "08:00", "closes_at": "20:00", "open_weekdays": "12345", "rules": "",
           "qualification": "", "min_booking_minutes": "30", "max_booking_minutes": "480",
           "weekly_quota_hours_per_user": "0", "weekly_quota_hours_per_organisation": "0",
           "cancel_notice_hours": "24", "no_show_grace_minutes": "15", "cma_number": "", "cnas_number": "",
           "accredited_scope": "", "status": "active"}


def audits(object_type):
    return AuditEvent.objects.filter(object_type=f"facilities.{object_type}").count()


@pytest.fixture
def bureau(db):
    return make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department"), username="kcj")


def test_a_facility_manager_adds_an_instrument_in_the_ui(client, lab, manager):
    client.force_login(manager)
    page = client.get("/facilities/").content.decode()
    assert 'data-testid="add-instrument"' in page
    response = client.post("/facilities/instruments/new/", {
        **DETAILS, "code": "INS-XPS-01", "host": lab.pk, "name": "X射线光电子能谱仪", "capabilities": "表面 元素 价态",
        "training_required": "on", "qualification": "辐射安全培训证书"})
    assert response.status_code == 302 and response["Location"] == "/facilities/instruments/INS-XPS-01/edit/"
    made = Instrument.objects.get(code="INS-XPS-01")
    assert (made.host, made.manager, made.training_required, made.qualification) == (lab, manager, True,
                                                                                      "辐射安全培训证书")
    assert AuditEvent.objects.get(object_type="facilities.instrument", action="create").changes["code"] == [
        None, "INS-XPS-01"]
    detail = client.get("/facilities/instruments/INS-XPS-01/").content.decode()
    assert "辐射安全培训证书" in detail and 'data-testid="edit-instrument"' in detail
    assert [i.code for i in catalogue_search("元素")] == ["INS-XPS-01"]  # searchable at once


def catalogue_search(q):
    from sciencecity.facilities import selectors

    return selectors.instrument_search(q=q)


def test_bad_instrument_input_names_the_field_and_writes_nothing(client, lab, manager, instrument):
    client.force_login(manager)
    before = (audits("instrument"), Instrument.objects.count())
    for field, value in (("closes_at", "07:00"), ("open_weekdays", "189"), ("max_booking_minutes", "10"),
                         ("name", "")):
        response = client.post(f"/facilities/instruments/{instrument.code}/edit/", {**DETAILS, field: value})
        assert response.status_code == 200, field
        assert f'data-testid="error-{field}"' in response.content.decode(), field
    response = client.post("/facilities/instruments/new/", {**DETAILS, "code": instrument.code, "host": lab.pk})
    assert 'data-testid="error-code"' in response.content.decode()
    with pytest.raises(ValidationError) as caught:
        catalogue.instrument_create(actor=manager, host=lab, code="坏 代码", data={"name": "x"})
    assert list(caught.value.message_dict) == ["code"]
    instrument.refresh_from_db()
    assert (instrument.closes_at, instrument.open_weekdays) == (dt.time(20, 0), "12345")
    assert (audits("instrument"), Instrument.objects.count()) == before


def test_the_manager_edits_details_and_the_change_is_audited(client, manager, instrument):
    client.force_login(manager)
    response = client.post(f"/facilities/instruments/{instrument.code}/edit/",
                           {**DETAILS, "closes_at": "22:00", "approval_required": "on"})
    assert response.status_code == 302
    instrument.refresh_from_db()
    assert (instrument.closes_at, instrument.approval_required) == (dt.time(22, 0), True)
    event = AuditEvent.objects.get(object_type="facilities.instrument", action="update")
    assert event.changes["approval_required"] == [False, True] and set(event.changes) == {
        "approval_required", "closes_at", "name_en", "location", "capabilities"}


def test_the_price_list_is_set_in_one_go_and_a_negative_price_is_refused(client, manager, instrument):
    client.force_login(manager)
    url = f"/facilities/instruments/{instrument.code}/edit/"
    prices = {"form": "prices", "price_internal": "100", "price_academic": "200", "price_enterprise": "450",
              "price_sme": "-5"}
    response = client.post(url, prices)
    assert 'data-testid="error-price_sme"' in response.content.decode()
    assert dict(instrument.prices.values_list("user_class", "hourly_rate"))["enterprise"] == Decimal("400.00")
    assert audits("instrumentprice") == 0
    client.post(url, {**prices, "price_sme": ""})  # empty: SMEs pay no separate price
    assert dict(InstrumentPrice.objects.filter(instrument=instrument).values_list("user_class", "hourly_rate")) == {
        "internal": Decimal("100.00"), "academic": Decimal("200.00"), "enterprise": Decimal("450.00")}
    assert AuditEvent.objects.filter(object_type="facilities.instrumentprice").values_list(
        "action", flat=True).order_by("action").distinct().count() == 2  # one update, one delete


def test_training_requirement_and_records(client, manager, instrument, sme_user):
    client.force_login(manager)
    url = f"/facilities/instruments/{instrument.code}/edit/"
    response = client.post(url, {**DETAILS, "training_required": "on", "qualification": "完成电镜上机培训"})
    assert response.status_code == 302
    instrument.refresh_from_db()
    day = next_weekday(2)
    with pytest.raises(ValidationError) as caught:
        bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "09:00"),
                                ends_at=at(day, "10:00"))
    assert list(caught.value.message_dict) == ["instrument"]
    response = client.post(url, {"form": "training", "username": "nobody", "valid_until": "2099-01-01"})
    assert 'data-testid="error-username"' in response.content.decode()
    client.post(url, {"form": "training", "username": sme_user.username,
                      "valid_until": (day + dt.timedelta(days=30)).isoformat()})
    assert TrainingRecord.objects.get(instrument=instrument).user == sme_user
    assert bookings.booking_create(actor=sme_user, instrument=instrument, starts_at=at(day, "09:00"),
                                   ends_at=at(day, "10:00")).state == "confirmed"


def test_who_may_manage_the_catalogue(client, lab, manager, instrument, sme_user, bureau):
    other_manager = make_user(Role.FACILITY_MANAGER, make_organisation(kind="laboratory"), username="other_mgr")
    admin = make_user(Role.SYSTEM_ADMIN, username="sysadmin")
    edit = f"/facilities/instruments/{instrument.code}/edit/"
    assert client.get(edit)["Location"].startswith("/accounts/login/")  # anonymous
    expected = {sme_user: 403, other_manager: 403, admin: 403, manager: 200, bureau: 200}
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(edit).status_code == status, user.username
    client.force_login(sme_user)
    assert client.get("/facilities/instruments/new/").status_code == 403
    with pytest.raises(PermissionDenied):
        catalogue.instrument_create(actor=other_manager, host=lab, code="INS-X", data={"name": "x"})
    with pytest.raises(PermissionDenied):
        catalogue.price_list_set(actor=sme_user, instrument=instrument, rates={"sme": "1"})


def test_the_bureau_creates_and_edits_voucher_schemes(client, bureau, manager):
    client.force_login(bureau)
    data = {"code": "CXQ-2027", "name": "2027年科技创新券", "budget": "1000000", "cap_per_enterprise": "50000",
            "max_share": "0.5", "eligibility": "employees < 300", "valid_until": "2027-12-31", "status": "open"}
    response = client.post("/facilities/vouchers/schemes/new/", {**data, "max_share": "1.5"})
    assert 'data-testid="error-max_share"' in response.content.decode() and not VoucherScheme.objects.exists()
    response = client.post("/facilities/vouchers/schemes/new/", {**data, "eligibility": "staff < 3"})
    assert 'data-testid="error-eligibility"' in response.content.decode() and not VoucherScheme.objects.exists()
    assert client.post("/facilities/vouchers/schemes/new/", data).status_code == 302
    scheme = VoucherScheme.objects.get()
    assert 'data-testid="edit-scheme"' in client.get("/facilities/vouchers/").content.decode()
    client.post("/facilities/vouchers/schemes/CXQ-2027/edit/", {**data, "budget": "800000", "status": "closed"})
    scheme.refresh_from_db()
    assert (scheme.budget, scheme.status) == (Decimal("800000.00"), "closed")
    assert AuditEvent.objects.get(object_type="facilities.voucherscheme", action="update").changes == {
        "budget": ["1000000.00", "800000.00"], "status": ["open", "closed"]}
    response = client.post("/facilities/vouchers/schemes/CXQ-2027/edit/", {**data, "cap_per_enterprise": "0"})
    assert 'data-testid="error-cap_per_enterprise"' in response.content.decode()
    client.force_login(manager)  # providers do not issue vouchers
    assert client.get("/facilities/vouchers/schemes/new/").status_code == 403
    with pytest.raises(PermissionDenied):
        vouchers.scheme_update(actor=manager, scheme=scheme, data={"budget": Decimal(1)})


def test_the_manager_uploads_a_photo_and_a_non_image_is_refused(client, manager, instrument, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager)
    url = f"/facilities/instruments/{instrument.code}/edit/"
    fake = SimpleUploadedFile("sem.png", b"not an image at all", content_type="image/png")
    response = client.post(url, {"form": "photo", "photo": fake})
    assert 'data-testid="error-photo"' in response.content.decode()
    instrument.refresh_from_db()
    assert not instrument.photo and audits("instrument") == 0 and not list(tmp_path.rglob("*.*"))

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buffer, format="PNG")
    real = SimpleUploadedFile("any-name.jpg", buffer.getvalue(), content_type="image/jpeg")
    assert client.post(url, {"form": "photo", "photo": real}).status_code == 302
    instrument.refresh_from_db()
    assert instrument.photo.name == "facilities/instruments/INS-SEM-01.png"  # named by what it is
    served = client.get(f"/facilities/instruments/{instrument.code}/photo/")
    assert served["Content-Type"] == "image/png" and b"".join(served.streaming_content) == buffer.getvalue()
    assert 'data-testid="instrument-photo"' in client.get(f"/facilities/instruments/{instrument.code}/").content.decode()
    assert AuditEvent.objects.get(object_type="facilities.instrument").changes["photo"] == [
        None, "facilities/instruments/INS-SEM-01.png"]
    client.logout()
    assert client.get(f"/facilities/instruments/{instrument.code}/photo/").status_code == 200  # public


@pytest.mark.parametrize("size", [(30_000, 30_000), (10_000, 8_000)])
def test_a_photo_declaring_a_huge_canvas_is_refused_not_decoded(client, manager, instrument, settings, tmp_path,
                                                                 size):
    """A few hundred KB of PNG can declare 900 million pixels (a decompression bomb, past Pillow's own error
    limit) or 80 million (past ours, under Pillow's): both are refused naming the photo field, nothing stored."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager)
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 5 * 1024 * 1024
    bomb = SimpleUploadedFile("bomb.png", buffer.getvalue(), content_type="image/png")
    response = client.post(f"/facilities/instruments/{instrument.code}/edit/", {"form": "photo", "photo": bomb})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="error-photo"' in page and "50" in page
    instrument.refresh_from_db()
    assert not instrument.photo and audits("instrument") == 0 and not list(tmp_path.rglob("*.*"))
