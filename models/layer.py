"""Reference layers (issue 16): a layer an administrator uploads once (GeoJSON, KML or a
zipped Shapefile: hospitals, schools, Seveso sites…) that every incident map can show, and
its features, each with its bounding box so that "what is inside" an anchor reads only the
candidates. Behaviour lives in hub/layers/ and hub/actions/layers.py."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField
from pydantic import StringConstraints, with_config
from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel
from typing_extensions import TypedDict

from models.base import JSONType, UTCDateTime, new_id, utcnow
from models.events import FORBID, ActorPublic, As, Time
from models.limits import MAX_LABEL_CHARS, MAX_NAME_CHARS
from models.shapes import Lax, Strict

# The sizes a layer may have (README, "Limits"; docs/protocol-additions.md, "Reference
# layers"). Belgium's schools are about 7,000 points, its hospitals 200, its retirement homes
# 1,600, its Seveso sites 400: 100,000 features hold a national layer of addresses-level
# points with room to spare, and 20 MB a file of that size in GeoJSON.
MAX_LAYER_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_LAYER_FEATURES = 100_000
# Every feature's coordinates together: 20 MB of GeoJSON is about 1,000,000 positions.
MAX_LAYER_POSITIONS = 2_000_000
MAX_LAYERS = 200
# A zipped Shapefile: its .shp, .shx, .dbf, .prj, .cpg and the odd .xml or .sbn; more
# members, or more bytes once inflated, is no Shapefile (or a zip bomb).
MAX_ZIP_MEMBERS = 20
MAX_ZIP_INFLATED_BYTES = 100 * 1024 * 1024
# "What is inside" lists this many features per layer, and counts them all.
MAX_INSIDE_FEATURES = 100


class LayerCategory(StrEnum):
    """What the features are: the anchor's popup names them ("3 schools") in the reader's
    language; `other` layers are named by their layer's name."""

    HOSPITAL = "hospital"
    SCHOOL = "school"
    RETIREMENT_HOME = "retirement_home"
    CHILDCARE = "childcare"
    SEVESO_SITE = "seveso_site"
    NUCLEAR_SITE = "nuclear_site"
    SHELTER = "shelter"
    OTHER = "other"


class LayerSymbol(StrEnum):
    """How the map draws a layer's points (web/frontend/src/layers.js)."""

    CIRCLE = "circle"
    SQUARE = "square"
    TRIANGLE = "triangle"
    DIAMOND = "diamond"
    CROSS = "cross"
    STAR = "star"


class LayerFormat(StrEnum):
    GEOJSON = "geojson"
    KML = "kml"
    SHAPEFILE = "shapefile"


class Layer(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=MAX_NAME_CHARS, unique=True)
    category: str = Field(max_length=20)
    symbol: str = Field(max_length=12)
    colour: str = Field(max_length=7)  # #rrggbb
    format: str = Field(max_length=12)
    file_name: str = Field(max_length=200)
    feature_count: int = 0
    # Starts at 1, one more at each replacement: the ETag of GET /api/layers/{id}.
    version: int = 1
    # The largest width and height of one feature's box: the inside query reads the features
    # whose box starts between the area's west edge less this and its east edge (an index
    # range), rather than every feature left of the east edge.
    span_lon: float = 0.0
    span_lat: float = 0.0
    min_lon: float | None = None
    min_lat: float | None = None
    max_lon: float | None = None
    max_lat: float | None = None
    created_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))
    updated_by: str | None = Field(default=None, foreign_key="user.id", max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime()))


class LayerFeature(SQLModel, table=True):
    __tablename__ = "layer_feature"
    __table_args__ = (Index("ix_layer_feature_box", "layer_id", "min_lon", "min_lat"),)

    id: int | None = Field(default=None, primary_key=True)
    layer_id: str = Field(foreign_key="layer.id", max_length=32)
    name: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)
    geometry: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


# what clients send (the multipart form's text fields, web/api/layers.py) ----------------------

LayerName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


class LayerFieldsIn(Strict):
    """A new layer's fields; on a replacement (PUT), those given change."""

    name: LayerName | None = None
    category: Annotated[LayerCategory, Lax] | None = None
    symbol: Annotated[LayerSymbol, Lax] | None = None
    colour: Colour | None = None


# what the hub answers -------------------------------------------------------------------------


@with_config(FORBID)
class LayerPublic(TypedDict):
    """A reference layer, without its features (GET /api/layers, POST and PUT's answer)."""

    id: str
    name: str
    category: Annotated[str, As(LayerCategory)]
    symbol: Annotated[str, As(LayerSymbol)]
    colour: Annotated[str, PydanticField(pattern=r"^#[0-9a-f]{6}$")]
    format: Annotated[str, As(LayerFormat)]
    file_name: str
    count: Annotated[int, PydanticField(description="how many features the layer holds")]
    version: Annotated[
        int, PydanticField(description="1, then one more at each replacement of its file")
    ]
    bbox: Annotated[
        list[float] | None,
        PydanticField(description="[west, south, east, north] of every feature; null if none"),
    ]
    created_by: ActorPublic | None
    created_at: Time
    updated_by: ActorPublic | None
    updated_at: Time


@with_config(FORBID)
class InsideFeature(TypedDict):
    """A feature inside an area: its name and a point of it (the point itself, or a point
    inside the line or polygon), for the popup's list."""

    id: int
    name: str | None
    lon: float
    lat: float


@with_config(FORBID)
class InsideLayer(TypedDict):
    layer_id: str
    name: str
    category: Annotated[str, As(LayerCategory)]
    count: Annotated[int, PydanticField(description="every feature of the layer inside")]
    features: Annotated[
        list[InsideFeature],
        PydanticField(description=f"the first {MAX_INSIDE_FEATURES}, in the file's order"),
    ]


@with_config(FORBID)
class InsidePublic(TypedDict):
    """What lies inside an anchor's area (GET …/anchors/{anchor_id}/inside)."""

    anchor_id: str
    anchor_version: int
    layers: list[InsideLayer]
    registrations: Annotated[
        int, PydanticField(description="registered addresses (BE-Alert) inside: a count only")
    ]


@with_config(FORBID)
class LayerFeaturePublic(TypedDict):
    """A layer's feature; `id` and `name` are RFC 7946 foreign members beside the Feature's."""

    type: Literal["Feature"]
    id: int
    name: str | None
    geometry: dict[str, Any]
    properties: dict[str, Any]


@with_config(FORBID)
class LayerCollection(TypedDict):
    """GET /api/layers/{id}: the layer's features, with the layer's description as `layer`."""

    type: Literal["FeatureCollection"]
    layer: LayerPublic
    features: list[LayerFeaturePublic]
