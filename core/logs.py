"""Logging: readable lines in development, one JSON object per line in production
(MENTORING40_LOG_FORMAT=json), each with the request id of the request it belongs to.

Records go through a queue, so a slow terminal or log collector never blocks the event
loop; the request id is taken in the logging thread of the request (a filter on the
queue handler) before the record crosses over. uvicorn's own loggers are routed here
too, so every line of a worker has the same shape. Result tokens in paths are masked:
they are bearer secrets (whoever has one can read the result). Control characters in
messages and values are escaped, so a request cannot forge a line or drive a terminal.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import queue
import re
import sys
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from core.http.security import mask_path, request_id
from core.settings import Settings

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}
_installed: tuple[QueueHandler, QueueListener] | None = None
# The HTTP clients log every request to Meilisearch at INFO, Piccolo each engine start.
QUIET = ("httpx", "httpx2", "httpcore", "piccolo")


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request being served (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        if isinstance(record.args, tuple):
            record.args = tuple(mask_path(a) if isinstance(a, str) else a for a in record.args)
        return True


# Characters a request can put into a logged path or value (percent-encoded) that would
# start a new line (a forged log line), drive the terminal (ANSI escape sequences start
# with ESC or the C1 control CSI) or reorder what is shown (bidirectional controls).
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def escape_controls(text: str) -> str:
    """``text`` with control, line-separator and bidi characters written as ``\\xNN`` or
    ``\\uNNNN``, so that one record stays one line and shows what it contains."""
    return _UNSAFE.sub(lambda m: ascii(m.group())[1:-1], text)


class _QueueHandler(QueueHandler):
    """Like QueueHandler, but keeps the traceback apart from the message (for ``exc``) and
    escapes control characters in the message and in every text passed with ``extra=``
    (in both formats: the text format would break the line, and JSON leaves C1 controls
    and line separators as they are). The traceback keeps its lines: TextFormatter marks
    them, JSON keeps it in one string."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = logging.makeLogRecord(vars(record))
        record.message = escape_controls(record.getMessage())
        for key, value in vars(record).items():
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, escape_controls(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = record.message, None
        record.exc_info = record.stack_info = None
        return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, with every line of a traceback indented behind ``  | `` and its control
    characters escaped: an exception's message may carry what a caller sent (a plugin's
    ``ValueError(f"... {value}")``), and its line breaks must not start a line that reads
    like a record of its own, nor its escape sequences drive the terminal."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        trace = record.exc_text
        if record.exc_info and not trace:
            trace = self.formatException(record.exc_info)
        if trace:
            text += "".join(f"\n  | {escape_controls(line)}" for line in trace.splitlines())
        return text


def configure_logging(settings: Settings) -> None:
    """Route every log record (ours, Litestar's, uvicorn's) through one queue to stderr."""
    global _installed
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler = _QueueHandler(queue.SimpleQueue())
    handler.addFilter(RequestIdFilter())
    listener = QueueListener(handler.queue, stream)
    listener.start()
    _stop()  # a second app in the same process (tests) replaces the first one's logging
    _installed = (handler, listener)
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    root.addHandler(handler)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        # uvicorn's --no-access-log leaves uvicorn.access without handlers and not
        # propagating: keep it off. Otherwise its lines come through here, in our format.
        if logger.handlers or logger.propagate:
            logger.handlers = []
            logger.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def _stop() -> None:
    """Detach our handler and write out what is queued (at exit, or before replacing)."""
    global _installed
    if _installed is not None:
        handler, listener = _installed
        _installed = None
        logging.getLogger().removeHandler(handler)
        listener.stop()


atexit.register(_stop)


__all__ = ["JsonFormatter", "TextFormatter", "configure_logging", "escape_controls"]
