import pytest
from django.urls import reverse

from sciencecity.core.models import AuditEvent
from sciencecity.registry.models import Organisation, Sector, StatusChange
from sciencecity.registry.services import organisation_create, organisation_update
from tests.conftest import make_organisation


def test_officer_creates_an_organisation_through_the_form_and_it_is_audited(client, bureau):
    client.force_login(bureau)
    response = client.post(reverse("registry:organisation_create"), {
        "name": "深圳市光明区示例科技有限公司", "name_en": "Example Tech", "kind": "enterprise", "level": "none",
        "status": "operating", "credit_code": "91440300708461136T", "sectors": [Sector.objects.get(code="IND-AI").pk],
        "aliases": "示例科技\nExample", "district": "光明区",
    })
    org = Organisation.objects.get(name="深圳市光明区示例科技有限公司")
    assert response.status_code == 302 and response["Location"] == reverse("registry:organisation_detail", args=[org.pk])
    assert org.code == f"ORG{org.pk:07d}"
    assert sorted(org.aliases.values_list("name", flat=True)) == ["Example", "示例科技"]
    event = AuditEvent.objects.get(action="create", object_type="registry.organisation", object_id=str(org.pk))
    assert event.actor == bureau
    assert event.changes["name"] == [None, "深圳市光明区示例科技有限公司"]
    assert event.changes["credit_code"] == [None, "91440300708461136T"]
    assert event.request_id and event.ip == "127.0.0.1"
    assert StatusChange.objects.filter(organisation=org, to_status="operating").count() == 1


def test_bad_credit_code_in_the_form_names_the_field_and_writes_nothing(client, bureau):
    client.force_login(bureau)
    events = AuditEvent.objects.count()
    response = client.post(reverse("registry:organisation_create"), HTTP_ACCEPT_LANGUAGE="en", data={
        "name": "坏代码公司", "kind": "enterprise", "level": "none", "status": "operating",
        "credit_code": "91440300708461136A",
    })
    assert response.status_code == 200
    assert "credit_code" in response.context["form"].errors
    assert "expected T" in str(response.context["form"].errors["credit_code"])
    assert not Organisation.objects.filter(name="坏代码公司").exists()
    assert AuditEvent.objects.count() == events


def test_duplicate_credit_code_is_refused(bureau):
    organisation_create(actor=bureau, data={"name": "甲", "kind": "enterprise", "credit_code": "91440300708461136T"})
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        organisation_create(actor=bureau, data={"name": "乙", "kind": "enterprise", "credit_code": "91440300708461136t"})
    assert "credit_code" in exc.value.message_dict
    assert Organisation.objects.filter(name="乙").count() == 0


def test_status_change_is_recorded_in_history_and_audit(bureau):
    org = organisation_create(actor=bureau, data={"name": "在建设施", "kind": "major_facility", "status": "under_construction"})
    changes = organisation_update(actor=bureau, organisation=org, data={"status": "operating"}, reason="验收")
    assert changes == {"status": ["under_construction", "operating"]}
    history = list(org.status_history.order_by("id").values_list("from_status", "to_status", "note"))
    assert history == [("", "under_construction", ""), ("under_construction", "operating", "验收")]
    assert organisation_update(actor=bureau, organisation=org, data={"status": "operating"}) == {}


@pytest.mark.parametrize(("query", "expected"), [
    ("光明", {"光明科学城大数据中心", "光明实验室", "光明区科技创新局"}),
    ("大数据", {"光明科学城大数据中心"}),
    ("big data", {"光明科学城大数据中心"}),
    ("BIG", {"光明科学城大数据中心"}),
    ("实验室 光明", {"光明实验室"}),
    ("别名检索", {"光明实验室"}),
])
def test_search_in_chinese_and_english(client, bureau, query, expected):
    organisation_create(actor=bureau, data={"name": "光明科学城大数据中心", "name_en": "Guangming Science City Big Data Centre",
                                            "kind": "research_platform"})
    organisation_create(actor=bureau, data={"name": "光明实验室", "kind": "laboratory", "aliases": ["别名检索"]})
    organisation_create(actor=bureau, data={"name": "无关企业", "kind": "enterprise"})
    client.force_login(bureau)
    page = client.get(reverse("registry:organisation_list"), {"q": query}).context["page"]
    assert {o.name for o in page} == expected
    api = client.get("/api/registry/organisations", {"q": query}).json()
    assert {o["name"] for o in api["items"]} == expected and api["count"] == len(expected)


def test_filters_combine(client, bureau):
    ai = Sector.objects.get(code="IND-AI")
    a = make_organisation(name="甲", kind="laboratory", level="municipal")
    a.sectors.add(ai)
    make_organisation(name="乙", kind="laboratory", level="district")
    make_organisation(name="丙", kind="enterprise", level="municipal")
    client.force_login(bureau)
    body = client.get("/api/registry/organisations", {"kind": "laboratory", "level": "municipal", "sector": "IND-AI"}).json()
    assert [o["name"] for o in body["items"]] == ["甲"]
    assert body["items"][0]["sectors"] == ["IND-AI"]


def test_list_queries_do_not_grow_with_rows(client, bureau, django_assert_max_num_queries):
    for i in range(60):
        make_organisation(name=f"机构{i:02d}").sectors.add(Sector.objects.get(code="IND-AI"))
    client.force_login(bureau)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("registry:organisation_list")).status_code == 200
    with django_assert_max_num_queries(8):
        assert len(client.get("/api/registry/organisations", {"page_size": 100}).json()["items"]) == 61


def test_synthetic_rows_are_labelled(client, bureau):
    make_organisation(name="合成机构", is_synthetic=True)
    client.force_login(bureau)
    html = client.get(reverse("registry:organisation_list")).content.decode()
    assert "badge-synthetic" in html
