"""Matching never silently empty (issue 11 item 1): which hard filter removed how many, one-click
relaxation, experts shown by name, organisations not matched on lone characters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.transfer.services import matching
from tests.conftest import make_organisation, make_person, make_user
from tests.transfer.conftest import make_achievement, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(university):
    """A demand asking TRL ≥ 7 and joint development: both battery achievements match its text, neither
    its filters — the licence one (TRL 6) fails both, the joint-development one (TRL 4) only the TRL."""
    enterprise = make_organisation(name="光明电池科技有限公司")
    licence = make_achievement(university, title="硅碳负极材料", abstract="锂离子电池硅碳复合负极材料，循环寿命长。",
                               trl=6, modes=["licence"], sectors=["IND-BATTERY"])
    joint = make_achievement(university, title="负极材料预锂化工艺", abstract="锂离子电池负极材料预锂化，提高首效。",
                             trl=4, modes=["co_development"], sectors=["IND-BATTERY"])
    demand = make_demand(enterprise, title="锂离子电池负极材料升级", public_summary="寻找锂离子电池负极材料技术。",
                         min_trl=7, modes=["co_development"], sectors=["IND-BATTERY"])
    user = make_user(Role.ENTERPRISE_USER, enterprise)
    return {"licence": licence, "joint": joint, "demand": demand, "user": user}


def test_filters_that_empty_the_matches_are_counted(strict):
    demand, user = strict["demand"], strict["user"]
    assert matching.matches_for_demand(demand, user=user)["achievements"] == []
    assert matching.demand_removals(demand, user=user) == {"trl": 2, "modes": 1}


def test_relaxing_a_filter_brings_back_what_it_removed(strict):
    demand, user = strict["demand"], strict["user"]
    found = matching.matches_for_demand(demand, user=user, relax=["trl"])["achievements"]
    assert [r.id for r in found] == [strict["joint"].pk]
    assert matching.demand_removals(demand, user=user, relax=["trl"]) == {"modes": 1}
    both = matching.matches_for_demand(demand, user=user, relax=["trl", "modes"])["achievements"]
    assert {r.id for r in both} == {strict["licence"].pk, strict["joint"].pk}
    assert matching.matches_for_demand(demand, user=user, relax=["nonsense"])["achievements"] == []


def test_demand_page_explains_the_empty_list_and_relaxes_in_one_click(client, strict):
    client.force_login(strict["user"])
    url = reverse("transfer:demand_detail", args=[strict["demand"].pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="explained-empty-achievements"' in page
    assert "2 项被“最低技术就绪度”排除" in page and "1 项被“转化方式”排除" in page
    assert f'href="{url}?relax=trl"' in page
    assert f'href="{url}?relax=modes"' in page
    relaxed = client.get(f"{url}?relax=trl").content.decode()
    assert f'data-testid="match-achievements-{strict["joint"].pk}"' in relaxed
    assert 'data-testid="relaxed"' in relaxed
    assert f'data-testid="interest-{strict["joint"].pk}"' in relaxed


def test_expert_matches_show_the_name_with_the_title_beside_it(strict):
    expert = make_person(name="王明", title="研究员", expertise=["锂离子电池", "负极材料"])
    experts = matching.matches_for_demand(strict["demand"], user=strict["user"])["experts"]
    assert [r.id for r in experts] == [expert.pk]
    assert experts[0].as_dict()["title"] == "王明（研究员）"
    assert "王明" in str(experts[0].title_html)


def test_organisations_do_not_match_on_lone_characters(university):
    enterprise = make_organisation(name="光明传感科技有限公司")
    make_organisation(kind="major_facility", name="高能同步辐射光源", keywords="线站",
                      description="高能同步辐射光源实验线站，面向材料结构表征。")
    sensor_lab = make_organisation(kind="laboratory", name="精密测量实验室", keywords="传感器 标定",
                                   description="高精度传感器标定与测试。")
    demand = make_demand(enterprise, title="高精度传感器产线升级", public_summary="寻求高精度传感器产线升级方案。")
    user = make_user(Role.ENTERPRISE_USER, enterprise)
    found = matching.matches_for_demand(demand, user=user)["organisations"]
    assert [r.id for r in found] == [sensor_lab.pk]


def test_list_filters_that_leave_nothing_are_explained_with_relax_links(client, strict):
    url = reverse("transfer:achievement_list")
    page = client.get(url, {"q": "负极", "sector": "IND-AI"}).content.decode()
    assert 'data-testid="explained-empty"' in page
    assert f'href="{url}?q=%E8%B4%9F%E6%9E%81"' in page  # dropping the field shows the two achievements
    assert "2 removed by" in page


def test_marketplace_search_explains_an_empty_field_filter(client, strict):
    url = reverse("transfer:search")
    page = client.get(url, {"q": "负极材料", "kind": "achievements", "sector": "IND-AI"},
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 removed by “field”" in page
    assert 'data-testid="relax"' in page


def test_api_says_what_each_filter_removed_and_relaxes_on_request(client, strict):
    client.force_login(strict["user"])
    pk = strict["demand"].pk
    assert client.get(f"/api/transfer/demands/{pk}/matches/removed").json() == {
        "achievements": {"trl": 2, "modes": 1}}
    assert client.get(f"/api/transfer/demands/{pk}/matches").json()["achievements"] == []
    relaxed = client.get(f"/api/transfer/demands/{pk}/matches?relax=trl").json()["achievements"]
    assert [r["id"] for r in relaxed] == [strict["joint"].pk]
    both = client.get(f"/api/transfer/demands/{pk}/matches?relax=trl&relax=modes").json()["achievements"]
    assert {r["id"] for r in both} == {strict["licence"].pk, strict["joint"].pk}
    assert client.get(f"/api/transfer/demands/{pk}/matches?relax=everything").status_code == 422
    client.force_login(make_user(Role.ENTERPRISE_USER))  # not the owner
    assert client.get(f"/api/transfer/demands/{pk}/matches/removed").status_code in (403, 404)
