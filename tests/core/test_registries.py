"""The permission and navigation registries: apps contribute, core lists none of them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from sciencecity.accounts.choices import Role
from sciencecity.core import navigation, permissions
from sciencecity.registry.models import Organisation
from tests.conftest import make_organisation, make_user


def _labels(client, user) -> list[str]:
    if user is not None:
        client.force_login(user)
    return [str(item["label"]) for item in client.get("/").context["nav_items"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, ["Home", "The plan", "Shared instruments", "API"]),
        (Role.BUREAU_OFFICER, ["Home", "Plan monitoring", "Funding programmes", "Technology transfer",
                               "Shared instruments", "Innovation vouchers", "Enterprise cultivation",
                               "Instrument openness", "Facility time (beamtime)", "Policies", "Tech finance", "Organisations", "People", "API"]),
        (Role.ENTERPRISE_USER, ["Home", "Plan monitoring", "Funding programmes", "Technology transfer",
                                "My enterprise", "Shared instruments", "Innovation vouchers", "Facility time (beamtime)", "Policies", "Tech finance",
                                "Organisations", "People", "API"]),
        (Role.EXPERT, ["Home", "Plan monitoring", "Funding programmes", "Technology transfer", "Shared instruments",
                       "My reviews", "Facility time (beamtime)", "Policies", "Tech finance", "Organisations", "People", "API"]),
        (Role.SYSTEM_ADMIN, ["Home", "Users", "Administrator accounts", "API"]),
        (Role.SECURITY_ADMIN, ["Home", "Roles", "Administrator accounts", "API"]),
        (Role.AUDIT_ADMIN, ["Home", "Administrator accounts", "Audit trail", "API"]),
    ],
)
def test_navigation_per_role_is_what_the_apps_registered(client, settings, role, expected):
    settings.LANGUAGE_CODE = "en"
    user = make_user(role) if role else None
    client.cookies["django_language"] = "en"
    assert _labels(client, user) == expected


def test_core_context_processor_names_no_app_and_no_role():
    import inspect

    from sciencecity.core import context_processors

    source = inspect.getsource(context_processors)
    for word in ("plans", "programmes", "transfer", "registry", "accounts", "expert", "Role"):
        assert word not in source


def test_registered_actions_include_each_apps_rules():
    names = permissions.registered_actions()
    for name in ("core.read_audit", "accounts.manage_users", "registry.view", "registry.edit_organisation",
                 "plans.view_monitoring", "programmes.use", "transfer.use"):
        assert name in names


@pytest.mark.django_db
def test_has_perm_and_require_on_an_object():
    own = make_organisation(name="自有")
    other = make_organisation(name="他人")
    user = make_user(Role.ENTERPRISE_USER, own)
    assert permissions.has_perm(user, "registry.edit_organisation", own) is True
    assert permissions.has_perm(user, "registry.edit_organisation", other) is False
    permissions.require(user, "registry.edit_organisation", own)
    with pytest.raises(PermissionDenied):
        permissions.require(user, "registry.edit_organisation", other)
    with pytest.raises(TypeError):
        permissions.has_perm(user, "registry.edit_organisation")
    with pytest.raises(TypeError):
        permissions.has_perm(user, "registry.view", own)


def test_unknown_action_is_a_configuration_error_not_a_denial():
    with pytest.raises(ImproperlyConfigured):
        permissions.has_perm(None, "nosuch.action")
    with pytest.raises(ImproperlyConfigured):
        permissions.register("no_dot", lambda user: True)


def test_one_name_cannot_be_taken_by_two_rules():
    def first(user):
        return True

    def second(user):
        return False

    permissions.register("testapp.one_name", first)
    permissions.register("testapp.one_name", first)  # a reloaded module registers again: fine
    with pytest.raises(ImproperlyConfigured):
        permissions.register("testapp.one_name", second)


@pytest.mark.django_db
def test_restrict_filters_through_a_scope_or_all_or_nothing():
    from sciencecity.core.querysets import RestrictedQuerySet

    own = make_organisation(name="自有")
    make_organisation(name="他人")

    def own_only(user, qs):
        return qs.filter(pk__in=permissions.organisation_ids(user))

    permissions.register("testapp.scoped", permissions.is_business_user, scope=own_only)
    qs = RestrictedQuerySet(model=Organisation)
    member = make_user(Role.ENTERPRISE_USER, own)
    admin = make_user(Role.SYSTEM_ADMIN)
    assert list(qs.restrict(member, "testapp.scoped").values_list("name", flat=True)) == ["自有"]
    assert qs.restrict(member, "registry.view").count() == 2
    assert qs.restrict(admin, "registry.view").count() == 0
    with pytest.raises(ImproperlyConfigured):
        qs.restrict(member, "registry.edit_organisation")


def test_menu_item_needs_a_target_and_a_known_group():
    with pytest.raises(ImproperlyConfigured):
        navigation.register_menu_item(navigation.MenuItem(key="x.none", label="x", order=1))
    with pytest.raises(ImproperlyConfigured):
        navigation.register_menu_item(navigation.MenuItem(key="x.g", label="x", order=1, url="/x", group="nosuch"))


def test_import_error_codes_are_one_space_that_importers_extend():
    """Core's codes and the plan importers' own codes answer alike; a code cannot name two problems."""
    from sciencecity.core import importing
    from sciencecity.plans.importers import ValueImportError
    from sciencecity.plans.importers_tasks import TaskImportError

    for code in (importing.ImportError.REQUIRED, ValueImportError.WRONG_YEAR, TaskImportError.NEGATIVE_WEIGHT):
        assert isinstance(code, importing.ImportErrorCode)
        assert not code.is_warning
    assert importing.ImportError.UNKNOWN_HEADER.is_warning
    assert "2025" in ValueImportError.WRONG_YEAR.message(value="2024", year=2025)
    assert "-1" in TaskImportError.NEGATIVE_WEIGHT.message(value="-1")

    class Clash(importing.ImportErrorCode):
        REQUIRED = "required"  # core's code

    with pytest.raises(ImproperlyConfigured, match="already used"):
        importing.register_import_errors(Clash, {Clash.REQUIRED: "again"})

    class Silent(importing.ImportErrorCode):
        NEW_PROBLEM = "test_new_problem"

    with pytest.raises(ImproperlyConfigured, match="has no message"):
        importing.register_import_errors(Silent, {})
