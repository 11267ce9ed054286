"""What clients may send (Create/Update shapes), with the limits of models/limits.py."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic import Strict as StrictMode
from pydantic_core import PydanticCustomError

from models.alert import CapCategory, Certainty, Channel, Severity, Urgency
from models.anchor import AnchorKind
from models.directory import Discipline
from models.evaluation import EvaluationKind, EvaluationState
from models.feed import EntryKind, Priority
from models.geojson import GeometryError, validate_geometry
from models.incident import IncidentKind, Phase, Role, Status
from models.limits import (
    MAX_EVALUATION_CHARS,
    MAX_JSON_DEPTH,
    MAX_LABEL_CHARS,
    MAX_NAME_CHARS,
    MAX_PROPERTIES_BYTES,
    MAX_REASON_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    MAX_WRITTEN_AGE_DAYS,
    MAX_WRITTEN_AHEAD_S,
)
from models.registration import MAX_PLACES, Language


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
ClientId = Annotated[
    str,
    StringConstraints(max_length=36),
    AfterValidator(_client_id),
    WithJsonSchema({"type": "string", "format": "uuid"}),
]
# Enumerations take their string values: in strict mode they would take Python members only.
Lax = StrictMode(False)
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


def check_json(value: Any) -> None:
    """Refuses, without recursion, a value nested deeper than MAX_JSON_DEPTH or holding a NUL
    character in any string or key. Iterative so that a 1,000-deep payload is `invalid`, not a
    RecursionError; one pass so that the hot paths (feed posts, coordinates) pay little."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_JSON_DEPTH:
                raise PydanticCustomError("too_deep", DEPTH_MESSAGE)
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    raise PydanticCustomError("nul_character", NUL_MESSAGE)
                if isinstance(child, str):
                    if "\x00" in child:
                        raise PydanticCustomError("nul_character", NUL_MESSAGE)
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_JSON_DEPTH:
                raise PydanticCustomError("too_deep", DEPTH_MESSAGE)
            for child in item:
                # coordinates: thousands of numbers, skipped without a push each
                if isinstance(child, str):
                    if "\x00" in child:
                        raise PydanticCustomError("nul_character", NUL_MESSAGE)
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(item, str) and "\x00" in item:
            raise PydanticCustomError("nul_character", NUL_MESSAGE)


DEPTH_MESSAGE = f"objects and arrays may not be nested deeper than {MAX_JSON_DEPTH} levels"
NUL_MESSAGE = "NUL characters are not allowed"


class Strict(BaseModel):
    """What every client-sent shape refuses:
    - unknown fields, so that a typo is an error instead of being silently ignored;
    - wrong types, with no coercion (`true` is no version, `"1"` no integer, bytes no text);
      enumerations still take their string values (see `Lax`);
    - a NUL character anywhere: PostgreSQL can store it neither in text nor in JSON (SQLite
      would), so it must be `invalid` on both, before any write;
    - nesting beyond MAX_JSON_DEPTH, which could be stored but never encoded again.
    Shapes filled from form fields (the OsmAnd query) validate with `strict=False`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_no_depth(cls, data: Any) -> Any:
        check_json(data)
        return data


class IncidentRef(Strict):
    incident_id: Id


class JoinIn(IncidentRef):
    since: Annotated[int, Field(ge=0)] | None = None
    # "changes" (issue 18): presence as `presence.changed` with versions, the list as the
    # answer's `presence`; "list" (v1, the default): the whole list in each `presence`.
    presence: Literal["list", "changes"] = "list"


class PresenceGetIn(IncidentRef):
    offset: Annotated[int, Field(ge=0)] = 0
    limit: Annotated[int, Field(ge=1, le=1_000)] = 1_000


def _iso_text(value: Any) -> Any:
    if isinstance(value, str | datetime):
        return value
    raise ValueError("written_at must be an ISO 8601 date and time (text)")


def _written_at(value: datetime) -> datetime:
    """When an entry was written, by its author's clock: refused (not clamped) outside what a
    queue and a clock's drift explain, so that a feed never shows a made-up time."""
    _aware(value, "written_at")
    now = datetime.now(UTC)
    if value > now + timedelta(seconds=MAX_WRITTEN_AHEAD_S):
        raise ValueError(
            f"written_at is ahead of the hub's clock by more than {MAX_WRITTEN_AHEAD_S} s"
        )
    if value < now - timedelta(days=MAX_WRITTEN_AGE_DAYS):
        raise ValueError(f"written_at is older than {MAX_WRITTEN_AGE_DAYS} days")
    return value.astimezone(UTC)


# ISO 8601 with Z or an offset (not a number: a Unix time says nothing of its unit).
WrittenAt = Annotated[
    datetime,
    Lax,
    BeforeValidator(_iso_text),
    AfterValidator(_written_at),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class FeedPostIn(IncidentRef):
    client_id: ClientId
    text: Text
    kind: Annotated[EntryKind, Lax] = EntryKind.INFO
    priority: Annotated[Priority, Lax] = Priority.NORMAL
    location: Geometry | None = None
    # When the author wrote it, if that was not just now (an entry queued offline).
    written_at: WrittenAt | None = None


class FeedCorrectIn(IncidentRef):
    entry_id: Id
    client_id: ClientId
    text: Text
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON_CHARS)
    ]
    written_at: WrittenAt | None = None


class AnchorCreateIn(IncidentRef):
    client_id: ClientId
    kind: Annotated[AnchorKind, Lax]
    label: Label
    geometry: Geometry
    properties: Properties = Field(default_factory=dict)

    @model_validator(mode="after")
    def _weather(self) -> AnchorCreateIn:
        if self.kind == AnchorKind.WEATHER:
            # models.weather imports this module (its shapes), so it is imported here.
            from models.weather import check_weather

            check_weather(self.geometry, self.properties)
        return self


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
    kind: Annotated[IncidentKind, Lax]
    phase: Annotated[Phase, Lax] = Phase.MONITORING


class IncidentUpdateIn(Strict):
    title: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_CHARS),
        ]
        | None
    ) = None
    phase: Annotated[Phase, Lax] | None = None
    status: Annotated[Status, Lax] | None = None


class MemberIn(Strict):
    username: Name
    role: Annotated[Role, Lax]


class OrganisationIn(Strict):
    name: Name
    kind: Name = "other"


class UserIn(Strict):
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{2,100}$", max_length=100)]
    organisation: Name
    discipline: Annotated[Discipline, Lax]
    display_name: Name | None = None
    is_admin: bool = False
    password: Annotated[str, StringConstraints(min_length=8, max_length=1_000)] | None = None


class TokenIn(Strict):
    username: Name | None = None  # default: the caller


class LoginIn(Strict):
    username: Annotated[str, StringConstraints(max_length=100)]
    password: Annotated[str, StringConstraints(max_length=1_000)]


def _area(value: dict[str, Any]) -> dict[str, Any]:
    if value["type"] not in ("Polygon", "MultiPolygon"):
        raise ValueError("an area is a GeoJSON Polygon or MultiPolygon")
    return value


Area = Annotated[
    dict[str, Any],
    AfterValidator(_geometry),
    AfterValidator(_area),
    WithJsonSchema(
        {
            "type": "object",
            "description": "A GeoJSON Polygon or MultiPolygon (lon/lat, closed rings)",
            "properties": {
                "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                "coordinates": {"type": "array"},
            },
            "required": ["type", "coordinates"],
        }
    ),
]


class RegistrationCountIn(Strict):
    """POST /api/registrations/count: the area whose audience to count."""

    geometry: Area


# population alerts (BE-Alert) ------------------------------------------------------------------

MAX_HEADLINE_CHARS = 160
MAX_DESCRIPTION_CHARS = 4_000
MAX_INSTRUCTION_CHARS = 1_000
MAX_ALERT_ANCHORS = 50


class AlertTextIn(Strict):
    headline: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_HEADLINE_CHARS)
    ]
    description: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_DESCRIPTION_CHARS),
    ]
    instruction: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_INSTRUCTION_CHARS),
    ]


class AlertAreaIn(Strict):
    """Perimeter anchors of the incident (their union), or a drawn area: one of the two."""

    anchor_ids: Annotated[list[Id], Field(max_length=MAX_ALERT_ANCHORS)] = Field(
        default_factory=list
    )
    geometry: Area | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AlertAreaIn:
        if bool(self.anchor_ids) == (self.geometry is not None):
            raise ValueError("an area is either anchor_ids (perimeter anchors) or a geometry")
        if len(set(self.anchor_ids)) != len(self.anchor_ids):
            raise ValueError("anchor_ids names an anchor twice")
        return self


def _channels(value: list[Channel]) -> list[Channel]:
    if len(set(value)) != len(value):
        raise ValueError("channels names a channel twice")
    return value


Channels = Annotated[
    list[Annotated[Channel, Lax]], Field(min_length=1, max_length=5), AfterValidator(_channels)
]
Info = Annotated[dict[Annotated[Language, Lax], AlertTextIn], Field(min_length=1, max_length=4)]
Expires = Annotated[datetime, Lax, AfterValidator(lambda value: _aware(value, "expires"))]
# Actual (the default) or Test; an incident of kind exercise always sends Exercise.
ChosenStatus = Literal["Actual", "Test"]


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} needs a time zone (ISO 8601 with Z or an offset)")
    return value


class AlertFieldsIn(Strict):
    """The fields a draft's edit or an update may change: those given change."""

    area: AlertAreaIn | None = None
    info: Info | None = None
    event: Label | None = None
    category: Annotated[CapCategory, Lax] | None = None
    urgency: Annotated[Urgency, Lax] | None = None
    severity: Annotated[Severity, Lax] | None = None
    certainty: Annotated[Certainty, Lax] | None = None
    expires: Expires | None = None
    channels: Channels | None = None


class AlertDraftIn(IncidentRef):
    area: AlertAreaIn
    info: Info
    event: Label
    category: Annotated[CapCategory, Lax]
    urgency: Annotated[Urgency, Lax]
    severity: Annotated[Severity, Lax]
    certainty: Annotated[Certainty, Lax]
    expires: Expires
    channels: Channels
    cap_status: ChosenStatus = "Actual"


class AlertEditIn(AlertFieldsIn):
    """PATCH /api/alerts/{id} (a draft) and POST /api/alerts/{id}/update (a sent alert)."""

    alert_id: Id
    version: Annotated[int, Field(ge=1)]
    # Only a draft's status can change (between Actual and Test).
    cap_status: ChosenStatus | None = None


class AlertVersionIn(Strict):
    """POST /api/alerts/{id}/send and …/cancel: the version the manager saw."""

    alert_id: Id
    version: Annotated[int, Field(ge=1)]


class AlertEstimateIn(IncidentRef):
    area: AlertAreaIn
    cap_status: ChosenStatus = "Actual"


class AlertPreviewIn(IncidentRef):
    info: Info
    cap_status: ChosenStatus = "Actual"


# self-registration (BE-Alert's public pages) ----------------------------------------------------


def _phone(what: str) -> AfterValidator:
    from hub.alerts.registrations import phone

    return AfterValidator(lambda value: phone(value, what) if value is not None else None)


def _email(value: str | None) -> str | None:
    from hub.alerts.registrations import email

    return email(value) if value is not None else None


class PlaceIn(Strict):
    label: Label
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


def _places(value: list[PlaceIn]) -> list[PlaceIn]:
    # A ValueError, not max_length: six places are a wrong shape (invalid), not an oversize.
    if not 1 <= len(value) <= MAX_PLACES:
        raise ValueError(f"a registration has 1 to {MAX_PLACES} places")
    return value


class SelfRegistrationIn(Strict):
    """POST /public/registrations: a person registers themself (no login). Numbers in E.164,
    at least one channel, 1 to 5 places; `test_audience` may only be false."""

    language: Annotated[Language, Lax]
    sms: Annotated[str | None, _phone("sms")] = None
    voice: Annotated[str | None, _phone("voice")] = None
    email: Annotated[str | None, AfterValidator(_email)] = None
    places: Annotated[list[PlaceIn], AfterValidator(_places)]
    test_audience: Literal[False] = False

    @model_validator(mode="after")
    def _a_channel(self) -> SelfRegistrationIn:
        if self.sms is None and self.voice is None and self.email is None:
            raise ValueError("give at least one of sms, voice, email")
        return self


class ConfirmIn(Strict):
    """POST /public/registrations/{id}/confirm: the code sent on the first channel."""

    code: Annotated[str, StringConstraints(min_length=1, max_length=12)]


# evaluation points --------------------------------------------------------------------------------


def _day(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("due is a day as text, YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("due is a day that exists, YYYY-MM-DD") from None


# A calendar day as JSON text: strict mode takes no text for a `date`, and a lax date would
# also take a number (a Unix time) or a full timestamp.
Day = Annotated[date, BeforeValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("the text is empty")
    return value


# Its length counted as sent, then stripped: the document's maxLength is what is refused.
EvaluationText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_EVALUATION_CHARS),
    AfterValidator(_stripped),
]
Owner = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LABEL_CHARS), AfterValidator(_stripped)
]


class EvaluationCreateIn(IncidentRef):
    client_id: ClientId
    kind: Annotated[EvaluationKind, Lax]
    text: EvaluationText
    owner: Owner | None = None
    due: Day | None = None


class EvaluationUpdateIn(IncidentRef):
    """The fields given change; `owner` and `due` given as null are cleared. `state` closes or
    reopens the point."""

    point_id: Id
    version: Annotated[int, Field(ge=1)]
    kind: Annotated[EvaluationKind, Lax] | None = None
    text: EvaluationText | None = None
    owner: Owner | None = None
    due: Day | None = None
    state: Annotated[EvaluationState, Lax] | None = None
