"""In-site notifications (issue 11): sent on review assigned, interest received, submission returned
or approved; unread count in the header; mark read; e-mail through the mail backend after commit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from sciencecity.accounts.choices import Role
from sciencecity.core.models import Notification
from sciencecity.core.notifications import notification_read, notification_send, unread_count
from sciencecity.programmes.services import applications as application_services
from sciencecity.programmes.services import assignment as assignment_services
from tests.conftest import make_user
from tests.programmes.conftest import make_draft, review_world  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_send_stores_one_per_user_and_mails_after_commit(django_capture_on_commit_callbacks):
    alice = make_user(email="alice@example.org")
    bob = make_user()  # no address: in the site only
    inactive = make_user(is_active=False, email="gone@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        rows = notification_send(users=[alice, bob, alice, inactive], message="审核通过", url="/plan/rounds/1/")
    assert sorted(n.user_id for n in rows) == sorted([alice.pk, bob.pk])
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert "审核通过" in mail.outbox[0].body and "/plan/rounds/1/" in mail.outbox[0].body
    assert unread_count(alice) == 1
    assert notification_read(user=alice) == 1 and unread_count(alice) == 0
    assert unread_count(bob) == 1  # only the reader's own


def test_rolled_back_action_sends_no_mail(django_capture_on_commit_callbacks):
    alice = make_user(email="alice@example.org")
    with django_capture_on_commit_callbacks(execute=False):
        notification_send(users=[alice], message="x")
    assert mail.outbox == []


def test_header_shows_the_unread_count_and_opening_marks_read(client):
    user = make_user(Role.ENTERPRISE_USER)
    note = notification_send(users=[user], message="新的合作意向", url="/transfer/deals/")[0]
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'data-testid="unread-count">1<' in page
    listing = client.get(reverse("notifications:list")).content.decode()
    assert "新的合作意向" in listing
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response.url == "/transfer/deals/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()
    other = make_user()
    client.force_login(other)
    assert client.post(reverse("notifications:open", args=[note.pk])).status_code == 404


def test_review_release_notifies_the_reviewer(review_world):  # noqa: F811
    call, officer = review_world["call"], review_world["officer"]
    assignment_services.assignment_run(actor=officer, call=call)
    assert not Notification.objects.exists()  # proposed assignments are not yet the reviewers'
    assignment_services.assignment_release(actor=officer, call=call)
    battery_expert = review_world["experts"]["battery"].user
    note = Notification.objects.get(user=battery_expert)
    assert note.category == "review" and note.url.startswith("/programmes/reviews/")
    assert review_world["apps"]["battery"].reference in note.message


def test_returned_application_notifies_the_applicant(bureau, enterprise_user, organisation):
    from tests.programmes.conftest import make_open_call

    call = make_open_call(bureau)
    application = make_draft(enterprise_user, call, organisation)
    application = application_services.application_submit(actor=enterprise_user, application=application)
    with translation.override("en"):
        application_services.application_return(actor=bureau, application=application, reason="预算说明不充分")
    note = Notification.objects.get(user=enterprise_user)
    assert note.message == f"Your application {application.reference} was returned for revision: 预算说明不充分"
    assert note.url == reverse("programmes:application_detail", args=[application.pk])
    assert not Notification.objects.filter(user=bureau).exists()
