"""A request's roles and organisations come from one query (every page asks both)."""

from __future__ import annotations

import pytest

from sciencecity.accounts.choices import Role
from sciencecity.accounts.models import User
from sciencecity.core import permissions
from tests.conftest import make_organisation, make_user

pytestmark = pytest.mark.django_db


def test_roles_and_organisations_in_one_query(django_assert_num_queries):
    organisation = make_organisation()
    user = make_user(Role.ENTERPRISE_USER, organisation, username="rows_member")
    make_user(Role.ENTERPRISE_USER, make_organisation(), username="rows_other")
    fresh = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert fresh.role_set() == {Role.ENTERPRISE_USER}
        assert permissions.organisation_ids(fresh) == {organisation.pk}
        assert permissions.is_business_user(fresh)


def test_organisations_only_of_business_roles():
    organisation = make_organisation()
    admin = make_user(Role.SYSTEM_ADMIN, username="rows_admin")
    member = make_user(Role.ENTERPRISE_USER, organisation, username="rows_member2")
    assert permissions.organisation_ids(User.objects.get(pk=admin.pk)) == set()
    assert permissions.organisation_ids(User.objects.get(pk=member.pk)) == {organisation.pk}
