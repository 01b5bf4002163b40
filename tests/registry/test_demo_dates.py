"""The demo data do not depend on the calendar: the first run records its day, later runs reuse it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from sciencecity.core.models import DemoReference
from sciencecity.registry import demo
from sciencecity.registry.models import Organisation

from .test_demo import SMALL_COUNTS, demo_snapshot
from .test_demo import run_demo as run

pytestmark = pytest.mark.django_db


def at(day: str):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T09:00:00+08:00"), tick=False)


def test_first_run_records_its_day_and_a_later_day_changes_nothing():
    with at("2026-12-07"):
        first = demo.demo_generate(scale="small")
    assert DemoReference.objects.get().as_of == dt.date(2026, 12, 7)
    assert first.created > 0
    before = demo_snapshot()

    for later in ("2027-06-30", "2030-01-01"):
        with at(later):
            assert "0 rows" in run("--scale", "small")
            again = demo.demo_generate(scale="small")
        assert again.created == 0 and set(again.counts.values()) == {0}
        assert demo_snapshot() == before
    assert DemoReference.objects.get().as_of == dt.date(2026, 12, 7)


def test_the_same_seed_on_another_day_regenerates_identical_rows():
    with at("2026-12-07"):
        demo.demo_generate(scale="small")
    before = demo_snapshot()
    from sciencecity.registry.models import Affiliation, Person

    Affiliation.objects.all().delete()
    Person.objects.all().delete()
    Organisation.objects.all().delete()

    with at("2030-01-01"):
        demo.demo_generate(scale="small")

    assert demo_snapshot() == before


def test_as_of_option_is_recorded_and_gives_the_pinned_rows():
    with at("2031-03-03"):
        run("--scale", "small", "--as-of", "2026-06-30")
    assert DemoReference.objects.get().as_of == dt.date(2026, 6, 30)
    assert Organisation.objects.count() == 300
    from sciencecity.registry.models import Affiliation

    assert Affiliation.objects.count() == SMALL_COUNTS["registry.affiliation"]


def test_a_bad_as_of_is_refused_with_the_option_named():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--as-of"):
        run("--scale", "small", "--as-of", "2026-13-01")
    assert not DemoReference.objects.exists()
    assert not Organisation.objects.exists()


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label != "sessions"}


def test_every_demo_generator_changes_nothing_on_a_later_day():
    """bootstrap's whole demo (registry, plan values, marketplace, programmes, facilities, facility time) re-run
    years later: 0 rows."""
    from django.core.management import call_command

    with at("2026-12-07"):
        call_command("bootstrap", "--skip-checks", verbosity=0)
    first = _row_counts()
    assert first["registry.Organisation"] > 0 and first["transfer.Achievement"] > 0
    assert first["programmes.Call"] > 0 and first["plans.ObservedValue"] > 0
    assert first["facilities.BeamtimeRound"] == 1 and first["facilities.ShiftRequest"] > 0  # demo-beamtime too

    with at("2030-01-01"):
        call_command("bootstrap", "--skip-checks", verbosity=0)

    assert _row_counts() == first
