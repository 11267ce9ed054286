"""The error codes of the wire contract, raised by domain actions and translated by handlers."""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

ErrorCode = Literal[
    "unauthorized",
    "forbidden",
    "not_found",
    "invalid",
    "conflict",
    "rate_limited",
    "too_large",
    "unavailable",
]

HTTP_STATUS: dict[str, int] = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "invalid": 400,
    "conflict": 409,
    "rate_limited": 429,
    "too_large": 413,
    "unavailable": 503,
}

# pydantic error types that mean "bigger than allowed" rather than "malformed".
_TOO_LARGE_TYPES = {"string_too_long", "too_long", "too_large"}


class HubError(Exception):
    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def ack(self) -> dict[str, Any]:
        return {"ok": False, "error": {"code": self.code, "message": self.message}, **self.extra}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}, **self.extra}

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]


def from_validation(error: ValidationError) -> HubError:
    """One readable line from pydantic's errors; size breaches become too_large."""
    problems = error.errors(include_url=False, include_input=False)
    code: ErrorCode = (
        "too_large" if any(p["type"] in _TOO_LARGE_TYPES for p in problems) else "invalid"
    )
    parts = []
    for problem in problems[:3]:
        where = ".".join(str(item) for item in problem["loc"]) or "payload"
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return HubError(code, "; ".join(parts))


def as_hub_error(error: Exception, log: logging.Logger, where: str) -> HubError:
    """What a socket or HTTP handler answers for an exception out of a domain action: the
    contract's own error as is; a value the database refuses to store (PostgreSQL's DataError,
    e.g. a NUL character in a path) as `invalid`, the transaction having rolled back; database
    trouble and anything unexpected as `unavailable`, logged, for the client to retry."""
    if isinstance(error, HubError):
        return error
    if isinstance(error, ValidationError):
        return from_validation(error)
    if isinstance(error, DataError):
        return HubError("invalid", "a value in the request cannot be stored")
    if isinstance(error, OperationalError | DBAPIError | OSError):
        log.error("database unavailable in %s", where, exc_info=error)
        return HubError("unavailable", "the database is unavailable; retry")
    log.error("unexpected error in %s", where, exc_info=error)
    return HubError("unavailable", "internal error; retry")
