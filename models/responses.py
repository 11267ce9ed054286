"""What the HTTP API answers, for /api/openapi.json: the public shapes of the wire contract
(protocol.md, "Shapes"). The handlers build plain dicts (hub/public.py, hub/actions/); these
models only describe them, so every field here is one that those dicts always carry, and a
field is nullable exactly when its source can be None. Unknown fields are refused, so the
fuzzing test (tests/test_openapi_fuzz.py) notices when an answer and its description drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from models.anchor import AnchorKind
from models.convoy import ConvoyStatus, VehicleRole
from models.directory import Discipline
from models.feed import EntryKind, Priority
from models.incident import IncidentKind, Phase, Role, Status

# GeoJSON geometries and free properties are validated on the way in (models/geojson.py);
# on the way out they are whatever was stored.
Geometry = dict[str, Any]


class Public(BaseModel):
    model_config = ConfigDict(extra="forbid")


# people ----------------------------------------------------------------------------------------


class ActorPublic(Public):
    """Who made a change: a user, the operator (`system`) or the GeoTool rules (`geotool`)."""

    id: str
    name: str
    organisation: str


class AuthorPublic(ActorPublic):
    discipline: Discipline


class CallerPublic(Public):
    """The calling user (GET /api/me, POST /api/session)."""

    id: str
    username: str
    name: str
    organisation: str
    discipline: Discipline
    is_admin: bool


class UserPublic(Public):
    """A user as an administrator created it."""

    id: str
    username: str
    display_name: str
    organisation: str
    discipline: Discipline
    is_admin: bool


class OrganisationPublic(Public):
    id: str
    name: str
    kind: str


class TokenPublic(Public):
    id: str
    token: str = Field(description="the raw token, shown this once only")


class Empty(Public):
    pass


# incidents and members --------------------------------------------------------------------------


class IncidentPublic(Public):
    id: str
    title: str
    kind: IncidentKind
    phase: Phase
    status: Status
    created_at: datetime
    closed_at: datetime | None
    last_seq: int


class IncidentWithRole(IncidentPublic):
    role: Role = Field(description="the caller's role in this incident")


class MemberBase(Public):
    user_id: str
    username: str
    name: str


class MemberPublic(MemberBase):
    organisation: str
    discipline: Discipline
    role: Role


class MemberAdded(MemberBase):
    organisation: str | None
    role: Role


class MemberRemoved(MemberBase):
    pass


class EventPublic(Public):
    incident_id: str
    seq: int
    type: str = Field(description="feed.posted, anchor.updated, convoy.alert…")
    at: datetime
    actor: ActorPublic
    data: dict[str, Any]


# feed and anchors ---------------------------------------------------------------------------------


class FeedEntryPublic(Public):
    id: str
    incident_id: str
    seq: int
    client_id: str
    author: AuthorPublic
    kind: EntryKind
    priority: Priority
    text: str
    location: Geometry | None
    corrects: str | None = Field(description="the id of the entry this one corrects")
    reason: str | None
    created_at: datetime


class AnchorPublic(Public):
    id: str
    incident_id: str
    client_id: str
    kind: AnchorKind
    label: str
    geometry: Geometry
    properties: dict[str, Any]
    version: int
    updated_at: datetime
    updated_by: str
    # Only a deleted anchor carries it (true): absent, not null, on the others.
    deleted: bool | SkipJsonSchema[None] = None


class AnchorFeatureProperties(BaseModel):
    """The anchor's own properties, with these over them."""

    model_config = ConfigDict(extra="allow")

    kind: AnchorKind
    label: str
    version: int
    updated_at: datetime
    updated_by: str


class AnchorFeature(Public):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: AnchorFeatureProperties


class AnchorCollection(Public):
    type: Literal["FeatureCollection"]
    features: list[AnchorFeature]


# convoys ------------------------------------------------------------------------------------------


class PositionPublic(Public):
    vehicle_id: str
    convoy_id: str
    lat: float
    lon: float
    ts: datetime
    speed: float | None = Field(description="m/s")
    heading: float | None
    accuracy: float | None


class VehiclePublic(Public):
    id: str
    convoy_id: str
    label: str
    role: VehicleRole
    last_position: PositionPublic | None


class ConvoyPublic(Public):
    id: str
    incident_id: str
    name: str
    route: Geometry | None = Field(description="a GeoJSON LineString")
    destination: Geometry | None = Field(description="a GeoJSON Point")
    status: ConvoyStatus
    vehicles: list[VehiclePublic]


class TrackLine(Public):
    type: Literal["LineString"]
    coordinates: list[list[float]] = Field(description="[lon, lat] per fix")


class TrackProperties(Public):
    vehicle_id: str
    convoy_id: str
    label: str
    role: VehicleRole
    times: list[datetime]
    speeds: list[float | None]


class TrackFeature(Public):
    """A vehicle's trail: one coordinate, time and speed per accepted fix, in device time."""

    type: Literal["Feature"]
    id: str
    geometry: TrackLine
    properties: TrackProperties


class FixAck(Public):
    """A stored fix: empty, or saying it was a duplicate or why it was flagged."""

    duplicate: bool | SkipJsonSchema[None] = None
    flagged: str | SkipJsonSchema[None] = None


class TrackUpload(Public):
    received: int
    stored: int
    duplicates: int
    flagged: int


# the answers, as the routes wrap them -----------------------------------------------------------


class CallerOut(Public):
    user: CallerPublic


class UserOut(Public):
    user: UserPublic


class OrganisationOut(Public):
    organisation: OrganisationPublic


class IncidentsOut(Public):
    incidents: list[IncidentWithRole]


class IncidentOut(Public):
    incident: IncidentPublic


class IncidentWithRoleOut(Public):
    incident: IncidentWithRole


class MembersOut(Public):
    members: list[MemberPublic]


class MemberAddedOut(Public):
    member: MemberAdded


class MemberRemovedOut(Public):
    member: MemberRemoved


class EventsPage(Public):
    seq: int = Field(description="the incident's last seq")
    events: list[EventPublic]


class FeedPage(Public):
    entries: list[FeedEntryPublic]


class FeedEntryOut(Public):
    entry: FeedEntryPublic


class AnchorOut(Public):
    anchor: AnchorPublic


class ConvoysOut(Public):
    convoys: list[ConvoyPublic]


class ConvoyOut(Public):
    convoy: ConvoyPublic


class VehicleOut(Public):
    vehicle: VehiclePublic
    device_key: str = Field(description="the tracker's key, shown this once only")
