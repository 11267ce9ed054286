"""CoT events in: one typed model, read from CoT 2.0 XML (with defusedxml: no DTD, no
entities, so no XML bomb nor external fetch) or from a TAK protocol v1 TakMessage (decoded by
the `takproto` package). What is sent back (shapes, markers) is built in shapes.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from google.protobuf.message import DecodeError
from takproto.proto import TakMessage

# CoT's "unknown" for hae, ce and le (MIL-STD-6090): 9999999.0.
UNKNOWN = 9_999_999.0
PING = "t-x-c-t"
PONG = "t-x-c-t-r"
PROTOCOL_REQUEST = "t-x-takp-q"
PROTOCOL_RESPONSE = "t-x-takp-r"
MAX_UID_CHARS = 200
MAX_TYPE_CHARS = 100


class CotError(ValueError):
    """An event that cannot be read: ignored (the message says why, for the log)."""

    def __init__(self, message: str, *, kind: str = "malformed") -> None:
        super().__init__(message)
        self.kind = kind  # the ThrottledLog kind: malformed, forbidden (DTD, entities)


@dataclass(frozen=True, slots=True)
class CotEvent:
    """The parts of a CoT event the hub reads. `time` is as sent: ISO 8601 text from XML,
    Unix milliseconds from protobuf (hub.convoys.pipeline.parse_timestamp reads both)."""

    uid: str
    type: str
    how: str = ""
    time: str | float | None = None
    lat: float | None = None
    lon: float | None = None
    hae: float | None = None
    ce: float | None = None
    speed: float | None = None
    course: float | None = None
    callsign: str | None = None
    # t-x-takp-q: the TAK protocol version the client asks for
    requested_protocol: int | None = None

    @property
    def is_position(self) -> bool:
        """An atom (`a-…`: a friendly ground unit `a-f-G-…`, any affiliation or dimension)
        with a point: where the device (or what it tracks) is."""
        return self.type.startswith("a-") and self.lat is not None and self.lon is not None


def parse_xml(data: bytes) -> CotEvent:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise CotError(f"refused XML ({type(error).__name__})", kind="forbidden") from None
    except (ParseError, ValueError, UnicodeError) as error:
        raise CotError(f"malformed XML ({error})") from None
    if root.tag != "event":
        raise CotError(f"not a CoT event (<{str(root.tag)[:40]}>)")
    uid, kind = _name(root.get("uid"), "uid", MAX_UID_CHARS), root.get("type")
    kind = _name(kind, "type", MAX_TYPE_CHARS)
    point = root.find("point")
    detail = root.find("detail")
    lat = lon = hae = ce = None
    if point is not None:
        lat, lon = _number(point, "lat"), _number(point, "lon")
        hae, ce = _known(_number(point, "hae")), _known(_number(point, "ce"))
    speed = course = None
    callsign = None
    requested = None
    if detail is not None:
        track = detail.find("track")
        if track is not None:
            speed, course = _known(_number(track, "speed")), _known(_number(track, "course"))
        contact = detail.find("contact")
        if contact is not None:
            callsign = (contact.get("callsign") or "")[:MAX_UID_CHARS] or None
        if kind == PROTOCOL_REQUEST:
            request = detail.find("TakControl/TakRequest")
            if request is not None:
                requested = _integer(request.get("version"))
    return CotEvent(
        uid=uid,
        type=kind,
        how=(root.get("how") or "")[:20],
        time=root.get("time") or root.get("start"),
        lat=lat,
        lon=lon,
        hae=hae,
        ce=ce,
        speed=speed,
        course=course,
        callsign=callsign,
        requested_protocol=requested,
    )


def parse_proto(payload: bytes) -> CotEvent:
    """A TAK protocol v1 payload (the TakMessage after the stream's magic and length)."""
    message: Any = TakMessage()
    try:
        message.ParseFromString(payload)
    except (DecodeError, RuntimeWarning, ValueError) as error:
        raise CotError(f"malformed TAK protocol v1 message ({error})") from None
    if not message.HasField("cotEvent"):
        raise CotError("TAK protocol v1 message without a CoT event")
    event = message.cotEvent
    uid = _name(event.uid, "uid", MAX_UID_CHARS)
    kind = _name(event.type, "type", MAX_TYPE_CHARS)
    detail = event.detail
    has_detail = event.HasField("detail")
    has_track = has_detail and detail.HasField("track")
    sent = event.sendTime or event.startTime
    return CotEvent(
        uid=uid,
        type=kind,
        how=event.how[:20],
        time=float(sent) if sent else None,
        lat=float(event.lat),
        lon=float(event.lon),
        hae=_known(float(event.hae)),
        ce=_known(float(event.ce)),
        speed=_known(float(detail.track.speed)) if has_track else None,
        course=_known(float(detail.track.course)) if has_track else None,
        callsign=(detail.contact.callsign[:MAX_UID_CHARS] or None)
        if event.HasField("detail")
        else None,
    )


def _name(value: str | None, what: str, limit: int) -> str:
    if not value:
        raise CotError(f"an event without {what}")
    if len(value) > limit or not value.isprintable():
        raise CotError(f"an event {what} of {len(value)} characters or unprintable")
    return value


def _number(element: Element, name: str) -> float | None:
    """An attribute as a number, None when absent; text that is no number makes the event
    unreadable (a position with lat="north" is not a position)."""
    text = element.get(name)
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise CotError(f"{element.tag} {name}={text[:20]!r} is not a number") from None


def _known(value: float | None) -> float | None:
    """None for CoT's unknown (9999999.0) and for what is not a finite number."""
    if value is None or not math.isfinite(value) or value >= UNKNOWN:
        return None
    return value


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
