"""Actions on the plan and its monitoring, registered at ``PlansConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

if TYPE_CHECKING:
    from sciencecity.plans.models import Indicator, Task
    from sciencecity.registry.models import Organisation


def can_report_on_task(actor: User | None, task: Task) -> bool:
    if permissions.is_bureau_officer(actor):
        return True
    if not permissions.is_department_officer(actor):
        return False
    ids = permissions.organisation_ids(actor)
    return task.lead_department_id in ids or task.supporting_departments.filter(pk__in=ids).exists()


def can_enter_value(actor: User | None, indicator: Indicator) -> bool:
    if permissions.is_bureau_officer(actor):
        return True
    if not permissions.is_department_officer(actor):
        return False
    return indicator.owner_department_id in permissions.organisation_ids(actor)


def department_ids(user: Any) -> set[int]:
    """The departments ``user`` is a department officer of."""
    if not permissions.is_department_officer(user):
        return set()
    return set(user.memberships.filter(role=Role.DEPARTMENT_OFFICER, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def can_report_for(user: Any, department: Organisation) -> bool:
    """The bureau, or a department officer of ``department``, may fill in its values."""
    return permissions.is_bureau_officer(user) or department.pk in department_ids(user)


def can_open_rounds(user: Any) -> bool:
    """The reporting-round pages are for the bureau and the department officers."""
    return permissions.is_bureau_officer(user) or bool(department_ids(user))


def register() -> None:
    permissions.register_many(
        "plans", view=permissions.can_view_plan, view_monitoring=permissions.can_view_monitoring,
        manage=permissions.can_manage_plan, report_on_task=can_report_on_task, enter_value=can_enter_value,
        report_for_department=can_report_for, open_rounds=can_open_rounds,
    )
