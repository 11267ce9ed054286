"""CAP 1.2 documents of population alerts (pure: no I/O).

`render` makes the OASIS Common Alerting Protocol 1.2 XML of one stored message
(models/alert.py `AlertMessage`: its identifier, sender, sent, msg_type, cap_status and
references, and `content`, the alert's public shape when the message was sent). `cap_problems`
checks what the official schema does not (it accepts an open three-point polygon, an identifier
with a space, a message that references itself): the hub serves no document it finds a problem
in (hub/alerts/published.py), and the tests run it on every message beside the schema.

What a document holds (docs/protocol-additions.md "CAP and the public"):
- `status` Actual, Exercise or Test; `scope` Public; `references` on Update and Cancel only,
  "sender,identifier,sent" of every earlier message of the alert, separated by spaces;
- one `info` per language of the alert, in the order fr-BE, nl-BE, de-BE, en-GB, whose
  event, headline, description and instruction start with the EXERCISE or TEST word of that
  language for such messages (hub/alerts/texts.py `marked`), and whose `web` is the public
  page of an Actual alert in that language;
- in each `info` one `area`: its `areaDesc` (the perimeters' labels, else "Drawn area"), a
  `polygon` per exterior ring of the area but its circles, closed, as "lat,lon" pairs, and a
  `circle` "lat,lon radius_km" per circular perimeter. CAP polygons have no holes: a ring's
  hole is inside the CAP area (warning more people, never fewer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from hub.alerts.texts import CAP_LANGUAGES, marked
from models.alert import AlertMessage, CapStatus, MsgType

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MEDIA_TYPE = "application/cap+xml"
_Q = "{" + NS + "}"

# "Drawn area": the areaDesc of an area drawn rather than taken from perimeter anchors.
DRAWN_AREA = {
    "fr": "Zone dessinée",
    "nl": "Getekend gebied",
    "de": "Gezeichnetes Gebiet",
    "en": "Drawn area",
}
# CAP `note` of messages that are not real (CAP 1.2 3.2.1: an Exercise identifies itself).
NOTES = {
    CapStatus.EXERCISE.value: "Exercise: not a real alert; sent to the test audience only.",
    CapStatus.TEST.value: "Test: not a real alert, to be discarded; sent to the test audience.",
}
LANGUAGE_OF_CAP = {cap: language for language, cap in CAP_LANGUAGES.items()}
# CAP 1.2 3.3.2: identifiers and senders must not include spaces, commas or < and &.
_FORBIDDEN = re.compile(r"[\s,<&]")
_NUMBER = r"-?\d+(?:\.\d+)?"
_POINT = re.compile(rf"^({_NUMBER}),({_NUMBER})$")
_CIRCLE = re.compile(rf"^({_NUMBER}),({_NUMBER}) (\d+(?:\.\d+)?)$")


def cap_time(value: datetime | str) -> str:
    """A CAP dateTime: `2026-12-01T10:00:00+00:00`, in UTC, no Z and no fraction (the
    schema's pattern refuses both)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def reference(message: AlertMessage) -> str:
    """How a later message names this one in `references`."""
    return f"{message.sender},{message.identifier},{cap_time(message.sent)}"


def _reference_text(entry: str) -> str:
    """A stored reference with its time as CAP writes it (the instant unchanged), so that it
    names the earlier message exactly as that message's own `sent` reads."""
    parts = entry.split(",")
    if len(parts) == 3:
        try:
            parts[2] = cap_time(parts[2])
        except ValueError:
            pass  # cap_problems reports what is no time
    return ",".join(parts)


def _coordinate(value: float) -> str:
    # Six decimals are 0.1 m; trailing zeros dropped ("50.85", not "50.850000").
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def exterior_rings(geometry: Mapping[str, Any] | None) -> Iterator[list[list[float]]]:
    """The exterior ring of each polygon of a GeoJSON Polygon, MultiPolygon or collection."""
    if not geometry:
        return
    kind = geometry.get("type")
    if kind == "Polygon":
        rings = geometry.get("coordinates") or []
        if rings:
            yield rings[0]
    elif kind == "MultiPolygon":
        for polygon in geometry.get("coordinates") or []:
            if polygon:
                yield polygon[0]
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            yield from exterior_rings(part)


def polygon_text(ring: Sequence[Sequence[float]]) -> str:
    """A GeoJSON ring ([lon, lat] positions) as a CAP polygon: "lat,lon" pairs separated by
    spaces, closed (the first pair repeated last)."""
    points = [f"{_coordinate(position[1])},{_coordinate(position[0])}" for position in ring]
    if points and points[0] != points[-1]:
        points.append(points[0])
    return " ".join(points)


def circle_text(circle: Mapping[str, Any]) -> str:
    """A circular perimeter {lat, lon, radius_m} as a CAP circle "lat,lon radius_km"."""
    radius_km = f"{float(circle['radius_m']) / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{_coordinate(circle['lat'])},{_coordinate(circle['lon'])} {radius_km}"


def area_description(language: str, labels: Sequence[str]) -> str:
    named = [label.strip() for label in labels if label.strip()]
    return ", ".join(named) if named else DRAWN_AREA[language]


def area_labels(content: Mapping[str, Any]) -> list[str]:
    """The labels of the perimeter anchors a message's area was made of, as they were when
    the area was drawn: renaming an anchor later does not rewrite a sent document."""
    return [str(label) for label in (content.get("area") or {}).get("labels", [])]


def languages(content: Mapping[str, Any]) -> list[str]:
    """The languages of a message's texts, always in one order (fr, nl, de, en): PostgreSQL's
    JSONB keeps an object's keys in an order of its own, so the stored order is not the
    author's on every backend, and documents must not differ between them."""
    info = content.get("info") or {}
    return [language for language in CAP_LANGUAGES if language in info]


def _sub(parent: Any, name: str, text: str) -> Any:
    element = etree.SubElement(parent, _Q + name)
    element.text = text
    return element


def render(
    message: AlertMessage,
    *,
    sender_name: str,
    page_url: str | None,
) -> bytes:
    """The CAP 1.2 document of `message`, UTF-8 with its XML declaration.

    `page_url` is the alert's public page (`…/alerts/{id}`): each `info` of an Actual message
    links to it in its language; Exercise and Test messages have no public page, so no `web`.
    The area is described by the labels of the perimeter anchors it was made of, as they
    were when it was drawn (content["area"]["labels"]), else as a drawn area."""
    content = message.content
    status = message.cap_status
    root = etree.Element(_Q + "alert", nsmap={None: NS})
    _sub(root, "identifier", message.identifier)
    _sub(root, "sender", message.sender)
    _sub(root, "sent", cap_time(message.sent))
    _sub(root, "status", status)
    _sub(root, "msgType", message.msg_type)
    _sub(root, "scope", "Public")
    if status in NOTES:
        _sub(root, "note", NOTES[status])
    if message.msg_type != MsgType.ALERT.value and message.references:
        _sub(root, "references", " ".join(_reference_text(entry) for entry in message.references))
    if content.get("incident_id"):
        _sub(root, "incidents", str(content["incident_id"]))
    area = content.get("area") or {}
    circles = [circle_text(circle) for circle in area.get("circles") or []]
    # `polygons` is the area but its circles; an area of circles only has none.
    shapes = area.get("polygons") if area.get("polygons") or circles else area.get("geometry")
    polygons = [polygon_text(ring) for ring in exterior_rings(shapes)]
    for language in languages(content):
        text = content["info"][language]
        info = etree.SubElement(root, _Q + "info")
        _sub(info, "language", CAP_LANGUAGES[language])
        _sub(info, "category", str(content["category"]))
        _sub(info, "event", marked(str(content["event"]), status, language))
        _sub(info, "urgency", str(content["urgency"]))
        _sub(info, "severity", str(content["severity"]))
        _sub(info, "certainty", str(content["certainty"]))
        _sub(info, "expires", cap_time(str(content["expires"])))
        _sub(info, "senderName", sender_name)
        for field in ("headline", "description", "instruction"):
            if text.get(field):
                _sub(info, field, marked(str(text[field]), status, language))
        if page_url and status == CapStatus.ACTUAL.value:
            _sub(info, "web", f"{page_url}?lang={language}")
        area_element = etree.SubElement(info, _Q + "area")
        _sub(area_element, "areaDesc", area_description(language, area_labels(content)))
        for polygon in polygons:
            _sub(area_element, "polygon", polygon)
        for circle in circles:
            _sub(area_element, "circle", circle)
    document: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return document


# what the schema does not check -------------------------------------------------------------


def _parse(document: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(document, parser)


def _text(parent: Any, name: str) -> str:
    element = parent.find(_Q + name)
    return "" if element is None or element.text is None else str(element.text)


def _point_problem(where: str, lat: str, lon: str) -> str | None:
    if not -90 <= float(lat) <= 90 or not -180 <= float(lon) <= 180:
        return f"{where}: {lat},{lon} is not a WGS 84 latitude,longitude"
    return None


def _later(first: str, second: str) -> bool:
    """Whether CAP time `first` is after `second` (False when either is no time: the schema
    checks the format)."""
    try:
        return datetime.fromisoformat(first) > datetime.fromisoformat(second)
    except (TypeError, ValueError):
        return False


def polygon_problems(where: str, text: str) -> list[str]:
    pairs = text.split()
    points = [_POINT.match(pair) for pair in pairs]
    bad = [pair for pair, point in zip(pairs, points, strict=True) if point is None]
    if bad:
        return [f"{where}: {bad[0]!r} is not a lat,lon pair"]
    problems: list[str] = []
    if len(pairs) < 4:
        problems.append(f"{where}: {len(pairs)} points, CAP needs at least 4")
    if pairs and pairs[0] != pairs[-1]:
        problems.append(f"{where}: not closed (the first point must be repeated last)")
    for point in points:
        assert point is not None
        problem = _point_problem(where, point.group(1), point.group(2))
        if problem:
            problems.append(problem)
            break
    return problems


def circle_problems(where: str, text: str) -> list[str]:
    circle = _CIRCLE.match(text.strip())
    if circle is None:
        return [f"{where}: {text!r} is not 'lat,lon radius_km'"]
    problem = _point_problem(where, circle.group(1), circle.group(2))
    problems = [problem] if problem else []
    if float(circle.group(3)) <= 0:
        problems.append(f"{where}: the radius must be more than 0 km")
    return problems


def _marker_problems(info: Any, where: str, status: str) -> list[str]:
    """Exercise and Test texts start with their word in the info's language (principle 8)."""
    language = LANGUAGE_OF_CAP.get(_text(info, "language"))
    if language is None or status == CapStatus.ACTUAL.value:
        return []
    problems = []
    for field in ("event", "headline", "description", "instruction"):
        value = _text(info, field)
        if value and marked(value, status, language) != value:
            problems.append(f"{where}: the {field} of a {status} message must say so first")
    return problems


def cap_problems(document: bytes) -> list[str]:
    """What is wrong in a CAP 1.2 document beyond its schema: identifier and sender
    characters, references (none on an Alert, some on an Update or Cancel, well formed, never
    the message itself), one info per language, each with an area, polygons closed with at
    least 4 points, circles with a radius, and the EXERCISE/TEST word of such messages."""
    try:
        root = _parse(document)
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    if root.tag != _Q + "alert":
        return [f"the root element is {root.tag}, not the CAP 1.2 alert"]
    problems: list[str] = []
    identifier = _text(root, "identifier")
    sender = _text(root, "sender")
    sent = _text(root, "sent")
    status = _text(root, "status")
    msg_type = _text(root, "msgType")
    for name, value in (("identifier", identifier), ("sender", sender)):
        if not value or _FORBIDDEN.search(value):
            problems.append(f"{name} {value!r} is empty or has a space, comma, < or &")
    references = _text(root, "references").split()
    if msg_type == MsgType.ALERT.value and references:
        problems.append("an Alert message has references (only Update and Cancel have them)")
    if msg_type in (MsgType.UPDATE.value, MsgType.CANCEL.value) and not references:
        problems.append(f"an {msg_type} message references no earlier message")
    for entry in references:
        parts = entry.split(",")
        if len(parts) != 3 or not all(parts):
            problems.append(f"reference {entry!r} is not sender,identifier,sent")
        elif parts[0] == sender and parts[1] == identifier:
            problems.append(f"the message references itself ({entry!r})")
        elif _later(parts[2], sent):
            problems.append(f"reference {entry!r} was sent after this message")
    if len(set(references)) != len(references):
        problems.append("a message is referenced twice")
    infos = root.findall(_Q + "info")
    languages = [_text(info, "language") for info in infos]
    if len(set(languages)) != len(languages):
        problems.append(f"more than one info per language: {languages}")
    for info in infos:
        where = f"info {_text(info, 'language') or '?'}"
        problems += _marker_problems(info, where, status)
        areas = info.findall(_Q + "area")
        if not areas:
            problems.append(f"{where}: no area")
        for area in areas:
            polygons = area.findall(_Q + "polygon")
            circles = area.findall(_Q + "circle")
            if not polygons and not circles:
                problems.append(f"{where}: an area with no polygon or circle")
            for number, polygon in enumerate(polygons, 1):
                problems += polygon_problems(f"{where} polygon {number}", polygon.text or "")
            for number, circle in enumerate(circles, 1):
                problems += circle_problems(f"{where} circle {number}", circle.text or "")
    return problems
