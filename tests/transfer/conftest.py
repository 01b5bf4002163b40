"""Fixtures of the marketplace tests (shared by the listing and deal work packages: append only)."""

from __future__ import annotations

import itertools

import pytest

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_user

_listing_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_matching_indexes():
    """Each test starts with empty per-process matching indexes (they are rebuilt from its database)."""
    from sciencecity.transfer.services import matching

    matching.reset()
    yield
    matching.reset()


def make_achievement(owner, *, actor=None, **data):
    """An achievement through the service (audited, indexed, notifying)."""
    from sciencecity.transfer.services.listings import achievement_create

    n = next(_listing_seq)
    values = {"title": f"成果{n}", "abstract": f"测试成果摘要{n}", "trl": 5, "modes": ["licence"]}
    values.update(data)
    return achievement_create(actor=actor, organisation=owner, data=values, check_permission=False)


def make_demand(organisation, *, actor=None, **data):
    from sciencecity.transfer.services.listings import demand_create

    n = next(_listing_seq)
    values = {"title": f"需求{n}", "public_summary": f"测试需求摘要{n}"}
    values.update(data)
    return demand_create(actor=actor, organisation=organisation, data=values, check_permission=False)


@pytest.fixture
def university(db):
    return make_organisation(kind="university", name="光明示例大学")


@pytest.fixture
def academic_user(db, university):
    return make_user(Role.ACADEMIC_USER, university, username="academic")
