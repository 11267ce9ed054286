"""SQLModel tables and their public shapes; no I/O beyond SQL."""

from models.alert import Alert, AlertMessage, AlertState, CapStatus, Channel, MsgType
from models.anchor import PERIMETER_KINDS, Anchor, AnchorKind
from models.contact import (
    Contact,
    ContactChange,
    ContactKind,
    ContactRead,
    ContactTerm,
    IncidentContact,
    MethodType,
)
from models.convoy import Convoy, ConvoyStatus, Position, Vehicle, VehicleRole
from models.directory import ApiToken, Discipline, Organisation, User
from models.evaluation import EvaluationKind, EvaluationPoint, EvaluationState
from models.feed import EntryKind, FeedEntry, Priority
from models.incident import Event, Incident, IncidentKind, Membership, Phase, Role, Status
from models.layer import Layer, LayerFeature
from models.outbox import OutboxChannel, OutboxMessage, OutboxPurpose, OutboxState
from models.plan import IncidentPlan, Plan, PlanFile, PlanVersion
from models.registration import Language, Registration, RegistrationPlace

__all__ = [
    "PERIMETER_KINDS",
    "Alert",
    "AlertMessage",
    "AlertState",
    "Anchor",
    "AnchorKind",
    "ApiToken",
    "CapStatus",
    "Channel",
    "Contact",
    "ContactChange",
    "ContactKind",
    "ContactRead",
    "ContactTerm",
    "Convoy",
    "ConvoyStatus",
    "Discipline",
    "EntryKind",
    "EvaluationKind",
    "EvaluationPoint",
    "EvaluationState",
    "Event",
    "FeedEntry",
    "Incident",
    "IncidentContact",
    "IncidentKind",
    "IncidentPlan",
    "Language",
    "Layer",
    "LayerFeature",
    "Membership",
    "MethodType",
    "MsgType",
    "Organisation",
    "OutboxChannel",
    "OutboxMessage",
    "OutboxPurpose",
    "OutboxState",
    "Phase",
    "Plan",
    "PlanFile",
    "PlanVersion",
    "Position",
    "Priority",
    "Registration",
    "RegistrationPlace",
    "Role",
    "Status",
    "User",
    "Vehicle",
    "VehicleRole",
]
