"""Logging set-up that keeps secrets out of logs.

Trackers speaking the OsmAnd protocol put their device key in the query string, and uvicorn's
access log prints query strings; the filter below masks such parameters before any handler
sees the record.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlsplit, urlunsplit

SECRET_PARAMS = re.compile(r"(?i)\b(id|deviceid|token|key|password|access_token)=([^&\s\"]+)")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = SECRET_PARAMS.sub(r"\1=***", record.msg)
        return True


def _redacted(arg: object) -> object:
    """A log argument with its secret parameters masked: strings, and objects whose text
    carries them (an httpx URL), which become that masked text."""
    if isinstance(arg, str):
        return SECRET_PARAMS.sub(r"\1=***", arg)
    if isinstance(arg, int | float) or arg is None:
        return arg
    text = str(arg)
    return SECRET_PARAMS.sub(r"\1=***", text) if SECRET_PARAMS.search(text) else arg


class QuietTrackerFixes(logging.Filter):
    """Drops uvicorn's access-log line of each stored tracker fix: a motorcade of 2,000
    trackers reports 2,000 times a second, and formatting those lines cost a fifth of the
    hub's time. Refused fixes (4xx, 5xx) are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and args[4] == 200:
            path = args[2]
            return not (isinstance(path, str) and path.startswith("/ingest/osmand"))
        return True


class ThrottledLog:
    """At most one line per kind of refusal per `interval` seconds, saying how many were
    refused meanwhile: a client that floods malformed packets must not flood the log (nor
    fill the disk), yet the operator still sees that it happens. One line, no traceback:
    bad input is the client's fault, not the hub's."""

    def __init__(self, logger: logging.Logger, interval: float = 1.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, tuple[float, int]] = {}  # kind -> (when logged, refused since)

    def warning(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        logged, count = self._last.get(kind, (-1e18, 0))
        if now - logged < self.interval:
            self._last[kind] = (logged, count + 1)
            return
        if count:
            message += f" ({count} more since the last line)"
        self._last[kind] = (now, 0)
        self.logger.warning(message, *args)


def masked(value: str | None) -> str:
    """A phone number or an address for a log line: all but its last 3 characters hidden."""
    if not value:
        return "-"
    return "*" * max(0, len(value) - 3) + value[-3:]


def without_secret(url: str) -> str:
    """A channel's URL for a log line or /readyz: its password (and any query) replaced by
    ***, the user and the server kept, so that an operator sees which server is meant."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username is not None:
        user = parts.username + (":***" if parts.password is not None else "")
        netloc = f"{user}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))
