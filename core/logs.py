"""JSON-lines logging with a request id, and without personal data.

Only method, path (never the query string), status, duration and request id are logged for a
request. The formatter also masks anything shaped like a social security number (first digit 1-4,
7 or 8; 13 to 15 characters, Corsica's 2A/2B included; grouped by spaces, dots or dashes or not)
in any message and traceback, as a second line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Optional separator between groups: every one the objection form accepts (objection/identity.py
# _SEPARATORS; a test keeps the two in step): spaces, dots, slashes, underscores, Unicode dashes.
_SEP = r"[\s./_\-\u2010-\u2015\u2212\ufe63\uff0d]?"
# Anything shaped like a NIR (social security number): first digit 1, 2, 3, 4, 7 or 8 (sex or
# temporary number), year, month, department (digits, or 2A/2B for Corsica), commune, order,
# and the two-digit key, which people often leave out (13 to 15 characters in all).
_NIR_LIKE = re.compile(
    r"(?<![0-9])[1-478]"
    + rf"(?:{_SEP}[0-9]){{4}}"
    + rf"{_SEP}(?:[0-9]{_SEP}[0-9]|2{_SEP}[ABab])"
    + rf"(?:{_SEP}[0-9]){{6,8}}"
    + r"(?![0-9])"
)


def mask_identifiers(text: str) -> str:
    return _NIR_LIKE.sub("[masqué]", text)


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_identifiers(record.getMessage()),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms", "cached", "event"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = mask_identifiers(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                record.request_id = g.get("request_id", "-")
            except RuntimeError:  # outside a request
                record.request_id = "-"
        return True


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (gunicorn and test runners swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as one JSON object per line."""
    handler = CurrentStderrHandler()
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_hdh", False):
            root.removeHandler(existing)
    handler._hdh = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # The development server's own request lines carry query strings: keep them out.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def gunicorn_logconfig(level: str = "info") -> dict:
    """gunicorn's ``logconfig_dict``: its own lines as JSON through :class:`JsonLinesFormatter`.

    The root logger gets no handler here: the app adds its own in each worker
    (:func:`configure_logging`), so app records are not written twice. gunicorn's access log,
    which would carry query strings, goes to a null handler.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logs.JsonLinesFormatter"}},
        "handlers": {
            "json_stderr": {"class": "core.logs.CurrentStderrHandler", "formatter": "json"},
            "null": {"class": "logging.NullHandler"},
        },
        "root": {"level": level.upper(), "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": ["json_stderr"],
                               "propagate": False, "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": ["null"], "propagate": False,
                                "qualname": "gunicorn.access"},
        },
    }


access_log = logging.getLogger("hdh.access")


def init_app(app: Flask) -> None:
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def start_request() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.script_root + request.path,
                "status": response.status_code,
                "duration_ms": duration,
            },
        )
        return response
