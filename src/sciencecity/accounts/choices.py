"""Roles of the platform. The three administrator roles are mutually exclusive (三员分立)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")  # 系统管理员
    SECURITY_ADMIN = "security_admin", _("Security administrator")  # 安全管理员
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")  # 审计管理员
    BUREAU_OFFICER = "bureau_officer", _("S&T bureau officer")  # 科技创新局
    DEPARTMENT_OFFICER = "department_officer", _("Department officer")  # 责任部门
    ENTERPRISE_USER = "enterprise_user", _("Enterprise user")
    ACADEMIC_USER = "academic_user", _("University / institute user")
    EXPERT = "expert", _("Expert")
    INVESTOR = "investor", _("Investor / bank user")
    FACILITY_MANAGER = "facility_manager", _("Facility manager")
    INCUBATOR_OPERATOR = "incubator_operator", _("Incubator operator")


#: GB/T 22239-2019 8.1.4.2 d and 8.1.7: system, security and audit administration are separate
#: duties; no account holds two of them, and none of them holds a business role.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
OFFICER_ROLES = frozenset({Role.BUREAU_OFFICER, Role.DEPARTMENT_OFFICER})
#: Roles that may exist without an organisation (an independent expert, the administrators).
ROLES_WITHOUT_ORGANISATION = ADMIN_ROLES | {Role.EXPERT}
BUSINESS_ROLES = frozenset(set(Role) - ADMIN_ROLES)


class AdminChangeKind(models.TextChoices):
    """What a two-person change to an administrator account does (三员分立)."""

    RESET_PASSWORD = "reset_password", _("Reset the password")
    DEACTIVATE = "deactivate", _("Deactivate the account")
    ACTIVATE = "activate", _("Activate the account")


class AdminChangeState(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved and carried out")
    DECLINED = "declined", _("Declined")
