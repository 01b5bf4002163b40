"""User management pages (系统管理员): list, create, reset password, (de)activate, unlock."""

from __future__ import annotations

import datetime as dt
from html import escape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sciencecity.accounts.models import User
from tests.accounts.accounts_helpers import events

USERS = reverse("accounts:user_list")


def _detail(user):
    return reverse("accounts:user_detail", args=[user.pk])


@pytest.mark.django_db
def test_user_list_shows_roles_lock_and_must_change(login, sysadmin, enterprise_user, factories):
    locked = factories.make_user(username="locked_one", locked_until=timezone.now() + dt.timedelta(minutes=10))
    fresh = factories.make_user(username="fresh_one", must_change_password=True)
    response = login(sysadmin).get(USERS)
    assert response.status_code == 200
    accounts = {a.username: a for a in response.context["page"]}
    assert set(accounts) == {"sysadmin_t", "ent_user", "locked_one", "fresh_one"}
    assert accounts["locked_one"].is_locked and not accounts["ent_user"].is_locked
    html = response.content.decode()
    assert f'data-testid="locked-{locked.pk}"' in html
    assert f'data-testid="locked-{fresh.pk}"' not in html
    assert "Must change password" in html
    assert enterprise_user.memberships.get().organisation.name in html
    assert "Enterprise user" in html and "System administrator" in html


@pytest.mark.django_db
def test_user_list_search_and_state_filter(login, sysadmin, factories):
    factories.make_user(username="zhang_san", display_name="张三", email="zs@example.cn")
    factories.make_user(username="li_si", display_name="李四", is_active=False)
    client = login(sysadmin)
    names = lambda **q: [a.username for a in client.get(USERS, q).context["page"]]  # noqa: E731
    assert names(q="张三") == ["zhang_san"]
    assert names(q="example.cn") == ["zhang_san"]
    assert names(active="no") == ["li_si"]
    assert names(q="li", active="yes") == []


@pytest.mark.django_db
def test_user_list_queries_do_not_grow_with_the_users(login, sysadmin, factories):
    client = login(sysadmin)
    client.get(USERS)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(USERS).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _ in range(5):
        factories.make_user("enterprise_user")
    assert count() == before


@pytest.mark.django_db
def test_create_user_shows_the_one_time_password_once(login, sysadmin):
    client = login(sysadmin)
    response = client.post(reverse("accounts:user_create"),
                           {"username": "new_officer", "display_name": "新干部", "email": "new@example.cn", "phone": ""})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = response.context["password"]
    assert escape(password) in response.content.decode()
    user = User.objects.get(username="new_officer")
    assert user.check_password(password) and user.must_change_password and user.is_active
    assert (user.display_name, user.email) == ("新干部", "new@example.cn")
    assert not user.memberships.exists()
    (event,) = events("create", object_type="accounts.user")
    assert event.actor == sysadmin and event.object_id == str(user.pk)
    assert event.changes == {"username": [None, "new_officer"], "display_name": [None, "新干部"],
                             "email": [None, "new@example.cn"]}
    assert password not in str(event.changes)
    assert password not in client.get(_detail(user)).content.decode()


@pytest.mark.django_db
def test_create_user_with_a_taken_name_is_a_field_error(login, sysadmin):
    response = login(sysadmin).post(reverse("accounts:user_create"), {"username": "sysadmin_t"})
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert User.objects.count() == 1
    assert not events("create")


@pytest.mark.django_db
def test_reset_password(login, sysadmin, enterprise_user, factories):
    User.objects.filter(pk=enterprise_user.pk).update(failed_login_count=3)
    response = login(sysadmin).post(_detail(enterprise_user), {"action": "reset_password",
                                                               "reset-reason": "forgot it"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = response.context["password"]
    assert escape(password) in response.content.decode()
    enterprise_user.refresh_from_db()
    assert enterprise_user.check_password(password)
    assert not enterprise_user.check_password(factories.PASSWORD)
    assert enterprise_user.must_change_password and enterprise_user.failed_login_count == 0
    (event,) = events("password_reset")
    assert (event.actor, event.object_id, event.reason) == (sysadmin, str(enterprise_user.pk), "forgot it")


@pytest.mark.django_db
def test_deactivate_and_activate_with_a_reason(login, sysadmin, enterprise_user):
    client = login(sysadmin)
    response = client.post(_detail(enterprise_user), {"action": "set_active", "active-active": "no",
                                                      "active-reason": ""})
    assert response.status_code == 400
    assert response.context["set_active_form"].errors["reason"]
    enterprise_user.refresh_from_db()
    assert enterprise_user.is_active and not events("update")

    response = client.post(_detail(enterprise_user), {"action": "set_active", "active-active": "no",
                                                      "active-reason": "left the company"})
    assert response.status_code == 302
    enterprise_user.refresh_from_db()
    assert not enterprise_user.is_active
    (event,) = events("update")
    assert (event.actor, event.changes, event.reason) == (sysadmin, {"is_active": [True, False]}, "left the company")

    client.post(_detail(enterprise_user), {"action": "set_active", "active-active": "yes", "active-reason": "back"})
    enterprise_user.refresh_from_db()
    assert enterprise_user.is_active
    assert events("update")[-1].changes == {"is_active": [False, True]}


@pytest.mark.django_db
def test_an_administrator_cannot_deactivate_themselves(login, sysadmin):
    response = login(sysadmin).post(_detail(sysadmin), {"action": "set_active", "active-active": "no",
                                                        "active-reason": "oops"})
    assert response.status_code == 400
    assert response.context["set_active_form"].non_field_errors() == ["You cannot deactivate your own account."]
    sysadmin.refresh_from_db()
    assert sysadmin.is_active and not events("update")


@pytest.mark.django_db
def test_unlock_a_locked_account(login, sysadmin, enterprise_user):
    until = timezone.now() + dt.timedelta(minutes=20)
    User.objects.filter(pk=enterprise_user.pk).update(locked_until=until)
    client = login(sysadmin)
    page = client.get(_detail(enterprise_user))
    assert page.context["locked"] and 'data-testid="user-unlock"' in page.content.decode()
    response = client.post(_detail(enterprise_user), {"action": "unlock", "unlock-reason": "called the helpdesk"})
    assert response.status_code == 302
    enterprise_user.refresh_from_db()
    assert enterprise_user.locked_until is None
    (event,) = events("update")
    assert event.actor == sysadmin and event.reason == "called the helpdesk"
    assert event.changes["locked_until"][1] is None
    assert dt.datetime.fromisoformat(event.changes["locked_until"][0]) == until
    assert not client.get(_detail(enterprise_user)).context["locked"]


@pytest.mark.django_db
def test_user_detail_of_a_missing_account_is_404(login, sysadmin):
    assert login(sysadmin).get(reverse("accounts:user_detail", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_user_list_pages_keep_the_search(login, sysadmin, factories, monkeypatch):
    from sciencecity.accounts import views_admin

    monkeypatch.setattr(views_admin, "PAGE_SIZE", 2)
    for n in range(3):
        factories.make_user(username=f"staff{n}")
    client = login(sysadmin)
    html = client.get(USERS, {"q": "staff"}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?q=staff&amp;page=2"' in html
    second = client.get(USERS, {"q": "staff", "page": 2})
    assert [a.username for a in second.context["page"]] == ["staff2"]


def test_one_time_passwords_use_an_unambiguous_alphabet_and_pass_the_policy():
    from sciencecity.accounts.services import generate_one_time_password

    passwords = [generate_one_time_password() for _ in range(300)]
    seen = set("".join(passwords))
    assert not seen & set("0Oo1lIS5Z2B8"), seen & set("0Oo1lIS5Z2B8")
    for password in passwords:
        assert len(password) == 16
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password) and any(c in "!@#$%&*+=?" for c in password)


@pytest.mark.django_db
def test_one_time_password_is_shown_in_monospace_with_a_copy_button(login, sysadmin):
    client = login(sysadmin)
    response = client.post(reverse("accounts:user_create"), {"username": "copy_me", "display_name": "", "email": "",
                                                             "phone": ""})
    page = response.content.decode()
    assert 'class="secret"' in page and 'id="one-time-password"' in page
    assert 'data-copy="one-time-password"' in page
