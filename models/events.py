"""The wire contract's shapes, one typed model each (protocol.md, "Shapes" and "Server →
client"; docs/protocol-additions.md): every public shape, every server → client payload, and
the `data` of every sequenced event type (EVENT_DATA), as Zulip keeps one schema per event.

They are TypedDicts, not pydantic models, because of who builds them:
- each shape's one builder (hub/public.py; the convoys' in hub/actions/convoys.py, the alerts'
  in hub/convoys/rules.py, the evaluation points' in hub/actions/evaluation.py) returns a
  plain dict literal typed as its model, so mypy checks each key and value there and at
  every use, and at run time nothing is added: no model instance, no validation, no dump.
  A feed post and a batch of fixes (the hot paths) build exactly the dicts they built
  before, and those go on the wire;
- pydantic validates TypedDicts too, so the same models are what the tests check every
  emitted event against (`check`, `check_event`: strict, as the JSON on the wire, unknown
  keys refused) and what /api/openapi.json describes (models/responses.py wraps them).
(The `presence`, `convoy.positions` and `incident.left` messages are put together in
hub/realtime/ and hub/convoys/coalesce.py, not yet annotated with theirs; the tests check them.)

The columns hold enumerations and times as text (models/*.py), and so do these dicts: such a
field is typed `str` for the producers and annotated with what its text is for pydantic
(`As(Role)`: one of the enum's values; `Time`: ISO 8601 in UTC with a Z), which validates and
documents it as the enum or the datetime.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, NotRequired, get_args

from pydantic import ConfigDict, Field, GetCoreSchemaHandler, TypeAdapter, with_config
from pydantic_core import CoreSchema, core_schema
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from models.alert import (
    AlertState,
    CapCategory,
    CapStatus,
    Certainty,
    Channel,
    MsgType,
    Severity,
    Urgency,
)
from models.anchor import AnchorKind
from models.contact import ContactKind, MethodType
from models.convoy import ConvoyStatus, VehicleRole
from models.directory import Discipline
from models.evaluation import EvaluationKind, EvaluationState
from models.feed import EntryKind, Priority
from models.incident import IncidentKind, Phase, Role, Status
from models.plan import PlanKind, PlanLevel, VersionStatus


def _utc_text(value: Any) -> Any:
    if not (isinstance(value, str) and value.endswith("Z")):
        raise ValueError("a time is ISO 8601 text in UTC, ending in Z")
    return datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class As:
    """Annotates a text field with what its text is: validated and described as `kind` (an
    enum, a Literal, or datetime for ISO 8601 UTC text), typed `str` for the producers."""

    kind: Any

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler.generate_schema(self.kind)
        if self.kind is datetime:
            return core_schema.no_info_before_validator_function(_utc_text, schema)
        return schema


Time = Annotated[str, As(datetime)]
# GeoJSON geometries and free properties are validated on the way in (models/geojson.py);
# on the way out they are whatever was stored.
Geometry = dict[str, Any]

FORBID = ConfigDict(extra="forbid")


# people ----------------------------------------------------------------------------------------


@with_config(FORBID)
class ActorPublic(TypedDict):
    """Who made a change: a user, the operator (`system`) or the GeoTool rules (`geotool`)."""

    id: str
    name: str
    organisation: str


@with_config(FORBID)
class AuthorPublic(ActorPublic):
    discipline: Annotated[str, As(Discipline)]


@with_config(FORBID)
class OnlineUser(TypedDict):
    user_id: str
    name: str
    organisation: str


@with_config(FORBID)
class PresencePayload(TypedDict):
    """`presence`: who is online in the incident, one entry per user."""

    incident_id: str
    online: list[OnlineUser]


@with_config(FORBID)
class PresenceChanged(TypedDict):
    """`presence.changed` (to sockets that joined with `presence: "changes"`): who came online
    and who went offline since the message of `version` - 1."""

    incident_id: str
    version: int
    joined: Annotated[list[OnlineUser], Field(description="new, or changed (a new name)")]
    left: Annotated[list[str], Field(description="user ids")]


@with_config(FORBID)
class PresencePage(TypedDict):
    """A page of the online list at `version` (a join's `presence`, `presence.get`'s answer),
    ordered by name then user id."""

    incident_id: str
    version: int
    online: list[OnlineUser]
    offset: int
    total: int


@with_config(FORBID)
class IncidentLeft(TypedDict):
    """`incident.left`: this user's sockets were taken out of the incident."""

    incident_id: str
    reason: Literal["removed"]


# incidents and members --------------------------------------------------------------------------


@with_config(FORBID)
class IncidentPublic(TypedDict):
    id: str
    title: str
    kind: Annotated[str, As(IncidentKind)]
    phase: Annotated[str, As(Phase)]
    status: Annotated[str, As(Status)]
    created_at: Time
    closed_at: Time | None
    last_seq: int


@with_config(FORBID)
class IncidentWithRole(IncidentPublic):
    role: Annotated[str, As(Role), Field(description="the caller's role in this incident")]


@with_config(FORBID)
class IncidentListed(IncidentWithRole):
    """An incident in the caller's list (GET /api/incidents)."""

    open_points: Annotated[int, Field(description="its evaluation points still open")]


@with_config(FORBID)
class MemberBase(TypedDict):
    user_id: str
    username: str
    name: str


@with_config(FORBID)
class MemberPublic(MemberBase):
    organisation: str
    discipline: Annotated[str, As(Discipline)]
    role: Annotated[str, As(Role)]


@with_config(FORBID)
class MemberAdded(MemberBase):
    organisation: str | None
    role: Annotated[str, As(Role)]


@with_config(FORBID)
class MemberRemoved(MemberBase):
    pass


# feed and anchors ---------------------------------------------------------------------------------


@with_config(FORBID)
class FeedEntryPublic(TypedDict):
    id: str
    incident_id: str
    seq: int
    client_id: str
    author: AuthorPublic
    kind: Annotated[str, As(EntryKind)]
    priority: Annotated[str, As(Priority)]
    text: str
    location: Geometry | None
    corrects: Annotated[str | None, Field(description="the id of the entry this one corrects")]
    reason: str | None
    created_at: Time
    written_at: Annotated[
        Time | None,
        Field(description="when its author wrote it, if sent later (queued offline); else null"),
    ]


@with_config(FORBID)
class AnchorPublic(TypedDict):
    id: str
    incident_id: str
    client_id: str
    kind: Annotated[str, As(AnchorKind)]
    label: str
    geometry: Geometry
    properties: dict[str, Any]
    version: int
    updated_at: Time
    updated_by: str
    # Only a deleted anchor carries it (true): absent, not null, on the others. (The default
    # is what the OpenAPI document has always said of an absent field.)
    deleted: NotRequired[Annotated[bool, Field(json_schema_extra={"default": None})]]


@with_config(ConfigDict(extra="allow"))
class AnchorFeatureProperties(TypedDict):
    """The anchor's own properties, with these over them."""

    kind: Annotated[str, As(AnchorKind)]
    label: str
    version: int
    updated_at: Time
    updated_by: str


@with_config(FORBID)
class AnchorFeature(TypedDict):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: AnchorFeatureProperties


@with_config(FORBID)
class AnchorCollection(TypedDict):
    type: Literal["FeatureCollection"]
    features: list[AnchorFeature]


# convoys ------------------------------------------------------------------------------------------


@with_config(FORBID)
class PositionPublic(TypedDict):
    vehicle_id: str
    convoy_id: str
    lat: float
    lon: float
    ts: Time
    speed: Annotated[float | None, Field(description="m/s")]
    heading: float | None
    accuracy: float | None


@with_config(FORBID)
class VehiclePublic(TypedDict):
    id: str
    convoy_id: str
    label: str
    role: Annotated[str, As(VehicleRole)]
    last_position: PositionPublic | None
    # Its APP-6 / MIL-STD-2525 symbol (issue 16), null for the default arrow; absent from
    # convoy.updated events logged before it existed.
    sidc: NotRequired[str | None]


@with_config(FORBID)
class ConvoyPublic(TypedDict):
    id: str
    incident_id: str
    name: str
    route: Annotated[Geometry | None, Field(description="a GeoJSON LineString")]
    destination: Annotated[Geometry | None, Field(description="a GeoJSON Point")]
    status: Annotated[str, As(ConvoyStatus)]
    vehicles: list[VehiclePublic]


@with_config(FORBID)
class ConvoyPositions(TypedDict):
    """`convoy.positions` (coalesced, not sequenced): the latest position of each vehicle
    that moved since the previous message."""

    incident_id: str
    positions: list[PositionPublic]


ConvoyAlert = Literal["enter", "exit", "off_route", "stopped", "silent"]
# The fields each kind of alert adds to ConvoyAlertData's common ones.
ALERT_FIELDS: dict[str, frozenset[str]] = {
    "enter": frozenset({"anchor_id", "anchor_kind", "anchor_label"}),
    "exit": frozenset({"anchor_id", "anchor_kind", "anchor_label"}),
    "off_route": frozenset({"distance_m"}),
    "stopped": frozenset({"stopped_s"}),
    "silent": frozenset({"silent_s"}),
}


@with_config(FORBID)
class ConvoyAlertData(TypedDict):
    """The data of a `convoy.alert` event (hub/convoys/rules.py): the common fields, and
    those of its kind (ALERT_FIELDS)."""

    alert: Annotated[str, As(ConvoyAlert)]
    vehicle_id: str
    vehicle_label: str
    convoy_id: str
    lat: float
    lon: float
    ts: Time
    eta_s: float | None
    anchor_id: NotRequired[str]
    anchor_kind: NotRequired[Annotated[str, As(AnchorKind)]]
    anchor_label: NotRequired[str]
    distance_m: NotRequired[float]
    stopped_s: NotRequired[float]
    silent_s: NotRequired[float]


# population alerts (BE-Alert) ---------------------------------------------------------------------


@with_config(FORBID)
class AudienceCounts(TypedDict):
    """Registrations with a place in an area, each once; by_channel counts those having each
    channel, by_language those of each language. Counts only: never the registrations."""

    registrations: int
    by_channel: dict[str, int]
    by_language: dict[str, int]


@with_config(FORBID)
class CircleArea(TypedDict):
    lat: float
    lon: float
    radius_m: float


@with_config(FORBID)
class AlertArea(TypedDict):
    anchor_ids: Annotated[
        list[str], Field(description="the perimeter anchors whose union is the area")
    ]
    labels: Annotated[
        list[str], Field(description="their labels when the area was drawn (CAP `areaDesc`)")
    ]
    geometry: Annotated[
        Geometry, Field(description="the whole area, circles as polygons: who is warned")
    ]
    polygons: Annotated[
        Geometry | None, Field(description="the area but its circles (CAP `polygon`s)")
    ]
    circles: Annotated[list[CircleArea], Field(description="circular perimeters (CAP `circle`s)")]


@with_config(FORBID)
class AlertText(TypedDict):
    headline: str
    description: str
    instruction: Annotated[str, Field(description="the behaviour to follow")]


@with_config(FORBID)
class AlertMessagePublic(TypedDict):
    identifier: str
    msg_type: Annotated[str, As(MsgType)]
    sent: Time


@with_config(FORBID)
class ChannelProgress(TypedDict):
    queued: int
    sent: int
    delivered: int
    failed: int


@with_config(FORBID)
class AlertProgress(TypedDict):
    """`alert.progress` (unsequenced, coalesced): where the alert's delivery stands."""

    incident_id: str
    alert_id: str
    by_channel: dict[str, ChannelProgress]


@with_config(FORBID)
class DeliveryPublic(TypedDict):
    """One delivery of an alert to one recipient on one channel (the outbox row)."""

    id: int
    message_identifier: str | None
    channel: str
    address: Annotated[str, Field(description="masked but its last 3 characters")]
    language: str
    state: Annotated[str, Field(description="queued, sending, sent, delivered or failed")]
    attempts: int
    error: str | None
    updated_at: Time


@with_config(FORBID)
class FailureCount(TypedDict):
    """How many of an alert's deliveries on a channel failed for one reason."""

    channel: str
    error: str
    count: int


@with_config(FORBID)
class AlertPublic(TypedDict):
    id: str
    incident_id: str
    version: int
    state: Annotated[str, As(AlertState)]
    cap_status: Annotated[str, As(CapStatus)]
    area: AlertArea
    channels: list[Annotated[str, As(Channel)]]
    info: Annotated[dict[str, AlertText], Field(description="by language: fr, nl, de, en")]
    event: str
    category: Annotated[str, As(CapCategory)]
    urgency: Annotated[str, As(Urgency)]
    severity: Annotated[str, As(Severity)]
    certainty: Annotated[str, As(Certainty)]
    expires: Time
    created_by: str
    created_at: Time
    sent_by: str | None
    sent_at: Time | None
    messages: list[AlertMessagePublic]
    estimate: AudienceCounts
    progress: Annotated[
        dict[str, ChannelProgress],
        Field(description="deliveries by channel (the delivery outbox); empty before sending"),
    ]


# evaluation ---------------------------------------------------------------------------------------


@with_config(FORBID)
class EvaluationPointPublic(TypedDict):
    """One evaluation point (built by hub/actions/evaluation.py `point_public`)."""

    id: str
    incident_id: str
    client_id: str
    kind: Annotated[str, As(EvaluationKind)]
    text: str
    owner: Annotated[str | None, Field(description="who follows it up (free text)")]
    due: Annotated[str | None, Field(description="the day it is due by, YYYY-MM-DD")]
    state: Annotated[str, As(EvaluationState)]
    version: int
    author: AuthorPublic
    created_at: Time
    updated_at: Time
    updated_by: str
    closed_at: Time | None


# contacts (the directory) --------------------------------------------------------------------


@with_config(FORBID)
class ContactMethodPublic(TypedDict):
    type: Annotated[str, As(MethodType)]
    value: Annotated[str, Field(description="E.164 for phone, mobile and fax numbers")]
    label: str | None
    h24: Annotated[bool, Field(description="answered day and night")]


@with_config(FORBID)
class ContactMethodHidden(TypedDict):
    """A method in search results: what there is, not the number or address (reading those
    is opening the contact, which is logged outside an incident)."""

    type: Annotated[str, As(MethodType)]
    label: str | None
    h24: bool


@with_config(FORBID)
class ContactPlace(TypedDict):
    lat: float
    lon: float


@with_config(FORBID)
class ContactOrganisation(TypedDict):
    id: str
    name: str


@with_config(FORBID)
class ContactPublic(TypedDict):
    """One contact with its methods (built by hub/actions/contacts.py `contact_public`)."""

    id: str
    organisation: ContactOrganisation
    kind: Annotated[str, As(ContactKind)]
    name: str
    function: str | None
    methods: list[ContactMethodPublic]
    location: ContactPlace | None
    disciplines: list[Annotated[str, As(Discipline)]]
    tags: list[str]
    note: str | None
    reviewed_at: Time | None
    review_due: Time
    version: int
    updated_at: Time


@with_config(FORBID)
class ContactFound(TypedDict):
    """A search result (hub/actions/contacts.py `contact_found`): methods without values."""

    id: str
    organisation: ContactOrganisation
    kind: Annotated[str, As(ContactKind)]
    name: str
    function: str | None
    methods: list[ContactMethodHidden]
    location: ContactPlace | None
    disciplines: list[Annotated[str, As(Discipline)]]
    tags: list[str]
    reviewed_at: Time | None
    review_due: Time
    overdue: bool
    version: int
    distance_m: Annotated[float | None, Field(description="from `near`, when given")]


@with_config(FORBID)
class ContactChangePublic(TypedDict):
    """One line of a contact's history: the fields changed, before and after."""

    version: int
    action: Annotated[str, Field(description="created, updated, reviewed, imported, deleted")]
    by: ActorPublic | None
    at: Time
    before: dict[str, Any]
    after: dict[str, Any]


@with_config(FORBID)
class ContactReadPublic(TypedDict):
    """One logged read of methods outside an incident."""

    contact_id: str | None
    by: ActorPublic
    at: Time
    how: Annotated[
        str,
        Field(
            description="one (opened), vcard, export (contact_id null), history (its changes, "
            "values before and after), conflict (the current record sent back to a stale change)"
        ),
    ]
    count: int


@with_config(FORBID)
class ListedContact(TypedDict):
    """A contact listed in an incident (`contact.listed`, the snapshot's `contacts`)."""

    incident_id: str
    contact: ContactPublic
    listed_by: ActorPublic | None
    listed_at: Time
    plan_id: Annotated[str | None, Field(description="the plan whose activation listed it")]


# emergency plans --------------------------------------------------------------------------------


@with_config(FORBID)
class PlanFilePublic(TypedDict):
    id: str
    name: str
    size: Annotated[int, Field(description="bytes")]
    content_type: Annotated[str, Field(description="as detected from the content, not as sent")]
    sha256: str


@with_config(FORBID)
class PlanVersionPublic(TypedDict):
    number: int
    status: Annotated[str, As(VersionStatus)]
    note: str | None
    created_by: ActorPublic | None
    created_at: Time
    approved_by: ActorPublic | None
    approved_at: Time | None
    files: list[PlanFilePublic]
    anchors: Annotated[
        dict[str, Any],
        Field(description="a FeatureCollection; properties.kind and properties.label each"),
    ]
    contact_ids: list[str]


@with_config(FORBID)
class PlanSummary(TypedDict):
    """A plan in lists and search results (GET /api/plans): no versions, no area."""

    id: str
    title: str
    kind: Annotated[str, As(PlanKind)]
    level: Annotated[str, As(PlanLevel)]
    organisation: ContactOrganisation
    has_area: bool
    review_due: Time
    overdue: bool
    approved_version: Annotated[
        int | None, Field(description="the latest approved version, the one an activation uses")
    ]
    latest_version: int | None


@with_config(FORBID)
class PlanPublic(PlanSummary):
    """One plan, with its area and every version (GET /api/plans/{id})."""

    area: Geometry | None
    created_at: Time
    updated_at: Time
    versions: list[PlanVersionPublic]


@with_config(FORBID)
class PlanActivated(TypedDict):
    """A plan activated in an incident (`plan.activated`, the snapshot's `plans`)."""

    incident_id: str
    plan: PlanSummary
    version: int
    anchor_ids: Annotated[list[str], Field(description="the anchors the activation created")]
    contact_ids: Annotated[list[str], Field(description="the contacts it listed")]
    activated_by: ActorPublic | None
    activated_at: Time


# events and snapshots -----------------------------------------------------------------------------

EventType = Literal[
    "feed.posted",
    "feed.corrected",
    "anchor.created",
    "anchor.updated",
    "anchor.deleted",
    "incident.updated",
    "member.added",
    "member.removed",
    "convoy.updated",
    "convoy.alert",
    "alert.drafted",
    "alert.sent",
    "alert.updated",
    "alert.cancelled",
    "evaluation.created",
    "evaluation.updated",
    "contact.listed",
    "plan.activated",
]

# The model of each sequenced event type's `data`: every type a producer may log (EventType,
# which hub/eventlog.py's writers take) has one.
EVENT_DATA: dict[str, type[Mapping[str, Any]]] = {
    "feed.posted": FeedEntryPublic,
    "feed.corrected": FeedEntryPublic,
    "anchor.created": AnchorPublic,
    "anchor.updated": AnchorPublic,
    "anchor.deleted": AnchorPublic,  # the last state, with deleted: true
    "incident.updated": IncidentPublic,
    "member.added": MemberAdded,
    "member.removed": MemberRemoved,
    "convoy.updated": ConvoyPublic,
    "convoy.alert": ConvoyAlertData,
    "alert.drafted": AlertPublic,
    "alert.sent": AlertPublic,
    "alert.updated": AlertPublic,
    "alert.cancelled": AlertPublic,
    "evaluation.created": EvaluationPointPublic,
    "evaluation.updated": EvaluationPointPublic,  # an edit, a close or a reopening
    "contact.listed": ListedContact,
    "plan.activated": PlanActivated,
}
assert set(EVENT_DATA) == set(get_args(EventType)), "every event type has its data model"


# `incident.event`: one sequenced change, live or replayed from the log. Its `data` is checked
# against EVENT_DATA[type] (check_event). (A comment, not a docstring: the OpenAPI document
# describes this shape as it always has.)
@with_config(FORBID)
class EventPublic(TypedDict):
    incident_id: str
    seq: int
    type: Annotated[str, Field(description="feed.posted, anchor.updated, convoy.alert…")]
    at: Time
    actor: ActorPublic
    data: Mapping[str, Any]  # any of EVENT_DATA's models


@with_config(FORBID)
class Snapshot(TypedDict):
    """What `incident.join` answers without `since` (or with `reset`)."""

    anchors: AnchorCollection
    feed: list[FeedEntryPublic]
    convoys: list[ConvoyPublic]
    # Always on the wire of `incident.join`; absent on the way from hub/actions/join.py to the
    # socket handler, which adds it once the joining socket is counted, and in a state at T
    # (who was online then is not recorded).
    online: NotRequired[list[OnlineUser]]
    # Only in a state at T (hub/timeline/state.py): the alerts sent by then, as they stood. A
    # live page reads them from GET /api/incidents/{id}/alerts and follows their events.
    alerts: NotRequired[list[AlertPublic]]
    # The contacts listed in the incident, with their methods (always in incident.join's and
    # in a state at T: those listed by then).
    contacts: NotRequired[list[ListedContact]]
    # The plans activated in the incident (always in incident.join's and in a state at T).
    plans: NotRequired[list[PlanActivated]]


@with_config(FORBID)
class StateAt(TypedDict):
    """GET /api/incidents/{id}/state?at=T: the incident as it stood at `at`."""

    at: Annotated[Time, Field(description="the moment shown: T, or now for a T after now")]
    seq: Annotated[int, Field(description="the last seq logged at or before `at` (0: none)")]
    snapshot: Snapshot


# checks (tests and tools; nothing on the server validates what it sends) -----------------------


@cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def check(shape: Any, value: Any) -> None:
    """Raises pydantic.ValidationError unless `value` has the shape, as a client receives it:
    its JSON text, validated strictly (no coercion) and with no unknown keys."""
    _adapter(shape).validate_json(json.dumps(value), strict=True)


def check_event(event: Any) -> None:
    """An `incident.event` envelope and its data, by type; ValueError for an unknown type."""
    check(EventPublic, event)
    kind = event["type"]
    if kind not in EVENT_DATA:
        raise ValueError(f"unknown event type {kind!r}: add its model to EVENT_DATA")
    data = event["data"]
    check(EVENT_DATA[kind], data)
    if kind.startswith("anchor.") and data.get("deleted", False) != (kind == "anchor.deleted"):
        raise ValueError(f"{kind}: `deleted: true` is on anchor.deleted, and only there")
    if kind.startswith("feed.") and (data["corrects"] is not None) != (kind == "feed.corrected"):
        raise ValueError(f"{kind}: `corrects` is set on feed.corrected, and only there")
    if kind == "convoy.alert":
        # (not __required_keys__: with postponed annotations it counts NotRequired keys too)
        extra = set(data) & frozenset().union(*ALERT_FIELDS.values())
        if extra != ALERT_FIELDS[data["alert"]]:
            raise ValueError(f"a {data['alert']} alert carries {sorted(extra)}")
