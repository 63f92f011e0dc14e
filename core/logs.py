"""JSON-lines logging with a request id, and without personal data.

Only method, path (never the query string), status, duration and request id are logged for a
request. The formatter also masks anything shaped like a social security number (first digit 1-4,
7 or 8; 13 to 15 characters, Corsica's 2A/2B included; grouped by spaces, dots or dashes or not)
in every field of every record (message, path, extra fields, traceback), percent-decoded first so
an encoded path or request line cannot carry one through, as a second line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

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


MASK = "[masqué]"
# Rounds of percent-decoding before looking for a NIR: a path encoded twice still shows it.
_DECODING_ROUNDS = 3


def _percent_decoded(text: str) -> str:
    """``text`` percent-decoded (``+`` read as a space, as in a query string), again while it
    changes, a few rounds at most."""
    for _ in range(_DECODING_ROUNDS):
        decoded = unquote_plus(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    return text


# A NIR has at least 12 ASCII digits (13 characters with Corsica's 2A/2B, its key left out),
# and percent-encoding keeps every digit visible ("1" is "%31"): a text with fewer cannot hold
# one in any encoding, and is returned at once (most log fields: the cost of every request).
_NOT_DIGITS = {code: None for code in range(128) if not chr(code).isdigit()}
_FEWEST_DIGITS = 12


def _too_few_digits(text: str) -> bool:
    return len(text.translate(_NOT_DIGITS)) < _FEWEST_DIGITS


def mask_identifiers(text: str) -> str:
    """``text`` with everything shaped like a NIR masked, also when it is percent-encoded (a
    path, gunicorn's request line: ``/projets/1%2085%2003…``). When the decoded text shows one,
    the decoded text is returned, masked; otherwise the text is returned as it was."""
    if text.isascii() and _too_few_digits(text):
        return text
    masked = _NIR_LIKE.sub(MASK, text)
    decoded = _percent_decoded(masked)
    if decoded != masked:
        redacted = _NIR_LIKE.sub(MASK, decoded)
        if redacted != decoded:
            return redacted
    return masked


def _masked(value: Any) -> Any:
    """A log field with NIR-shaped values masked: strings, numbers (a NIR typed as one) and
    the strings inside lists and dicts."""
    if isinstance(value, str):
        return mask_identifiers(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value if mask_identifiers(str(value)) == str(value) else MASK
    if isinstance(value, dict):
        return {mask_identifiers(str(key)): _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_masked(item) for item in value]
    return mask_identifiers(str(value))


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record. Every field is masked (``mask_identifiers``, after
    percent-decoding): the message, the path, any extra field, the exception and the stack;
    so is a line gunicorn writes itself (``gunicorn_logconfig``), such as an invalid request
    line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": mask_identifiers(record.name),
            "message": mask_identifiers(record.getMessage()),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms", "cached", "event"):
            if hasattr(record, key):
                entry[key] = _masked(getattr(record, key))
        if record.exc_info:
            entry["exception"] = mask_identifiers(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = mask_identifiers(self.formatStack(record.stack_info))
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
