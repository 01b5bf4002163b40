import pytest

from sciencecity.accounts.services import api_token_create
from sciencecity.core.models import AuditEvent

pytestmark = pytest.mark.django_db

LIST = "/api/audit/events"


def _detail(event_id):
    return f"{LIST}/{event_id}"


def _error_code(response):
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]["code"]


# --- permission matrix
def _assert_refused(client, record_event, audit_chain, status, code):
    event = record_event(action="login")
    before = audit_chain()
    for url in (LIST, _detail(event.pk)):
        response = client.get(url)
        assert response.status_code == status, url
        assert _error_code(response) == code
    assert audit_chain() == before


def test_anonymous_gets_401(client, record_event, audit_chain):
    _assert_refused(client, record_event, audit_chain, 401, "not_authenticated")


def test_everybody_but_the_audit_administrator_gets_403(login, refused_user, record_event, audit_chain):
    _assert_refused(login(refused_user), record_event, audit_chain, 403, "permission_denied")


def test_refused_with_a_token_too(client, secadmin, record_event):
    _token, raw = api_token_create(user=secadmin, name="t")
    assert client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 403


def test_audit_administrator_lists_with_a_token_and_the_read_is_recorded(client, auditadmin, varied_events):
    _token, raw = api_token_create(user=auditadmin, name="siem")
    AuditEvent.objects.filter(action="token_create").delete()  # not part of this test's chain check
    response = client.get(LIST, {"action": "update", "page_size": 1}, HTTP_AUTHORIZATION=f"Bearer {raw}",
                          HTTP_X_REQUEST_ID="api-trace-0001")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["page"] == 1 and body["page_size"] == 1
    item = body["items"][0]
    assert item["id"] == varied_events[4].pk
    assert item["action"] == "update" and item["object_repr"] == "张三" and item["ip"] == "10.0.0.3"
    assert item["changes"] == {"email": ["a@example.org", "b@example.org"]}
    assert item["hash"] == varied_events[4].hash and item["previous_hash"] == varied_events[4].previous_hash
    read = AuditEvent.objects.get(action="audit_view")
    assert read.actor_id == auditadmin.pk
    assert read.request_id == response["X-Request-ID"] == "api-trace-0001"
    assert read.channel == "api" and read.ip == "127.0.0.1"
    assert read.changes == {"filters": {"action": "update"}}


def test_the_reader_does_not_see_their_own_read_event(login, auditadmin):
    client = login(auditadmin)
    # The login's second step (enrolment, through the real page) is itself audited.
    assert [e["action"] for e in client.get(LIST).json()["items"]] == ["two_factor_enrol"]
    assert [e["action"] for e in client.get(LIST).json()["items"]] == ["audit_view", "two_factor_enrol"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"since": "2025-03-02T09:00:00", "until": "2025-03-04T09:00:00+08:00"}, [3, 2, 1]),
        ({"actor": "officer", "action": "update"}, [4]),
        ({"object_type": "registry.organisation", "object_id": "7"}, [2, 1]),
        ({"success": "false"}, [3]),
        ({"request_id": "req-aaaa-0006"}, [5]),
        ({"ip": "10.0.0.1"}, [5, 0]),
        ({"q": "光明实验室"}, [5, 2, 1]),
    ],
)
def test_filters(login, auditadmin, varied_events, params, expected):
    response = login(auditadmin).get(LIST, params)
    assert response.status_code == 200
    assert [e["id"] for e in response.json()["items"]] == [varied_events[i].pk for i in expected]


@pytest.mark.parametrize("params", [{"ip": "10.0"}, {"action": "steal"}, {"since": "soon"}, {"page_size": 500}])
def test_invalid_filters_get_422(login, auditadmin, params):
    response = login(auditadmin).get(LIST, params)
    assert response.status_code == 422
    assert _error_code(response) == "validation_error"
    assert not AuditEvent.objects.filter(action="audit_view").exists()


def test_detail(login, auditadmin, varied_events):
    event = varied_events[3]
    response = login(auditadmin).get(_detail(event.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == event.pk and body["success"] is False and body["actor_username"] == "mallory"
    assert body["ip"] == "2001:db8::1" and body["action_label"]
    assert AuditEvent.objects.filter(action="audit_view", object_id=str(event.pk)).count() == 1


def test_detail_of_a_missing_event_is_404(login, auditadmin):
    response = login(auditadmin).get(_detail(999999))
    assert response.status_code == 404
    assert _error_code(response) == "not_found"


# --- no write path
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("who", ["auditadmin", "sysadmin", "secadmin"])
def test_writes_are_not_allowed(request, login, record_event, audit_chain, method, who):
    client = login(request.getfixturevalue(who))
    event = record_event(action="create", object_type="x.y", object_repr="kept")
    before = audit_chain()
    for url in (LIST, _detail(event.pk)):
        response = getattr(client, method)(url, data={"object_repr": "changed"}, content_type="application/json")
        assert response.status_code in (404, 405), (url, response.status_code)
    assert audit_chain() == before
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "kept"


def test_openapi_documents_only_reads():
    from sciencecity.config.api import api

    paths = api.get_openapi_schema()["paths"]
    audit_paths = {p: set(ops) for p, ops in paths.items() if p.startswith("/api/audit/")}
    assert audit_paths == {"/api/audit/events": {"get"}, "/api/audit/events/{event_id}": {"get"}}
