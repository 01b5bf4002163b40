"""Shared fixtures: users with roles, organisations, people (factories over the real services)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import uuid

import pytest

from sciencecity.accounts.choices import Role
from sciencecity.accounts.models import Membership, User
from sciencecity.registry.models import Organisation, Person

_seq = itertools.count(1)

#: ``SCIENCECITY_TEST_TODAY=2030-01-01 make test`` runs the whole suite with the clock moved to that day (the time of
#: day and its ticking are kept), so a test that only passes on the day it was written shows up (issue: demo data and
#: tests depended on the calendar). ``.ci/run`` runs the suite on PostgreSQL with the clock moved to 2030-01-01.
_TEST_TODAY = os.environ.get("SCIENCECITY_TEST_TODAY", "").strip()
_traveller = None


def pytest_configure(config):
    global _traveller
    if not _TEST_TODAY:
        return
    import time_machine

    day = dt.date.fromisoformat(_TEST_TODAY)
    now = dt.datetime.now(dt.UTC)
    _traveller = time_machine.travel(dt.datetime.combine(day, now.time(), tzinfo=dt.UTC), tick=True)
    _traveller.start()


def pytest_unconfigure(config):
    if _traveller is not None:
        _traveller.stop()


_READS_THE_CLOCK = re.compile(r"localdate\(|date\.today\(|timezone\.now\(|datetime\.now\(|time_machine|timedelta|demo")


def pytest_collection_modifyitems(config, items):
    """Mark ``clock`` the tests whose module reads the clock or generates demo data (their dates count from a day).

    ``.ci/run`` runs the engines' ``-m clock`` tests on the moved day beside the PostgreSQL run (which moves it too).
    """
    verdicts: dict[str, bool] = {}
    for item in items:
        path = str(item.fspath)
        if path not in verdicts:
            try:
                verdicts[path] = bool(_READS_THE_CLOCK.search(open(path, encoding="utf-8").read()))
            except OSError:
                verdicts[path] = False
        if verdicts[path]:
            item.add_marker(pytest.mark.clock)


def pytest_report_header(config):
    return f"clock moved to {_TEST_TODAY} (SCIENCECITY_TEST_TODAY)" if _TEST_TODAY else None
PASSWORD = "Str0ng!Passw0rd"


def make_organisation(**fields) -> Organisation:
    n = next(_seq)
    defaults = {"code": f"T-ORG-{n:05d}", "name": f"测试机构{n}", "kind": "enterprise", "level": "none",
                "status": "operating"}
    defaults.update(fields)
    from sciencecity.registry.services import organisation_search_text

    org = Organisation(**defaults)
    org.search_text = organisation_search_text(org)
    org.save()
    return org


def make_person(**fields) -> Person:
    n = next(_seq)
    defaults = {"code": f"T-PER-{n:05d}", "name": f"测试人员{n}"}
    defaults.update(fields)
    return Person.objects.create(**defaults)


def make_user(role: str | None = None, organisation: Organisation | None = None, *, username: str | None = None,
              must_change_password: bool = False, **fields) -> User:
    """A ready-to-use account (password already changed) holding ``role`` in ``organisation``."""
    from django.utils import timezone

    n = next(_seq)
    user = User(username=username or f"user{n}", must_change_password=must_change_password,
                password_changed_at=timezone.now(), **fields)
    user.set_password(PASSWORD)
    user.save()
    if role:
        if organisation is None and role not in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.EXPERT):
            organisation = make_organisation()
        Membership.objects.create(user=user, role=role, organisation=organisation)
    return user


@pytest.fixture(autouse=True)
def _audit_checkpoint_file(settings, tmp_path_factory):
    """Each test its own audit checkpoint file: checkpoints describe one database's chain, and every test
    starts from an empty database (the key file under var/test is shared, like the secret key)."""
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path_factory.getbasetemp() / f"checkpoints-{uuid.uuid4().hex}.jsonl")


@pytest.fixture
def organisation(db):
    return make_organisation()


@pytest.fixture
def bureau(db):
    """科技创新局: the bureau organisation and an officer in it."""
    dept = make_organisation(name="光明区科技创新局", kind="government_department", code="GOV-KCJ")
    return make_user(Role.BUREAU_OFFICER, dept, username="officer")


@pytest.fixture
def sysadmin(db):
    return make_user(Role.SYSTEM_ADMIN, username="sysadmin_t")


@pytest.fixture
def secadmin(db):
    return make_user(Role.SECURITY_ADMIN, username="secadmin_t")


@pytest.fixture
def auditadmin(db):
    return make_user(Role.AUDIT_ADMIN, username="auditadmin_t")


@pytest.fixture
def enterprise_user(db, organisation):
    return make_user(Role.ENTERPRISE_USER, organisation, username="ent_user")


@pytest.fixture
def other_enterprise_user(db):
    return make_user(Role.ENTERPRISE_USER, make_organisation(), username="other_user")


@pytest.fixture(autouse=True)
def _force_login_completes_second_factor(monkeypatch):
    """``client.force_login(user)`` logs in as a browser ends up: password step, then the real second step
    (enrolment on first use, else a code) for users who need 2FA — ``tests.two_factor_helpers``.
    Tests of the second step itself use ``password_only_force_login``.
    """
    from django.test import Client

    from tests.two_factor_helpers import login_with_second_factor

    monkeypatch.setattr(Client, "force_login", login_with_second_factor)


@pytest.fixture
def reauthenticate(client):
    """``reauthenticate(user)``: re-authenticate the test client's session (password + code) — sudo mode."""
    from tests.two_factor_helpers import reauthenticate as _reauthenticate

    def _do(user, password: str = PASSWORD):
        _reauthenticate(client, user, password)
        return client

    return _do


@pytest.fixture
def login(client):
    """Log ``user`` into the Django test client (with the second step where the user needs it)."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _clear_cache():
    """Cached dashboards and live indicator values must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _migration_data_after_flush(request):
    """Rows that migrations seed (the sector vocabulary) are there in every test, as in production.

    A transactional test (every browser test) empties all tables when it ends, migration data included, so
    a later test that imports organisations with sector ``IND-AI`` would see every row refused. Seeding
    again before each such test keeps the result independent of the order the tests run in.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if not transactional and "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        yield
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    importlib.import_module("sciencecity.registry.migrations.0002_seed_sectors").seed(apps, None)
    yield


@pytest.fixture(autouse=True, scope="session")
def _sectors_after_every_flush():
    """The flush that ends a transactional test empties the sector vocabulary; under pytest-xdist a worker's next
    module may hold ordinary (non-transactional) tests, which would then start without it. The flush sends
    ``post_migrate`` (as Django's own content types rely on): the vocabulary is restored right there."""
    import importlib

    from django.apps import apps
    from django.db.models.signals import post_migrate

    seed = importlib.import_module("sciencecity.registry.migrations.0002_seed_sectors").seed

    def restore(sender, **kwargs):
        if sender.label == "registry":
            seed(apps, None)

    post_migrate.connect(restore, dispatch_uid="tests-restore-sectors")
    yield
    post_migrate.disconnect(dispatch_uid="tests-restore-sectors")


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language (zh-hans), whatever an earlier test activated."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
