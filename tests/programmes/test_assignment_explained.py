"""An application without reviewers says which rule excluded how many experts (issue 11 item 2)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from sciencecity.core.explain import Removal
from sciencecity.programmes import selectors
from sciencecity.programmes.services import assignment as services

pytestmark = pytest.mark.django_db


def test_rows_without_reviewers_count_the_experts_each_rule_excluded(review_world):
    with translation.override("en"):
        rows = {r["application"].pk: r for r in selectors.overview_rows(review_world["call"])}
    battery = rows[review_world["apps"]["battery"].pk]
    assert battery["removals"] == [Removal("Same organisation", 1)]
    assert rows[review_world["apps"]["solar"].pk]["removals"] == []  # nothing excluded: nothing to explain


def test_experts_at_their_maximum_load_are_counted(review_world):
    call, officer = review_world["call"], review_world["officer"]
    services.assignment_run(actor=officer, call=call)
    call.max_load = 0
    call.save()
    rows = selectors.overview_rows(call)
    assert all(r["removals"] == [] for r in rows)  # every application has its reviewer: no explanation
    with translation.override("en"):
        assert services.exclusion_removals({}, {1, 2}) == [Removal("Maximum load reached", 2)]


def test_overview_page_shows_the_explanation(client, review_world):
    client.force_login(review_world["officer"])
    page = client.get(reverse("programmes:assignment_overview", args=[review_world["call"].pk]),
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="explained-empty-reviewers"' in page
    assert "1 项被“同一单位”排除" in page
