"""Who may see and change enterprise data; used by the pages and the API alike.

Financial and staff figures are the enterprise's own: its users see and edit them; S&T bureau
officers (the authorised officers) read them, and every such read is audited
(``AuditAction.FINANCIALS_VIEW``). Administrators (三员分立) and other organisations see nothing.
"""

from __future__ import annotations

from typing import Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions


def is_member(user: Any, organisation: Any) -> bool:
    """``user`` acts for ``organisation`` as an enterprise user."""
    return (permissions.has_role(user, Role.ENTERPRISE_USER)
            and organisation is not None and organisation.pk in permissions.organisation_ids(user)
            and user.memberships.filter(organisation=organisation, role=Role.ENTERPRISE_USER).exists())


def can_view_financials(user: Any, organisation: Any) -> bool:
    return is_member(user, organisation) or permissions.is_bureau_officer(user)


def read_is_audited(user: Any, organisation: Any) -> bool:
    """An officer's read of another organisation's figures is audited; the enterprise's own reads are not."""
    return permissions.is_bureau_officer(user) and not is_member(user, organisation)


def can_edit_profile(user: Any, organisation: Any) -> bool:
    """The enterprise declares its own data; the bureau may correct it (both audited)."""
    return is_member(user, organisation) or permissions.is_bureau_officer(user)


def can_import_profiles(user: Any) -> bool:
    """Enterprise users import their own organisation's rows; the bureau imports any."""
    return permissions.has_role(user, Role.ENTERPRISE_USER) or permissions.is_bureau_officer(user)


def can_manage_cultivation(user: Any) -> bool:
    """The reserve pool, the tiers, their criteria and history: the S&T bureau."""
    return permissions.is_bureau_officer(user)


def can_withdraw_policy(user: Any, policy: Any = None) -> bool:
    """Withdrawing (撤回) a policy that is in force or in draft: the S&T bureau, with a reason (audited)."""
    return permissions.is_bureau_officer(user)


def register() -> None:
    permissions.register("enterprises.view_financials", can_view_financials)
    permissions.register("enterprises.edit_profile", can_edit_profile)
    permissions.register("enterprises.import_profiles", can_import_profiles)
    permissions.register("enterprises.manage_cultivation", can_manage_cultivation)
    permissions.register("enterprises.withdraw_policy", can_withdraw_policy)
    permissions.register("enterprises.use", is_enterprise_user)


def is_enterprise_user(user: Any) -> bool:
    return permissions.has_role(user, Role.ENTERPRISE_USER)
