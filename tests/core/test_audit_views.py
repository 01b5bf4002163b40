import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sciencecity.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _pages(event_id):
    """(method, url) of every audit page."""
    return [
        ("get", reverse("audit:event_list")),
        ("get", reverse("audit:event_list") + "?action=login&page=1"),
        ("get", reverse("audit:event_detail", args=[event_id])),
        ("get", reverse("audit:event_export") + "?format=csv"),
        ("get", reverse("audit:event_export") + "?format=xlsx"),
        ("post", reverse("audit:chain_verify")),
    ]


# --- permission matrix
def test_anonymous_is_sent_to_login_and_nothing_is_recorded(client, record_event, audit_chain):
    event = record_event(action="login", object_type="accounts.user")
    before = audit_chain()
    for method, url in _pages(event.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url
    assert audit_chain() == before


def test_other_users_and_administrators_are_refused(login, refused_user, record_event, audit_chain):
    client = login(refused_user)
    event = record_event(action="login", object_type="accounts.user")
    before = audit_chain()
    for method, url in _pages(event.pk):
        assert getattr(client, method)(url).status_code == 403, url
    assert audit_chain() == before


def test_audit_administrator_may_use_every_page(login, reauthenticate, auditadmin, record_event):
    client = login(auditadmin)
    reauthenticate(auditadmin)  # the export page needs sudo mode
    event = record_event(action="login", object_type="accounts.user")
    for method, url in _pages(event.pk):
        assert getattr(client, method)(url).status_code == 200, url


def test_navigation_shows_the_audit_trail_only_to_the_audit_administrator(login, auditadmin, sysadmin):
    url = reverse("audit:event_list")
    assert f'href="{url}"' in login(auditadmin).get(reverse("portal:home")).content.decode()
    assert f'href="{url}"' not in login(sysadmin).get(reverse("portal:home")).content.decode()


# --- no edit or delete path
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_pages_accept_no_writes(login, auditadmin, record_event, audit_chain, method):
    client = login(auditadmin)
    event = record_event(action="create", object_type="x.y", object_repr="kept")
    before = audit_chain()
    for url in (reverse("audit:event_list"), reverse("audit:event_detail", args=[event.pk]),
                reverse("audit:event_export")):
        assert getattr(client, method)(url).status_code == 405, url
    assert getattr(client, "get" if method == "post" else method)(reverse("audit:chain_verify")).status_code == 405
    assert audit_chain() == before


# --- list
def test_list_shows_filtered_rows_in_local_time_and_records_the_read_once(login, auditadmin, varied_events):
    client = login(auditadmin)
    response = client.get(reverse("audit:event_list"), {"action": "update", "actor": "officer"},
                          HTTP_X_REQUEST_ID="trace-list-0001")
    assert response.status_code == 200
    assert [e.pk for e in response.context["events"]] == [varied_events[4].pk]
    html = response.content.decode()
    assert "2025-03-05 09:00:00" in html  # stored 01:00 UTC, shown in Asia/Shanghai
    assert "张三" in html and "10.0.0.3" in html and "req-aaaa-0005" in html
    reads = list(AuditEvent.objects.filter(action="audit_view"))
    assert len(reads) == 1
    read = reads[0]
    assert read.actor_id == auditadmin.pk
    assert read.changes == {"filters": {"action": "update", "actor": "officer"}, "page": 1}
    assert read.request_id == response["X-Request-ID"] == "trace-list-0001"
    assert read.ip == "127.0.0.1"
    assert read.channel == "web"


def test_generated_request_id_matches_the_response_header(login, auditadmin):
    response = login(auditadmin).get(reverse("audit:event_list"), REMOTE_ADDR="192.0.2.10")
    read = AuditEvent.objects.get(action="audit_view")
    assert len(response["X-Request-ID"]) == 32
    assert read.request_id == response["X-Request-ID"]
    assert read.ip == "192.0.2.10"


def test_action_labels_are_translated(login, auditadmin, varied_events):
    client = login(auditadmin)
    html = client.get(reverse("audit:event_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Failed login" in html


def test_list_is_paginated_fifty_newest_first(login, auditadmin, record_event):
    events = [record_event(action="create", object_type="x.y", object_id=i) for i in range(60)]
    client = login(auditadmin)
    first = client.get(reverse("audit:event_list"), {"object_type": "x.y"})
    assert [e.pk for e in first.context["events"]] == [e.pk for e in reversed(events[10:])]
    assert first.context["page_obj"].paginator.count == 60
    assert "page=2" in first.content.decode()
    second = client.get(reverse("audit:event_list"), {"object_type": "x.y", "page": 2})
    assert [e.pk for e in second.context["events"]] == [e.pk for e in reversed(events[:10])]


def test_invalid_filter_shows_the_error_and_no_rows(login, auditadmin, varied_events):
    response = login(auditadmin).get(reverse("audit:event_list"), {"ip": "not-an-ip"})
    assert response.status_code == 200
    assert response.context["events"] == []
    assert response.context["form"].errors["ip"]


def test_list_query_count_does_not_grow_with_rows(login, auditadmin, record_event):
    client = login(auditadmin)
    record_event(action="create", object_type="x.y")
    client.get(reverse("audit:event_list"))  # the first request of a session writes the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("audit:event_list"), {"object_type": "x.y"})
    for i in range(40):
        record_event(action="create", object_type="x.y", object_id=i)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("audit:event_list"), {"object_type": "x.y"})
    assert len(many) == len(few)


# --- detail
def test_detail_shows_every_field_changes_and_hashes(login, auditadmin, varied_events):
    event = varied_events[2]
    response = login(auditadmin).get(reverse("audit:event_detail", args=[event.pk]))
    html = response.content.decode()
    assert response.context["change_rows"] == [("phone", "1", "2")]
    for text in (event.hash, event.previous_hash, "typo in the phone number", "req-aaaa-0003", "10.0.0.2",
                 "registry.organisation", "ent_user", "2025-03-03 09:00:00"):
        assert text in html
    reads = AuditEvent.objects.filter(action="audit_view")
    assert [(r.object_id, r.actor_id) for r in reads] == [(str(event.pk), auditadmin.pk)]


def test_detail_of_a_missing_event_is_404(login, auditadmin):
    assert login(auditadmin).get(reverse("audit:event_detail", args=[999999])).status_code == 404


# --- export
def _export(client, fmt, **filters):
    response = client.get(reverse("audit:event_export"), {**filters, "format": fmt})
    assert response.status_code == 200
    return response


def test_csv_export_contains_the_filtered_rows_and_is_recorded(login, reauthenticate, auditadmin, varied_events):
    client = login(auditadmin)
    reauthenticate(auditadmin)  # exports need sudo mode
    response = _export(client, "csv", object_type="registry.organisation", since="2025-03-02T00:00")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "ID" and len(rows[0]) == 19 and rows[0][-1] == "审计密钥编号"
    assert [int(r[0]) for r in rows[1:]] == [varied_events[5].pk, varied_events[2].pk, varied_events[1].pk]
    assert rows[1][1] == "2025-03-06T09:00:00+08:00"
    export = AuditEvent.objects.get(action="export")
    assert export.actor_id == auditadmin.pk
    assert export.changes == {
        "filters": {"object_type": "registry.organisation", "since": "2025-03-02T00:00:00+08:00"},
        "format": "csv", "rows": 3, "up_to_event": varied_events[5].pk,
    }
    assert export.request_id == response["X-Request-ID"]
    assert not AuditEvent.objects.filter(action="audit_view").exists()


def test_xlsx_export_opens_with_openpyxl(login, reauthenticate, auditadmin, varied_events, record_event):
    formula = record_event(action="create", object_type="registry.organisation", object_repr="=HYPERLINK(1)")
    client = login(auditadmin)
    reauthenticate(auditadmin)
    response = _export(client, "xlsx", object_type="registry.organisation")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [formula.pk, varied_events[5].pk, varied_events[2].pk, varied_events[1].pk]
    assert rows[4][1] == dt.datetime(2025, 3, 2, 9, 0)  # local time
    assert rows[1][10] == "=HYPERLINK(1)"
    assert sheet.cell(row=2, column=11).data_type == "s"  # text, not a formula
    export = AuditEvent.objects.get(action="export")
    assert export.changes["format"] == "xlsx" and export.changes["rows"] == 4


def test_csv_export_defuses_formulas(login, reauthenticate, auditadmin, record_event):
    record_event(action="create", object_type="x.y", object_repr="=cmd|'/c calc'!A1")
    login(auditadmin)
    body = b"".join(_export(reauthenticate(auditadmin), "csv").streaming_content).decode("utf-8-sig")
    assert "'=cmd|'/c calc'!A1" in body


def test_export_refuses_an_invalid_filter_or_format_and_records_nothing(login, reauthenticate, auditadmin,
                                                                        varied_events):
    client = login(auditadmin)
    reauthenticate(auditadmin)
    assert client.get(reverse("audit:event_export"), {"format": "pdf"}).status_code == 400
    assert client.get(reverse("audit:event_export"), {"format": "csv", "ip": "x"}).status_code == 400
    assert not AuditEvent.objects.filter(action="export").exists()


# --- chain integrity status
def test_chain_status_names_the_last_verified_event(login, auditadmin, record_event):
    events = [record_event(action="create", object_type="x.y", object_id=i) for i in range(3)]
    client = login(auditadmin)
    list_page = client.get(reverse("audit:event_list")).content.decode()
    assert 'hx-post="/audit/verify/"' in list_page
    response = client.post(reverse("audit:chain_verify"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    # The list page read was recorded after the three events, and verified too.
    newest_before = AuditEvent.objects.filter(action="audit_view").order_by("id").first().pk
    assert newest_before > events[-1].pk
    assert f"Chain verified up to event #{newest_before}" in html
    assert 'data-testid="audit-chain-ok"' in html


def test_chain_status_names_the_tampered_event(login, auditadmin, record_event):
    events = [record_event(action="create", object_type="x.y", object_id=i) for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET reason = %s WHERE id = %s", ["x", events[1].pk])
    html = login(auditadmin).post(reverse("audit:chain_verify"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="audit-chain-broken"' in html
    assert f"#{events[1].pk}" in html
    assert f"Events up to #{events[0].pk} are intact." in html


def test_times_are_shown_in_the_configured_time_zone(login, auditadmin, record_event, settings):
    settings.TIME_ZONE = "UTC"
    record_event(at=timezone.make_aware(dt.datetime(2025, 1, 1, 0, 30), dt.UTC), action="login")
    html = login(auditadmin).get(reverse("audit:event_list")).content.decode()
    assert "2025-01-01 00:30:00" in html
