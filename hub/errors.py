"""The error codes of the wire contract, raised by domain actions and translated by handlers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError

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
