"""A reference layer's file read into features (pure): GeoJSON, KML (or KMZ) and zipped
Shapefiles, told apart by their bytes, never by the name the browser sent.

Every feature's geometry goes through the anchors' validation (models/geojson.py: WGS 84
ranges, closed rings, valid polygons, at most MAX_VERTICES a feature) and its properties
through the same bounds as an anchor's (size, no NUL character); the first bad feature
refuses the whole file, naming it. KML is parsed by defusedxml with no DTD at all (a
"billion laughs" or an external entity cannot even be written); a zip is bounded in members
and inflated bytes before and while reading it; a Shapefile's .prj is read by pyproj and its
coordinates reprojected to WGS 84 longitude/latitude. Altitudes are dropped: a reference
layer is drawn and tested in two dimensions.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import shapefile
import shapely
import shapely.geometry
from pydantic_core import PydanticCustomError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from hub.convoys.files import parse_xml
from hub.errors import ErrorCode, HubError
from models.geojson import GeometryError, validate_geometry
from models.layer import (
    MAX_LAYER_FEATURES,
    MAX_LAYER_POSITIONS,
    MAX_LAYER_UPLOAD_BYTES,
    MAX_ZIP_INFLATED_BYTES,
    MAX_ZIP_MEMBERS,
    LayerFormat,
)
from models.limits import MAX_LABEL_CHARS
from models.shapes import _properties, check_json

# The property a feature's name is read from, whatever its case: English, French, Dutch.
NAME_KEYS = ("name", "nom", "naam", "label", "title", "titre", "titel", "denomination")
# The names a GeoJSON `crs` member (GeoJSON 2008; RFC 7946 has none) gives WGS 84 by.
WGS84_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
}
WGS84 = CRS.from_epsg(4326)


@dataclass(slots=True)
class ParsedFeature:
    name: str | None
    geometry: dict[str, Any]
    properties: dict[str, Any]
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True, slots=True)
class ParsedLayer:
    format: LayerFormat
    features: list[ParsedFeature]


def read_layer(content: bytes) -> ParsedLayer:
    """The file's features, or the HubError that refuses it (nothing is written before)."""
    if not content.strip():
        raise HubError("invalid", "the file is empty")
    if len(content) > MAX_LAYER_UPLOAD_BYTES:
        raise HubError("too_large", f"a layer's file is at most {_mb(MAX_LAYER_UPLOAD_BYTES)} MB")
    if content.startswith(b"PK"):
        return _read_zip(content)
    start = content.lstrip()[:1]
    if start in (b"{", b"["):
        return ParsedLayer(LayerFormat.GEOJSON, read_geojson(content))
    if start == b"<" or content.startswith(b"\xef\xbb\xbf"):
        return ParsedLayer(LayerFormat.KML, read_kml(content))
    raise HubError(
        "invalid", "a layer is a GeoJSON FeatureCollection, a KML (or KMZ) or a zipped Shapefile"
    )


def _mb(size: int) -> int:
    return size // (1024 * 1024)


# features, whatever their source -----------------------------------------------------------


class _Collector:
    """Turns (geometry, properties, name) into checked features, counting them and their
    positions against the layer's limits; `where` names the feature in every refusal."""

    def __init__(self, transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None):
        self.features: list[ParsedFeature] = []
        self.positions = 0
        self.transform = transform

    def add(self, where: str, geometry: Any, properties: Any, name: str | None = None) -> None:
        if len(self.features) >= MAX_LAYER_FEATURES:
            raise HubError("too_large", f"a layer holds at most {MAX_LAYER_FEATURES} features")
        if geometry is None:
            raise HubError("invalid", f"{where} has no geometry")
        if self.transform is not None:
            geometry = self.transform(geometry)
        try:
            clean = validate_geometry(_flat(geometry))
        except GeometryError as error:
            code: ErrorCode = "too_large" if error.too_large else "invalid"
            raise HubError(code, f"{where}: {error}") from None
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            raise HubError("invalid", f"{where}: properties must be an object")
        try:
            check_json(properties)
            _properties(properties)
        except PydanticCustomError as error:
            kind: ErrorCode = "too_large" if error.type == "too_large" else "invalid"
            raise HubError(kind, f"{where}: {error.message()}") from None
        west, south, east, north, count = _box(clean)
        self.positions += count
        if self.positions > MAX_LAYER_POSITIONS:
            raise HubError(
                "too_large", f"a layer holds at most {MAX_LAYER_POSITIONS} positions in all"
            )
        if name is None:
            name = name_of(properties)
        self.features.append(
            ParsedFeature(_label(name), clean, properties, west, south, east, north)
        )


def name_of(properties: dict[str, Any]) -> str | None:
    """The feature's name: the first of NAME_KEYS found, in any case."""
    by_lower = {str(key).lower(): value for key, value in properties.items()}
    for key in NAME_KEYS:
        value = by_lower.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                return text
    return None


def _label(name: str | None) -> str | None:
    if name is None:
        return None
    name = " ".join(name.split())
    return name[: MAX_LABEL_CHARS - 1] + "…" if len(name) > MAX_LABEL_CHARS else name or None


def _flat(geometry: Any) -> Any:
    """The geometry with lists for tuples and altitudes dropped; anything else is left for
    validate_geometry to refuse with its own words."""
    if not isinstance(geometry, dict):
        return geometry
    return {**geometry, "coordinates": _flat_coordinates(geometry.get("coordinates"))}


def _flat_coordinates(value: Any) -> Any:
    if isinstance(value, list | tuple):
        if value and all(isinstance(n, int | float) for n in value):
            return list(value[:2]) if len(value) >= 2 else list(value)
        return [_flat_coordinates(item) for item in value]
    return value


def _box(geometry: dict[str, Any]) -> tuple[float, float, float, float, int]:
    """West, south, east, north and the number of positions of a validated geometry."""
    stack: list[Any] = [geometry["coordinates"]]
    lons: list[float] = []
    lats: list[float] = []
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], float):
            lons.append(item[0])
            lats.append(item[1])
        else:
            stack.extend(item)
    return min(lons), min(lats), max(lons), max(lats), len(lons)


# GeoJSON ---------------------------------------------------------------------------------------


def read_geojson(content: bytes) -> list[ParsedFeature]:
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise HubError("invalid", f"the file is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise HubError("invalid", "a GeoJSON layer is a FeatureCollection (or one Feature)")
    _wgs84_crs(document.get("crs"))
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise HubError("invalid", "a FeatureCollection's features must be an array")
    elif kind == "Feature":
        features = [document]
    else:
        raise HubError(
            "invalid", f"a GeoJSON layer is a FeatureCollection (or one Feature), not {kind!r}"
        )
    if len(features) > MAX_LAYER_FEATURES:
        raise HubError("too_large", f"a layer holds at most {MAX_LAYER_FEATURES} features")
    collector = _Collector()
    for number, feature in enumerate(features, 1):
        where = f"feature {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise HubError("invalid", f"{where} is not a GeoJSON Feature")
        collector.add(where, feature.get("geometry"), feature.get("properties"))
    return collector.features


def _wgs84_crs(crs: Any) -> None:
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if name not in WGS84_NAMES:
        raise HubError(
            "invalid",
            f"the GeoJSON's coordinates are in {name or 'an unnamed system'}: a GeoJSON layer"
            " is in WGS 84 longitude/latitude (RFC 7946); reproject it, or upload it as a"
            " zipped Shapefile with its .prj",
        )


# KML -------------------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: ET.Element, name: str) -> Iterator[ET.Element]:
    return (child for child in element if _local(child.tag) == name)


def _child_text(element: ET.Element, name: str) -> str | None:
    for child in _children(element, name):
        return (child.text or "").strip() or None
    return None


def read_kml(content: bytes) -> list[ParsedFeature]:
    root = parse_xml(content, MAX_LAYER_UPLOAD_BYTES)
    if _local(root.tag) != "kml":
        raise HubError("invalid", "expected a KML document (its root element <kml>)")
    collector = _Collector()
    for number, placemark in enumerate(
        (element for element in root.iter() if _local(element.tag) == "Placemark"), 1
    ):
        name = _child_text(placemark, "name")
        where = f"placemark {number}" + (f" ({name[:60]})" if name else "")
        properties: dict[str, Any] = {}
        if name:
            properties["name"] = name
        description = _child_text(placemark, "description")
        if description:
            properties["description"] = description
        for extended in _children(placemark, "ExtendedData"):
            for item in extended.iter():
                key = item.get("name")
                if not key:
                    continue
                if _local(item.tag) == "Data":
                    properties[key] = _child_text(item, "value")
                elif _local(item.tag) == "SimpleData":
                    properties[key] = (item.text or "").strip() or None
        collector.add(where, _kml_geometry(placemark, where), properties, name)
    if not collector.features:
        raise HubError("invalid", "the KML holds no placemark")
    return collector.features


KML_GEOMETRIES = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry")


def _kml_geometry(placemark: ET.Element, where: str) -> dict[str, Any]:
    for child in placemark:
        if _local(child.tag) in KML_GEOMETRIES:
            return _geometry_of(child, where)
    raise HubError("invalid", f"{where} has no Point, LineString or Polygon")


def _geometry_of(element: ET.Element, where: str) -> dict[str, Any]:
    kind = _local(element.tag)
    if kind == "Point":
        positions = _positions(element, where)
        if len(positions) != 1:
            raise HubError("invalid", f"{where}: a Point has one coordinate tuple")
        return {"type": "Point", "coordinates": positions[0]}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": _positions(element, where)}
    if kind == "LinearRing":
        return {"type": "Polygon", "coordinates": [_positions(element, where)]}
    if kind == "Polygon":
        rings = [
            _positions(ring, where)
            for boundary in ("outerBoundaryIs", "innerBoundaryIs")
            for side in _children(element, boundary)
            for ring in _children(side, "LinearRing")
        ]
        if not rings:
            raise HubError("invalid", f"{where}: a Polygon needs its outerBoundaryIs")
        return {"type": "Polygon", "coordinates": rings}
    parts = list(_parts(element, where))
    kinds = {part["type"] for part in parts}
    if len(kinds) != 1:
        raise HubError(
            "invalid",
            f"{where}: a MultiGeometry mixes {', '.join(sorted(kinds)) or 'nothing'}; a layer's"
            " feature is points, lines or polygons",
        )
    (single,) = kinds
    return {"type": "Multi" + single, "coordinates": [part["coordinates"] for part in parts]}


def _parts(element: ET.Element, where: str) -> Iterator[dict[str, Any]]:
    for child in element:
        kind = _local(child.tag)
        if kind == "MultiGeometry":
            yield from _parts(child, where)
        elif kind in KML_GEOMETRIES:
            yield _geometry_of(child, where)


def _positions(element: ET.Element, where: str) -> list[list[float]]:
    text = _child_text(element, "coordinates") or ""
    positions = []
    for item in text.split():
        parts = item.split(",")
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            raise HubError("invalid", f"{where}: bad KML coordinate {item[:40]!r}") from None
        positions.append([lon, lat])
    return positions


# zips: Shapefiles and KMZ ------------------------------------------------------------------


def _read_zip(content: bytes) -> ParsedLayer:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [
            info for info in archive.infolist() if not info.is_dir() and not _hidden(info.filename)
        ]
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as error:
        raise HubError("invalid", f"the zip cannot be read: {error}") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise HubError(
            "too_large",
            f"the zip holds {len(members)} files; a layer's zip holds at most {MAX_ZIP_MEMBERS}",
        )
    declared = sum(info.file_size for info in members)
    if declared > MAX_ZIP_INFLATED_BYTES:
        raise HubError(
            "too_large", f"the zip inflates to more than {_mb(MAX_ZIP_INFLATED_BYTES)} MB"
        )
    by_suffix: dict[str, list[zipfile.ZipInfo]] = {}
    for info in members:
        by_suffix.setdefault(info.filename.rsplit(".", 1)[-1].lower(), []).append(info)
    budget = _Budget(MAX_ZIP_INFLATED_BYTES)
    shps = by_suffix.get("shp", [])
    if not shps:
        kmls = by_suffix.get("kml", [])
        if len(kmls) == 1:  # a KMZ
            return ParsedLayer(LayerFormat.KML, read_kml(budget.read(archive, kmls[0])))
        raise HubError("invalid", "the zip holds no Shapefile (.shp) nor one KML (a KMZ)")
    if len(shps) > 1:
        names = ", ".join(info.filename for info in shps[:5])
        raise HubError("invalid", f"one layer per upload: the zip holds {len(shps)} .shp ({names})")
    stem = shps[0].filename[:-4]

    def sibling(suffix: str) -> bytes | None:
        for info in by_suffix.get(suffix, []):
            if info.filename[:-4].lower() == stem.lower():
                return budget.read(archive, info)
        return None

    shp = budget.read(archive, shps[0])
    shx, dbf, prj, cpg = sibling("shx"), sibling("dbf"), sibling("prj"), sibling("cpg")
    return ParsedLayer(LayerFormat.SHAPEFILE, read_shapefile(shp, shx, dbf, prj, cpg))


def _hidden(name: str) -> bool:
    # macOS's Archive Utility adds __MACOSX/._name resource forks beside every file
    last = name.rsplit("/", 1)[-1]
    return name.startswith("__MACOSX/") or last.startswith(".")


class _Budget:
    """Inflated bytes left: a member that claims little but inflates to much is stopped at
    the budget, whatever its header says."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        try:
            with archive.open(info) as member:
                data = member.read(self.left + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
            raise HubError(
                "invalid", f"the zip cannot be read ({info.filename}): {error}"
            ) from None
        except (NotImplementedError, RuntimeError) as error:  # a method or encryption
            raise HubError("invalid", f"{info.filename} cannot be unzipped: {error}") from None
        if len(data) > self.left:
            raise HubError(
                "too_large", f"the zip inflates to more than {_mb(MAX_ZIP_INFLATED_BYTES)} MB"
            )
        self.left -= len(data)
        return data


def read_shapefile(
    shp: bytes, shx: bytes | None, dbf: bytes | None, prj: bytes | None, cpg: bytes | None
) -> list[ParsedFeature]:
    transform = _reprojection(prj)
    encoding = _encoding(cpg)
    try:
        reader = shapefile.Reader(
            shp=io.BytesIO(shp),
            shx=io.BytesIO(shx) if shx else None,
            dbf=io.BytesIO(dbf) if dbf else None,
            encoding=encoding,
            encodingErrors="replace",
        )
    except Exception as error:  # pyshp raises many kinds on a broken file
        raise HubError("invalid", f"the Shapefile cannot be read: {error}") from None
    collector = _Collector(transform)
    where_prj = "" if prj else " (the zip has no .prj, so they must be WGS 84 lon/lat)"
    try:
        rows: Iterable[tuple[Any, dict[str, Any]]] = (
            ((item.shape, item.record.as_dict()) for item in reader.iterShapeRecords())
            if dbf
            else ((shape, {}) for shape in reader.iterShapes())
        )
        for number, (shape, record) in enumerate(rows, 1):
            where = f"record {number}"
            if shape.shapeType == shapefile.NULL:
                raise HubError("invalid", f"{where} has no shape")
            try:
                collector.add(where, shape.__geo_interface__, _json_record(record))
            except HubError as error:
                if where_prj and error.code == "invalid":
                    raise HubError("invalid", error.message + where_prj) from None
                raise
    except HubError:
        raise
    except Exception as error:
        raise HubError("invalid", f"the Shapefile cannot be read: {error}") from None
    finally:
        reader.close()
    if not collector.features:
        raise HubError("invalid", "the Shapefile holds no shape")
    return collector.features


def _encoding(cpg: bytes | None) -> str:
    """The .dbf's text encoding: its .cpg if it names one Python knows, else UTF-8 (pyshp's
    default; undecodable bytes are replaced rather than refused)."""
    if cpg:
        name = cpg.decode("ascii", "replace").strip()
        try:
            "".encode(name)
            return name
        except LookupError:
            pass
    return "utf-8"


def _reprojection(prj: bytes | None) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """None when the coordinates are WGS 84 lon/lat already (or no .prj says otherwise),
    else the GeoJSON geometry reprojected by pyproj."""
    if not prj:
        return None
    text = prj.decode("utf-8", "replace").strip()
    try:
        crs = CRS.from_wkt(text)
    except CRSError:
        raise HubError(
            "invalid", "the .prj is no coordinate system that pyproj can read: it cannot be placed"
        ) from None
    if crs.equals(WGS84, ignore_axis_order=True):
        return None
    if crs.is_geographic and crs.datum is not None and "WGS" in crs.datum.name.replace("_", " "):
        return None  # WGS 84 under another name (ESRI writes GCS_WGS_1984)
    try:
        transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    except (CRSError, ProjError):
        raise HubError(
            "invalid", f"the .prj's system ({crs.name}) cannot be reprojected to WGS 84"
        ) from None

    def to_wgs84(geometry: dict[str, Any]) -> dict[str, Any]:
        def move(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
            return np.column_stack([lon, lat])

        shape = shapely.transform(shapely.geometry.shape(_flat(geometry)), move)
        moved: dict[str, Any] = orjson.loads(shapely.to_geojson(shape))
        if not all(math.isfinite(n) for n in shapely.get_coordinates(shape).ravel()):
            raise HubError(
                "invalid",
                f"coordinates that the .prj's system ({crs.name}) cannot place on the globe: is"
                " it the file's own?",
            )
        return moved

    return to_wgs84


def _json_record(record: dict[str, Any]) -> dict[str, Any]:
    """A .dbf record as JSON values: dates as ISO text, decimals as numbers, padding and NUL
    characters (some writers pad with them) stripped."""
    clean: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, datetime | date | time):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            value = value.replace("\x00", "").strip()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        clean[str(key).replace("\x00", "")] = value
    return clean
