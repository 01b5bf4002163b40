import pytest

from sciencecity.accounts.choices import Role
from sciencecity.plans.services import plan_import_bundled
from sciencecity.registry.models import Organisation


@pytest.fixture
def plan(db):
    return plan_import_bundled().plan


@pytest.fixture
def kcj(plan):
    """光明区科技创新局, created by the bundled plan's default decomposition."""
    return Organisation.objects.get(code="GOV-KCJ")


@pytest.fixture
def plan_bureau(plan, kcj):
    from tests.conftest import make_user

    return make_user(Role.BUREAU_OFFICER, kcj, username="plan_bureau")


@pytest.fixture
def kcj_officer(plan, kcj):
    from tests.conftest import make_user

    return make_user(Role.DEPARTMENT_OFFICER, kcj, username="kcj_officer")


@pytest.fixture
def tjj_officer(plan):
    from tests.conftest import make_user

    return make_user(Role.DEPARTMENT_OFFICER, Organisation.objects.get(code="GOV-TJJ"), username="tjj_officer")


@pytest.fixture
def actors(plan, kcj):
    """One user per row of the permission matrix (test_views.py keeps its own copy)."""
    from tests.conftest import make_organisation, make_user

    return {
        "anonymous": None,
        "enterprise": make_user(Role.ENTERPRISE_USER, make_organisation()),
        "department": make_user(Role.DEPARTMENT_OFFICER, kcj),
        "bureau": make_user(Role.BUREAU_OFFICER, kcj),
        "sysadmin": make_user(Role.SYSTEM_ADMIN),
        "secadmin": make_user(Role.SECURITY_ADMIN),
        "auditadmin": make_user(Role.AUDIT_ADMIN),
    }
