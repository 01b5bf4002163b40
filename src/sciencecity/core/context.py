"""Per-request context (request id, client address, acting organisation) for the audit trail.

Set by :class:`~sciencecity.core.middleware.RequestContextMiddleware`; commands run with an empty
context, which the audit trail records as the command line.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    channel: str = "cli"  # web | api | cli


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "sciencecity_request_context", default=None
)


def current() -> RequestContext:
    return _current.get() or _EMPTY


def activate(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)
