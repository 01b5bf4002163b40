"""Actions on the plan and its monitoring, registered at ``PlansConfig.ready``."""

from __future__ import annotations

from sciencecity.core import permissions


def register() -> None:
    permissions.register("plans.view", permissions.can_view_plan)
    permissions.register("plans.view_monitoring", permissions.can_view_monitoring)
    permissions.register("plans.manage", permissions.can_manage_plan)
