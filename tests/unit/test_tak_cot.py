"""hub/tak/: the stream's framing, CoT parsing (defused) and the CoT the hub sends, without a
socket: each case is bytes in, frames or events or XML out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from xml.etree.ElementTree import fromstring

import pytak
import pytest
import takproto
from pydantic import ValidationError

from hub.settings import Settings
from hub.tak.anchors import UID_PREFIX, argb, deletes_of, shapes_of
from hub.tak.cot import CotError, parse_proto, parse_xml
from hub.tak.limits import MAX_EVENT_BYTES, MAX_UNTERMINATED_BYTES
from hub.tak.shapes import Circle, Delete, Drawing, Marker, render
from hub.tak.stream import Framer, StreamError
from models.events import AnchorPublic

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def position(uid: str = "ANDROID-1", lat: float = 50.8466, lon: float = 4.3528) -> bytes:
    data: bytes = pytak.gen_cot(lat=lat, lon=lon, uid=uid, ce=8, cot_type="a-f-G-U-C")
    return data


def anchor(kind: str, geometry: dict[str, Any], **properties: Any) -> AnchorPublic:
    return cast(
        AnchorPublic,
        {
            "id": "a1",
            "kind": kind,
            "label": "Zone <1> & co",
            "geometry": geometry,
            "properties": properties,
        },
    )


# framing ----------------------------------------------------------------------------------------


def test_events_split_across_reads_and_glued_together_come_out_whole() -> None:
    first, second = position("A"), position("B")
    stream = b"\n" + first + b"\r\n" + second
    framer = Framer()
    frames = [
        frame for byte in range(len(stream)) for frame in framer.feed(stream[byte : byte + 1])
    ]
    assert [frame.kind for frame in frames] == ["xml", "xml"]
    assert [parse_xml(frame.data).uid for frame in frames] == ["A", "B"]
    assert framer.buffered == 0


def test_protobuf_frames_and_xml_mix_on_one_stream() -> None:
    proto = bytes(takproto.xml2proto(position("P"), takproto.TAKProtoVer.STREAM))
    frames = Framer().feed(proto + position("X") + proto[:3])
    assert [frame.kind for frame in frames] == ["proto", "xml"]
    event = parse_proto(frames[0].data)
    assert (event.uid, event.type, event.lat, event.lon, event.ce) == (
        "P",
        "a-f-G-U-C",
        50.8466,
        4.3528,
        8.0,
    )
    assert isinstance(event.time, float)  # Unix milliseconds


def test_a_stream_without_an_end_is_refused_past_the_limit() -> None:
    framer = Framer()
    framer.feed(b"<event>" + b"x" * (MAX_UNTERMINATED_BYTES - 100))
    with pytest.raises(StreamError, match="no </event>"):
        framer.feed(b"x" * 200)


def test_an_oversized_event_is_reported_without_its_bytes_and_the_next_is_read() -> None:
    big = b"<event>" + b" " * MAX_EVENT_BYTES + b"</event>"
    frames = Framer().feed(big + position("next"))
    assert [(frame.kind, frame.data) for frame in frames[:1]] == [("oversized", b"")]
    assert parse_xml(frames[1].data).uid == "next"


@pytest.mark.parametrize("header", [b"\xbf" + b"\xff" * 11, b"\xbf\x80\x80\x80\x80\x08"])
def test_protobuf_lengths_beyond_the_limit_are_refused(header: bytes) -> None:
    with pytest.raises(StreamError, match="TAK protocol v1"):
        Framer().feed(header)


# parsing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (
            b'<!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<event uid="u" type="a-f-G"><detail>&b;</detail></event>',
            "forbidden",
        ),
        (
            b'<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<event uid="u" type="a-f-G"><detail>&x;</detail></event>',
            "forbidden",
        ),
        (b'<event uid="u" type="a-f-G"><point lat="1"</event>', "malformed"),
        (b'<marker uid="u" type="a-f-G"></marker>', "malformed"),
        (b'<event type="a-f-G"></event>', "malformed"),
        (b'<event uid="u" type="a-f-G"><point lat="north" lon="4"/></event>', "malformed"),
    ],
)
def test_bombs_external_entities_and_broken_events_are_refused(data: bytes, kind: str) -> None:
    with pytest.raises(CotError) as refused:
        parse_xml(data)
    assert refused.value.kind == kind


def test_a_position_event_reads_point_track_and_unknowns() -> None:
    data = (
        b'<event version="2.0" uid="ANDROID-9" type="a-f-G-E-V-C" how="m-g"'
        b' time="2026-12-01T10:00:00.000Z" start="2026-12-01T10:00:00.000Z"'
        b' stale="2026-12-01T10:05:00.000Z"><point lat="50.85" lon="4.35" hae="9999999.0"'
        b' ce="12.5" le="9999999.0"/><detail><track speed="13.9" course="271.5"/>'
        b'<contact callsign="Escort 2"/></detail></event>'
    )
    event = parse_xml(data)
    assert event.is_position
    assert (event.lat, event.lon, event.hae, event.ce) == (50.85, 4.35, None, 12.5)
    assert (event.speed, event.course, event.callsign) == (13.9, 271.5, "Escort 2")
    assert event.time == "2026-12-01T10:00:00.000Z"
    chat = parse_xml(data.replace(b"a-f-G-E-V-C", b"b-t-f"))
    assert not chat.is_position


# what is sent -----------------------------------------------------------------------------------


def test_a_polygon_is_a_closed_drawing_with_its_vertices_and_escaped_label() -> None:
    ring = [[4.0, 50.0], [4.1, 50.0], [4.1, 50.1], [4.0, 50.0]]
    [shape] = shapes_of(anchor("exclusion_zone", {"type": "Polygon", "coordinates": [ring]}))
    assert isinstance(shape, Drawing) and shape.closed and shape.uid == UID_PREFIX + "a1"
    event = fromstring(render(shape, NOW))
    assert event.get("type") == "u-d-f" and event.get("uid") == UID_PREFIX + "a1"
    links = [link.get("point") for link in event.iterfind("detail/link")]
    assert links == [f"{lat:.7f},{lon:.7f}" for lon, lat in ring]
    contact = event.find("detail/contact")
    assert contact is not None and contact.get("callsign") == "Zone <1> & co"
    fill = event.find("detail/fillColor")
    assert fill is not None and fill.get("value") == str(argb(230, 0, 0, 64))
    assert event.get("stale", "") > event.get("time", "")


def test_points_become_circles_with_a_radius_and_markers_without() -> None:
    point = {"type": "Point", "coordinates": [4.35, 50.85]}
    [circle] = shapes_of(anchor("isolation_zone", point, radius_m=300))
    [marker] = shapes_of(anchor("command_post", point))
    assert isinstance(circle, Circle) and circle.radius_m == 300
    assert isinstance(marker, Marker) and marker.colour == argb(0, 90, 255)
    ellipse = fromstring(render(circle, NOW)).find("detail/shape/ellipse")
    assert ellipse is not None and ellipse.get("major") == ellipse.get("minor") == "300.0"
    assert fromstring(render(marker, NOW)).get("type") == "b-m-p-s-m"


def test_a_multipolygon_is_one_item_per_part_and_its_deletion_names_each() -> None:
    square = [[[4.0, 50.0], [4.1, 50.0], [4.1, 50.1], [4.0, 50.0]]]
    shapes = shapes_of(
        anchor("dissuasion_zone", {"type": "MultiPolygon", "coordinates": [square] * 3})
    )
    assert [shape.uid for shape in shapes] == [
        UID_PREFIX + "a1",
        UID_PREFIX + "a1.1",
        UID_PREFIX + "a1.2",
    ]
    deletes = deletes_of(shapes)
    assert all(isinstance(d, Delete) and d.type == "u-d-f" for d in deletes)
    event = fromstring(render(deletes[2], NOW))
    assert event.get("type") == "t-x-d-d"
    link = event.find("detail/link")
    assert link is not None and link.get("uid") == UID_PREFIX + "a1.2"
    assert event.find("detail/__forcedelete") is not None


def test_argb_is_a_signed_32_bit_integer_as_atak_writes_it() -> None:
    assert argb(255, 0, 0) == -65536
    assert argb(255, 255, 255) == -1
    assert argb(0, 0, 0, 0) == 0


def test_a_tls_port_without_its_certificates_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="TAK_TLS_PORT needs TAK_TLS_CERT, TAK_TLS_KEY"):
        Settings(environment="test", tak_tls_port=8089, tak_tls_ca="/etc/ca.pem")
    settings = Settings(environment="test", tak_cot_port=8087)
    assert (settings.tak_bind, settings.tak_tls_port) == ("127.0.0.1", None)
