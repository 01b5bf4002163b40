"""Topic watch (科技情报): items over achievements, demands and funded projects, trends, alerts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone, translation

from sciencecity.accounts.choices import Role
from sciencecity.core.models import Notification
from sciencecity.transfer.models import TopicWatch
from sciencecity.transfer.services import watch
from tests.conftest import make_organisation, make_user
from tests.transfer.conftest import make_achievement, make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _project(organisation, title, abstract):
    """A funded project straight in the database (read-only source of the watch)."""
    from sciencecity.programmes.models import Application, Call, FundedProject

    call = Call.objects.create(code=f"C-{title[:4]}", title="指南", mechanism="competitive", state="panel",
                               opens_on=dt.date(2024, 1, 1), closes_on=dt.date(2024, 3, 1))
    application = Application.objects.create(call=call, reference=f"R-{title[:4]}", organisation=organisation,
                                             title=title, abstract=abstract, requested_amount=100)
    return FundedProject.objects.create(application=application, code=f"P-{title[:4]}", amount=100,
                                        start_date=dt.date(2024, 6, 1), end_date=dt.date(2026, 6, 1))


def test_watch_items_trends_and_page(client, university):
    user = make_user(Role.ENTERPRISE_USER, make_organisation())
    achievement = make_achievement(university, title="固态电池电解质", abstract="硫化物固态电池电解质", sectors=["IND-BATTERY"])
    demand = make_demand(make_organisation(name="电池企业"), title="固态电池量产", public_summary="固态电池量产工艺")
    make_achievement(university, title="机器视觉", abstract="缺陷检测")
    project = _project(university, "全固态电池关键材料", "固态电池 电解质 界面")
    topic = watch.watch_create(actor=user, name="固态电池", query="固态电池")
    items = watch.watch_items(topic, user=user)
    assert [r.id for r in items["achievements"]] == [achievement.pk]
    assert [r.id for r in items["demands"]] == [demand.pk]
    assert [r.id for r in items["projects"]] == [project.pk]
    trends = watch.watch_trends(topic, user=user)
    year = str(timezone.now().year)
    assert trends["years"]["labels"] == sorted({"2024", year})
    by_kind = {d["label"]: d["data"] for d in trends["years"]["datasets"]}
    assert sum(by_kind["Achievements"]) == 1 and sum(by_kind["Funded projects"]) == 1
    assert trends["fields"] == {"labels": ["锂离子电池材料"], "data": [1]}
    assert trends["organisations"]["labels"][0] == university.name and trends["organisations"]["data"][0] == 2
    client.force_login(user)
    page = client.get(f"/transfer/watch/{topic.pk}/").content.decode()
    assert 'id="trend-years"' in page and "chart.umd.min.js" in page
    data = json.loads(page.split('<script id="trend-data" type="application/json">')[1].split("</script>")[0])
    assert [d["data"] for d in data["years"]["datasets"]] == [d["data"] for d in trends["years"]["datasets"]]
    assert (data["fields"], data["organisations"]) == (trends["fields"], trends["organisations"])
    other = make_user(Role.ENTERPRISE_USER, make_organisation())
    client.force_login(other)
    assert client.get(f"/transfer/watch/{topic.pk}/").status_code == 404


def test_create_through_the_page_and_alert_on_new_matching_listing(client, university):
    user = make_user(Role.ENTERPRISE_USER, make_organisation())
    client.force_login(user)
    response = client.post("/transfer/watch/", {"name": "钠电", "query": "钠离子电池", "sector": "IND-BATTERY"})
    topic = TopicWatch.objects.get()
    assert response.status_code == 302 and (topic.user, topic.sector.code) == (user, "IND-BATTERY")
    make_achievement(university, title="钠离子电池正极", abstract="层状氧化物", sectors=["IND-AI"])  # other field
    make_achievement(university, title="钙钛矿电池", abstract="钙钛矿", sectors=["IND-BATTERY"])  # other topic
    make_achievement(university, title="钠离子电池负极", abstract="硬碳", sectors=["IND-BATTERY"], visibility="invited")
    assert Notification.objects.count() == 0
    new = make_achievement(university, title="钠离子电池硬碳负极", abstract="低成本硬碳", sectors=["IND-BATTERY"])
    note = Notification.objects.get()
    assert (note.user, note.url) == (user, f"/transfer/achievements/{new.pk}/")
    assert note.message == "Topic “钠电”: new item “钠离子电池硬碳负极”."


def test_watch_alerts_run_covers_funded_projects(university):
    user = make_user(Role.ENTERPRISE_USER, make_organisation())
    topic = watch.watch_create(actor=user, name="脑机", query="脑机接口")
    TopicWatch.objects.filter(pk=topic.pk).update(last_alerted_at=timezone.now() - dt.timedelta(hours=1))
    _project(university, "脑机接口芯片", "柔性脑机接口电极")
    _project(university, "合成生物底盘", "底盘细胞")
    assert watch.watch_alerts_run() == 1
    assert Notification.objects.get().message == "Topic “脑机”: new item “脑机接口芯片”."
    assert watch.watch_alerts_run() == 0
