"""What clients may send (Create/Update shapes), with the limits of models/limits.py."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from models.anchor import AnchorKind
from models.directory import Discipline
from models.feed import EntryKind, Priority
from models.geojson import GeometryError, validate_geometry
from models.incident import IncidentKind, Phase, Role, Status
from models.limits import (
    MAX_LABEL_CHARS,
    MAX_NAME_CHARS,
    MAX_PROPERTIES_BYTES,
    MAX_REASON_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
)


def _geometry(value: Any) -> dict[str, Any]:
    try:
        return validate_geometry(value)
    except GeometryError as error:
        if error.too_large:
            # Surfaces as error type "too_large" (see hub.errors.from_validation).
            raise PydanticCustomError("too_large", str(error)) from None
        raise ValueError(str(error)) from None


def _properties(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_PROPERTIES_BYTES:
        raise PydanticCustomError("too_large", f"properties exceed {MAX_PROPERTIES_BYTES} bytes")
    return value


def _client_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("client_id must be a UUID") from None


Geometry = Annotated[dict[str, Any], AfterValidator(_geometry)]
Properties = Annotated[dict[str, Any], AfterValidator(_properties)]
ClientId = Annotated[str, StringConstraints(max_length=36), AfterValidator(_client_id)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL_CHARS)
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        # coordinates: thousands of numbers, skipped without a call each
        return any(_has_nul(item) for item in value if isinstance(item, str | dict | list))
    return False


class Strict(BaseModel):
    """Unknown fields are refused, so a typo is an error instead of being silently ignored.
    A NUL character anywhere is refused too: PostgreSQL can store it neither in text nor in
    JSON (SQLite would), so it must be `invalid` on both, before any write."""

    model_config = ConfigDict(extra="forbid", strict=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise PydanticCustomError("nul_character", "NUL characters are not allowed")
        return data


class IncidentRef(Strict):
    incident_id: Id


class JoinIn(IncidentRef):
    since: Annotated[int, Field(ge=0)] | None = None


class FeedPostIn(IncidentRef):
    client_id: ClientId
    text: Text
    kind: EntryKind = EntryKind.INFO
    priority: Priority = Priority.NORMAL
    location: Geometry | None = None


class FeedCorrectIn(IncidentRef):
    entry_id: Id
    client_id: ClientId
    text: Text
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON_CHARS)
    ]


class AnchorCreateIn(IncidentRef):
    client_id: ClientId
    kind: AnchorKind
    label: Label
    geometry: Geometry
    properties: Properties = Field(default_factory=dict)


class AnchorUpdateIn(IncidentRef):
    anchor_id: Id
    version: Annotated[int, Field(ge=1)]
    label: Label | None = None
    geometry: Geometry | None = None
    properties: Properties | None = None


class AnchorDeleteIn(IncidentRef):
    anchor_id: Id
    version: Annotated[int, Field(ge=1)]


class IncidentCreateIn(Strict):
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_CHARS)
    ]
    kind: IncidentKind
    phase: Phase = Phase.MONITORING


class IncidentUpdateIn(Strict):
    title: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_CHARS),
        ]
        | None
    ) = None
    phase: Phase | None = None
    status: Status | None = None


class MemberIn(Strict):
    username: Name
    role: Role


class OrganisationIn(Strict):
    name: Name
    kind: Name = "other"


class UserIn(Strict):
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{2,100}$", max_length=100)]
    organisation: Name
    discipline: Discipline
    display_name: Name | None = None
    is_admin: bool = False
    password: Annotated[str, StringConstraints(min_length=8, max_length=1_000)] | None = None


class LoginIn(Strict):
    username: Annotated[str, StringConstraints(max_length=100)]
    password: Annotated[str, StringConstraints(max_length=1_000)]
