"""Deals: every transition allowed or refused by state and by party, contacts only after consent,
other organisations kept out (404), brokers, audit, pages and API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent, Notification
from sciencecity.transfer import selectors
from sciencecity.transfer.choices import DealState
from sciencecity.transfer.models import Deal, DealNote
from sciencecity.transfer.services import deals as services
from tests.conftest import make_organisation, make_person, make_user
from tests.transfer.conftest import contract_data, contract_pdf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def interest(world, **kwargs) -> Deal:
    return services.deal_express_interest(actor=world.buyer_user, achievement=world.achievement, buyer=world.buyer,
                                          message="我们希望获得许可", **kwargs)


def deal_in(world, state: str) -> Deal:
    """A deal brought to ``state`` through the services."""
    deal = interest(world)
    if state == DealState.INTEREST:
        return deal
    if state == DealState.DECLINED:
        return services.deal_decline(actor=world.seller_user, deal=deal)
    services.deal_accept(actor=world.seller_user, deal=deal)
    if state == DealState.CONTACT:
        return Deal.objects.get(pk=deal.pk)
    if state == DealState.CLOSED:
        return services.deal_close(actor=world.buyer_user, deal=deal)
    services.deal_note_add(actor=world.buyer_user, deal=deal, text="报价500万元")
    if state == DealState.NEGOTIATION:
        return Deal.objects.get(pk=deal.pk)
    services.deal_agree(actor=world.seller_user, deal=deal)
    if state == DealState.AGREED:
        return Deal.objects.get(pk=deal.pk)
    services.contract_register(actor=world.seller_user, deal=deal, data=contract_data(), contract_file=contract_pdf())
    return Deal.objects.get(pk=deal.pk)


def act(action: str, actor, deal: Deal):
    if action == "note":
        return services.deal_note_add(actor=actor, deal=deal, text="一条记录")
    if action == "register":
        return services.contract_register(actor=actor, deal=deal, data=contract_data(), contract_file=contract_pdf())
    return getattr(services, f"deal_{action}")(actor=actor, deal=deal)


def test_interest_creates_a_deal_notifies_the_owner_and_is_audited(deal_world):
    w = deal_world
    deal = interest(w, demand=w.demand)
    assert (deal.state, deal.seller, deal.buyer, deal.demand, deal.contact_consent, deal.created_by) == (
        DealState.INTEREST, w.seller, w.buyer, w.demand, False, w.buyer_user)
    assert deal.code.startswith("DEAL")
    assert Notification.objects.filter(user=w.seller_user,
                                       url=reverse("transfer:deal_detail", args=[deal.pk])).count() == 1
    assert AuditEvent.objects.filter(action="create", object_type="transfer.deal", object_id=str(deal.pk)).count() == 1


def test_only_enterprise_users_of_the_buyer_express_interest(deal_world):
    w = deal_world
    with pytest.raises(PermissionDenied):  # an academic user is not a buyer
        services.deal_express_interest(actor=w.seller_user, achievement=w.achievement, buyer=w.seller)
    with pytest.raises(PermissionDenied):  # not acting for that enterprise
        services.deal_express_interest(actor=w.buyer_user, achievement=w.achievement, buyer=make_organisation())
    assert not Deal.objects.exists()


def test_interest_refusals_write_nothing(deal_world):
    w = deal_world
    seller_enterprise_user = make_user(Role.ENTERPRISE_USER, w.seller)
    with pytest.raises(ValidationError, match="own achievement"):
        services.deal_express_interest(actor=seller_enterprise_user, achievement=w.achievement, buyer=w.seller)
    other_demand = type(w.demand).objects.create(code="D-X", organisation=make_organisation(), title="x",
                                                 public_summary="x")
    with pytest.raises(ValidationError, match="your organisation's demands"):
        interest(w, demand=other_demand)
    with pytest.raises(ValidationError):
        interest(w, broker=make_person(categories=["expert"]))
    assert not Deal.objects.exists()
    interest(w)
    with pytest.raises(ValidationError, match="already has an open deal"):
        interest(w)
    assert Deal.objects.count() == 1


# (action, state it is tried in, who tries, expected: new state | "denied" | "invalid")
MATRIX = [
    ("accept", DealState.INTEREST, "seller", DealState.CONTACT),
    ("accept", DealState.INTEREST, "buyer", "denied"),  # the buyer cannot accept its own interest
    ("accept", DealState.INTEREST, "other", "denied"),
    ("accept", DealState.CONTACT, "seller", "invalid"),
    ("accept", DealState.DECLINED, "seller", "invalid"),
    ("decline", DealState.INTEREST, "seller", DealState.DECLINED),
    ("decline", DealState.INTEREST, "buyer", "denied"),
    ("decline", DealState.NEGOTIATION, "seller", "invalid"),
    ("negotiate", DealState.CONTACT, "buyer", DealState.NEGOTIATION),
    ("negotiate", DealState.CONTACT, "seller", DealState.NEGOTIATION),
    ("negotiate", DealState.INTEREST, "buyer", "invalid"),
    ("negotiate", DealState.CONTACT, "other", "denied"),
    ("note", DealState.CONTACT, "seller", DealState.NEGOTIATION),
    ("note", DealState.NEGOTIATION, "buyer", DealState.NEGOTIATION),
    ("note", DealState.AGREED, "buyer", DealState.AGREED),
    ("note", DealState.INTEREST, "buyer", "invalid"),
    ("note", DealState.DECLINED, "seller", "invalid"),
    ("note", DealState.NEGOTIATION, "other", "denied"),
    ("agree", DealState.CONTACT, "buyer", DealState.AGREED),
    ("agree", DealState.NEGOTIATION, "seller", DealState.AGREED),
    ("agree", DealState.INTEREST, "seller", "invalid"),
    ("agree", DealState.AGREED, "buyer", "invalid"),
    ("agree", DealState.NEGOTIATION, "other", "denied"),
    ("close", DealState.INTEREST, "buyer", DealState.CLOSED),
    ("close", DealState.NEGOTIATION, "seller", DealState.CLOSED),
    ("close", DealState.AGREED, "buyer", DealState.CLOSED),
    ("close", DealState.DECLINED, "buyer", "invalid"),
    ("close", DealState.REGISTERED, "seller", "invalid"),
    ("close", DealState.NEGOTIATION, "other", "denied"),
    ("register", DealState.AGREED, "seller", DealState.REGISTERED),
    ("register", DealState.AGREED, "buyer", "denied"),  # the seller files
    ("register", DealState.NEGOTIATION, "seller", "invalid"),
    ("register", DealState.REGISTERED, "seller", "invalid"),
]


@pytest.mark.parametrize(("action", "state", "who", "expected"), MATRIX)
def test_transition_matrix(deal_world, action, state, who, expected):
    w = deal_world
    deal = deal_in(w, state)
    actor = {"seller": w.seller_user, "buyer": w.buyer_user,
             "other": make_user(Role.ENTERPRISE_USER, make_organisation())}[who]
    events, notes = AuditEvent.objects.count(), DealNote.objects.count()
    if expected == "denied":
        with pytest.raises(PermissionDenied):
            act(action, actor, deal)
    elif expected == "invalid":
        with pytest.raises(ValidationError):
            act(action, actor, deal)
    else:
        act(action, actor, deal)
        assert Deal.objects.get(pk=deal.pk).state == expected
        assert AuditEvent.objects.count() > events
        return
    assert Deal.objects.get(pk=deal.pk).state == state
    assert (AuditEvent.objects.count(), DealNote.objects.count()) == (events, notes)


def test_each_transition_is_an_audited_event_with_the_state_change(deal_world):
    w = deal_world
    deal = deal_in(w, DealState.AGREED)
    transitions = AuditEvent.objects.filter(object_type="transfer.deal", object_id=str(deal.pk), action="transition")
    assert [e.changes["state"] for e in transitions.order_by("pk")] == [
        ["interest", "contact"], ["contact", "negotiation"], ["negotiation", "agreed"]]
    assert transitions.order_by("pk").first().changes["contact_consent"] == [False, True]


def test_available_actions_say_who_acts_next(deal_world):
    w = deal_world
    deal = interest(w)
    assert services.available_actions(w.seller_user, deal) == ["accept", "decline", "close", "broker"]
    assert services.available_actions(w.buyer_user, deal) == ["close", "broker"]
    deal = services.deal_accept(actor=w.seller_user, deal=deal)
    services.deal_agree(actor=w.buyer_user, deal=deal)
    deal.refresh_from_db()
    assert "register" in services.available_actions(w.seller_user, deal)
    assert "register" not in services.available_actions(w.buyer_user, deal)


# --- visibility and contacts
def test_other_organisations_cannot_see_or_act_on_the_deal(deal_world, client):
    w = deal_world
    deal = interest(w)
    client.force_login(make_user(Role.ENTERPRISE_USER, make_organisation()))
    assert client.get(reverse("transfer:deal_detail", args=[deal.pk])).status_code == 404
    assert client.post(reverse("transfer:deal_action", args=[deal.pk, "accept"])).status_code == 404
    assert client.get(f"/api/transfer/deals/{deal.pk}").status_code == 404
    assert client.post(f"/api/transfer/deals/{deal.pk}/accept", {}, content_type="application/json").status_code == 404
    assert client.get("/api/transfer/deals").json()["count"] == 0
    assert Deal.objects.get(pk=deal.pk).state == DealState.INTEREST


def test_anonymous_and_administrators_are_kept_out(deal_world, client, sysadmin):
    deal = interest(deal_world)
    url = reverse("transfer:deal_detail", args=[deal.pk])
    assert client.get(url).status_code == 302
    assert client.get("/api/transfer/deals").status_code == 401
    client.force_login(sysadmin)
    assert client.get(url).status_code == 404
    assert client.get(reverse("transfer:deal_list")).status_code == 403


def test_the_bureau_sees_every_deal_but_does_not_act_for_the_parties(deal_world, bureau, client):
    deal = interest(deal_world)
    client.force_login(bureau)
    assert client.get(reverse("transfer:deal_detail", args=[deal.pk])).status_code == 200
    with pytest.raises(PermissionDenied):
        services.deal_accept(actor=bureau, deal=deal)


def test_contacts_are_hidden_until_the_owner_accepts(deal_world, client):
    w = deal_world
    deal = interest(w)
    url = reverse("transfer:deal_detail", args=[deal.pk])
    for user in (w.buyer_user, w.seller_user):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert 'data-testid="contacts-hidden"' in html
        assert "seller@example.edu.cn" not in html and "buyer@example.com" not in html
        assert "0755-12345678" not in html and "13800000000" not in html
    assert client.get(f"/api/transfer/deals/{deal.pk}").json()["contacts"] is None

    client.force_login(w.seller_user)
    response = client.post(reverse("transfer:deal_action", args=[deal.pk, "accept"]))
    assert response.status_code == 302
    for user in (w.buyer_user, w.seller_user):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert "seller@example.edu.cn" in html and "buyer@example.com" in html
        assert "0755-12345678" in html and "13800000000" in html
    contacts = client.get(f"/api/transfer/deals/{deal.pk}").json()["contacts"]
    assert contacts["seller"]["email"] == "seller@example.edu.cn"
    assert contacts["buyer"]["phone"] == "13800000000"
    # The buyer is told.
    assert Notification.objects.filter(user=w.buyer_user, url=url).count() == 1


# --- pages
def test_interest_through_the_page(deal_world, client):
    w = deal_world
    client.force_login(w.buyer_user)
    url = reverse("transfer:deal_create") + f"?achievement={w.achievement.pk}&demand={w.demand.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, {"achievement": w.achievement.pk, "message": "希望洽谈许可", "demand": w.demand.pk})
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("transfer:deal_detail", args=[deal.pk])
    assert (deal.demand, deal.message) == (w.demand, "希望洽谈许可")
    # A second interest is refused with the reason on the form.
    response = client.post(url, {"achievement": w.achievement.pk, "message": "再次"})
    assert response.status_code == 200 and "already has an open deal" in response.content.decode()
    assert Deal.objects.count() == 1


def test_academic_users_cannot_open_the_interest_page(deal_world, client):
    client.force_login(deal_world.seller_user)
    assert client.get(reverse("transfer:deal_create") + f"?achievement={deal_world.achievement.pk}").status_code == 403


def test_a_refused_transition_on_the_page_shows_the_reason(deal_world, client):
    w = deal_world
    deal = deal_in(w, DealState.DECLINED)
    client.force_login(w.seller_user)
    response = client.post(reverse("transfer:deal_action", args=[deal.pk, "agree"]), follow=True)
    assert "cannot become" in response.content.decode()
    client.force_login(w.buyer_user)
    assert client.post(reverse("transfer:deal_action", args=[interest(w).pk, "accept"])).status_code == 403


def test_notes_and_agreement_through_the_pages(deal_world, client):
    w = deal_world
    deal = deal_in(w, DealState.CONTACT)
    client.force_login(w.buyer_user)
    client.post(reverse("transfer:deal_action", args=[deal.pk, "note"]), {"text": "首付200万"})
    client.force_login(w.seller_user)
    client.post(reverse("transfer:deal_action", args=[deal.pk, "agree"]), {"reason": "双方同意"})
    deal.refresh_from_db()
    assert deal.state == DealState.AGREED
    assert list(deal.notes.values_list("text", "author")) == [("首付200万", w.buyer_user.pk)]
    html = client.get(reverse("transfer:deal_detail", args=[deal.pk])).content.decode()
    assert "首付200万" in html and 'data-testid="deal-register"' in html


def test_deal_list_query_count_does_not_grow(deal_world, client, django_assert_max_num_queries):
    w = deal_world
    for _ in range(3):
        buyer = make_organisation()
        user = make_user(Role.ENTERPRISE_USER, buyer)
        services.deal_express_interest(actor=user, achievement=w.achievement, buyer=buyer)
    client.force_login(w.seller_user)
    client.get(reverse("transfer:deal_list"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("transfer:deal_list"))
    assert response.content.decode().count('data-testid="deal-link-') == 3


# --- API
def test_deal_journey_through_the_api(deal_world, client):
    w = deal_world
    client.force_login(w.buyer_user)
    created = client.post("/api/transfer/deals", {"achievement_id": w.achievement.pk, "message": "API 意向",
                                                  "demand_id": w.demand.pk}, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["state"], body["contacts"], body["actions"]) == ("interest", None, ["close", "broker"])
    pk = body["id"]
    denied = client.post(f"/api/transfer/deals/{pk}/accept", {}, content_type="application/json")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    client.force_login(w.seller_user)
    accepted = client.post(f"/api/transfer/deals/{pk}/accept", {}, content_type="application/json")
    assert accepted.status_code == 200 and accepted.json()["state"] == "contact"
    again = client.post(f"/api/transfer/deals/{pk}/accept", {}, content_type="application/json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid"
    noted = client.post(f"/api/transfer/deals/{pk}/note", {"text": "API 记录"}, content_type="application/json")
    assert noted.json()["state"] == "negotiation" and noted.json()["notes"][0]["text"] == "API 记录"
    assert client.post(f"/api/transfer/deals/{pk}/agree", {}, content_type="application/json").json()["state"] == "agreed"
    assert client.post(f"/api/transfer/deals/{pk}/fly", {}, content_type="application/json").status_code == 404
    listed = client.get("/api/transfer/deals?state=agreed").json()
    assert [d["id"] for d in listed["items"]] == [pk]


# --- brokers
def test_brokers_are_named_by_a_party_or_the_bureau(deal_world, bureau):
    w = deal_world
    broker = make_person(name="张经纪", categories=["broker"])
    other_broker = make_person(name="李经纪", categories=["broker", "expert"])
    deal = interest(w, broker=broker)
    assert deal.broker == broker
    services.deal_broker_set(actor=bureau, deal=deal, broker=other_broker)
    assert Deal.objects.get(pk=deal.pk).broker == other_broker
    with pytest.raises(PermissionDenied):
        services.deal_broker_set(actor=make_user(Role.ENTERPRISE_USER), deal=deal, broker=broker)
    with pytest.raises(ValidationError):
        services.deal_broker_set(actor=w.seller_user, deal=deal, broker=make_person(categories=["researcher"]))
    services.deal_broker_set(actor=w.seller_user, deal=deal, broker=None)
    assert Deal.objects.get(pk=deal.pk).broker is None


def test_a_broker_user_sees_the_deals_they_bring(deal_world, client):
    w = deal_world
    broker = make_person(name="张经纪", categories=["broker"])
    deal = interest(w, broker=broker)
    agency = make_organisation(kind="service_agency")
    broker_user = make_user(Role.ENTERPRISE_USER, agency, person=broker)
    client.force_login(broker_user)
    assert client.get(reverse("transfer:deal_detail", args=[deal.pk])).status_code == 200
    assert services.available_actions(broker_user, deal) == []


def test_broker_pipeline_and_figures(deal_world, client):
    w = deal_world
    broker = make_person(name="张经纪", categories=["broker"])
    idle = make_person(name="闲经纪", categories=["broker"])
    registered = deal_in(w, DealState.REGISTERED)
    Deal.objects.filter(pk=registered.pk).update(broker=broker)  # credited after the fact
    other_buyer = make_organisation()
    other_user = make_user(Role.ENTERPRISE_USER, other_buyer)
    services.deal_express_interest(actor=other_user, achievement=w.achievement, buyer=other_buyer, broker=broker)
    figures = {f.person.pk: f for f in selectors.broker_figures()}
    assert figures[broker.pk].by_state["registered"] == 1 and figures[broker.pk].by_state["interest"] == 1
    assert (figures[broker.pk].registered, figures[broker.pk].amount, figures[broker.pk].open_deals) == (
        1, registered.contract.amount, 1)
    assert (figures[idle.pk].registered, figures[idle.pk].amount, figures[idle.pk].open_deals) == (0, 0, 0)

    client.force_login(w.buyer_user)
    html = client.get(reverse("transfer:broker_list")).content.decode()
    assert f'data-testid="broker-amount-{broker.pk}">1250.00<' in html
    assert f'data-testid="broker-registered-{broker.pk}">1<' in html
    api = {b["id"]: b for b in client.get("/api/transfer/brokers").json()}
    assert api[broker.pk]["contracts_registered"] == 1 and api[broker.pk]["amount_brokered"] == "1250.00"
    assert api[broker.pk]["deals_by_state"]["interest"] == 1 and api[idle.pk]["open_deals"] == 0
