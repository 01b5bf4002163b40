"""Structured logs: one JSON object per line, with the request id of the request being served.

Selected by ``LOG_FORMAT=json`` (the default; ``plain`` for a human at a terminal). Every line has
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and — inside a request or a job started
from one — ``request_id`` and ``channel``; the request log (logger ``sciencecity.request``) adds
``http`` (method, path, route, status, duration_ms, user_id). The same request id is in the
``X-Request-ID`` response header and in the audit events the request wrote, so a user's report,
the log lines and the audit trail meet.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os

from sciencecity.core import context

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        current = context.current()
        if current.request_id:
            entry["request_id"] = current.request_id
            entry["channel"] = current.channel
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes each record to ``sys.stderr`` as it is when the record is emitted, not as it was when logging was
    configured: test runners (pytest's capture, pytest-xdist workers) and process managers swap the stream, and a
    handler holding the old one fails on every line with "I/O operation on closed file"."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)  # no stream of its own

    @property
    def stream(self):  # type: ignore[override]
        import sys

        return sys.stderr
