"""API plumbing shared by every app: authentication, one error format, pagination."""

from __future__ import annotations

import logging
import math
import re
from typing import Annotated, Any

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from pydantic import AfterValidator, ConfigDict, field_validator

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


logger = logging.getLogger("sciencecity.api")

#: Control characters a stored text may never hold (NUL breaks PostgreSQL, the others break exports and
#: terminals), and lone surrogates (they cannot be encoded); tab, line feed and carriage return are allowed.
_FORBIDDEN_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same for one-line text (codes, names, search words): no tab or line break either.
_FORBIDDEN_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The largest integer any column holds (a signed 64-bit integer); larger ones are refused at the edge.
MAX_INTEGER = 2**63 - 1
#: The largest magnitude of a number a client may send (indicator values, money, weights): far above any real
#: figure, far below what breaks arithmetic (1e308 overflows to infinity as soon as it is summed).
MAX_NUMBER = 1e15
#: The last page a list API serves (50 million rows at the largest page size).
MAX_PAGE = 250_000


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why ``value`` may not be stored as text, or None when it may."""
    pattern = _FORBIDDEN_IN_TEXT if multiline else _FORBIDDEN_IN_LINE
    found = pattern.search(value)
    if found is None:
        return None
    return _("Contains a control character (U+%(code)04X) at position %(position)d.") % {
        "code": ord(found.group()), "position": found.start() + 1}


def _check_raw(value: Any, *, multiline: bool = True) -> None:
    """Refuse, anywhere inside a request value, text with control characters and out-of-range integers."""
    if isinstance(value, str):
        problem = text_problem(value, multiline=multiline)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -MAX_INTEGER <= value <= MAX_INTEGER:
            raise ValueError(_("The number is too large."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_raw(key, multiline=False)
            _check_raw(item, multiline=multiline)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_raw(item, multiline=multiline)


def _line(value: str | None) -> str | None:
    if isinstance(value, str):
        problem = text_problem(value, multiline=False)
        if problem:
            raise ValueError(problem)
    return value


#: One-line text: no control characters at all (use for codes, names, titles, search words).
Line = Annotated[str, AfterValidator(_line)]
#: A finite number within ±``MAX_NUMBER`` (NaN, Infinity and 1e308 are refused with a clear message).
FiniteNumber = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_NUMBER, le=MAX_NUMBER)]


#: The text rule as a JSON-schema pattern, so that the OpenAPI document says what the server enforces.
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"


def _document_text_rule(schema: dict[str, Any]) -> None:
    """Add :data:`TEXT_PATTERN` to every free-text string of a request schema (not to enums or formats)."""
    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and not ({"enum", "format", "pattern", "const"} & set(node)):
                node["pattern"] = TEXT_PATTERN
            for key in ("properties",):
                for child in node.get(key, {}).values():
                    visit(child)
            for key in ("items", "additionalProperties"):
                visit(node.get(key))
            for key in ("anyOf", "oneOf", "allOf"):
                for child in node.get(key, []):
                    visit(child)

    visit(schema)


class InputSchema(Schema):
    """Base of every request schema: text without control characters, integers that fit a column.

    Checked on the raw value of each field (nested lists and objects included) before the field's own
    type, so the error names the field whatever its type. The OpenAPI document shows the text rule as a
    ``pattern`` on each free-text field.
    """

    model_config = ConfigDict(json_schema_extra=lambda schema, _cls: _document_text_rule(schema))

    @field_validator("*", mode="before")
    @classmethod
    def _no_hostile_values(cls, value: Any) -> Any:
        _check_raw(value)
        return value


def _finite(data: Any) -> Any:
    """``data`` with NaN and ±Infinity replaced by None: the API only ever sends standard JSON."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


class StrictJSONRenderer(JSONRenderer):
    """JSON without the NaN/Infinity extensions Python's encoder allows (strict parsers reject them)."""

    def render(self, request, data, *, response_status):
        return super().render(request, _finite(data), response_status=response_status)


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

    @api.exception_handler(MultiPartParserError)
    def _multipart(request, exc):
        return respond(request, 400, "bad_request", _("The uploaded form data cannot be read: %(reason)s") % {
            "reason": exc})

    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request, exc):
        """Django's refusals of a malformed or oversized request (too many fields, body too large)."""
        status = 413 if isinstance(exc, RequestDataTooBig) else 400
        return respond(request, status, "bad_request", _("The request is malformed or too large."))

    @api.exception_handler(BadRequest)
    def _bad_request(request, exc):
        return respond(request, 400, "bad_request", _("The request is malformed."))

    @api.exception_handler(OverflowError)
    def _overflow(request, exc):
        """A number the database cannot hold (an id or filter beyond 64 bits that slipped past the schema)."""
        return respond(request, 400, "out_of_range", _("A number in the request is out of range."))

    @api.exception_handler(DataError)
    def _data(request, exc):
        """The database refused a value (out of range, not representable): the client's input, not a fault."""
        logger.warning("API data error [request %s] %s %s: %s", getattr(request, "request_id", "-"),
                       request.method, request.path, exc)
        return respond(request, 400, "invalid_value", _("A value in the request cannot be stored."))

    @api.exception_handler(Exception)
    def _unexpected(request, exc):
        """Anything else is our fault: logged with the request id, answered in the one error format."""
        request_id = getattr(request, "request_id", "")
        logger.exception("Unhandled API error [request %s] %s %s", request_id or "-", request.method, request.path)
        return respond(request, 500, "server_error",
                       _("Something went wrong on our side. Quote the request id when you report it."),
                       {"request_id": request_id})


class PageNumber(PaginationBase):
    """``?page=N&page_size=M`` (M ≤ 200) → ``{items, count, page, page_size}``."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
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


def _anonymous(request: HttpRequest):
    """Last resort for public endpoints: the (possibly anonymous) session user."""
    from django.contrib.auth.models import AnonymousUser

    return getattr(request, "user", None) or AnonymousUser()


#: Authentication for endpoints that anonymous visitors may also read.
PUBLIC_AUTH = [TokenAuth(), SessionAuth(), _anonymous]
