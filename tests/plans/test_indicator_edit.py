"""Indicator metadata editing: the indicator_update service, the indicator page and PATCH /api/plans/indicators/{id}."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.plans import selectors
from sciencecity.plans.demo import generate_values
from sciencecity.plans.models import Indicator, TargetValue
from sciencecity.plans.services import indicator_update
from sciencecity.registry.models import Organisation

ACTORS = ["anonymous", "enterprise", "department", "bureau", "sysadmin", "secadmin", "auditadmin"]


def target_rows(indicator) -> list[tuple]:
    return list(TargetValue.objects.filter(indicator=indicator).values_list("year", "value", "low", "high",
                                                                            "comparator"))


def dashboard_row(plan, number: int):
    return next(r for r in selectors.dashboard(plan)["rows"] if r.indicator.number == number)


@pytest.fixture
def patents(plan):
    """Indicator 3, 每万人发明专利拥有量: target 136 件 in 2025."""
    return Indicator.objects.get(plan=plan, number=3)


def test_metadata_edit_without_target_change_needs_no_reason_and_is_audited(plan, plan_bureau, patents):
    tjj = Organisation.objects.get(code="GOV-TJJ")
    old_owner = patents.owner_department_id
    changes = indicator_update(actor=plan_bureau, indicator=patents, data={
        "unit": "件/万人", "direction": "higher", "attribute": "约束性", "data_source": "区市场监管局年报",
        "owner_department": tjj, "source_key": "registry.hnte",
    })
    assert changes == {
        "attribute": ["预期性", "约束性"], "data_source": ["", "区市场监管局年报"],
        "owner_department": [old_owner, tjj.pk], "source_key": ["", "registry.hnte"], "unit": ["件", "件/万人"],
    }
    patents.refresh_from_db()
    assert (patents.unit, patents.attribute, patents.data_source, patents.owner_department_id, patents.source_key) == (
        "件/万人", "约束性", "区市场监管局年报", tjj.pk, "registry.hnte")
    assert target_rows(patents) == [(2025, 136.0, None, None, "eq")]
    event = AuditEvent.objects.get(object_type="plans.indicator", object_id=str(patents.pk))
    assert event.action == AuditAction.UPDATE and event.actor_id == plan_bureau.pk
    assert event.changes == changes and event.reason == ""
    # saving the same data again changes nothing and records nothing
    assert indicator_update(actor=plan_bureau, indicator=patents, data={"unit": "件/万人", "source_key": "registry.hnte"}) == {}
    assert AuditEvent.objects.filter(object_type="plans.indicator").count() == 1


def test_target_change_requires_a_reason_and_writes_nothing_without_one(plan, plan_bureau, patents):
    for data in ({"target_value": 120}, {"target_year": 2024}, {"comparator": "ge"}):
        with translation.override("en"), pytest.raises(ValidationError) as excinfo:
            indicator_update(actor=plan_bureau, indicator=patents, data={**data, "unit": "件/万人"}, reason="  ")
        assert excinfo.value.message_dict == {"reason": ["Changing the target of an indicator needs a reason."]}
    patents.refresh_from_db()
    assert (patents.unit, patents.comparator, patents.target_year) == ("件", "eq", 2025)
    assert target_rows(patents) == [(2025, 136.0, None, None, "eq")]
    assert not AuditEvent.objects.filter(object_type="plans.indicator").exists()


def test_lowering_a_target_makes_the_indicator_achieved_on_the_dashboard(plan, plan_bureau, patents):
    generate_values()
    before = dashboard_row(plan, 3)
    assert before.assessment.status == "off_track"
    latest = before.latest.value
    changes = indicator_update(actor=plan_bureau, indicator=patents, data={"target_value": 120.0},
                               reason="区政府调整目标")
    assert changes == {"target_value": [136.0, 120.0]}
    after = dashboard_row(plan, 3)
    assert after.assessment.status == "achieved"
    assert after.target_display == "120"
    with translation.override("en"):
        assert selectors.reason_text(after.assessment, patents.unit) == (
            f"{latest:g} 件 in 2024 already meets the target 120.")  # the demo's 2025 values await approval
    assert AuditEvent.objects.get(object_type="plans.indicator").reason == "区政府调整目标"


def test_target_year_moves_the_target_row_and_range_targets_are_checked(plan, plan_bureau, patents):
    indicator_update(actor=plan_bureau, indicator=patents, data={"target_year": 2026}, reason="延期")
    assert target_rows(patents) == [(2026, 136.0, None, None, "eq")]
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            indicator_update(actor=plan_bureau, indicator=patents, data={"comparator": "range", "target_low": 130},
                             reason="区间")
        assert excinfo.value.message_dict == {"target_low": ["A range target needs a low and a high value."]}
        with pytest.raises(ValidationError) as excinfo:
            indicator_update(actor=plan_bureau, indicator=patents,
                             data={"comparator": "range", "target_low": 140, "target_high": 130}, reason="区间")
        assert excinfo.value.message_dict == {"target_high": ["The high value of the range is below its low value."]}
    changes = indicator_update(actor=plan_bureau, indicator=patents, reason="区间",
                               data={"comparator": "range", "target_value": None, "target_low": 130,
                                     "target_high": 140})
    assert changes == {"comparator": ["eq", "range"], "target_high": [None, 140.0], "target_low": [None, 130.0],
                       "target_value": [136.0, None]}
    assert target_rows(patents) == [(2026, None, 130.0, 140.0, "range")]


def test_invalid_metadata_is_refused(plan, plan_bureau, patents, organisation):
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            indicator_update(actor=plan_bureau, indicator=patents, data={"source_key": "nowhere.count"})
        assert excinfo.value.message_dict == {"source_key": ["“nowhere.count” is not a registry computation."]}
        with pytest.raises(ValidationError) as excinfo:
            indicator_update(actor=plan_bureau, indicator=patents, data={"owner_department": organisation})
        assert excinfo.value.messages == [f"{organisation.name} is not a government department."]
        with pytest.raises(ValidationError) as excinfo:
            indicator_update(actor=plan_bureau, indicator=patents, data={"direction": "sideways"})
        assert list(excinfo.value.message_dict) == ["direction"]
    patents.refresh_from_db()
    assert (patents.source_key, patents.direction) == ("", "higher")


def test_only_the_bureau_may_edit(plan, actors, patents):
    for name in ("enterprise", "department", "sysadmin", "secadmin", "auditadmin"):
        with pytest.raises(PermissionDenied):
            indicator_update(actor=actors[name], indicator=patents, data={"unit": "x"})
    assert Indicator.objects.get(pk=patents.pk).unit == "件"


def test_indicator_page_shows_source_and_computation_with_provenance(client, plan, plan_bureau):
    carriers = Indicator.objects.get(plan=plan, number=4)
    indicator_update(actor=plan_bureau, indicator=carriers, data={"data_source": "区科技创新局载体台账"})
    client.force_login(plan_bureau)
    html = client.get(reverse("plans:indicator_detail", args=[carriers.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="indicator-data-source">区科技创新局载体台账</dd>' in html
    computation = html.split('data-testid="indicator-computation">', 1)[1].split("</dd>", 1)[0]
    assert "<code>registry.carriers</code>" in computation and "Provenance: " in computation
    assert 'data-testid="indicator-edit"' in html


def test_edit_form_on_the_indicator_page(client, plan, plan_bureau, patents):
    client.force_login(plan_bureau)
    url = reverse("plans:indicator_detail", args=[patents.pk])
    form = {"form": "metadata", "m-unit": "件", "m-direction": "higher", "m-comparator": "ge", "m-target_value": "120",
            "m-target_year": "2025", "m-attribute": "预期性", "m-data_source": "统计公报",
            "m-owner_department": str(patents.owner_department_id), "m-source_key": "", "m-reason": ""}
    response = client.post(url, form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert escape("Changing the target of an indicator needs a reason.") in response.content.decode()
    assert target_rows(patents) == [(2025, 136.0, None, None, "eq")]
    response = client.post(url, {**form, "m-reason": "区政府调整目标"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == url
    assert target_rows(patents) == [(2025, 120.0, None, None, "ge")]
    patents.refresh_from_db()
    assert (patents.comparator, patents.data_source) == ("ge", "统计公报")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Indicator updated." in page


PAGE = {"anonymous": "login", "enterprise": 403, "department": 403, "bureau": 302,
        "sysadmin": 403, "secadmin": 403, "auditadmin": 403}
API = {"anonymous": 401, "enterprise": 403, "department": 403, "bureau": 200,
       "sysadmin": 403, "secadmin": 403, "auditadmin": 403}


@pytest.mark.parametrize("actor", ACTORS)
def test_edit_permission_matrix_page_and_api(client, plan, actors, patents, actor):
    if actors[actor]:
        client.force_login(actors[actor])
    url = reverse("plans:indicator_detail", args=[patents.pk])
    if actor in ("enterprise", "department", "bureau"):
        html = client.get(url).content.decode()
        assert ('data-testid="indicator-edit"' in html) == (actor == "bureau")
    response = client.post(url, {"form": "metadata", "m-unit": "件/万人", "m-direction": "higher",
                                 "m-comparator": "eq", "m-target_value": "136", "m-target_year": "2025"})
    got = "login" if response.status_code == 302 and "/accounts/login/" in response["Location"] else \
        response.status_code
    assert got == PAGE[actor]
    response = client.patch(f"/api/plans/indicators/{patents.pk}", {"data_source": "年报"},
                            content_type="application/json")
    assert response.status_code == API[actor]
    patents.refresh_from_db()
    assert (patents.unit, patents.data_source) == (("件/万人", "年报") if actor == "bureau" else ("件", ""))


def test_api_patch_changes_the_target_with_a_reason(client, plan, plan_bureau, patents):
    client.force_login(plan_bureau)
    url = f"/api/plans/indicators/{patents.pk}"
    response = client.patch(url, {"target_value": 120}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "reason", "message": "Changing the target of an indicator needs a reason."}]
    tjj = Organisation.objects.get(code="GOV-TJJ")
    response = client.patch(url, {"target_value": 120, "reason": "调整", "owner_department": tjj.pk,
                                  "source_key": "registry.hnte"}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["owner_department"], body["source_key"]) == (tjj.pk, "registry.hnte")
    assert body["targets"] == [{"year": 2025, "value": 120.0, "low": None, "high": None, "comparator": "eq"}]
    response = client.patch(url, {"owner_department": None}, content_type="application/json")
    assert response.status_code == 200 and response.json()["owner_department"] is None
    assert client.patch("/api/plans/indicators/999999", {"unit": "x"},
                        content_type="application/json").status_code == 404
