"""What the HTTP API answers, for /api/openapi.json. The shapes of the wire contract are the
TypedDicts of models/events.py (one model per shape, which the producers build and the tests
check events against); the answers here wrap them, and the few shapes only HTTP answers
carry (the caller, users, tokens, tracks) are models of their own. The handlers build plain
dicts (hub/public.py, hub/actions/); these models only describe them, so every field here is
one that those dicts always carry, and a field is nullable exactly when its source can be None.
Unknown fields are refused, so the fuzzing test (tests/test_openapi_fuzz.py) notices when an
answer and its description drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model
from pydantic.json_schema import SkipJsonSchema

from models import events, layer
from models.convoy import VehicleRole
from models.directory import Discipline
from models.events import (
    AnchorPublic,
    ConvoyPublic,
    EvaluationPointPublic,
    EventPublic,
    FeedEntryPublic,
    IncidentListed,
    IncidentPublic,
    IncidentWithRole,
    MemberAdded,
    MemberPublic,
    MemberRemoved,
    VehiclePublic,
)


class Public(BaseModel):
    model_config = ConfigDict(extra="forbid")


def answer(shape: Any) -> type[Public]:
    """A shape of models/events.py as the model class an endpoint answers with bare (its
    `response`, web/api/endpoint.py): same name, fields and description, so the same schema."""
    hints = get_type_hints(shape, include_extras=True)
    assert set(hints) == set(shape.__annotations__), "required fields only"
    fields: dict[str, Any] = {name: (hint, ...) for name, hint in hints.items()}
    return create_model(
        shape.__name__, __base__=Public, __doc__=shape.__doc__, __module__=__name__, **fields
    )


# people ----------------------------------------------------------------------------------------


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


# tracks ------------------------------------------------------------------------------------------


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


class OwnTracksAnswer(RootModel[list[dict[str, Any]]]):
    """What /ingest/owntracks answers: messages for the phone, as OwnTracks expects (always
    `[]`: the hub sends it none)."""

    root: list[dict[str, Any]] = Field(max_length=0)


class TrackUpload(Public):
    received: int
    stored: int
    duplicates: int
    flagged: int


# the answers, as the routes wrap them -----------------------------------------------------------

# GET …/anchors answers the FeatureCollection itself.
AnchorCollection = answer(events.AnchorCollection)


class CallerOut(Public):
    user: CallerPublic


class UserOut(Public):
    user: UserPublic


class UserSuggestion(Public):
    """A user offered while a manager types a member's name (GET /api/users?q=)."""

    username: str
    name: str
    organisation: str
    discipline: Discipline


class UsersOut(Public):
    users: list[UserSuggestion] = Field(description="at most 10, by username")


class OrganisationOut(Public):
    organisation: OrganisationPublic


class IncidentsOut(Public):
    incidents: list[IncidentListed]


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


# GET …/state?at=T answers the StateAt itself.
StateOut = answer(events.StateAt)


class FeedPage(Public):
    entries: list[FeedEntryPublic]


class FeedEntryOut(Public):
    entry: FeedEntryPublic


class AnchorOut(Public):
    anchor: AnchorPublic


class EvaluationPointOut(Public):
    point: EvaluationPointPublic


class EvaluationPointsOut(Public):
    points: list[EvaluationPointPublic]


class ConvoysOut(Public):
    convoys: list[ConvoyPublic]


class ConvoyOut(Public):
    convoy: ConvoyPublic


class VehicleOut(Public):
    vehicle: VehiclePublic
    device_key: str = Field(description="the tracker's key, shown this once only")


class VehicleChangedOut(Public):
    vehicle: VehiclePublic


# the directory (issue 14) ----------------------------------------------------------------------


class ContactOut(Public):
    contact: events.ContactPublic


class ContactsOut(Public):
    contacts: list[events.ContactFound]
    after: str | None = Field(description="give as `after` for the next page; null: the last")


class ContactHistoryOut(Public):
    changes: list[events.ContactChangePublic]


class ContactReadsOut(Public):
    reads: list[events.ContactReadPublic]


class ListedContactOut(Public):
    listed: events.ListedContact


class ListedContactsOut(Public):
    contacts: list[events.ListedContact]


# emergency plans ------------------------------------------------------------------------------


class PlanOut(Public):
    plan: events.PlanPublic


class PlansOut(Public):
    plans: list[events.PlanSummary]


class PlanActivationOut(Public):
    activation: events.PlanActivated
    created: bool = Field(description="false: the plan was already active, nothing was created")


class IncidentPlansOut(Public):
    activated: list[events.PlanActivated]
    proposed: list[events.PlanSummary] = Field(
        description="plans with an approved version whose area contains the incident site"
    )


# registrations (BE-Alert) -------------------------------------------------------------------


class ChannelCounts(Public):
    sms: int
    voice: int
    email: int


class LanguageCounts(Public):
    fr: int
    nl: int
    de: int
    en: int


class RegistrationCount(Public):
    """POST /api/registrations/count: confirmed registrations with a place in the area, each
    once; by_channel counts those having each channel. Never the registrations themselves."""

    registrations: int
    by_channel: ChannelCounts
    by_language: LanguageCounts


# population alerts (BE-Alert) ---------------------------------------------------------------


class AlertOut(Public):
    alert: events.AlertPublic


class AlertsOut(Public):
    alerts: list[events.AlertPublic]


class FailuresOut(Public):
    failures: list[events.FailureCount]


class DeliveriesOut(Public):
    deliveries: list[events.DeliveryPublic]
    # The `after` of the next page; None on the last one.
    next_after: int | None


class AlertEstimate(Public):
    """The area a draft in the making would have, and its audience: Exercise and Test alerts
    (test_only) count only the registrations of the test audience."""

    area: events.AlertArea
    estimate: events.AudienceCounts
    cap_status: Literal["Actual", "Exercise", "Test"]
    test_only: bool


class SmsPreview(Public):
    text: str
    encoding: Literal["GSM-7", "UCS-2"]
    units: int = Field(description="GSM-7 septets or UTF-16 code units")
    segments: int


class TextPreview(Public):
    text: str


class EmailPreview(Public):
    subject: str
    body: str


class ChannelPreviews(Public):
    sms: SmsPreview
    voice: TextPreview
    email: EmailPreview


class AlertPreview(Public):
    """Each language's text on each channel as it will be sent (marked EXERCISE or TEST for
    those statuses; the links at the length they will have)."""

    cap_status: Literal["Actual", "Exercise", "Test"]
    languages: dict[str, ChannelPreviews]


# self-registration (BE-Alert's public pages) ----------------------------------------------------


class SelfRegistrationOut(Public):
    """POST /public/registrations: the new, unconfirmed registration's id and the channel its
    code was sent on (nothing else: the caller knows what they sent)."""

    id: str
    confirmed: bool
    channel: Literal["sms", "voice", "email"]


class ConfirmedOut(Public):
    """POST /public/registrations/{id}/confirm."""

    id: str
    confirmed: bool


# reference layers ---------------------------------------------------------------------------------

LayerOut = answer(layer.LayerPublic)
LayerCollection = answer(layer.LayerCollection)
InsideOut = answer(layer.InsidePublic)


class LayersOut(Public):
    layers: list[layer.LayerPublic]
