"""Navigation entries and named permissions of the policy library and tech finance."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation
from sciencecity.core import permissions as core_permissions


def register() -> None:
    from sciencecity.enterprises.finance import permissions as finance
    from sciencecity.enterprises.policies import permissions as policies

    core_permissions.register("enterprises.view_policies", policies.can_view_policies)
    core_permissions.register("enterprises.manage_policies", policies.can_manage_policies)
    core_permissions.register("enterprises.view_finance", finance.can_view_finance)
    navigation.register_menu_item(navigation.MenuItem(
        key="enterprises.policies", label=_("Policies"), url_name="enterprises:policy_list", order=370, group="enterprises",
        visible=lambda user: core_permissions.has_perm(user, "enterprises.view_policies")))
    navigation.register_menu_item(navigation.MenuItem(
        key="enterprises.finance", label=_("Tech finance"), url_name="enterprises:finance_index", order=380, group="enterprises",
        visible=lambda user: core_permissions.has_perm(user, "enterprises.view_finance")))
