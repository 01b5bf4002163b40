"""The system administrator links an account to a registry person (e.g. the expert a reviewer is)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sciencecity.accounts.models import User
from sciencecity.core.models import AuditAction, AuditEvent
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


def test_create_with_person_code(login, sysadmin):
    person = make_person(name="专家甲", code="DEMO-PER-0000001")
    client = login(sysadmin)
    response = client.post(reverse("accounts:user_create"), {"username": "expert1", "person": "DEMO-PER-0000001"})
    assert response.status_code == 200
    assert User.objects.get(username="expert1").person == person


def test_create_with_unknown_code_writes_nothing(login, sysadmin):
    client = login(sysadmin)
    response = client.post(reverse("accounts:user_create"), {"username": "expert2", "person": "NOPE-1"})
    assert response.status_code == 200
    assert "NOPE-1" in response.content.decode()
    assert not User.objects.filter(username="expert2").exists()


def test_link_and_unlink_on_detail_page(login, sysadmin, enterprise_user):
    person = make_person(name="专家乙", code="DEMO-PER-0000002")
    client = login(sysadmin)
    url = reverse("accounts:user_detail", args=[enterprise_user.pk])
    response = client.post(url, {"action": "set_person", "person-person": "DEMO-PER-0000002", "person-reason": ""})
    assert response.status_code == 302
    enterprise_user.refresh_from_db()
    assert enterprise_user.person == person
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="accounts.user").latest("id")
    assert event.changes == {"person": [None, person.pk]}
    client.post(url, {"action": "set_person", "person-person": "", "person-reason": "left"})
    enterprise_user.refresh_from_db()
    assert enterprise_user.person is None


def test_only_the_system_administrator(login, secadmin, enterprise_user):
    make_person(name="专家丙", code="DEMO-PER-0000003")
    client = login(secadmin)
    url = reverse("accounts:user_detail", args=[enterprise_user.pk])
    response = client.post(url, {"action": "set_person", "person-person": "DEMO-PER-0000003"})
    assert response.status_code in (302, 403)
    enterprise_user.refresh_from_db()
    assert enterprise_user.person is None
