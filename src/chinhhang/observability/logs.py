"""Structured logs: one JSON object per line, each carrying the request's id.

The id lives in a context variable that the middleware sets for each request; the thread
pool copies the context into its threads, so a sync route's log lines carry it too, and
background threads (the alert worker, stamp filling) log `null`. `serve` installs the
configuration (`logging_config`) in every worker through uvicorn; tests and other commands keep
Python's defaults.

What a line never holds (SPEC section 9): stamp codes, query strings, cookies, client
addresses. The access line names the route's template (`/v/{code}`), never the path.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from enum import StrEnum
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("chinhhang_request_id", default=None)
ACCESS_LOGGER = "chinhhang.access"


class LogFormat(StrEnum):
    """`serve --log-format`."""

    json = "json"
    text = "text"


FORMATS = tuple(member.value for member in LogFormat)
# Fields an access line adds to the record (`extra=`), written in this order.
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, pid; the access fields when present; the
    traceback as `exception`. ASCII-only JSON, so no terminal or shipper mangles a line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
            "pid": record.process,
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str)


def _iso_time(created: float) -> str:
    """UTC, to the millisecond: 2026-11-27T23:34:06.007Z (cheaper than datetime's)."""
    seconds = int(created)
    milliseconds = int((created - seconds) * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{milliseconds:03d}Z"


def logging_config(log_format: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` for `serve` (handed to uvicorn, which applies it in
    each worker): our loggers at INFO (the access lines), uvicorn's at INFO, everything else
    at WARNING (httpx, for one, would log each webhook URL at INFO)."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    formatter: dict[str, Any] = (
        {"()": "chinhhang.observability.logs.JsonFormatter"}
        if log_format == "json"
        else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "chinhhang.observability.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "chinhhang": {"level": "INFO"},
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
