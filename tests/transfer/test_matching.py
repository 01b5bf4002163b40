"""Matching: ranked and explained in both directions, filters, incremental index, feedback, notifications."""

from __future__ import annotations

import pytest
from django.utils import translation

from sciencecity.accounts.choices import Role
from sciencecity.core.models import Notification
from sciencecity.transfer.services import listings, matching
from tests.conftest import make_organisation, make_person, make_user
from tests.transfer.conftest import make_achievement, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_demand_gets_the_relevant_achievement_first_with_explanations(market, university):
    user = make_user(Role.ENTERPRISE_USER, market["enterprise"])
    results = matching.matches_for_demand(market["demand"], user=user)["achievements"]
    assert [r.id for r in results] == [market["battery"].pk]
    best = results[0]
    assert {"负极", "负极材料", "锂离子电池"} <= set(best.shared_terms)
    assert best.title_html == "高能量密度<mark>硅</mark><mark>碳</mark><mark>负极材料</mark>"
    assert "<mark>锂离子电池</mark>" in best.snippet_html
    assert any(r.startswith("Shared terms: ") for r in best.reasons)
    assert "Same field: 锂离子电池材料" in best.reasons
    assert "TRL 6 meets the minimum 5" in best.reasons
    assert "Transfer modes: Licence (许可)" in best.reasons


def test_filters_exclude_low_trl_and_other_modes(market):
    """The separator shares words but has TRL 4 < 5 and offers joint development only."""
    results = matching.ranked("achievements", "锂电池 隔膜 负极", user=None, restrict_visibility=False,
                              constraints=matching.demand_constraints(market["demand"]))
    assert market["separator"].pk not in [r.id for r in results]
    unfiltered = matching.ranked("achievements", "锂电池 隔膜 负极", restrict_visibility=False)
    assert market["separator"].pk in [r.id for r in unfiltered]
    listings.demand_update_unchecked(actor=None, demand=market["demand"], data={"min_trl": 3, "modes": []})
    results = matching.ranked("achievements", "锂电池 隔膜 负极", restrict_visibility=False,
                              constraints=matching.demand_constraints(market["demand"]))
    assert market["separator"].pk in [r.id for r in results]


def test_achievement_gets_demands_and_enterprises(market, university):
    market["enterprise"].keywords = "锂离子电池 负极材料 生产"
    market["enterprise"].save()
    result = matching.matches_for_achievement(market["battery"], user=None)
    assert [r.id for r in result["demands"]] == [market["demand"].pk]
    assert "TRL 6 meets the demand's minimum 5" in result["demands"][0].reasons
    assert [r.id for r in result["enterprises"]] == [market["enterprise"].pk]


def test_demand_gets_experts_and_supplier_organisations(market):
    expert = make_person(name="李负极", expertise=["硅碳负极", "锂离子电池"])
    make_person(name="王视觉", expertise=["机器视觉"])
    institute = make_organisation(kind="research_institute", name="电池研究院", keywords="锂离子电池 负极材料")
    result = matching.matches_for_demand(market["demand"], user=None)
    assert [r.id for r in result["experts"]] == [expert.pk]
    assert [r.id for r in result["organisations"]] == [institute.pk]


def test_update_changes_results_without_rebuild(market):
    before = matching.search("钙钛矿", kind="achievements", restrict_visibility=False)
    assert before == []
    holder = matching.source_index("achievements")
    builds = holder.builds
    listings.achievement_update_unchecked(actor=None, achievement=market["vision"],
                                data={"title": "钙钛矿太阳能电池", "abstract": "高效钙钛矿叠层电池。"})
    after = matching.search("钙钛矿", kind="achievements", restrict_visibility=False)
    assert [r.id for r in after] == [market["vision"].pk]
    assert matching.source_index("achievements").builds == builds
    listings.achievement_close_unchecked(actor=None, achievement=market["vision"])
    assert matching.search("钙钛矿", kind="achievements", restrict_visibility=False) == []
    assert matching.source_index("achievements").builds == builds


def test_other_process_catches_up_from_the_database(market, settings):
    """A write this process did not see (another worker) is picked up by the staleness check."""
    from sciencecity.transfer.models import Achievement

    settings.TRANSFER_INDEX_STALENESS_SECONDS = 0
    holder = matching.source_index("achievements")
    Achievement.objects.filter(pk=market["vision"].pk).update(title="量子点显示材料", abstract="量子点。")
    Achievement.objects.filter(pk=market["vision"].pk).update(keywords="量子点")  # bumps nothing: update()
    from django.utils import timezone

    Achievement.objects.filter(pk=market["vision"].pk).update(updated_at=timezone.now())
    results = matching.search("量子点", kind="achievements", restrict_visibility=False)
    assert [r.id for r in results] == [market["vision"].pk]
    assert holder.builds == matching.source_index("achievements").builds
    assert matching.source_index("achievements").catch_ups >= 1


def test_feedback_not_relevant_demotes_for_that_user_only(university):
    enterprise = make_organisation()
    first = make_achievement(university, title="石墨烯导热膜", abstract="石墨烯导热膜 散热 手机", trl=6)
    second = make_achievement(university, title="石墨烯散热涂料", abstract="石墨烯 涂料 散热", trl=6)
    demand = make_demand(enterprise, title="石墨烯导热散热方案", public_summary="手机散热用石墨烯导热膜")
    alice = make_user(Role.ENTERPRISE_USER, enterprise)
    bob = make_user(Role.ENTERPRISE_USER, enterprise)
    ids = [r.id for r in matching.matches_for_demand(demand, user=alice)["achievements"]]
    assert ids == [first.pk, second.pk]
    listings.feedback_set(actor=alice, label="not_relevant", demand=demand, achievement=first)
    assert [r.id for r in matching.matches_for_demand(demand, user=alice)["achievements"]] == [second.pk, first.pk]
    assert [r.id for r in matching.matches_for_demand(demand, user=bob)["achievements"]] == [first.pk, second.pk]


def test_new_achievement_notifies_the_owner_of_a_matching_demand(university):
    enterprise = make_organisation()
    owner = make_user(Role.ENTERPRISE_USER, enterprise)
    stranger = make_user(Role.ENTERPRISE_USER, make_organisation())
    demand = make_demand(enterprise, title="钠离子电池正极材料", public_summary="寻找低成本钠离子电池正极材料")
    make_demand(make_organisation(), title="智慧农业传感器", public_summary="土壤湿度传感器")
    assert Notification.objects.count() == 0
    new = make_achievement(university, title="钠离子电池层状氧化物正极", abstract="低成本钠离子电池正极材料制备工艺")
    notes = list(Notification.objects.all())
    assert [(n.user, n.url) for n in notes] == [(owner, f"/transfer/achievements/{new.pk}/")]
    assert notes[0].message == f"New achievement “{new.title}” matches your demand “{demand.title}”."
    assert not Notification.objects.filter(user=stranger).exists()


def test_invited_achievement_notifies_only_invited_owners(university):
    enterprise = make_organisation()
    make_user(Role.ENTERPRISE_USER, enterprise)
    make_demand(enterprise, title="钠离子电池正极材料", public_summary="寻找低成本钠离子电池正极材料")
    make_achievement(university, title="钠离子电池正极", abstract="钠离子电池正极材料", visibility="invited")
    assert Notification.objects.count() == 0
