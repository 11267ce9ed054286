"""Emergency plans (issue 14): a plan of an organisation, at a level, for an area; its versions,
each with its files (stored in the database, so that every instance serves them), the anchors
it lays down and the contacts it names; and its activations in incidents. Behaviour lives in
hub/plans/ and hub/actions/plans.py."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField
from pydantic import StringConstraints, model_validator
from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.anchor import AnchorKind
from models.base import JSONType, UTCDateTime, new_id, utcnow
from models.limits import MAX_LABEL_CHARS, MAX_TITLE_CHARS
from models.shapes import Area, Geometry, Lax, Properties, Strict

# The sizes a plan may have (README, "Limits"; docs/protocol-additions.md, "Plans"). A
# digitised plan is a PDF of a few MB with a few annexes (maps, call lists); 20 MB a file and
# 10 files a version hold the largest of ICMS's, and a version's upload stays one request.
MAX_PLAN_FILE_BYTES = 20 * 1024 * 1024
MAX_PLAN_FILES = 10
MAX_PLAN_UPLOAD_BYTES = MAX_PLAN_FILES * MAX_PLAN_FILE_BYTES + 1024 * 1024
MAX_FILE_NAME_CHARS = 200
# What a plan lays down on the map: perimeters, posts, a reception centre; 50 is generous.
MAX_PLAN_ANCHORS = 50
MAX_PLAN_CONTACTS = 200
MAX_PLAN_SEARCH_LIMIT = 100
# A plan is reviewed like a contact, but on a longer cycle: plans are revised every few years
# and exercised yearly; a year is what the review queue shows.
PLAN_REVIEW_DAYS = 365


class PlanKind(StrEnum):
    GENERAL = "general"  # PGUI / ANPI: the general emergency and intervention plan
    SPECIAL = "special"  # PPUI / BNIP: a site or event (a Seveso site, a summit)
    DISCIPLINE = "discipline"  # a discipline's own plan (monodisciplinary)
    INTERNAL = "internal"  # a site operator's internal plan (PIU)


class PlanLevel(StrEnum):
    MUNICIPAL = "municipal"
    PROVINCIAL = "provincial"
    FEDERAL = "federal"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class Plan(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    title: str = Field(max_length=MAX_TITLE_CHARS)
    # The title's normalised words (hub/directory/search.py `words`) between spaces, for the
    # title search: " ppui sommet europa ", so that a word prefix is LIKE '% eur%'.
    title_words: str = Field(default="", max_length=MAX_TITLE_CHARS * 2)
    kind: str = Field(max_length=12)
    level: str = Field(max_length=12)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    area: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    # The area's bounding box: `?at=` reads the candidates by these, then tests the shape.
    min_lon: float | None = None
    min_lat: float | None = None
    max_lon: float | None = None
    max_lat: float | None = None
    review_due: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))


class PlanVersion(SQLModel, table=True):
    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    plan_id: str = Field(foreign_key="plan.id", index=True, max_length=32)
    number: int
    status: str = Field(default=VersionStatus.DRAFT.value, max_length=10)
    # A GeoJSON FeatureCollection; each feature's properties carry `kind` and `label`.
    anchors: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    contact_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONType))
    note: str | None = Field(default=None, max_length=2_000)
    created_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    approved_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    approved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class PlanFile(SQLModel, table=True):
    """A version's file, its bytes in the database: every instance serves it, the backup holds
    it, and a version is written in one transaction with its files. Lists read the columns
    without `content`."""

    __tablename__ = "plan_file"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    version_id: str = Field(foreign_key="plan_version.id", index=True, max_length=32)
    name: str = Field(max_length=MAX_FILE_NAME_CHARS)
    size: int
    content_type: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))


class IncidentPlan(SQLModel, table=True):
    """A plan activated in an incident: once per plan, whatever its later versions."""

    __tablename__ = "incident_plan"
    __table_args__ = (UniqueConstraint("incident_id", "plan_id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(foreign_key="incident.id", index=True, max_length=32)
    plan_id: str = Field(foreign_key="plan.id", index=True, max_length=32)
    version: int
    activated_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    activated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    anchor_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONType))
    contact_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONType))


PlanTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_CHARS)
]
PlanNote = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)]
ShortId = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class PlanCreateIn(Strict):
    title: PlanTitle
    kind: Annotated[PlanKind, Lax]
    level: Annotated[PlanLevel, Lax]
    organisation_id: ShortId | None = None  # default: the caller's
    area: Area | None = None


class PlanUpdateIn(Strict):
    """The fields given change; `area` given as null is cleared."""

    title: PlanTitle | None = None
    kind: Annotated[PlanKind, Lax] | None = None
    level: Annotated[PlanLevel, Lax] | None = None
    area: Area | None = None


class PlanAnchorIn(Strict):
    """One anchor a plan lays down, as a GeoJSON Feature: its properties carry the anchor's
    `kind` and `label` (and whatever else the anchor keeps)."""

    type: Literal["Feature"]
    id: str | int | None = None
    geometry: Geometry
    properties: Properties

    @model_validator(mode="after")
    def _kind_and_label(self) -> PlanAnchorIn:
        kind, label = self.properties.get("kind"), self.properties.get("label")
        if kind not in {member.value for member in AnchorKind}:
            raise ValueError(
                "each anchor's properties.kind is an anchor kind (exclusion_zone, command_post…)"
            )
        if not isinstance(label, str) or not 0 < len(label.strip()) <= MAX_LABEL_CHARS:
            raise ValueError(f"each anchor's properties.label is 1 to {MAX_LABEL_CHARS} characters")
        return self


class PlanAnchorsIn(Strict):
    type: Literal["FeatureCollection"]
    features: Annotated[list[PlanAnchorIn], PydanticField(max_length=MAX_PLAN_ANCHORS)]


class PlanVersionFieldsIn(Strict):
    """The multipart form's fields of a new version, once parsed (web/api/plans.py)."""

    anchors: PlanAnchorsIn = PydanticField(
        default_factory=lambda: PlanAnchorsIn(type="FeatureCollection", features=[])
    )
    contact_ids: Annotated[list[ShortId], PydanticField(max_length=MAX_PLAN_CONTACTS)] = (
        PydanticField(default_factory=list)
    )
    note: PlanNote | None = None


class IncidentPlanIn(Strict):
    plan_id: ShortId
