"""Fixtures for the accounts tests: API clients with personal tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from sciencecity.accounts import services
from tests.accounts.accounts_helpers import ApiClient

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


@pytest.fixture(scope="session")
def factories(pytestconfig):
    """The shared factories of tests/conftest.py (``make_user``, ``make_organisation``, ``PASSWORD``).

    Every conftest.py outside a package is imported as the module ``conftest``, so the root one
    cannot be imported by name from here; take the module pytest already loaded.
    """
    for plugin in pytestconfig.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == ROOT_CONFTEST:
            return plugin
    raise LookupError(ROOT_CONFTEST)


@pytest.fixture
def api_as():
    """``api_as(user)``: an API client authenticated with a fresh token of ``user`` (None → anonymous)."""

    def _make(user=None) -> ApiClient:
        return ApiClient(services.api_token_create(user=user, name="test")[1] if user is not None else None)

    return _make


@pytest.fixture(autouse=True)
def english(settings):
    """Assert on the English messages (the site defaults to Chinese)."""
    settings.LANGUAGE_CODE = "en"
