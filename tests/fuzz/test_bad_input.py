"""Reproductions of the outside review's finding 5: bad input gave an HTML 500 instead of a clear error.

Each test sends what the reviewer sent (NUL bytes, huge page numbers, null where text is required, an
impossible transition, NaN / Infinity / 1e308 as indicator values) and expects the API's JSON error or a
form error; one stored 1e308 must not take the report down for everyone.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from sciencecity.accounts import services as account_services
from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.plans.models import Indicator, ObservedValue, Task
from sciencecity.plans.services import plan_import_bundled
from sciencecity.registry.models import Organisation
from tests.conftest import PASSWORD, make_user

#: Every list or search endpoint that takes free text in ``q`` (the reviewer found 9).
SEARCH_ENDPOINTS = [
    "/api/accounts/users", "/api/audit/events", "/api/registry/organisations", "/api/registry/people",
    "/api/programmes/demands", "/api/programmes/applications", "/api/programmes/people-search",
    "/api/programmes/organisation-search", "/api/transfer/achievements", "/api/transfer/demands",
    "/api/transfer/search",
]
#: Every paginated list API.
LIST_ENDPOINTS = [
    "/api/accounts/users", "/api/audit/events", "/api/registry/organisations", "/api/registry/people",
    "/api/plans/{plan}/tasks", "/api/plans/{plan}/projects", "/api/programmes/calls", "/api/programmes/demands",
    "/api/programmes/applications", "/api/programmes/integrity", "/api/transfer/deals", "/api/transfer/contracts",
    "/api/transfer/achievements", "/api/transfer/demands", "/api/transfer/notifications",
]
#: Search pages of the web UI.
HTML_SEARCH_PAGES = ["/registry/organisations/", "/registry/people/", "/transfer/achievements/", "/search/"]


@pytest.fixture
def plan(db):
    return plan_import_bundled().plan


@pytest.fixture
def officer(db):
    """A bureau officer (the bundled plan, when a test asks for it, reuses the same GOV-KCJ)."""
    from tests.conftest import make_organisation

    department = (Organisation.objects.filter(code="GOV-KCJ").first()
                  or make_organisation(name="光明区科技创新局", kind="government_department", code="GOV-KCJ"))
    return make_user(Role.BUREAU_OFFICER, department, username="input_officer")


@pytest.fixture
def api(officer):
    _token, raw = account_services.api_token_create(user=officer, name="bad input")
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    return client


def _is_error(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _post(client, url, data, method="post"):
    raw = data if isinstance(data, str) else json.dumps(data, allow_nan=True)
    return getattr(client, method)(url, data=raw, content_type="application/json")


@pytest.mark.parametrize("q", ["\x00", "abc\x00", "\x1b[2J"])
def test_control_characters_in_q_answer_400_in_the_error_format(api, q):
    for url in SEARCH_ENDPOINTS:
        error = _is_error(api.get(url, {"q": q}), 400)
        assert error["code"] == "bad_request", url
        assert "U+00" in error["details"][0]["message"] and error["details"][0]["field"] == "q"


def test_chinese_search_words_pass_whether_escaped_or_raw(officer):
    """Raw UTF-8 in QUERY_STRING arrives latin-1 decoded (C1 code points): it must not look like control text."""
    client = Client()
    client.force_login(officer)
    assert client.get("/transfer/search/?q=成果").status_code == 200
    assert client.get("/transfer/search/", {"q": "成果 石墨烯"}).status_code == 200


def test_nul_in_the_query_string_of_a_page_gives_400_not_500(officer):
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    for url in HTML_SEARCH_PAGES:
        response = client.get(url, {"q": "光明\x00"})
        assert response.status_code == 400, url
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page", ["9223372036854775807", "250001", "-1", "0", "abc", "1e3"])
def test_page_out_of_bounds_answers_422(plan, api, page):
    for url in LIST_ENDPOINTS:
        error = _is_error(api.get(url.format(plan=plan.pk), {"page": page}), 422)
        assert error["code"] == "validation_error", url
        assert error["details"][0]["field"] == "page", url


def test_integers_beyond_64_bits_in_the_address_answer_400(plan, api):
    """No column holds them; SQLite raised OverflowError on every id filter and page offset."""
    for url in LIST_ENDPOINTS:
        error = _is_error(api.get(url.format(plan=plan.pk), {"page": "9223372036854775808"}), 400)
        assert error["code"] == "bad_request" and error["details"][0]["field"] == "page", url


def test_page_size_above_200_answers_422(api):
    for url in ("/api/registry/organisations", "/api/transfer/achievements"):
        assert _is_error(api.get(url, {"page_size": "201"}), 422)["details"][0]["field"] == "page_size"


def test_last_allowed_page_answers_an_empty_page(api):
    response = api.get("/api/registry/organisations", {"page": "250000", "page_size": "200"})
    assert response.status_code == 200 and response.json()["items"] == []


def test_task_deliverables_null_is_a_field_error(plan, api):
    task = Task.objects.order_by("pk").first()
    before = task.deliverables
    response = _post(api, f"/api/plans/tasks/{task.pk}", {"deliverables": None}, method="patch")
    assert response.status_code in (400, 422), response.content
    assert "deliverables" in str(response.json()["error"]["details"])
    task.refresh_from_db()
    assert task.deliverables == before


@pytest.mark.parametrize("field,value", [("deliverables", "交付\x00物"), ("reason", "\x00"),
                                         ("deliverables", "\ud800")])
def test_control_characters_in_a_patch_body_are_a_field_error(plan, api, field, value):
    task = Task.objects.order_by("pk").first()
    events = AuditEvent.objects.count()
    error = _is_error(_post(api, f"/api/plans/tasks/{task.pk}", {field: value}, method="patch"), 422)
    assert error["details"][0]["field"] == field
    assert AuditEvent.objects.count() == events


def test_multiline_text_keeps_its_line_breaks(plan, api):
    task = Task.objects.order_by("pk").first()
    response = _post(api, f"/api/plans/tasks/{task.pk}", {"deliverables": "一、报告\n二、数据\t表"}, method="patch")
    assert response.status_code == 200, response.content
    assert response.json()["deliverables"] == "一、报告\n二、数据\t表"


def test_call_transition_back_to_draft_is_refused_not_a_key_error(api, officer):
    from tests.programmes.conftest import make_open_call

    call = make_open_call(officer)
    error = _is_error(_post(api, f"/api/programmes/calls/{call.pk}/transition", {"state": "draft"}), 400)
    assert error["code"] == "invalid"
    call.refresh_from_db()
    assert call.state == "open"


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e400"])
def test_non_finite_or_huge_indicator_values_are_refused_over_json(plan, api, raw):
    indicator = Indicator.objects.order_by("pk").first()
    response = _post(api, f"/api/plans/indicators/{indicator.pk}/values", '{"year": 2025, "value": ' + raw + '}')
    error = _is_error(response, 422)
    assert error["details"][0]["field"] == "value"
    assert not ObservedValue.objects.filter(indicator=indicator, year=2025).exists()


@pytest.mark.parametrize("raw", ["NaN", "inf", "-Infinity", "1e308"])
def test_non_finite_or_huge_indicator_values_are_form_errors(plan, officer, raw):
    indicator = Indicator.objects.order_by("pk").first()
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    response = client.post(reverse("plans:indicator_detail", args=[indicator.pk]),
                           {"year": "2025", "value": raw, "note": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["value"]
    assert not ObservedValue.objects.filter(indicator=indicator, year=2025).exists()


def _percent_indicator(plan):
    return plan.indicators.filter(unit__contains="%").order_by("number").first()


def test_value_outside_the_unit_range_names_the_field_and_the_indicator(plan, api):
    indicator = _percent_indicator(plan)
    assert indicator.plausible_range() == (-100.0, 1000.0)
    error = _is_error(_post(api, f"/api/plans/indicators/{indicator.pk}/values", {"year": 2025, "value": 5000}), 400)
    assert error["details"][0]["field"] == "value"
    assert indicator.name in error["details"][0]["message"] and "1000" in error["details"][0]["message"]
    assert _post(api, f"/api/plans/indicators/{indicator.pk}/values", {"year": 2025, "value": 7.5}).status_code == 201


def test_counts_cannot_be_negative_by_default(plan):
    indicator = plan.indicators.exclude(unit="").exclude(unit__contains="%").order_by("number").first()
    assert indicator.plausible_range() == (0.0, 1e12)


def test_the_bureau_sets_a_plausible_range_per_indicator(plan, api):
    indicator = _percent_indicator(plan)
    response = _post(api, f"/api/plans/indicators/{indicator.pk}", {"plausible_min": 0, "plausible_max": 20},
                     method="patch")
    assert response.status_code == 200, response.content
    assert (response.json()["plausible_min"], response.json()["plausible_max"]) == (0, 20)
    event = AuditEvent.objects.filter(object_id=str(indicator.pk)).latest("id")
    assert event.changes["plausible_max"] == [None, 20.0]
    assert _post(api, f"/api/plans/indicators/{indicator.pk}/values", {"year": 2025, "value": 25}).status_code == 400
    assert _post(api, f"/api/plans/indicators/{indicator.pk}/values", {"year": 2025, "value": 15}).status_code == 201
    inverted = _post(api, f"/api/plans/indicators/{indicator.pk}", {"plausible_min": 30}, method="patch")
    assert _is_error(inverted, 400)["details"][0]["field"] == "plausible_max"


def test_the_metadata_form_edits_the_plausible_range(plan, officer):
    indicator = _percent_indicator(plan)
    client = Client()
    client.force_login(officer)
    url = reverse("plans:indicator_detail", args=[indicator.pk])
    page = client.get(url)
    data = {f"m-{k}": ("" if v is None else getattr(v, "pk", v)) for k, v in page.context["metadata"].initial.items()}
    data.update({"form": "metadata", "m-plausible_min": "0", "m-plausible_max": "nan"})
    response = client.post(url, data)
    assert response.status_code == 200 and response.context["metadata"].errors["plausible_max"]
    data["m-plausible_max"] = "50"
    assert client.post(url, data).status_code == 302
    indicator.refresh_from_db()
    assert (indicator.plausible_min, indicator.plausible_max) == (0, 50)


@pytest.mark.parametrize("stored", [1e308, -1e308, 1e16])
def test_one_stored_huge_value_does_not_take_the_report_down(plan, officer, stored):
    """Values stored before the edge checks existed (or by a direct database write) still render."""
    indicator = Indicator.objects.order_by("pk").first()
    for year in (2021, 2022, 2023):
        ObservedValue.objects.create(indicator=indicator, year=year, value=stored if year == 2023 else 1.0,
                                     source="manual", status="approved")  # official outputs show approved values
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    from tests.two_factor_helpers import reauthenticate

    reauthenticate(client, officer, PASSWORD)  # the PDF and JSON export are exports: sudo mode
    for name in ("plans:report", "plans:report_pdf", "plans:plan_json", "plans:dashboard"):
        response = client.get(reverse(name), follow=True)  # the PDF: queued, then the job's file
        assert response.status_code == 200, (name, response.status_code)
    response = client.get(reverse("plans:indicator_detail", args=[indicator.pk]))
    assert response.status_code == 200
    response = client.get(f"/api/plans/{plan.pk}/indicators/status")
    assert response.status_code == 200, response.content[:300]
    body = response.content.decode()
    assert "Infinity" not in body and "NaN" not in body  # strict JSON: clients must be able to parse it
    json.loads(body, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))


def test_an_unexpected_error_answers_json_500_with_the_request_id(plan, api, monkeypatch, caplog):
    from sciencecity.plans import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(selectors, "indicator_rows", broken)
    response = api.get(f"/api/plans/{plan.pk}/indicators/status", headers={"X-Request-ID": "req-fuzz-0001"})
    error = _is_error(response, 500)
    assert error["code"] == "server_error" and error["details"] == {"request_id": "req-fuzz-0001"}
    assert "simulated defect" not in response.content.decode()
    assert any("req-fuzz-0001" in r.getMessage() and r.exc_info for r in caplog.records)


def test_huge_ids_in_the_path_and_filters_are_client_errors(plan, api):
    assert api.get(f"/api/plans/{2**63}/projects").status_code in (400, 404)
    assert api.get(f"/api/plans/{plan.pk}/tasks", {"department": str(2**63)}).status_code in (400, 422)
    assert api.get("/api/registry/people", {"organisation": str(2**64)}).status_code in (400, 422)


def test_unknown_api_paths_and_wrong_methods_answer_in_the_error_format(api):
    error = _is_error(api.get("/api/no-such-thing"), 404)
    assert error["code"] == "not_found"
    response = api.put("/api/registry/sectors")
    error = _is_error(response, 405)
    assert error["code"] == "method_not_allowed" and "GET" in response["Allow"]
