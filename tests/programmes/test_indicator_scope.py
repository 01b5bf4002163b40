"""The funding programmes' indicator source respects the scope: a district's figure counts only the
payments to projects of organisations in that district."""

import datetime as dt

import pytest
from django.utils import translation

from sciencecity.plans import sources
from sciencecity.programmes.services import projects
from tests.programmes.conftest import fund, make_application, make_call

pytestmark = pytest.mark.django_db


def test_funding_paid_by_scope(bureau, organisation, enterprise_user, manager_person):
    organisation.district = "光明区"
    organisation.save(update_fields=["district"])
    call = make_call(mechanism="milestone")
    (funded,) = fund(bureau, call, {make_application(call, organisation).reference: "100"}, manager_person)
    milestone = funded.milestones.get(order=1)
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="样机完成")
    projects.milestone_accept(actor=bureau, milestone=milestone, on=dt.date(2025, 9, 1))
    paid = sources.get("programmes.funding_paid")
    assert sources.compute(paid, year=2025, scope="district")[0] == 30.0
    with translation.override("en"):
        value, words = sources.compute(paid, year=2025, scope="光明区")
    assert value == 30.0 and "to projects of organisations in 光明区" in words
    assert sources.compute(paid, year=2025, scope="南山区")[0] == 0.0
