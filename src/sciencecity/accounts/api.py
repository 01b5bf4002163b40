"""Accounts API: the caller, own memberships, users (系统管理员) and role grants (安全管理员).

Same permission checks as the pages (core.permissions); writes go through accounts.services.
"""

import datetime as dt
import json

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sciencecity.accounts import selectors, services
from sciencecity.accounts.choices import Role
from sciencecity.accounts.decorators import require_api_reauthentication
from sciencecity.accounts.models import Membership, User
from sciencecity.core import permissions
from sciencecity.core.api import ErrorResponse, InputSchema, Line, PageNumber
from sciencecity.registry.models import Organisation

router = Router(tags=["accounts"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse}


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]


class MembershipOut(Schema):
    id: int
    user_id: int
    username: str = Field(..., alias="user.username")
    role: str
    role_label: str = Field(..., alias="get_role_display")
    organisation_id: int | None
    organisation_name: str | None = Field(None, alias="organisation.name")
    created_at: dt.datetime


class UserMembershipOut(Schema):
    id: int
    role: str
    organisation_id: int | None


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    is_active: bool
    is_locked: bool
    locked_until: dt.datetime | None
    must_change_password: bool
    last_login: dt.datetime | None
    date_joined: dt.datetime
    memberships: list[UserMembershipOut]

    @staticmethod
    def resolve_locked_until(user: User) -> dt.datetime | None:
        """The end of the last login lock in force: account-wide or for any user name and address pair."""
        ends = [d for d in (user.locked_until, getattr(user, "login_locked_until", None)) if d is not None]
        return max(ends, default=None)

    @staticmethod
    def resolve_memberships(user: User) -> list[Membership]:
        return list(user.memberships.all())


class UserFilter(InputSchema):
    q: Line = Field("", description="Words in the user name, display name, e-mail or phone")
    active: bool | None = Field(None, description="Only active (true) or inactive (false) accounts")


class MembershipIn(InputSchema):
    user_id: int
    role: Role
    organisation_id: int | None = Field(None, description="Required for business roles except expert; "
                                                          "ignored for the administrator roles")
    reason: str = ""


@router.get("/me", response=MeOut, summary="The authenticated user")
def me(request):
    user = request.auth
    return {"id": user.pk, "username": user.username, "display_name": user.display_name,
            "roles": sorted(user.role_set())}


@router.get("/memberships", response=list[MembershipOut], summary="My roles and organisations")
def my_memberships(request):
    return list(selectors.own_memberships(request.auth).select_related("user"))


@router.get("/users", response={200: list[UserOut], **ERRORS}, summary="Accounts (system administrator)")
@paginate(PageNumber)
def users(request, filters: Query[UserFilter]):
    permissions.require(permissions.can_manage_users(request.auth))
    return selectors.user_list(query=filters.q, active=filters.active)


@router.post("/memberships", response={201: MembershipOut, **ERRORS},
             summary="Grant a role (security administrator)")
def membership_grant(request, payload: MembershipIn):
    permissions.require(permissions.can_manage_roles(request.auth))
    require_api_reauthentication(request)
    user = get_object_or_404(User, pk=payload.user_id)
    organisation = get_object_or_404(Organisation, pk=payload.organisation_id) if payload.organisation_id else None
    membership = services.role_grant(actor=request.auth, user=user, role=payload.role, organisation=organisation,
                                     reason=payload.reason)
    return Status(201, Membership.objects.select_related("user", "organisation").get(pk=membership.pk))


@router.delete("/memberships/{membership_id}", response={204: None, **ERRORS},
               summary="Revoke a role (security administrator); the reason in the body or the query")
def membership_revoke(request, membership_id: int, reason: str = ""):
    permissions.require(permissions.can_manage_roles(request.auth))
    require_api_reauthentication(request)
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)
    services.role_revoke(actor=request.auth, membership=membership, reason=reason or _body_reason(request))
    return Status(204, None)


def _body_reason(request) -> str:
    """``{"reason": "…"}`` from a JSON body (DELETE bodies are optional, so it is read by hand)."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return ""
    reason = body.get("reason") if isinstance(body, dict) else None
    return reason if isinstance(reason, str) else ""
