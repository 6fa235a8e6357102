"""Logging for Vigil's processes: plain text for a person at a terminal, or one JSON object per line
for a log shipper (``VIGIL_LOG_FORMAT``), at ``VIGIL_LOG_LEVEL``.

Everything goes through the root logger to standard error, uvicorn's own loggers included (its
server messages on ``uvicorn.error``, one line per request on ``uvicorn.access``), so that one setting
governs the process's whole output. What Vigil logs are events about records (ids, states, counts),
never content text or secrets; the access log is stripped of query strings as well, because a
query string may carry what a path does not (an OpenID Connect callback's one-time code).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error", "critical")

# the loggers uvicorn writes to; they propagate to the root logger once their own handlers are gone
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``pid`` and, when the record carries one, ``exception`` (the formatted traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii: a line stays one line, whatever a message holds
        return json.dumps(entry, ensure_ascii=True, default=str)


class NoQueryStrings(logging.Filter):
    """Drops the query string from uvicorn's access lines (``"GET /path?x=y HTTP/1.1" 200``): the
    path says which route was called; a query string may hold a one-time code or a search term."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client address, method, full path, HTTP version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is written, as logging's own last-resort
    handler does: a test that captures standard error, or a supervisor that swaps it, gets the lines."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # the stream is always the current sys.stderr


def configure_logging(format: str, level: str) -> None:
    """Send every log record of the process, uvicorn's included, to standard error as ``format``
    (``text`` or ``json``) from ``level`` up (``debug`` ... ``critical``). Idempotent: a second call
    replaces the handler the first one installed, and leaves other handlers (a test runner's) alone."""
    if format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {format!r}")
    if level.lower() not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    handler = _StandardError()
    handler.setFormatter(JsonFormatter() if format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StandardError)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(level.upper())
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NoQueryStrings) for f in access.filters):
        access.addFilter(NoQueryStrings())
    logging.captureWarnings(True)  # warnings, too, in the one format
