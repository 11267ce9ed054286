"""GPX and KML in and out: planned routes, recorded tracks, and trail exports.

Uploaded XML is parsed with defusedxml and no DTD at all, so entity bombs ("billion laughs")
and external entities cannot be expressed; size and point counts are bounded before and while
parsing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from hub.errors import HubError
from models.base import iso

GPX_NS = "http://www.topografix.com/GPX/1/1"
KML_NS = "http://www.opengis.net/kml/2.2"
GX_NS = "http://www.google.com/kml/ext/2.2"


@dataclass(frozen=True, slots=True)
class TrackPoint:
    lat: float
    lon: float
    time: str | None = None  # as written in the file; parsed by the positions pipeline
    speed: float | None = None  # m/s (GPX 1.0 <speed>, or an extension)


def parse_xml(data: bytes, max_bytes: int) -> ET.Element:
    if len(data) > max_bytes:
        raise HubError("too_large", f"the file exceeds {max_bytes} bytes")
    if not data.strip():
        raise HubError("invalid", "the file is empty")
    try:
        root: ET.Element = fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise HubError("invalid", "DTDs and entities are not accepted in uploaded XML") from None
    except ET.ParseError as error:
        raise HubError("invalid", f"not well-formed XML: {error}") from None
    return root


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: ET.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _number(value: str | None, what: str) -> float:
    try:
        number = float(value or "")  # none: ValueError, as for any text that is no number
    except (TypeError, ValueError):
        raise HubError("invalid", f"{what} is not a number: {value!r}") from None
    return number


def read_points(root: ET.Element, max_points: int, *, prefer_route: bool) -> list[TrackPoint]:
    """Points of a GPX (rtept or trkpt) or KML (gx:Track or LineString) document, in order."""
    kind = _local(root.tag)
    if kind == "gpx":
        points = _gpx_points(root, max_points, prefer_route=prefer_route)
    elif kind == "kml":
        first, second = (_kml_lines, _kml_tracks) if prefer_route else (_kml_tracks, _kml_lines)
        points = first(root, max_points) or second(root, max_points)
    else:
        raise HubError("invalid", "expected a GPX or KML document")
    if not points:
        raise HubError("invalid", "the file holds no track or route points")
    return points


def _gpx_points(root: ET.Element, max_points: int, *, prefer_route: bool) -> list[TrackPoint]:
    found: dict[str, list[TrackPoint]] = {"rtept": [], "trkpt": []}
    for element in root.iter():
        name = _local(element.tag)
        if name not in found:
            continue
        if len(found["rtept"]) + len(found["trkpt"]) >= max_points:
            raise HubError("too_large", f"more than {max_points} points")
        speed = _child_text(element, "speed")
        found[name].append(
            TrackPoint(
                lat=_number(element.get("lat"), "lat"),
                lon=_number(element.get("lon"), "lon"),
                time=_child_text(element, "time"),
                speed=_number(speed, "speed") if speed is not None else None,
            )
        )
    first, second = ("rtept", "trkpt") if prefer_route else ("trkpt", "rtept")
    return found[first] or found[second]


def _kml_tracks(root: ET.Element, max_points: int) -> list[TrackPoint]:
    points: list[TrackPoint] = []
    # gx:Track: <when> and <gx:coord> pairs, the timed form that Google Earth records.
    for element in root.iter():
        if _local(element.tag) != "Track":
            continue
        whens = [(c.text or "").strip() for c in element if _local(c.tag) == "when"]
        coords = [(c.text or "").split() for c in element if _local(c.tag) == "coord"]
        for when, coord in zip(whens, coords, strict=False):
            if len(points) >= max_points:
                raise HubError("too_large", f"more than {max_points} points")
            if len(coord) < 2:
                raise HubError("invalid", "a gx:coord needs longitude and latitude")
            points.append(
                TrackPoint(_number(coord[1], "latitude"), _number(coord[0], "longitude"), when)
            )
        if points:
            return points
    return points


def _kml_lines(root: ET.Element, max_points: int) -> list[TrackPoint]:
    """The first LineString: how Google My Maps and most planners write a route."""
    points: list[TrackPoint] = []
    for element in root.iter():
        if _local(element.tag) != "LineString":
            continue
        text = _child_text(element, "coordinates") or ""
        for tuple_text in text.split():
            if len(points) >= max_points:
                raise HubError("too_large", f"more than {max_points} points")
            parts = tuple_text.split(",")
            if len(parts) < 2:
                raise HubError("invalid", f"bad KML coordinate {tuple_text[:40]!r}")
            points.append(TrackPoint(_number(parts[1], "latitude"), _number(parts[0], "longitude")))
        if points:
            return points
    return points


def route_geometry(points: list[TrackPoint]) -> dict[str, Any]:
    """A planned route as GeoJSON; validated by the convoy shapes (ranges, vertex limit)."""
    if len(points) < 2:
        raise HubError("invalid", "a route needs at least two points")
    return {"type": "LineString", "coordinates": [[p.lon, p.lat] for p in points]}


# export -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trail:
    name: str
    points: list[tuple[float, float, datetime]]  # lat, lon, ts


def to_gpx(name: str, route: dict[str, Any] | None, trails: list[Trail]) -> bytes:
    ET.register_namespace("", GPX_NS)
    gpx = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "CrisisHub"})
    metadata = ET.SubElement(gpx, f"{{{GPX_NS}}}metadata")
    ET.SubElement(metadata, f"{{{GPX_NS}}}name").text = name
    if route:
        rte = ET.SubElement(gpx, f"{{{GPX_NS}}}rte")
        ET.SubElement(rte, f"{{{GPX_NS}}}name").text = f"{name} (planned route)"
        for lon, lat, *_ in route["coordinates"]:
            ET.SubElement(rte, f"{{{GPX_NS}}}rtept", {"lat": repr(lat), "lon": repr(lon)})
    for trail in trails:
        trk = ET.SubElement(gpx, f"{{{GPX_NS}}}trk")
        ET.SubElement(trk, f"{{{GPX_NS}}}name").text = trail.name
        segment = ET.SubElement(trk, f"{{{GPX_NS}}}trkseg")
        for lat, lon, ts in trail.points:
            point = ET.SubElement(
                segment, f"{{{GPX_NS}}}trkpt", {"lat": repr(lat), "lon": repr(lon)}
            )
            ET.SubElement(point, f"{{{GPX_NS}}}time").text = iso(ts)
    document: bytes = ET.tostring(gpx, encoding="utf-8", xml_declaration=True)
    return document


def to_kml(name: str, route: dict[str, Any] | None, trails: list[Trail]) -> bytes:
    ET.register_namespace("", KML_NS)
    ET.register_namespace("gx", GX_NS)
    kml = ET.Element(f"{{{KML_NS}}}kml")
    document = ET.SubElement(kml, f"{{{KML_NS}}}Document")
    ET.SubElement(document, f"{{{KML_NS}}}name").text = name
    if route:
        placemark = ET.SubElement(document, f"{{{KML_NS}}}Placemark")
        ET.SubElement(placemark, f"{{{KML_NS}}}name").text = f"{name} (planned route)"
        line = ET.SubElement(placemark, f"{{{KML_NS}}}LineString")
        ET.SubElement(line, f"{{{KML_NS}}}coordinates").text = " ".join(
            f"{c[0]!r},{c[1]!r}" for c in route["coordinates"]
        )
    for trail in trails:
        placemark = ET.SubElement(document, f"{{{KML_NS}}}Placemark")
        ET.SubElement(placemark, f"{{{KML_NS}}}name").text = trail.name
        track = ET.SubElement(placemark, f"{{{GX_NS}}}Track")
        for _, _, ts in trail.points:
            ET.SubElement(track, f"{{{KML_NS}}}when").text = iso(ts)
        for lat, lon, _ in trail.points:
            ET.SubElement(track, f"{{{GX_NS}}}coord").text = f"{lon!r} {lat!r} 0"
    written: bytes = ET.tostring(kml, encoding="utf-8", xml_declaration=True)
    return written
