"""The to-do inbox per role on the home page and the global search from the header (issue 11)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core import inbox
from sciencecity.registry.models import Certification
from sciencecity.registry.services import person_create_unchecked
from sciencecity.transfer.services import deals
from tests.conftest import make_organisation, make_user
from tests.transfer.conftest import make_achievement, make_demand

pytestmark = pytest.mark.django_db


def _keys(user) -> dict[str, int]:
    return {item.key: item.count for item in inbox.items_for(user)}


def test_every_app_contributes_through_the_registry():
    assert {"programmes", "transfer", "plans", "registry"} <= set(inbox.providers())
    assert inbox.items_for(None) == []


def test_the_seller_sees_incoming_interest_linking_to_the_deals(client, deal_world):
    w = deal_world
    assert "interest" not in _keys(w.seller_user)
    deals.deal_express_interest(actor=w.buyer_user, achievement=w.achievement, buyer=w.buyer, message="许可")
    assert _keys(w.seller_user)["interest"] == 1
    assert "interest" not in _keys(w.buyer_user)  # the buyer waits; nothing to do
    client.force_login(w.seller_user)
    page = client.get("/").content.decode()
    assert 'data-testid="inbox-interest"' in page and f'href="{reverse("transfer:deal_list")}?state=interest"' in page


def test_the_expert_sees_released_reviews_only(review_world):
    from sciencecity.programmes.services import assignment

    call, officer = review_world["call"], review_world["officer"]
    expert = review_world["experts"]["battery"].user
    assignment.assignment_run(actor=officer, call=call)
    assert "reviews" not in _keys(expert)
    assignment.assignment_release(actor=officer, call=call)
    assert _keys(expert)["reviews"] == 1


def test_expiring_certificates_are_urgent_items_of_the_organisation(enterprise_user, organisation):
    today = dt.date.today()
    Certification.objects.create(organisation=organisation, kind="hnte", number="GR1", issued_on=today.replace(year=today.year - 3),
                                 expires_on=today + dt.timedelta(days=30))
    Certification.objects.create(organisation=organisation, kind="tech_sme", number="T1", issued_on=today,
                                 expires_on=today + dt.timedelta(days=365))
    items = {i.key: i for i in inbox.items_for(enterprise_user)}
    assert items["expiring_certificates"].count == 1 and items["expiring_certificates"].urgent
    assert inbox.items_for(enterprise_user)[0].key == "expiring_certificates"  # urgent first
    assert "expiring_certificates" not in _keys(make_user(Role.ENTERPRISE_USER))


def test_home_says_when_nothing_waits(client, enterprise_user):
    client.force_login(enterprise_user)
    assert 'data-testid="inbox-empty"' in client.get("/").content.decode()
    client.logout()
    assert 'data-testid="inbox"' not in client.get("/").content.decode()


@pytest.fixture
def searchable(university):
    enterprise = make_organisation(name="光明钙钛矿光伏公司", keywords="钙钛矿")
    person_create_unchecked(actor=None, data={"code": "T-PER-PVK", "name": "钙钛矿专家", "title": "研究员"})
    make_achievement(university, title="钙钛矿太阳能电池", abstract="高效钙钛矿电池。", keywords="钙钛矿")
    make_achievement(university, title="钙钛矿叠层电池（邀请可见）", abstract="保密。", keywords="钙钛矿", visibility="invited")
    make_demand(enterprise, title="钙钛矿组件封装", public_summary="寻求封装技术。", keywords="钙钛矿")
    return enterprise


def test_global_search_groups_results_by_kind_and_respects_visibility(client, searchable):
    user = make_user(Role.ENTERPRISE_USER, searchable)
    client.force_login(user)
    page = client.get(reverse("portal:search"), {"q": " 钙钛矿 "}).content.decode()
    for kind in ("organisations", "people", "achievements", "demands"):
        assert f'data-testid="search-group-{kind}"' in page, kind
    assert "钙钛矿太阳能电池" in page and "钙钛矿专家" in page
    assert "邀请可见" not in page  # an invited-only achievement of another organisation
    assert 'data-testid="search-group-tasks"' not in page  # enterprises do not monitor the plan


def test_global_search_shows_administrators_no_business_data(client, searchable, sysadmin):
    client.force_login(sysadmin)
    page = client.get(reverse("portal:search"), {"q": "钙钛矿"}).content.decode()
    assert 'data-testid="search-group-organisations"' not in page
    assert 'data-testid="search-group-people"' not in page
    assert "钙钛矿太阳能电池" in page  # public listings are public to everyone
    assert client.get(reverse("portal:search"), {"q": "不存在的词"}).content.decode().count('data-testid="search-nothing"') == 1


def test_global_search_needs_a_login_and_is_in_the_header(client, enterprise_user):
    assert client.get(reverse("portal:search"), {"q": "x"}).status_code == 302
    client.force_login(enterprise_user)
    assert 'data-testid="global-search"' in client.get("/").content.decode()
