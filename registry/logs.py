"""Secrets never reach a log line.

Several URLs of the registry are capabilities: whoever holds one can use it without logging
in (QR check-in `?t=…`, reconfirmation `/reconfirm/…`, calendar feeds `/api/ical/….ics`,
password-reset tokens). The database keeps only their SHA-256 or nothing at all, so a log
that printed them would undo that. uvicorn's access log prints the full URL of every request
and the error handler prints the path of a failing one; `redact` rewrites those values.

`install_redaction` wraps the log-record factory, so every record made in the process is
redacted when it is created, whatever handler or formatter prints it later: uvicorn replaces
its loggers' handlers after the app is built (and again in each `--workers` process), which
would drop a filter attached to a handler. `RedactSecrets` is the same as a logging.Filter for
a dictConfig.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

REDACTED = "[redacted]"

# A capability as the last part of a path: /reconfirm/<token>, /api/reconfirm/<token>,
# /api/ical/<token>.ics, and a password-reset page should it ever carry its token in the path.
_PATH = re.compile(
    r"(?P<keep>/(?:api/)?reconfirm/|/api/ical/|/(?:api/auth/)?(?:password-)?reset/)"
    r"(?P<secret>[^/?#\s\"'<>]+)"
)
# A capability as a query or fragment parameter (`#token=` is how the reset link carries it).
_PARAM = re.compile(
    r"(?P<keep>[?&#;](?:t|token|access_token|reset_token|key|secret|password|signature)=)"
    r"(?P<secret>[^&#\s\"'<>]+)",
    re.IGNORECASE,
)
# Any signed token (a JWT: header and claims are base64 JSON, so both start with "eyJ"),
# a calendar-feed token, or a bearer credential, wherever it appears.
_TOKEN = re.compile(
    r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
    r"|rcf_[A-Za-z0-9_-]{8,}"
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with every capability token replaced by [redacted]."""
    if not text:
        return text
    text = _PATH.sub(lambda m: m["keep"] + REDACTED, text)
    text = _PARAM.sub(lambda m: m["keep"] + REDACTED, text)
    return _TOKEN.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float):
        return value  # keeps %d and %f working
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redacts the message, its arguments (uvicorn's access log passes the URL as one) and a
    logged exception's traceback, in place."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        # Same length and order: uvicorn's AccessFormatter unpacks the tuple.
        record.args = tuple(_redact_value(arg) for arg in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {key: _redact_value(value) for key, value in record.args.items()}
    if record.exc_info and not record.exc_text:
        # Formatters print exc_text when it is set instead of formatting exc_info again.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_installed: list[Callable[..., logging.LogRecord]] = []


def install_redaction() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed.append(factory)
    # httpx logs every outgoing request with its full URL at INFO; webhook URLs often embed
    # the receiving system's own secret (e.g. chat services), which no pattern here knows.
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
