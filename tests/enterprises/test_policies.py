"""Policy library: rules validated at save time, the live preview, 免申即享 list and its Excel
download, an enterprise's eligible / nearly-eligible policies, new-match notifications, calendar."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditAction, AuditEvent, Notification
from sciencecity.enterprises.models import Policy, PolicyMatch
from sciencecity.enterprises.policies import selectors, services
from tests.conftest import make_user
from tests.enterprises.policy_factories import certified_recently, make_enterprise

pytestmark = pytest.mark.django_db


def _values(**overrides):
    today = timezone.localdate()
    values = {"code": "P-001", "title": "研发投入补助", "issuer": "光明区科技创新局", "document_number": "深光科〔2026〕1号",
              "valid_from": today - dt.timedelta(days=30), "valid_until": today + dt.timedelta(days=300),
              "benefit": "按研发费用的10%补助，最高20万元", "amount_formula": "min(0.1 * rd_expense, 20)",
              "rule": "revenue >= 1000", "status": "published"}
    values.update(overrides)
    return values


@pytest.fixture
def enterprises(db):
    # A: 光明区, sales 5000, R&D 250 (5 %), 高新 since a year ago · B: 光明区, sales 800, R&D 10
    # C: 南山区, sales 3000, R&D 90 (3 %), 高新 · D: no figures at all (unknown)
    return {
        "A": make_enterprise(name="甲科技", sales="5000", rd="250", hnte_issued=certified_recently()),
        "B": make_enterprise(name="乙科技", sales="800", rd="10"),
        "C": make_enterprise(name="丙科技", district="南山区", sales="3000", rd="90", hnte_issued=certified_recently()),
        "D": make_enterprise(name="丁科技", sales=None),
    }


@pytest.mark.parametrize(("rule", "clause", "problem"), [
    ("revnue >= 1000", "revnue", "unknown field revnue (did you mean revenue?)"),
    ("revenue >= 1000 and district == 3", "district == 3", "compares text with a number"),
    ('revenue >= "很多"', 'revenue >= "很多"', "compares text with a number"),
    ("revenue >= 1000 and (staff <", ">= 1000 and (staff <", "expected a value or a condition"),
])
def test_a_refused_rule_names_the_clause_and_changes_nothing(bureau, rule, clause, problem):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.policy_create(actor=bureau, **_values(rule=rule))
    message = caught.value.message_dict["rule"][0]
    assert f"«{clause}»" in message and problem in message
    assert not Policy.objects.exists()
    assert not AuditEvent.objects.filter(object_type="enterprises.policy").exists()


def test_a_bad_amount_formula_is_refused_on_its_field(bureau):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.policy_create(actor=bureau, **_values(amount_formula="min(0.1 * district, 20)"))
    assert caught.value.message_dict["amount_formula"] == [
        "column 5, clause «0.1 * district»: * needs numbers (or a date ± days), got number and text"]


def test_only_bureau_officers_write_policies(enterprise_user):
    with pytest.raises(PermissionDenied):
        services.policy_create(actor=enterprise_user, **_values())


def test_create_and_update_are_audited(bureau):
    policy = services.policy_create(actor=bureau, **_values())
    services.policy_update(actor=bureau, policy=policy, rule="revenue >= 2000")
    events = AuditEvent.objects.filter(object_type="enterprises.policy", object_id=str(policy.pk)).order_by("id")
    assert [e.action for e in events] == [AuditAction.CREATE, AuditAction.UPDATE]
    assert events[1].changes["rule"] == ["revenue >= 1000", "revenue >= 2000"]


def test_preview_counts_follow_the_rule(enterprises):
    # sales ≥ 1000: A (5000), C (3000); B is 800; D unknown. One clause from it: B (false) and D (unknown)
    assert selectors.preview("revenue >= 1000") | {"sample": None} == {
        "eligible": 2, "unknown": 1, "nearly": 2, "enterprises": 4, "total_amount": None, "sample": None}
    assert selectors.preview('revenue >= 1000 and district == "光明区"')["eligible"] == 1
    assert selectors.preview("revenue >= 500")["eligible"] == 3
    assert selectors.preview('has_cert("hnte")')["eligible"] == 2
    # amounts: A min(25, 20) = 20, C min(9, 20) = 9
    assert selectors.preview("revenue >= 1000", "min(0.1 * rd_expense, 20)")["total_amount"] == 29


def test_eligible_list_and_excel_download(client, bureau, enterprises):
    policy = services.policy_create(actor=bureau, **_values())
    client.force_login(bureau)
    page = client.get(f"/enterprises/policies/{policy.pk}/eligible/")
    assert page.status_code == 200
    assert [r.name for r in page.context["rows"]] == ["丙科技", "甲科技"]
    response = client.get(f"/enterprises/policies/{policy.pk}/eligible/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("代码 / Code", "企业 / Enterprise", "预计金额（万元） / Estimated amount (10k CNY)")
    assert rows[1:] == [(enterprises["C"].code, "丙科技", 9), (enterprises["A"].code, "甲科技", 20)]
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="enterprises.policy").count() == 1


@pytest.mark.parametrize("who", ["anonymous", "enterprise", "department"])
def test_the_eligible_list_is_for_bureau_officers_only(client, bureau, enterprises, who):
    policy = services.policy_create(actor=bureau, **_values())
    if who == "enterprise":
        client.force_login(make_user(Role.ENTERPRISE_USER, enterprises["A"]))
    elif who == "department":
        client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    response = client.get(f"/enterprises/policies/{policy.pk}/eligible/?format=xlsx")
    assert response.status_code in ((302,) if who == "anonymous" else (403,))


def test_my_policies_lists_eligible_with_amount_and_nearly_with_unmet_clauses(client, bureau, enterprises):
    services.policy_create(actor=bureau, **_values())
    services.policy_create(actor=bureau, **_values(code="P-002", title="高企奖励", amount_formula="",
                                                   rule='revenue >= 2000 and has_cert("hnte")'))
    services.policy_create(actor=bureau, **_values(code="P-003", title="草稿政策", status="draft"))
    user = make_user(Role.ENTERPRISE_USER, enterprises["B"])
    client.force_login(user)
    with translation.override("en"):
        eligible, nearly = selectors.policies_for(enterprises["B"].pk)
    assert eligible == []
    assert [(m.policy.code, [u.clause for u in m.unmet]) for m in nearly] == [
        ("P-001", ["revenue >= 1000"]), ("P-002", ["revenue >= 2000", 'has_cert("hnte", on=today)'])]
    assert nearly[0].unmet[0].gap == 200  # 1000 − 800
    eligible, _nearly = selectors.policies_for(enterprises["A"].pk)
    assert [(m.policy.code, m.amount) for m in eligible] == [("P-001", 20.0), ("P-002", None)]
    page = client.get("/enterprises/my/policies/")
    assert page.status_code == 200
    assert "revenue &gt;= 1000" in page.content.decode()


def test_my_policies_needs_an_enterprise_user(client, bureau):
    client.force_login(bureau)
    assert client.get("/enterprises/my/policies/").status_code == 403


def test_new_matches_notify_once_and_vanished_ones_are_forgotten(bureau, enterprises):
    user_a = make_user(Role.ENTERPRISE_USER, enterprises["A"])
    policy = services.policy_create(actor=bureau, **_values(rule="revenue >= 4000"))
    counts = services.policy_matches_refresh(actor=bureau)
    assert counts == {"created": 1, "removed": 0, "notified": 1}
    assert list(PolicyMatch.objects.values_list("organisation_id", "amount")) == [(enterprises["A"].pk, 20)]
    assert Notification.objects.get(user=user_a).message.endswith("研发投入补助")
    assert services.policy_matches_refresh(actor=bureau) == {"created": 0, "removed": 0, "notified": 0}
    services.policy_update(actor=bureau, policy=policy, rule="revenue >= 2000")
    assert services.policy_matches_refresh(actor=bureau) == {"created": 1, "removed": 0, "notified": 0}  # C: no users
    services.policy_update(actor=bureau, policy=policy, rule="revenue >= 6000")
    assert services.policy_matches_refresh(actor=bureau)["removed"] == 2
    assert Notification.objects.filter(user=user_a).count() == 1


def test_calendar_places_a_window_in_every_month_it_touches(bureau):
    today = timezone.localdate()
    services.policy_create(actor=bureau, **_values(application_opens=dt.date(today.year, 3, 20),
                                                   application_closes=dt.date(today.year, 5, 10)))
    months = dict(selectors.calendar(today.year))
    assert [m for m, items in months.items() if items] == [3, 4, 5]


def test_editor_preview_fragment(client, bureau, enterprises):
    client.force_login(bureau)
    response = client.post("/enterprises/policies/preview/", {"rule": "revenue >= 1000"})
    assert response.status_code == 200
    assert b'data-testid="preview-eligible">2<' in response.content
    with translation.override("en"):
        response = client.post("/enterprises/policies/preview/", {"rule": "revenue >= 1000 and sector > 3"},
                               HTTP_ACCEPT_LANGUAGE="en")
    assert "preview-error" in response.content.decode()


def test_api_preview_create_and_my_policies(client, bureau, enterprises):
    client.force_login(bureau)
    response = client.post("/api/enterprises/policies/preview", {"rule": "revenue >= 1000"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["eligible"] == 2
    response = client.post("/api/enterprises/policies/preview", {"rule": "revenu >= 1000"},
                           content_type="application/json")
    assert response.status_code in (400, 422)
    assert "revenu" in response.content.decode()
    payload = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in _values().items()}
    response = client.post("/api/enterprises/policies", payload, content_type="application/json")
    assert response.status_code == 201
    policy_id = response.json()["id"]
    assert client.get(f"/api/enterprises/policies/{policy_id}/eligible").json()[0]["name"] == "丙科技"
    client.force_login(make_user(Role.ENTERPRISE_USER, enterprises["A"]))
    mine = client.get("/api/enterprises/my/policies").json()
    assert [(m["policy"]["code"], m["amount"]) for m in mine["eligible"]] == [("P-001", 20.0)]
    assert client.get(f"/api/enterprises/policies/{policy_id}/eligible").status_code == 403


def test_header_shows_the_unread_notification_count(client, bureau, enterprises):
    user = make_user(Role.ENTERPRISE_USER, enterprises["A"])
    services.policy_create(actor=bureau, **_values())
    services.policy_matches_refresh(actor=bureau)
    client.force_login(user)
    page = client.get("/enterprises/my/policies/").content.decode()
    assert 'data-testid="unread-count">1<' in page


def test_the_cached_table_follows_every_change_of_the_data(enterprises):
    from sciencecity.enterprises.models import FiscalYear
    from sciencecity.registry.models import Certification

    assert selectors.preview("revenue >= 1000")["eligible"] == 2
    assert selectors.enterprise_table() is selectors.enterprise_table()  # unchanged data: the same table
    year = FiscalYear.objects.get(profile__organisation=enterprises["B"])
    year.main_revenue = 1500
    year.save()
    assert selectors.preview("revenue >= 1000")["eligible"] == 3
    Certification.objects.create(organisation=enterprises["B"], kind="hnte", number="GR-B",
                                 issued_on=certified_recently())
    assert selectors.preview('has_cert("hnte")')["eligible"] == 3
    enterprises["B"].district = "南山区"
    enterprises["B"].save()
    assert selectors.preview('district == "光明区"')["eligible"] == 2  # A and D


def _records(columns) -> dict[str, dict]:
    return {columns.codes[i]: columns.table.record(i) for i in range(columns.table.n)}


def test_after_a_change_only_the_changed_enterprises_are_read_again(enterprises):
    """The incremental update: the table after each kind of change (edit, deletion, new enterprise, removed
    profile, new text value) reads only the enterprises concerned and equals a full build."""
    from sciencecity.enterprises.models import EnterpriseProfile, FiscalYear, IntellectualProperty

    selectors._cache.clear()
    assert selectors.enterprise_table().reloaded == 4
    year = FiscalYear.objects.get(profile__organisation=enterprises["B"])
    year.main_revenue = 1500
    year.save()
    changes = [
        lambda: IntellectualProperty.objects.create(profile=enterprises["A"].enterprise_profile, ip_class="I",
                                                    kind="invention_patent"),
        lambda: IntellectualProperty.objects.filter(profile__organisation=enterprises["A"]).delete(),
        lambda: make_enterprise(name="戊科技", district="宝安区", sales="2000"),  # a district never seen before
        lambda: EnterpriseProfile.objects.filter(organisation=enterprises["C"]).delete(),
    ]
    patched = selectors.enterprise_table()
    assert patched.reloaded == 1
    assert _records(patched) == _records(selectors._build_table(patched.today, None))
    for change in changes:
        change()
        patched = selectors.enterprise_table()
        assert patched.reloaded <= 1
        assert _records(patched) == _records(selectors._build_table(patched.today, None))
    assert patched.table.n == 4  # A, B, D and 戊; C has no profile any more
    assert selectors.preview('district == "宝安区"')["eligible"] == 1
    counts = selectors.preview("revenue >= 1000")
    assert counts["eligible"] == 3  # A, B (now 1500), 戊
    assert counts["sample"] == sorted(["甲科技", "乙科技", "戊科技"])  # by name, though B and 戊 were appended
