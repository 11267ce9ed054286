"""Anchors: the important places of an incident on the map."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, new_id, utcnow


class AnchorKind(StrEnum):
    INCIDENT_SITE = "incident_site"
    EXCLUSION_ZONE = "exclusion_zone"
    ISOLATION_ZONE = "isolation_zone"
    DISSUASION_ZONE = "dissuasion_zone"
    COMMAND_POST = "command_post"
    COORDINATION_COMMITTEE = "coordination_committee"
    ADVANCED_MEDICAL_POST = "advanced_medical_post"
    VICTIM_RECEPTION = "victim_reception"
    STAGING_AREA = "staging_area"
    ROAD_CLOSURE = "road_closure"
    HELIPAD = "helipad"
    PRESS_POINT = "press_point"
    WEATHER = "weather"
    OTHER = "other"


PERIMETER_KINDS = frozenset(
    {AnchorKind.EXCLUSION_ZONE, AnchorKind.ISOLATION_ZONE, AnchorKind.DISSUASION_ZONE}
)


class Anchor(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("incident_id", "client_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    client_id: str = Field(max_length=36)
    kind: str = Field(max_length=40)
    label: str = Field(max_length=200)
    geometry: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    updated_by: str = Field(foreign_key="user.id", max_length=32)
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
