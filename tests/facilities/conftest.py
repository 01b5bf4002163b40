"""Fixtures of the facilities tests: a host lab with an instrument open 08:00–20:00 on weekdays, an SME user."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from sciencecity.accounts.choices import Role
from sciencecity.facilities.models import Instrument, InstrumentPrice
from tests.conftest import make_organisation, make_user


def next_weekday(days_ahead: int = 1) -> dt.date:
    """A Monday–Friday local date at least ``days_ahead`` days from today."""
    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    while day.isoweekday() > 5:
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.fromisoformat(hhmm)))


def make_instrument(host, **fields) -> Instrument:
    values = {"code": "INS-SEM-01", "name": "场发射扫描电镜", "name_en": "Field-emission SEM", "host": host,
              "model": "Zeiss Sigma 300", "capabilities": "形貌 成分 EDS", "location": "光明科学城A栋101"}
    values.update(fields)
    instrument = Instrument.objects.create(**values)
    for user_class, rate in (("internal", "100"), ("academic", "200"), ("enterprise", "400"), ("sme", "300")):
        InstrumentPrice.objects.create(instrument=instrument, user_class=user_class, hourly_rate=Decimal(rate))
    return instrument


@pytest.fixture
def lab(db):
    return make_organisation(kind="laboratory", name="光明实验室", code="LAB-GM")


@pytest.fixture
def instrument(lab):
    return make_instrument(lab)


@pytest.fixture
def manager(lab):
    return make_user(Role.FACILITY_MANAGER, lab, username="lab_manager")


@pytest.fixture
def sme(db):
    return make_organisation(kind="enterprise", name="光明小微科技有限公司", code="ENT-SME")


@pytest.fixture
def sme_user(sme):
    return make_user(Role.ENTERPRISE_USER, sme, username="sme_user")
