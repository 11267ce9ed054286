"""SQLModel tables and their public shapes; no I/O beyond SQL."""

from models.anchor import PERIMETER_KINDS, Anchor, AnchorKind
from models.directory import ApiToken, Discipline, Organisation, User
from models.feed import EntryKind, FeedEntry, Priority
from models.incident import Event, Incident, IncidentKind, Membership, Phase, Role, Status

__all__ = [
    "PERIMETER_KINDS",
    "Anchor",
    "AnchorKind",
    "ApiToken",
    "Discipline",
    "EntryKind",
    "Event",
    "FeedEntry",
    "Incident",
    "IncidentKind",
    "Membership",
    "Organisation",
    "Phase",
    "Priority",
    "Role",
    "Status",
    "User",
]
