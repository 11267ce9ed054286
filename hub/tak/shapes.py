"""CoT sent to TAK clients: one typed model per item, each rendered as one CoT 2.0 event.

- `Drawing`: a polygon or a line, ATAK's drawing shape `u-d-f` with one `<link point=…/>`
  per vertex (a closed polygon repeats its first vertex last).
- `Circle`: `u-d-c-c`, its centre as the point and `<shape><ellipse major minor/></shape>`.
- `Marker`: a spot-map marker `b-m-p-s-m` in the anchor's colour.
- `Delete`: `t-x-d-d` naming the item to remove (`<link uid=…/>` and `<__forcedelete/>`).

Colours are ATAK's: signed 32-bit ARGB integers. Built with ElementTree, which escapes
labels; the hub's own output, so it is read back by nobody but TAK clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element, SubElement, tostring

from hub.tak.cot import PONG, PROTOCOL_RESPONSE, UNKNOWN
from hub.tak.limits import ANCHOR_STALE_S

DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
HOW_MACHINE = "h-g-i-g-o"  # human, GPS/ground truth: what TAK uses for drawn items
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, slots=True)
class Style:
    stroke: int  # ARGB, signed
    fill: int


@dataclass(frozen=True, slots=True)
class Drawing:
    uid: str
    label: str
    remarks: str
    vertices: tuple[tuple[float, float], ...]  # (lat, lon)
    closed: bool
    style: Style


@dataclass(frozen=True, slots=True)
class Circle:
    uid: str
    label: str
    remarks: str
    lat: float
    lon: float
    radius_m: float
    style: Style


@dataclass(frozen=True, slots=True)
class Marker:
    uid: str
    label: str
    remarks: str
    lat: float
    lon: float
    colour: int


@dataclass(frozen=True, slots=True)
class Delete:
    uid: str  # the item removed
    type: str  # its CoT type


Shape = Drawing | Circle | Marker | Delete


def cot_time(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def render(shape: Shape, now: datetime) -> bytes:
    """One CoT event (XML declaration included), ready for the wire."""
    if isinstance(shape, Drawing):
        event = _event(shape.uid, "u-d-f", now, _centre(shape.vertices))
        detail = SubElement(event, "detail")
        for lat, lon in shape.vertices:
            SubElement(detail, "link", point=f"{lat:.7f},{lon:.7f}")
        _styled(detail, shape.style, fill=shape.closed)
        _labelled(detail, shape.label, shape.remarks)
    elif isinstance(shape, Circle):
        event = _event(shape.uid, "u-d-c-c", now, (shape.lat, shape.lon))
        detail = SubElement(event, "detail")
        outline = SubElement(detail, "shape")
        radius = f"{shape.radius_m:.1f}"
        SubElement(outline, "ellipse", major=radius, minor=radius, angle="360")
        _styled(detail, shape.style, fill=True)
        _labelled(detail, shape.label, shape.remarks)
    elif isinstance(shape, Marker):
        event = _event(shape.uid, "b-m-p-s-m", now, (shape.lat, shape.lon))
        detail = SubElement(event, "detail")
        SubElement(detail, "color", argb=str(shape.colour))
        SubElement(detail, "usericon", iconsetpath=f"COT_MAPPING_SPOTMAP/b-m-p-s-m/{shape.colour}")
        _labelled(detail, shape.label, shape.remarks)
    else:
        event = _event(f"{shape.uid}.delete", "t-x-d-d", now, (0.0, 0.0), stale_s=20.0)
        detail = SubElement(event, "detail")
        SubElement(detail, "link", uid=shape.uid, relation="none", type=shape.type)
        SubElement(detail, "__forcedelete")
    return DECLARATION + tostring(event)


def pong(now: datetime) -> bytes:
    """The answer to a client's `t-x-c-t` ping, as TAK servers give it."""
    return DECLARATION + tostring(_event("takPong", PONG, now, (0.0, 0.0), stale_s=20.0))


def protocol_response(now: datetime, accepted: bool) -> bytes:
    """`t-x-takp-r`: whether the client's request for TAK protocol v1 is granted."""
    event = _event("protouid", PROTOCOL_RESPONSE, now, (0.0, 0.0), stale_s=60.0)
    control = SubElement(SubElement(event, "detail"), "TakControl")
    SubElement(control, "TakResponse", status="true" if accepted else "false")
    return DECLARATION + tostring(event)


def _event(
    uid: str, kind: str, now: datetime, at: tuple[float, float], stale_s: float = ANCHOR_STALE_S
) -> Element:
    event = Element(
        "event",
        version="2.0",
        uid=uid,
        type=kind,
        how=HOW_MACHINE,
        time=cot_time(now),
        start=cot_time(now),
        stale=cot_time(now + timedelta(seconds=stale_s)),
    )
    unknown = str(UNKNOWN)
    SubElement(
        event, "point", lat=f"{at[0]:.7f}", lon=f"{at[1]:.7f}", hae=unknown, ce=unknown, le=unknown
    )
    return event


def _styled(detail: Element, style: Style, *, fill: bool) -> None:
    SubElement(detail, "strokeColor", value=str(style.stroke))
    SubElement(detail, "strokeWeight", value="3.0")
    if fill:
        SubElement(detail, "fillColor", value=str(style.fill))


def _labelled(detail: Element, label: str, remarks: str) -> None:
    SubElement(detail, "contact", callsign=label)
    SubElement(detail, "remarks").text = remarks
    SubElement(detail, "labels_on", value="true")


def _centre(vertices: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    """The mean of the vertices (a closed ring's repeated vertex counted once): where TAK
    puts the shape's label."""
    points = vertices[:-1] if len(vertices) > 1 and vertices[0] == vertices[-1] else vertices
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
