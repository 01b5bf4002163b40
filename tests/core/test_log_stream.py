"""Log lines go to the stderr of the moment: a runner that swaps the stream (pytest-xdist workers, process
managers) must not turn every request's log line into "--- Logging error ---" and a traceback."""

from __future__ import annotations

import io
import logging
import sys


def test_a_log_line_reaches_the_stream_that_is_stderr_now(monkeypatch):
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    console.handle(logging.makeLogRecord({"name": "sciencecity.request", "msg": "GET / 200", "levelno": logging.INFO,
                                          "levelname": "INFO"}))
    assert "GET / 200" in now.getvalue()


def test_a_closed_earlier_stream_gives_no_logging_error(monkeypatch):
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    earlier = io.StringIO()
    monkeypatch.setattr(sys, "stderr", earlier)
    earlier.close()
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    console.handle(logging.makeLogRecord({"name": "sciencecity.request", "msg": "GET /healthz 200",
                                          "levelno": logging.INFO, "levelname": "INFO"}))
    assert "GET /healthz 200" in now.getvalue() and "Logging error" not in now.getvalue()
