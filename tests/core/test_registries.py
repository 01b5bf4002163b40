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


def _row(client, user) -> list:
    """The header's top row: a link's label, or (group label, [its entries' labels])."""
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return [(str(slot["label"]), [str(item["label"]) for item in slot["entries"]]) if slot.get("entries")
            else str(slot["label"]) for slot in client.get("/").context["nav_menu"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # a group with one visible entry is a plain link
        (None, ["Home", "The plan", "Shared instruments", "API"]),
        (Role.BUREAU_OFFICER, ["Home", ("Plan", ["Plan monitoring", "Funding programmes"]),
                               ("Marketplace", ["Technology transfer", "Shared instruments", "Innovation vouchers",
                                                "Instrument openness", "Facility time (beamtime)"]),
                               ("Enterprises", ["Enterprise cultivation", "Policies", "Tech finance"]),
                               ("Directory", ["Organisations", "People"]), "API"]),
        (Role.EXPERT, ["Home", ("Plan", ["Plan monitoring", "Funding programmes"]),
                       ("Marketplace", ["Technology transfer", "Shared instruments", "Facility time (beamtime)"]),
                       "My reviews", ("Enterprises", ["Policies", "Tech finance"]),
                       ("Directory", ["Organisations", "People"]), "API"]),
        (Role.AUDIT_ADMIN, ["Home", ("Administration", ["Administrator accounts", "Audit trail"]), "API"]),
    ],
)
def test_navigation_groups_gather_each_area_under_one_button(client, settings, role, expected):
    settings.LANGUAGE_CODE = "en"
    assert _row(client, make_user(role) if role else None) == expected


@pytest.mark.django_db
def test_header_renders_groups_as_disclosure_buttons_and_marks_the_current_page(client):
    client.force_login(make_user(Role.BUREAU_OFFICER))
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/registry/people/").content.decode()
    header = html[html.index('<ul class="site-nav"'):html.index('<ul class="site-tools"')]
    assert header.count('<button type="button" class="nav-group-toggle" aria-expanded="false"') == 4
    for key in ("plan", "marketplace", "enterprises", "directory"):
        assert f'aria-controls="nav-group-{key}"' in header and f'<ul id="nav-group-{key}"' in header
    assert '<li class="nav-group nav-group-current" data-nav-group>' in header
    current = header[header.index('nav-group-current'):]
    assert '<a href="/registry/people/" aria-current="page">人员</a>' in current[:current.index("</ul>")]
    assert header.count('aria-current="page"') == 1
    for label in ("规划与项目", "技术市场", "企业服务", "名录"):
        assert f">{label}</button>" in header


def test_grouped_places_each_group_at_its_order_and_keeps_single_entries_as_links():
    groups = [navigation.MenuGroup("g", "G", order=150)]
    entries = [{"key": "x.a", "label": "A", "url": "/a", "active": False, "group": ""},
               {"key": "x.b", "label": "B", "url": "/b", "active": True, "group": "g"},
               {"key": "x.c", "label": "C", "url": "/c", "active": False, "group": "g"},
               {"key": "x.d", "label": "D", "url": "/d", "active": False, "group": "nosuch"}]
    row = navigation.grouped(entries, groups)
    assert [slot["label"] for slot in row] == ["A", "D", "G"]  # unregistered keys: order 0, then the list's order
    assert row[2]["active"] is True and [e["label"] for e in row[2]["entries"]] == ["B", "C"]
    alone = navigation.grouped(entries[:2], groups)
    assert [slot["label"] for slot in alone] == ["A", "B"] and "entries" not in alone[1]


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
