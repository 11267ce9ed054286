"""Bad input: each gets its error code, writes nothing, and no one else notices."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import uuid
from typing import Any

from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder

SQUARE = [[4.35, 50.84], [4.36, 50.84], [4.36, 50.85], [4.35, 50.85], [4.35, 50.84]]


def anchor(incident: str, geometry: Any, **extra: Any) -> dict[str, Any]:
    return {
        "incident_id": incident,
        "client_id": str(uuid.uuid4()),
        "kind": "other",
        "label": "x",
        "geometry": geometry,
        **extra,
    }


def entry(incident: str, **extra: Any) -> dict[str, Any]:
    return {"incident_id": incident, "client_id": str(uuid.uuid4()), "text": "ok", **extra}


BAD_INPUTS: list[tuple[str, str, Any, str]] = [
    # (name, event, payload builder -> payload, expected code)
    ("not an object", "feed.post", lambda i: ["list"], "invalid"),
    ("no payload", "feed.post", lambda i: None, "invalid"),
    (
        "missing text",
        "feed.post",
        lambda i: {"incident_id": i, "client_id": str(uuid.uuid4())},
        "invalid",
    ),
    ("empty text", "feed.post", lambda i: entry(i, text="   "), "invalid"),
    ("text too long", "feed.post", lambda i: entry(i, text="x" * 10_001), "too_large"),
    ("1 MB text", "feed.post", lambda i: entry(i, text="x" * 999_000), "too_large"),
    ("wrong type", "feed.post", lambda i: entry(i, text=42), "invalid"),
    ("unknown kind", "feed.post", lambda i: entry(i, kind="rumour"), "invalid"),
    ("unknown priority", "feed.post", lambda i: entry(i, priority="panic"), "invalid"),
    ("unknown field", "feed.post", lambda i: entry(i, colour="red"), "invalid"),
    ("client_id not a uuid", "feed.post", lambda i: entry(i, client_id="abc"), "invalid"),
    ("location not geojson", "feed.post", lambda i: entry(i, location={"lat": 50}), "invalid"),
    (
        "latitude out of range",
        "feed.post",
        lambda i: entry(i, location={"type": "Point", "coordinates": [4.3, 95]}),
        "invalid",
    ),
    (
        "longitude out of range",
        "anchor.create",
        lambda i: anchor(i, {"type": "Point", "coordinates": [190, 50]}),
        "invalid",
    ),
    (
        "open ring",
        "anchor.create",
        lambda i: anchor(i, {"type": "Polygon", "coordinates": [[*SQUARE[:-1], [4.351, 50.84]]]}),
        "invalid",
    ),
    (
        "self-intersecting polygon",
        "anchor.create",
        lambda i: anchor(
            i, {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        ),
        "invalid",
    ),
    (
        "too many vertices",
        "anchor.create",
        lambda i: anchor(
            i, {"type": "LineString", "coordinates": [[4 + n * 1e-5, 50] for n in range(10_001)]}
        ),
        "too_large",
    ),
    (
        "NaN coordinate",
        "anchor.create",
        lambda i: anchor(i, {"type": "Point", "coordinates": ["NaN", 50]}),
        "invalid",
    ),
    (
        "geometry collection",
        "anchor.create",
        lambda i: anchor(i, {"type": "GeometryCollection", "geometries": []}),
        "invalid",
    ),
    (
        "unknown anchor kind",
        "anchor.create",
        lambda i: {**anchor(i, {"type": "Point", "coordinates": [4, 50]}), "kind": "bunker"},
        "invalid",
    ),
    (
        "properties too big",
        "anchor.create",
        lambda i: anchor(
            i, {"type": "Point", "coordinates": [4, 50]}, properties={"notes": "x" * 20_000}
        ),
        "too_large",
    ),
    (
        "label too long",
        "anchor.create",
        lambda i: {**anchor(i, {"type": "Point", "coordinates": [4, 50]}), "label": "x" * 201},
        "too_large",
    ),
    (
        "version not a number",
        "anchor.update",
        lambda i: {"incident_id": i, "anchor_id": "a", "version": "one", "label": "x"},
        "invalid",
    ),
    (
        "empty update",
        "anchor.update",
        lambda i: {"incident_id": i, "anchor_id": "nope", "version": 1},
        "invalid",
    ),
    (
        "unknown anchor",
        "anchor.delete",
        lambda i: {"incident_id": i, "anchor_id": "nope", "version": 1},
        "not_found",
    ),
    ("unknown incident", "feed.post", lambda i: entry("no-such-incident"), "not_found"),
    ("negative since", "incident.join", lambda i: {"incident_id": i, "since": -1}, "invalid"),
    # PostgreSQL cannot store a NUL character, in text or in JSON
    ("NUL in text", "feed.post", lambda i: entry(i, text="fire\x00"), "invalid"),
    (
        "NUL in properties",
        "anchor.create",
        lambda i: {
            "incident_id": i,
            "client_id": str(uuid.uuid4()),
            "kind": "command_post",
            "label": "CP",
            "geometry": {"type": "Point", "coordinates": [4.35, 50.85]},
            "properties": {"note": "\x00"},
        },
        "invalid",
    ),
    ("NUL in an id", "incident.join", lambda i: {"incident_id": i + "\x00"}, "invalid"),
]


async def test_each_bad_input_gets_its_code_writes_nothing_and_disturbs_no_one(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    sender, watcher = await seed.user("sender"), await seed.user("watcher")
    incident = await seed.incident({sender: "contributor", watcher: "viewer"})
    s, w = await clients(hub_server, sender), await clients(hub_server, watcher)
    await s.join(incident)
    await w.join(incident)
    for name, event, build, code in BAD_INPUTS:
        payload = build(incident)
        ack = await (s.sio.call(event, payload) if payload is not None else s.sio.call(event))
        assert ack["ok"] is False, name
        assert ack["error"]["code"] == code, (name, ack)
        assert ack["error"]["message"], name
    # The sender is still connected and can write; nothing was written before.
    good = await s.request("feed.post", entry(incident, text="all clear"))
    assert good["entry"]["seq"] == 1
    await w.wait_for_seq(incident, 1)
    assert [e["data"]["text"] for e in w.incidents[incident].events] == ["all clear"]
    assert s.sio.connected and w.sio.connected


async def test_posting_is_rate_limited_per_user(
    database_url: str, logs: Any, seed: Seeder, clients: Clients
) -> None:
    server = HubProcess(
        database_url, log_dir=logs, post_rate_per_second=1, post_rate_burst=5
    ).start()
    try:
        fast, other = await seed.user("fast"), await seed.user("other")
        incident = await seed.incident({fast: "contributor", other: "contributor"})
        f, o = await clients(server, fast), await clients(server, other)
        acks = [await f.call("feed.post", entry(incident)) for _ in range(8)]
        assert [a["ok"] for a in acks[:5]] == [True] * 5
        refused = [a for a in acks[5:] if not a["ok"]]
        assert refused and all(a["error"]["code"] == "rate_limited" for a in refused)
        assert "at most 1/s" in refused[0]["error"]["message"]
        # Another user is not affected.
        assert (await o.call("feed.post", entry(incident)))["ok"]
    finally:
        server.stop()


class StuckClient:
    """A Socket.IO client on a bare TCP socket with a tiny receive buffer that joins an incident
    and then never reads again, like a phone whose link died without a FIN."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def open(cls, port: int, token: str, incident_id: str) -> StuckClient:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        client = cls(sock)
        sock.settimeout(5)
        client.read_until(b"\x81", b'0{"sid"')  # 101 Switching Protocols, Engine.IO open
        client.send_text("40" + json.dumps({"token": token}))
        client.read_until(b'40{"sid"')  # connected: now events are handled as this user
        client.send_text("421" + json.dumps(["incident.join", {"incident_id": incident_id}]))
        return client

    def read_until(self, *markers: bytes) -> None:
        seen = b""
        for _ in range(100):
            seen += self.sock.recv(4096)
            if all(marker in seen for marker in markers):
                return
        raise AssertionError(f"no {markers!r} in {seen!r}")

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        header = bytes([0x81]) + (
            bytes([0x80 | len(payload)])
            if len(payload) < 126
            else bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)


async def test_a_client_that_stops_reading_is_cut_off_not_buffered_forever(
    database_url: str, logs: Any, seed: Seeder, clients: Clients
) -> None:
    server = HubProcess(database_url, log_dir=logs, max_client_queue=100).start()
    try:
        writer, stuck = await seed.user("writer"), await seed.user("stuck")
        incident = await seed.incident({writer: "contributor", stuck: "viewer"})
        raw = StuckClient.open(server.port, stuck.token, incident)
        w = await clients(server, writer)
        await w.join(incident)
        for _ in range(100):  # until the hub sees the stuck client in the room
            if {u["user_id"] for u in w.presence.get(incident, [])} == {writer.id, stuck.id}:
                break
            await asyncio.sleep(0.05)
        # The stuck client never reads; the writer goes on posting large entries.
        for n in range(500):
            await w.request("feed.post", entry(incident, text=f"{n} " + "x" * 9_000))
            if n % 25 == 24 and "packets behind: disconnecting it" in server.log_path.read_text():
                break
        assert "packets behind: disconnecting it" in server.log_path.read_text()
        # The hub let go of it: it is no longer online, and its queue no longer grows.
        for _ in range(100):
            if {u["user_id"] for u in w.presence[incident]} == {writer.id}:
                break
            await asyncio.sleep(0.05)
        assert {u["user_id"] for u in w.presence[incident]} == {writer.id}
        raw.sock.close()
        assert w.sio.connected  # the healthy client was never affected
        await w.wait_for_seq(incident, n + 1)
    finally:
        server.stop()
