import datetime as dt

import pytest
from django.utils import timezone

from sciencecity.core.audit_forms import AuditEventFilterForm
from sciencecity.core.selectors import active_filters, audit_events, audit_events_as_of_now

BASE = dt.datetime(2025, 3, 1, 9, 0)

# (filters as the page/CLI submit them, indexes of the matching events in ``varied_events``)
FILTER_CASES = [
    ({}, [0, 1, 2, 3, 4, 5]),
    ({"since": "2025-03-02T09:00", "until": "2025-03-04T09:00"}, [1, 2, 3]),
    ({"since": "2025-03-05"}, [4, 5]),
    ({"until": "2025-03-01 09:00"}, [0]),
    ({"actor": "officer"}, [0, 1, 4, 5]),
    ({"actor": "mallory"}, [3]),
    ({"action": "update"}, [2, 4]),
    ({"object_type": "registry.organisation"}, [1, 2, 5]),
    ({"object_type": "registry.organisation", "object_id": "7"}, [1, 2]),
    ({"success": "false"}, [3]),
    ({"success": "true"}, [0, 1, 2, 4, 5]),
    ({"request_id": "req-aaaa-0003"}, [2]),
    ({"ip": "10.0.0.2"}, [1, 2]),
    ({"ip": "2001:db8::1"}, [3]),
    ({"q": "光明实验室"}, [1, 2, 5]),
    ({"q": "PHONE"}, [2]),
    ({"action": "update", "actor": "officer", "q": "张"}, [4]),
    ({"actor": "nobody"}, []),
]


def _ids(events, indexes):
    return sorted((events[i].pk for i in indexes), reverse=True)


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "expected"), FILTER_CASES)
def test_filters_return_exactly_the_matching_events_newest_first(varied_events, data, expected):
    form = AuditEventFilterForm(data)
    assert form.is_valid(), form.errors
    assert list(audit_events(form.filters()).values_list("pk", flat=True)) == _ids(varied_events, expected)


@pytest.mark.django_db
def test_naive_times_are_local_time(varied_events):
    # 2025-03-01 09:00 Asia/Shanghai is 01:00 UTC.
    assert varied_events[0].occurred_at == dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.UTC)
    assert list(audit_events({"until": BASE})) == [varied_events[0]]
    assert list(audit_events({"since": dt.date(2025, 3, 6)})) == [varied_events[5]]


@pytest.mark.parametrize(
    ("data", "field"),
    [({"ip": "10.0.0"}, "ip"), ({"action": "steal"}, "action"), ({"since": "yesterday"}, "since"),
     ({"since": "2025-03-02", "until": "2025-03-01"}, "until"), ({"success": "maybe"}, "success")],
)
def test_invalid_filters_are_refused(data, field):
    form = AuditEventFilterForm(data)
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.django_db
def test_active_filters_drop_empty_values_and_serialise_times():
    assert active_filters({"actor": "", "ip": None, "action": "login", "page": 3,
                           "since": timezone.make_aware(BASE)}) == {"action": "login", "since": "2025-03-01T09:00:00+08:00"}


@pytest.mark.django_db
def test_as_of_now_leaves_out_later_events(varied_events, record_event):
    queryset, newest = audit_events_as_of_now(audit_events({"action": "update"}))
    assert newest == varied_events[4].pk
    record_event(action="update", object_type="x.y")
    assert [e.pk for e in queryset] == [varied_events[4].pk, varied_events[2].pk]
    empty, none = audit_events_as_of_now(audit_events({"actor": "nobody"}))
    assert none is None and list(empty) == []
