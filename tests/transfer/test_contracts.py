"""Technology-contract registration (技术合同认定登记): validations with nothing written, the
seller files, visibility, and the plan indicator 技术合同成交金额 updated by exactly the amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.plans.models import Indicator, ObservedValue
from sciencecity.plans.services import plan_import_bundled
from sciencecity.transfer.choices import DealState
from sciencecity.transfer.models import Deal, TechContract
from sciencecity.transfer.services import deals as services
from tests.conftest import make_organisation, make_user
from tests.transfer.conftest import PDF_BYTES, contract_data, contract_pdf
from tests.transfer.test_deals import deal_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def agreed(deal_world):
    return deal_in(deal_world, DealState.AGREED)


@pytest.fixture
def turnover_indicator(db):
    plan = plan_import_bundled().plan
    return Indicator.objects.get(plan=plan, source_key=services.TURNOVER_SOURCE)


def register(world, deal, **overrides):
    upload = overrides.pop("contract_file", contract_pdf())
    return services.contract_register(actor=world.seller_user, deal=deal, data=contract_data(**overrides),
                                      contract_file=upload)


def test_the_bundled_plan_links_indicator_6_to_the_turnover(turnover_indicator):
    assert turnover_indicator.code == "6" and "技术合同" in turnover_indicator.name


def test_registration_from_an_agreed_deal(deal_world, agreed):
    contract = register(deal_world, agreed, amount="1250.00", technical_income="1000.00")
    assert (contract.seller, contract.buyer, contract.deal, contract.filed_by) == (
        deal_world.seller, deal_world.buyer, agreed, deal_world.seller_user)
    assert (contract.amount, contract.technical_income) == (Decimal("1250.00"), Decimal("1000.00"))
    assert contract.contract_file.read().startswith(b"%PDF")
    assert Deal.objects.get(pk=agreed.pk).state == DealState.REGISTERED
    event = AuditEvent.objects.get(object_type="transfer.techcontract", object_id=str(contract.pk))
    assert event.changes["amount"] == [None, "1250.00"]
    assert AuditEvent.objects.filter(object_type="transfer.deal", action="transition",
                                     changes__state=["agreed", "registered"]).count() == 1


def test_registration_updates_the_plan_indicator_by_exactly_the_amount(deal_world, agreed, turnover_indicator):
    year = timezone.localdate().year
    services.contract_register(actor=deal_world.seller_user, data=contract_data(amount="3000.00",
                                                                              technical_income="100"),
                               contract_file=contract_pdf(), seller=deal_world.seller, buyer=make_organisation())
    before = ObservedValue.objects.get(indicator=turnover_indicator, year=year).value
    assert before == pytest.approx(0.3)
    register(deal_world, agreed, amount="1250.00", technical_income="1000.00")
    value = ObservedValue.objects.get(indicator=turnover_indicator, year=year)
    assert value.value - before == pytest.approx(1250 / 10000)
    # the provenance is written in the language of the request that registered the contract (English here)
    assert (value.source, value.provenance) == ("computed", f"transfer: technology contracts registered in {year} "
                                                            "(sum of amounts, 亿元)")


def test_the_dashboard_live_value_shows_the_contract_at_once(deal_world, agreed, turnover_indicator):
    from sciencecity.plans import selectors as plan_selectors
    from sciencecity.plans import sources

    year = timezone.localdate().year
    source = sources.get(services.TURNOVER_SOURCE)
    assert plan_selectors.live_value(source, year)[0] == 0  # now cached
    register(deal_world, agreed, amount="1250.00", technical_income="1000.00")
    assert plan_selectors.live_value(source, year)[0] == pytest.approx(0.125)


def test_a_contract_of_another_year_feeds_that_year(deal_world, turnover_indicator):
    today = timezone.localdate()
    last_year = dt.date(today.year - 1, 6, 30)
    services.contract_register(actor=deal_world.seller_user, seller=deal_world.seller, buyer=deal_world.buyer,
                               data=contract_data(amount="500", technical_income="500", signed_on=last_year,
                                                  registered_on=last_year), contract_file=contract_pdf())
    assert ObservedValue.objects.get(indicator=turnover_indicator, year=today.year - 1).value == pytest.approx(0.05)
    assert not ObservedValue.objects.filter(indicator=turnover_indicator, year=today.year).exists()


def test_a_locked_indicator_value_is_left_as_approved(deal_world, agreed, turnover_indicator):
    year = timezone.localdate().year
    ObservedValue.objects.create(indicator=turnover_indicator, year=year, scope="district", value=7.0,
                                 status="approved", source="manual")
    assert ObservedValue.objects.get(indicator=turnover_indicator, year=year).locked
    register(deal_world, agreed)
    assert ObservedValue.objects.get(indicator=turnover_indicator, year=year).value == 7.0
    assert TechContract.objects.count() == 1


_NEXT_YEAR = dt.date.today() + dt.timedelta(days=366)  # "the future" whatever day the suite runs on


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"contract_file": None}, "contract_file", "Attach the written contract"),
    ({"amount": "100", "technical_income": "100.01"}, "technical_income", "cannot exceed the contract amount"),
    ({"amount": "-5", "technical_income": "0"}, "amount", "greater than zero"),
    ({"technical_income": "-1"}, "technical_income", "cannot be negative"),
    ({"registration_number": "  "}, "registration_number", "Enter the registration number"),
    ({"registration_number": "X" * 41}, "registration_number", "at most 40 characters"),
    ({"contract_type": "gift"}, "contract_type", "Choose the contract type"),
    ({"signed_on": _NEXT_YEAR + dt.timedelta(days=1), "registered_on": _NEXT_YEAR}, "registered_on", "future"),
    ({"contract_file": contract_pdf("contract.exe", PDF_BYTES)}, "contract_file", "PDF, Word"),
    ({"contract_file": contract_pdf("contract.pdf", b"MZ\x90\x00 not a pdf")}, "contract_file", "not a PDF"),
    ({"contract_file": contract_pdf("contract.pdf", b"")}, "contract_file", "empty"),
])
def test_invalid_registrations_write_nothing(deal_world, agreed, turnover_indicator, overrides, field, message):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as info:
        register(deal_world, agreed, **overrides)
    assert message in " ".join(info.value.message_dict[field])
    assert not TechContract.objects.exists()
    assert Deal.objects.get(pk=agreed.pk).state == DealState.AGREED
    assert not ObservedValue.objects.filter(indicator=turnover_indicator).exists()
    assert AuditEvent.objects.count() == events


def test_a_duplicate_registration_number_is_refused(deal_world, agreed):
    first = services.contract_register(actor=deal_world.seller_user, seller=deal_world.seller,
                                       buyer=make_organisation(), data=contract_data(registration_number="DUP-1"),
                                       contract_file=contract_pdf())
    with pytest.raises(ValidationError) as info:
        register(deal_world, agreed, registration_number=" DUP-1 ")
    assert "already registered" in info.value.message_dict["registration_number"][0]
    assert list(TechContract.objects.values_list("pk", flat=True)) == [first.pk]
    assert Deal.objects.get(pk=agreed.pk).state == DealState.AGREED


def test_a_word_file_or_scan_is_accepted(deal_world):
    for name, head in (("c.docx", b"PK\x03\x04rest"), ("c.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"),
                       ("c.JPG", b"\xff\xd8\xff\xe0rest"), ("c.png", b"\x89PNG\r\n\x1a\nrest")):
        services.contract_register(actor=deal_world.seller_user, seller=deal_world.seller, buyer=deal_world.buyer,
                                   data=contract_data(), contract_file=contract_pdf(name, head))
    assert TechContract.objects.count() == 4


def test_only_the_seller_files(deal_world, agreed, bureau):
    for actor in (deal_world.buyer_user, bureau, make_user(Role.ENTERPRISE_USER)):
        with pytest.raises(PermissionDenied):
            services.contract_register(actor=actor, deal=agreed, data=contract_data(), contract_file=contract_pdf())
    with pytest.raises(PermissionDenied):  # without a deal: only for an organisation the user acts for
        services.contract_register(actor=deal_world.buyer_user, seller=deal_world.seller, buyer=deal_world.buyer,
                                   data=contract_data(), contract_file=contract_pdf())
    with pytest.raises(ValidationError):
        services.contract_register(actor=deal_world.seller_user, seller=deal_world.seller, buyer=deal_world.seller,
                                   data=contract_data(), contract_file=contract_pdf())
    assert not TechContract.objects.exists()


# --- pages
def _form(**overrides):
    data = contract_data(**overrides)
    return {**data, "signed_on": data["signed_on"].isoformat(), "registered_on": data["registered_on"].isoformat()}


def test_registration_through_the_deal_page(deal_world, agreed, turnover_indicator, client):
    client.force_login(deal_world.seller_user)
    url = reverse("transfer:deal_action", args=[agreed.pk, "register"])
    assert client.get(url).status_code == 200
    response = client.post(url, {**_form(amount="800", technical_income="900"), "contract_file": contract_pdf()})
    assert response.status_code == 200 and "cannot exceed the contract amount" in response.content.decode()
    assert not TechContract.objects.exists()
    response = client.post(url, _form())  # no file
    assert "Attach the written contract" in response.content.decode()
    response = client.post(url, {**_form(amount="800", technical_income="600"), "contract_file": contract_pdf()})
    assert response.status_code == 302
    assert TechContract.objects.get().amount == Decimal("800.00")
    assert ObservedValue.objects.get(indicator=turnover_indicator).value == pytest.approx(0.08)
    client.force_login(deal_world.buyer_user)
    assert client.get(url).status_code == 403


def test_registration_without_a_deal_and_who_sees_contracts(deal_world, bureau, client):
    client.force_login(deal_world.seller_user)
    url = reverse("transfer:contract_create")
    buyer = make_organisation(code="BUYER-1")
    response = client.post(url, {**_form(), "seller": deal_world.seller.pk, "buyer": "BUYER-1",
                                 "contract_file": contract_pdf()})
    assert response.status_code == 302, response.content.decode()
    contract = TechContract.objects.get()
    assert (contract.seller, contract.buyer, contract.deal) == (deal_world.seller, buyer, None)
    response = client.post(url, {**_form(), "seller": deal_world.seller.pk, "buyer": "NOPE",
                                 "contract_file": contract_pdf()})
    assert "No organisation in the registry" in response.content.decode()
    # Another organisation's seller choice is not offered.
    response = client.post(url, {**_form(), "seller": buyer.pk, "buyer": "BUYER-1", "contract_file": contract_pdf()})
    assert response.status_code == 200 and TechContract.objects.count() == 1

    listed = reverse("transfer:contract_list")
    assert contract.registration_number in client.get(listed).content.decode()
    client.force_login(bureau)
    assert contract.registration_number in client.get(listed).content.decode()
    client.force_login(make_user(Role.ENTERPRISE_USER))
    assert contract.registration_number not in client.get(listed).content.decode()
    assert client.get("/api/transfer/contracts").json()["count"] == 0


def test_contract_api_multipart(deal_world, agreed, turnover_indicator, client):
    client.force_login(deal_world.seller_user)
    form = {**_form(amount="2000", technical_income="1500"), "deal_id": agreed.pk}
    missing = client.post("/api/transfer/contracts", form)
    assert missing.status_code == 400
    assert missing.json()["error"]["details"][0]["field"] == "contract_file"
    created = client.post("/api/transfer/contracts", {**form, "contract_file": contract_pdf()})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["deal_id"], body["amount"], body["seller_id"]) == (agreed.pk, "2000.00", deal_world.seller.pk)
    assert ObservedValue.objects.get(indicator=turnover_indicator).value == pytest.approx(0.2)
    assert [c["id"] for c in client.get("/api/transfer/contracts").json()["items"]] == [body["id"]]
    client.force_login(deal_world.buyer_user)
    other = client.post("/api/transfer/contracts", {**_form(), "seller_id": deal_world.seller.pk,
                                                    "buyer_id": deal_world.buyer.pk, "contract_file": contract_pdf()})
    assert other.status_code == 403


def test_contract_file_download_for_parties_only(client, deal_world, other_enterprise_user):
    """The written contract downloads for the seller and is hidden from other organisations."""
    from django.urls import reverse

    from sciencecity.core.models import AuditEvent
    from sciencecity.transfer.services import deals as services
    from tests.transfer.conftest import contract_data, contract_pdf

    world = deal_world
    contract = services.contract_register(actor=world.seller_user, data=contract_data(),
                                          contract_file=contract_pdf(), seller=world.seller, buyer=world.buyer)
    client.force_login(world.seller_user)
    response = client.get(reverse("transfer:contract_file", args=[contract.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", object_id=str(contract.pk)).exists()
    client.force_login(other_enterprise_user)
    assert client.get(reverse("transfer:contract_file", args=[contract.pk])).status_code == 404
