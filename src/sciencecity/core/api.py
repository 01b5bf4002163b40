"""API plumbing shared by every app: authentication, one error format, pagination."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from sciencecity.accounts import services as account_services


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sct_…`` with a personal API token (stored hashed)."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str):
        user = account_services.api_token_user(token)
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The browser session (same permissions as the UI); unsafe methods need the CSRF token."""


class ErrorBody(Schema):
    code: str
    message: str
    details: Any = None


class ErrorResponse(Schema):
    error: ErrorBody


def error(status: int, code: str, message: str, details: Any = None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message, "details": details}}


def install_error_handlers(api) -> None:
    def respond(request, status, code, message, details=None):
        return api.create_response(request, {"error": {"code": code, "message": message, "details": details}}, status=status)

    @api.exception_handler(NinjaValidationError)
    def _validation(request, exc):
        details = [
            {"field": ".".join(str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")),
             "message": err.get("msg", "")}
            for err in exc.errors
        ]
        return respond(request, 422, "validation_error", _("The request has invalid fields."), details)

    @api.exception_handler(DjangoValidationError)
    def _django_validation(request, exc):
        if hasattr(exc, "error_dict"):
            details = [{"field": f, "message": " ".join(str(m) for e in errs for m in e.messages)}
                       for f, errs in exc.error_dict.items()]
        else:
            details = [{"field": "", "message": m} for m in exc.messages]
        return respond(request, 400, "invalid", _("The data is not valid."), details)

    @api.exception_handler(AuthenticationError)
    def _auth(request, exc):
        return respond(request, 401, "not_authenticated", _("Log in or send a valid API token."))

    @api.exception_handler(PermissionDenied)
    def _denied(request, exc):
        return respond(request, 403, "permission_denied", _("You do not have permission to do this."))

    @api.exception_handler(Http404)
    def _missing(request, exc):
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(HttpError)
    def _http(request, exc):
        code = {400: "bad_request", 403: "permission_denied", 404: "not_found", 409: "conflict"}.get(
            exc.status_code, "error")
        return respond(request, exc.status_code, code, str(exc))


class PageNumber(PaginationBase):
    """``?page=N&page_size=M`` (M ≤ 200) → ``{items, count, page, page_size}``."""

    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int = Field(50, ge=1, le=200)

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int

    items_attribute = "items"

    def paginate_queryset(self, queryset, pagination: Input, **params):
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "items": list(queryset[offset : offset + pagination.page_size]),
            "count": queryset.count(),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }


def acting_organisation(request: HttpRequest):
    """The organisation the user acts for: header ``X-Acting-Organisation`` or the session's choice."""
    from sciencecity.core import permissions
    from sciencecity.registry.models import Organisation

    user = request.user
    ids = permissions.organisation_ids(user)
    wanted = request.headers.get("X-Acting-Organisation") or (
        request.session.get("acting_organisation_id") if hasattr(request, "session") else None
    )
    try:
        wanted_id = int(wanted) if wanted else None
    except (TypeError, ValueError):
        wanted_id = None
    chosen = wanted_id if wanted_id in ids else (min(ids) if ids else None)
    return Organisation.objects.filter(pk=chosen).first() if chosen else None


def _anonymous(request: HttpRequest):
    """Last resort for public endpoints: the (possibly anonymous) session user."""
    from django.contrib.auth.models import AnonymousUser

    return getattr(request, "user", None) or AnonymousUser()


#: Authentication for endpoints that anonymous visitors may also read.
PUBLIC_AUTH = [TokenAuth(), SessionAuth(), _anonymous]
