"""What the plan services share: who may write, what counts as a department."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


def require_bureau(actor: User | None) -> None:
    if actor is not None:
        permissions.require(permissions.is_bureau_officer(actor))


def check_department(org: Organisation | None) -> None:
    if org is not None and org.kind != OrganisationKind.GOVERNMENT_DEPARTMENT:
        raise ValidationError(_("%(name)s is not a government department.") % {"name": org.name})
