"""What a fuzz of the API and the socket found: each stays fixed.

Hostile input as a fuzzer (or an attacker) sends it: JSON nested hundreds of levels deep,
numbers and strings that JSON does not have, Socket.IO packets of the wrong shape, binary
attachments, messages far beyond the 1 MB limit, uploads from callers who may not upload, and
sockets that vanish while their join is in flight. Each is refused with the contract's error
(or its connection closed), writes nothing, disturbs no one else, leaves no traceback in the
hub's log, does not flood that log, and does not grow the hub's memory.

Socket.IO is spoken by hand here (`RawSocket`, `RawFrames`): the python-socketio client would
refuse to send most of these packets.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import struct
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hub.client import HubClient
from models.limits import MAX_JSON_DEPTH, MAX_MESSAGE_BYTES
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser

POINT = '{"type":"Point","coordinates":[4.35,50.85]}'
DEPTH_MESSAGE = f"deeper than {MAX_JSON_DEPTH}"
MB = 1024 * 1024


# helpers: JSON text built by hand ---------------------------------------------------------------


def nested_object(levels: int) -> str:
    """`levels` objects, each inside the last: {"a":{"a":...1}}."""
    return '{"a":' * levels + "1" + "}" * levels


def nested_array(levels: int) -> str:
    """`levels` arrays, each inside the last: [[[...]]]."""
    return "[" * levels + "]" * levels


def q(value: str) -> str:
    return json.dumps(value)


def feed_post(incident: str, *fields: str, text: str = '"fire"') -> str:
    """A feed.post payload as JSON text; `fields` are extra `"name":value` fragments."""
    return (
        f'{{"incident_id":{q(incident)},"client_id":{q(str(uuid.uuid4()))},"text":{text}'
        + "".join("," + field for field in fields)
        + "}"
    )


def anchor_create(incident: str | None, properties: str = "{}") -> str:
    """An anchor.create payload as JSON text (no incident_id for the HTTP route's body)."""
    head = f'"incident_id":{q(incident)},' if incident is not None else ""
    return (
        f'{{{head}"client_id":{q(str(uuid.uuid4()))},"kind":"other","label":"deep",'
        f'"geometry":{POINT},"properties":{properties}}}'
    )


def slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "-" for c in name.lower())


def bearer(user: TestUser) -> dict[str, str]:
    return {"authorization": f"Bearer {user.token}"}


async def last_seq(server: HubProcess, user: TestUser, incident: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(user), timeout=30) as http:
        response = await http.get(f"/api/incidents/{incident}")
        assert response.status_code == 200, response.text
        return int(response.json()["incident"]["last_seq"])


def rss_mb(server: HubProcess) -> float:
    """The hub process's resident memory (VmRSS), in MiB."""
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/<pid>/status")


async def settled_rss(server: HubProcess) -> float:
    await asyncio.sleep(1.0)
    return rss_mb(server)


class LogWindow:
    """What the hub logged from now on (its log file is shared by the whole module)."""

    def __init__(self, server: HubProcess) -> None:
        self.path = server.log_path
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", errors="replace")

    def hub_lines(self) -> list[str]:
        """Lines other than uvicorn's own ("INFO:     127.0.0.1 - GET ...", "connection open")."""
        return [line for line in self.text().splitlines() if not line.startswith("INFO:")]

    def assert_clean(self) -> None:
        text = self.text()
        assert "Traceback" not in text, text[-4000:]
        errors = [line for line in text.splitlines() if "ERROR" in line]
        assert not errors, errors[:10]


# a Socket.IO client by hand over the `websockets` library ---------------------------------------


class RawSocket:
    """Engine.IO v4 / Socket.IO v5 text packets, written by hand, over one websocket: anything,
    well-formed or not, goes as it is. A reader task answers the hub's pings and sorts what
    arrives: acks by id (`43<id>[...]`), events (`42[...]`), everything else."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.opened: dict[str, Any] | None = None  # the Engine.IO open packet
        self.sid: str | None = None  # the Socket.IO connect answer
        self.refused: Any = None  # a Socket.IO connect error
        self.acks: dict[int, list[Any]] = {}
        self.events: list[list[Any]] = []
        self.other: list[str | bytes] = []
        self.closed = False
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, server: HubProcess, token: str | None = None) -> RawSocket:
        ws = await connect(
            f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
            compression=None,
            max_size=None,
            ping_interval=None,
            open_timeout=10,
            close_timeout=2,
            proxy=None,
        )
        raw = cls(ws)
        await raw.wait(lambda: raw.opened is not None, "the Engine.IO open packet")
        if token is not None:
            await raw.send("40" + json.dumps({"token": token}))
            await raw.wait(lambda: raw.sid is not None or raw.refused is not None, "connect")
            assert raw.sid is not None, raw.refused
        return raw

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, str):
                    await self._take(message)
                else:
                    self.other.append(message)
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            async with self._changed:
                self._changed.notify_all()

    async def _take(self, text: str) -> None:
        if text == "2":  # Engine.IO ping
            try:
                await self.ws.send("3")
            except ConnectionClosed:
                pass
        elif text.startswith("0"):
            self.opened = json.loads(text[1:])
        elif text.startswith("40"):
            self.sid = json.loads(text[2:])["sid"]
        elif text.startswith("44"):
            self.refused = json.loads(text[2:])
        elif text.startswith("43"):
            body = text[2:]
            digits = len(body) - len(body.lstrip("0123456789"))
            self.acks[int(body[:digits])] = json.loads(body[digits:])
        elif text.startswith("42"):
            self.events.append(json.loads(text[2:]))
        else:
            self.other.append(text)

    async def wait(self, ready: Callable[[], bool], what: str, timeout: float = 10) -> None:
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: ready() or self.closed)
        except TimeoutError:
            raise AssertionError(f"no {what} within {timeout} s") from None
        if not ready():
            raise AssertionError(f"connection closed ({self.ws.close_code}) before {what}")

    async def send(self, message: str | bytes) -> None:
        await self.ws.send(message)

    def next_id(self) -> int:
        return next(self._ids)

    async def send_packet(self, body: str) -> int:
        """An EVENT packet `42<id><body>` with a fresh ack id; the id."""
        ack_id = self.next_id()
        await self.send(f"42{ack_id}{body}")
        return ack_id

    async def ack(self, ack_id: int, timeout: float = 10) -> list[Any]:
        await self.wait(lambda: ack_id in self.acks, f"ack {ack_id}", timeout)
        return self.acks[ack_id]

    async def call(self, event: str, payload: Any) -> dict[str, Any]:
        """A well-formed event with an ack; the ack's one argument."""
        ack = await self.ack(await self.send_packet(json.dumps([event, payload])))
        assert isinstance(ack, list) and len(ack) == 1, ack
        result: dict[str, Any] = ack[0]
        return result

    async def good_join(self, incident: str) -> None:
        ack = await self.call("incident.join", {"incident_id": incident})
        assert ack["ok"] is True, ack

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except (TimeoutError, ConnectionClosed):
            self.abort()
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Until the reader has seen the connection end (at most 5 s)."""
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), 5)
        except TimeoutError:
            self._reader.cancel()

    def abort(self) -> None:
        self.ws.transport.abort()


def assert_invalid(ack: Any, where: str, message_has: str | None = None) -> None:
    """The contract's refusal: `[{"ok": false, "error": {"code": "invalid", "message": ...}}]`."""
    assert isinstance(ack, list) and len(ack) == 1, (where, ack)
    assert ack[0]["ok"] is False, (where, ack)
    assert ack[0]["error"]["code"] == "invalid", (where, ack)
    message = ack[0]["error"]["message"]
    assert isinstance(message, str) and message, (where, ack)
    if message_has is not None:
        assert message_has in message, (where, ack)


@pytest.fixture
async def raw_sockets() -> AsyncIterator[list[RawSocket]]:
    made: list[RawSocket] = []
    yield made
    for raw in made:
        try:
            await raw.close()
        except Exception:
            pass


# a websocket client by hand, frame by frame ------------------------------------------------------


class RawFrames:
    """A websocket client on asyncio streams, frame by frame: it can send the header of a frame
    that announces a message far beyond the limit before any of its payload, and then read the
    close frame that the hub answers with."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawFrames:
        """Upgraded and Engine.IO open, never authenticated."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        frames = cls(reader, writer)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert b" 101 " in head.split(b"\r\n")[0], head
        opcode, payload = await asyncio.wait_for(frames.read_frame(), 10)
        assert opcode == 1 and payload.startswith(b'0{"sid"'), payload
        return frames

    async def read_frame(self) -> tuple[int, bytes]:
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return head[0] & 0x0F, await self.reader.readexactly(length)

    @staticmethod
    def text_header(length: int) -> bytes:
        # FIN + text, masked with a zero key (so the payload goes as it is), 64-bit length
        return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", length) + b"\0\0\0\0"

    async def close_code(self, timeout: float) -> int | None:
        """The code of the hub's close frame, if one comes within `timeout`; None if none
        does, or the connection ends without one."""
        try:
            async with asyncio.timeout(timeout):
                for _ in range(1_000):  # Engine.IO pings and the like come first
                    opcode, payload = await self.read_frame()
                    if opcode == 8:
                        return int(struct.unpack("!H", payload[:2])[0]) if payload else 1005
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        return None

    def abort(self) -> None:
        transport = self.writer.transport
        transport.abort()


async def send_small(port: int, size: int) -> None:
    """One unauthenticated websocket sends a `size`-byte text message, well within the limit."""
    frames = await RawFrames.open(port)
    try:
        message = b'42["feed.post","' + b"x" * (size - 18) + b'"]'
        frames.writer.write(RawFrames.text_header(size) + message)
        await asyncio.wait_for(frames.writer.drain(), 10)
        await asyncio.sleep(0.2)
    finally:
        frames.abort()


async def send_oversized(port: int, size: int) -> int | None:
    """One unauthenticated websocket sends a `size`-byte text message: the close code."""
    frames = await RawFrames.open(port)
    try:
        message = b'42["feed.post","' + b"x" * (size - 18) + b'"]'
        assert len(message) == size
        first = 4096
        frames.writer.write(RawFrames.text_header(size) + message[:first])
        await asyncio.wait_for(frames.writer.drain(), 10)
        # A hub that knows the limit closes on the header; give it the time to say so.
        code = await frames.close_code(timeout=10)
        if code is None:
            # It did not: the whole message goes, as the fuzz sent it.
            try:
                frames.writer.write(message[first:])
                await asyncio.wait_for(frames.writer.drain(), 30)
            except (TimeoutError, ConnectionError):
                pass
            code = await frames.close_code(timeout=5)
        return code
    finally:
        frames.abort()


# fixtures and scenes -----------------------------------------------------------------------------


@dataclass
class Scene:
    """An incident with a fuzzing member on a raw socket and a well-behaved member watching."""

    server: HubProcess
    incident: str
    fuzzer: TestUser
    watcher_user: TestUser
    raw: RawSocket
    watcher: HubClient
    seq: int
    log: LogWindow

    async def assert_undisturbed(self) -> None:
        """Nothing written, nobody told, nobody cut off, nothing in the log worth a look."""
        await self.raw.good_join(self.incident)  # the fuzzing connection is not deaf
        assert await last_seq(self.server, self.watcher_user, self.incident) == self.seq
        assert self.watcher.sio.connected
        # The watcher can post, and that entry is the first event it ever receives: nothing
        # was broadcast before it (events arrive in seq order).
        ack = await self.watcher.request(
            "feed.post",
            {"incident_id": self.incident, "client_id": str(uuid.uuid4()), "text": "all clear"},
        )
        assert ack["entry"]["seq"] == self.seq + 1
        await self.watcher.wait_for_seq(self.incident, self.seq + 1)
        assert [e["seq"] for e in self.watcher.incidents[self.incident].events] == [self.seq + 1]
        self.seq += 1
        self.log.assert_clean()


async def scene(
    server: HubProcess, seed: Seeder, clients: Clients, raw_sockets: list[RawSocket]
) -> Scene:
    fuzzer, watcher_user = await seed.user("fuzzer"), await seed.user("watcher")
    incident = await seed.incident({fuzzer: "contributor", watcher_user: "contributor"})
    watcher = await clients(server, watcher_user)
    await watcher.join(incident)
    raw = await RawSocket.open(server, fuzzer.token)
    raw_sockets.append(raw)
    await raw.good_join(incident)  # the helper itself works: a good packet gets an ok ack
    seq = await last_seq(server, fuzzer, incident)
    return Scene(server, incident, fuzzer, watcher_user, raw, watcher, seq, LogWindow(server))


@pytest.fixture
def fresh_hub(database_url: str, logs: Path) -> Iterator[HubProcess]:
    """A hub of the test's own, for memory measurements that others must not blur."""
    server = HubProcess(database_url, log_dir=logs).start()
    yield server
    server.stop()


# A. depth ---------------------------------------------------------------------------------------


async def test_http_anchor_properties_nested_too_deep_are_refused_and_reads_still_work(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """The payload is level 1 and `properties` level 2, so `properties` may hold objects down
    to level MAX_JSON_DEPTH: MAX_JSON_DEPTH - 1 levels counting itself. One more is refused, as
    is a 300-deep one (which, stored, could never be encoded again: orjson stops at 255)."""
    author, watcher_user = await seed.user("author"), await seed.user("watcher")
    incident = await seed.incident({author: "contributor", watcher_user: "viewer"})
    watcher = await clients(hub_server, watcher_user)
    await watcher.join(incident)
    log = LogWindow(hub_server)
    seq = await last_seq(hub_server, author, incident)
    url = f"/api/incidents/{incident}/anchors"
    headers = {**bearer(author), "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers, timeout=30) as http:
        for levels in (300, MAX_JSON_DEPTH):  # deepest object at level 301, at level 33
            response = await http.post(url, content=anchor_create(None, nested_object(levels)))
            assert response.status_code == 400, (levels, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid" and DEPTH_MESSAGE in error["message"], error
        assert await last_seq(hub_server, author, incident) == seq  # nothing written
        # Everything still reads: the log, the anchors, a join's snapshot.
        assert (await http.get(f"/api/incidents/{incident}/events")).status_code == 200
        assert (await http.get(url)).status_code == 200
        late = await clients(hub_server, author)
        assert (await late.call("incident.join", {"incident_id": incident}))["ok"] is True

        # Just within: the deepest object at level MAX_JSON_DEPTH.
        within = nested_object(MAX_JSON_DEPTH - 1)
        response = await http.post(url, content=anchor_create(None, within))
        assert response.status_code == 201, response.text
        anchor_id = response.json()["anchor"]["id"]
        assert response.json()["anchor"]["properties"] == json.loads(within)
        events = await http.get(f"/api/incidents/{incident}/events")
        # anchor.created and its feed entry
        assert events.status_code == 200 and events.json()["seq"] == seq + 2
        anchors = await http.get(url)
        assert anchors.status_code == 200
        assert anchor_id in [feature["id"] for feature in anchors.json()["features"]]
    ack = await late.call("incident.join", {"incident_id": incident})
    assert ack["ok"] is True, ack
    # The watcher saw the accepted anchor (and its feed entry), and nothing of the refused ones.
    await watcher.wait_for_seq(incident, seq + 2)
    assert [e["seq"] for e in watcher.incidents[incident].events] == [seq + 1, seq + 2]
    assert watcher.sio.connected
    log.assert_clean()


async def test_http_feed_text_nested_600_deep_is_invalid_not_unavailable(
    hub_server: HubProcess, seed: Seeder
) -> None:
    author = await seed.user("author")
    incident = await seed.incident({author: "contributor"})
    log = LogWindow(hub_server)
    seq = await last_seq(hub_server, author, incident)
    headers = {**bearer(author), "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers, timeout=30) as http:
        body = f'{{"client_id":{q(str(uuid.uuid4()))},"text":{nested_array(599)}}}'
        response = await http.post(f"/api/incidents/{incident}/feed", content=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid" and DEPTH_MESSAGE in error["message"], error
    assert await last_seq(hub_server, author, incident) == seq
    log.assert_clean()


@pytest.mark.parametrize("depth", [40, 600, 1_000])
@pytest.mark.parametrize("event", ["feed.post", "anchor.create"])
async def test_socket_payload_nested_too_deep_is_invalid_not_unavailable(
    hub_server: HubProcess,
    seed: Seeder,
    clients: Clients,
    raw_sockets: list[RawSocket],
    event: str,
    depth: int,
) -> None:
    """A `depth`-deep payload (the payload object is level 1), deep in `text` or in
    `properties`: `invalid`, nothing written."""
    s = await scene(hub_server, seed, clients, raw_sockets)
    if event == "feed.post":
        payload = feed_post(s.incident, text=nested_array(depth - 1))
    else:
        payload = anchor_create(s.incident, nested_object(depth - 1))
    ack = await s.raw.ack(await s.raw.send_packet(f"[{q(event)},{payload}]"))
    assert_invalid(ack, f"{event} {depth} deep", DEPTH_MESSAGE)
    await s.assert_undisturbed()


# B. malformed Socket.IO packets -----------------------------------------------------------------

LONE_SURROGATE = '"fire \\ud800"'  # JSON text: a UTF-16 half that no UTF-8 can hold


def post_at(incident: str, coordinate: str) -> str:
    """A feed.post packet's data whose location has `coordinate` (JSON text) as longitude."""
    location = f'"location":{{"type":"Point","coordinates":[{coordinate},50.85]}}'
    return f'["feed.post",{feed_post(incident, location)}]'


# (name, the packet's data after `42<id>`, given the incident)
MALFORMED: list[tuple[str, Callable[[str], str]]] = [
    ("NaN", lambda i: '["feed.post",{"incident_id":NaN}]'),
    ("Infinity", lambda i: post_at(i, "Infinity")),
    ("-Infinity", lambda i: post_at(i, "-Infinity")),
    ("1e400", lambda i: post_at(i, "1e400")),
    ("1e400 as since", lambda i: f'["incident.join",{{"incident_id":{q(i)},"since":1e400}}]'),
    ("lone surrogate", lambda i: f'["feed.post",{feed_post(i, text=LONE_SURROGATE)}]'),
    ("truncated JSON", lambda i: f'["feed.post",{feed_post(i)[:-5]}'),
    ("1,100 levels", lambda i: f'["feed.post",{feed_post(i, text=nested_array(1_098))}]'),
    ("data not a list", lambda i: '{"a":1}'),
    ("empty list", lambda i: "[]"),
    ("event name not a string", lambda i: "[42]"),
    ("event name null", lambda i: f"[null,{feed_post(i)}]"),
    ("unknown event", lambda i: '["no.such.event",{}]'),
    ("more than one argument", lambda i: '["feed.post",{"text":"x"},"extra"]'),
    ("more than one argument, valid", lambda i: f'["feed.post",{feed_post(i)},"extra"]'),
]


@pytest.mark.parametrize(("name", "build"), MALFORMED, ids=[slug(name) for name, _ in MALFORMED])
async def test_each_malformed_packet_gets_an_invalid_ack_and_the_connection_goes_on(
    hub_server: HubProcess,
    seed: Seeder,
    clients: Clients,
    raw_sockets: list[RawSocket],
    name: str,
    build: Callable[[str], str],
) -> None:
    s = await scene(hub_server, seed, clients, raw_sockets)
    ack = await s.raw.ack(await s.raw.send_packet(build(s.incident)))
    assert_invalid(ack, name)
    await s.assert_undisturbed()


async def test_a_binary_event_is_refused_at_once_and_its_attachments_ignored(
    hub_server: HubProcess, seed: Seeder, clients: Clients, raw_sockets: list[RawSocket]
) -> None:
    """`451-<id>[...]` announces one binary attachment: the hub answers `invalid` on the
    header, without waiting for it, and the binary frames that follow are dropped."""
    s = await scene(hub_server, seed, clients, raw_sockets)
    placeholder = '["feed.post",{"_placeholder":true,"num":0}]'
    ack_id = s.raw.next_id()
    await s.raw.send(f"451-{ack_id}{placeholder}")
    assert_invalid(await s.raw.ack(ack_id), "binary event")  # before any attachment
    await s.raw.send(b"\x01\x02\x03 an attachment")
    await s.raw.send(b"\x04 and one more than announced")
    # Without an ack id (the literal packet of the fuzz), then its attachment.
    await s.raw.send(f"451-{placeholder}")
    await s.raw.send(b"\x05 its attachment")
    # A valid post sent as a binary event (no placeholder in it) is refused as well: it must
    # not be written once the attachment it announced arrives.
    ack_id = s.raw.next_id()
    await s.raw.send(f'451-{ack_id}["feed.post",{feed_post(s.incident)}]')
    assert_invalid(await s.raw.ack(ack_id), "binary event without a placeholder")
    await s.raw.send(b"\x06")
    await s.assert_undisturbed()
    assert not [m for m in s.raw.other if isinstance(m, str)], s.raw.other  # no disconnect


STRICT_SOCKET: list[tuple[str, str, Callable[[str, str], dict[str, Any]]]] = [
    # (name, event, payload given (incident, anchor id)); a coercion would make each succeed
    (
        "version true",
        "anchor.update",
        lambda i, a: {"incident_id": i, "anchor_id": a, "version": True, "label": "moved"},
    ),
    (
        "version '1'",
        "anchor.update",
        lambda i, a: {"incident_id": i, "anchor_id": a, "version": "1", "label": "moved"},
    ),
    (
        "version 1.0",
        "anchor.update",
        lambda i, a: {"incident_id": i, "anchor_id": a, "version": 1.0, "label": "moved"},
    ),
    (
        "delete version true",
        "anchor.delete",
        lambda i, a: {"incident_id": i, "anchor_id": a, "version": True},
    ),
    (
        "priority 1",
        "feed.post",
        lambda i, a: {
            "incident_id": i,
            "client_id": str(uuid.uuid4()),
            "text": "fire",
            "priority": 1,
        },
    ),
    (
        "text a number",
        "feed.post",
        lambda i, a: {"incident_id": i, "client_id": str(uuid.uuid4()), "text": 42},
    ),
    ("since '3'", "incident.join", lambda i, a: {"incident_id": i, "since": "3"}),
    ("since true", "incident.join", lambda i, a: {"incident_id": i, "since": True}),
    ("incident_id a number", "incident.join", lambda i, a: {"incident_id": 7}),
]


async def test_wrong_types_are_refused_not_coerced(
    hub_server: HubProcess, seed: Seeder, clients: Clients, raw_sockets: list[RawSocket]
) -> None:
    s = await scene(hub_server, seed, clients, raw_sockets)
    created = await s.raw.call(
        "anchor.create",
        {
            "incident_id": s.incident,
            "client_id": str(uuid.uuid4()),
            "kind": "command_post",
            "label": "CP",
            "geometry": json.loads(POINT),
        },
    )
    assert created["ok"] is True, created
    anchor_id = created["anchor"]["id"]
    assert created["anchor"]["version"] == 1
    # anchor.created and its feed entry
    await s.watcher.wait_for_seq(s.incident, s.seq + 2)
    s.watcher.incidents[s.incident].events.clear()
    s.seq += 2
    for name, event, build in STRICT_SOCKET:
        packet = json.dumps([event, build(s.incident, anchor_id)])
        assert_invalid(await s.raw.ack(await s.raw.send_packet(packet)), name)
    # HTTP: the same shapes, the same strictness.
    url = f"/api/incidents/{s.incident}/anchors/{anchor_id}"
    async with httpx.AsyncClient(
        base_url=hub_server.url, headers=bearer(s.fuzzer), timeout=30
    ) as http:
        for version in (True, "1", 1.0):
            response = await http.patch(url, json={"version": version, "label": "moved"})
            assert response.status_code == 400, (version, response.text)
            assert response.json()["error"]["code"] == "invalid", response.text
        anchors = (await http.get(f"/api/incidents/{s.incident}/anchors")).json()
    [feature] = [f for f in anchors["features"] if f["id"] == anchor_id]
    assert feature["properties"]["label"] == "CP" and feature["properties"]["version"] == 1
    await s.assert_undisturbed()


FLOODS: list[tuple[str, Callable[[str], str | None]]] = [
    ("NaN", lambda i: '["feed.post",{"incident_id":NaN}]'),
    ("unknown event", lambda i: '["no.such.event",{}]'),
    ("data not a list", lambda i: '{"a":1}'),
    ("binary event", lambda i: None),
]
FLOOD = 200


@pytest.mark.parametrize(("name", "build"), FLOODS, ids=[slug(name) for name, _ in FLOODS])
async def test_a_flood_of_malformed_packets_is_answered_and_barely_logged(
    hub_server: HubProcess,
    seed: Seeder,
    clients: Clients,
    raw_sockets: list[RawSocket],
    name: str,
    build: Callable[[str], str | None],
) -> None:
    """200 bad packets sent back to back: 200 `invalid` acks, and the hub's log throttles its
    lines about them (about one a second per kind) instead of writing one each."""
    s = await scene(hub_server, seed, clients, raw_sockets)
    ids = []
    for _ in range(FLOOD):
        data = build(s.incident)
        if data is None:  # a binary event, its attachment and one more than it announced
            ack_id = s.raw.next_id()
            await s.raw.send(f'451-{ack_id}["feed.post",{{"_placeholder":true,"num":0}}]')
            await s.raw.send(b"\x00" * 64)
            await s.raw.send(b"\x01" * 64)
        else:
            ack_id = s.raw.next_id()
            await s.raw.send(f"42{ack_id}{data}")
        ids.append(ack_id)
    await s.raw.wait(lambda: all(i in s.raw.acks for i in ids), f"{FLOOD} acks", timeout=60)
    for ack_id in ids:
        assert_invalid(s.raw.acks[ack_id], f"{name} #{ack_id}")
    await s.assert_undisturbed()
    lines = s.log.hub_lines()
    assert len(lines) < 10, (len(lines), lines[:20])


# C. a join in flight when its socket drops ------------------------------------------------------


async def test_sockets_that_drop_while_their_join_is_in_flight_leave_no_error(
    hub_server: HubProcess, seed: Seeder, clients: Clients, raw_sockets: list[RawSocket]
) -> None:
    dropper, watcher_user = await seed.user("dropper"), await seed.user("watcher")
    incident = await seed.incident({dropper: "contributor", watcher_user: "contributor"})
    watcher = await clients(hub_server, watcher_user)
    await watcher.join(incident)
    for n in range(5):  # something for the joins to read
        await watcher.request(
            "feed.post", {"incident_id": incident, "client_id": str(uuid.uuid4()), "text": f"{n}"}
        )
    log = LogWindow(hub_server)
    for n in range(30):
        raw = await RawSocket.open(hub_server, dropper.token)
        await raw.send_packet(json.dumps(["incident.join", {"incident_id": incident}]))
        if n % 2:
            raw.abort()  # the TCP connection is gone at once
            await raw.wait_closed()
        else:
            await raw.close()  # a clean websocket close, right after the join went
    # The hub has let go of every one of them: the dropper is not shown online (no ghost).
    online: list[dict[str, Any]] = []
    for _ in range(100):
        ack = await watcher.request("incident.join", {"incident_id": incident})
        online = ack["snapshot"]["online"] if "snapshot" in ack else []
        if {u["user_id"] for u in online} == {watcher_user.id}:
            break
        await asyncio.sleep(0.1)
    assert {u["user_id"] for u in online} == {watcher_user.id}, online
    await asyncio.sleep(0.5)  # the last in-flight joins finish and log whatever they log
    assert watcher.sio.connected
    log.assert_clean()


# D. memory --------------------------------------------------------------------------------------


async def test_oversized_messages_close_the_socket_1009_and_do_not_grow_memory(
    fresh_hub: HubProcess,
) -> None:
    """Eight unauthenticated websockets each send one 15 MB text message, three rounds: each
    is closed with 1009 (message too big) and the hub's memory stays where it was."""
    # warm-up: the first connections and messages allocate what every later one reuses
    await asyncio.gather(*(send_small(fresh_hub.port, 64_000) for _ in range(8)))
    before = await settled_rss(fresh_hub)
    codes: list[list[int | None]] = []
    growth: list[float] = []
    for _ in range(3):
        codes.append(
            list(
                await asyncio.gather(
                    *(send_oversized(fresh_hub.port, 15_000_000) for _ in range(8))
                )
            )
        )
        growth.append(await settled_rss(fresh_hub) - before)
    assert codes == [[1009] * 8] * 3, (codes, growth)
    assert growth[-1] < 60, growth
    async with httpx.AsyncClient(base_url=fresh_hub.url, timeout=10) as http:
        assert (await http.get("/healthz")).status_code == 200


async def test_a_1_mb_message_still_reaches_socketio_and_gets_too_large(
    hub_server: HubProcess, seed: Seeder, clients: Clients, raw_sockets: list[RawSocket]
) -> None:
    """Up to the protocol's 1 MB (plus Engine.IO framing), a message is the handlers' to
    refuse: `too_large`, not a disconnect."""
    s = await scene(hub_server, seed, clients, raw_sockets)
    message = {"incident_id": s.incident, "client_id": str(uuid.uuid4()), "text": ""}
    event = ["feed.post", message]
    frame = len(json.dumps(event, separators=(",", ":")))
    message["text"] = "x" * (MAX_MESSAGE_BYTES - frame)
    data = json.dumps(event, separators=(",", ":"))
    assert len(data) == MAX_MESSAGE_BYTES
    ack = await s.raw.ack(await s.raw.send_packet(data), timeout=30)
    assert ack[0]["ok"] is False and ack[0]["error"]["code"] == "too_large", ack
    await s.assert_undisturbed()


@pytest.mark.parametrize("announced", [1, 1_000])
async def test_binary_attachments_do_not_grow_memory(
    fresh_hub: HubProcess, seed: Seeder, raw_sockets: list[RawSocket], announced: int
) -> None:
    """A binary event announcing `announced` attachments, then 100 binary frames of 1 MB, from
    a member of no incident: `invalid`, and the hub holds none of them."""
    outsider = await seed.user("outsider")
    raw = await RawSocket.open(fresh_hub, outsider.token)
    raw_sockets.append(raw)
    nowhere = {"incident_id": "no-such-incident"}
    assert (await raw.call("incident.join", nowhere))["ok"] is False
    await raw.send(b"\x00" * 1_000_000)  # warm-up: one frame of the size, stray
    before = await settled_rss(fresh_hub)
    log = LogWindow(fresh_hub)
    ack_id = raw.next_id()
    await raw.send(f'45{announced}-{ack_id}["feed.post",{{"_placeholder":true,"num":0}}]')
    attachment = b"\x00" * 1_000_000
    for _ in range(100):
        await raw.send(attachment)
    # The connection still answers, in order, after the frames.
    assert (await raw.call("incident.join", nowhere))["error"]["code"] == "not_found"
    growth = await settled_rss(fresh_hub) - before
    assert ack_id in raw.acks, f"no ack for the binary event; memory grew {growth:.0f} MiB"
    assert_invalid(raw.acks[ack_id], "binary event")
    assert growth < 40, growth
    assert "Traceback" not in log.text(), log.text()[-4000:]


# E. uploads: the role is checked before the body is read -----------------------------------------


def timeless_gpx(size: int) -> bytes:
    """A GPX track of about `size` bytes whose points have no time: were it parsed before the
    role check, it would be refused as `invalid` (400), not `forbidden`."""
    # 120 bytes a point: 4 MB is some 35,000 points, within MAX_TRACK_POINTS (50,000)
    point = b'<trkpt lat="50.84" lon="4.35"><ele>12.5</ele><name>%s</name></trkpt>' % (b"w" * 54)
    assert len(point) == 120
    head = b'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
    return head + b"<trk><trkseg>" + point * (size // len(point)) + b"</trkseg></trk></gpx>"


async def convoy_and_vehicle(
    server: HubProcess, manager: TestUser, incident: str
) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(manager), timeout=30) as http:
        response = await http.post(
            f"/api/incidents/{incident}/convoys", json={"name": f"Convoy {uuid.uuid4().hex[:6]}"}
        )
        assert response.status_code == 201, response.text
        convoy_id = response.json()["convoy"]["id"]
        response = await http.post(
            f"/api/incidents/{incident}/convoys/{convoy_id}/vehicles",
            json={"label": "VIP 1", "role": "vip"},
        )
        assert response.status_code == 201, response.text
        return convoy_id, response.json()["vehicle"]["id"]


async def test_uploads_are_refused_on_the_role_before_the_body_is_read(
    hub_server: HubProcess, seed: Seeder
) -> None:
    manager, contributor, outsider = (
        await seed.user("manager"),
        await seed.user("contributor"),
        await seed.user("outsider"),
    )
    incident = await seed.incident({manager: "manager", contributor: "contributor"})
    convoy_id, vehicle_id = await convoy_and_vehicle(hub_server, manager, incident)
    log = LogWindow(hub_server)
    gpx = timeless_gpx(4 * MB)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=60) as http:
        response = await http.post(
            f"/api/vehicles/{vehicle_id}/track", content=gpx, headers=bearer(outsider)
        )
        assert response.status_code == 403, response.text[:300]
        assert response.json()["error"]["code"] == "forbidden"
        # a contributor may not import a route: 403 for a body past the 5 MB upload limit too
        response = await http.put(
            f"/api/incidents/{incident}/convoys/{convoy_id}/route",
            content=b"<gpx><rte>" + b" " * (5 * MB + 500_000) + b"</rte></gpx>",
            headers=bearer(contributor),
        )
        assert response.status_code == 403, response.text[:300]
        assert response.json()["error"]["code"] == "forbidden"
        # the manager's own upload of the same GPX is read, and refused for what it holds
        response = await http.post(
            f"/api/vehicles/{vehicle_id}/track", content=gpx, headers=bearer(manager)
        )
        assert response.status_code == 400, response.text[:300]
    log.assert_clean()


async def test_health_answers_while_eight_refused_uploads_run(
    hub_server: HubProcess, seed: Seeder
) -> None:
    manager, outsider = await seed.user("manager"), await seed.user("outsider")
    incident = await seed.incident({manager: "manager"})
    _, vehicle_id = await convoy_and_vehicle(hub_server, manager, incident)
    gpx = timeless_gpx(4 * MB)
    async with httpx.AsyncClient(
        base_url=hub_server.url, timeout=60, limits=httpx.Limits(max_connections=20)
    ) as http:
        uploads = [
            asyncio.create_task(
                http.post(
                    f"/api/vehicles/{vehicle_id}/track", content=gpx, headers=bearer(outsider)
                )
            )
            for _ in range(8)
        ]
        await asyncio.sleep(0)  # the uploads are under way
        health = await http.get("/healthz", timeout=10)
        assert health.status_code == 200
        statuses = [response.status_code for response in await asyncio.gather(*uploads)]
    assert statuses == [403] * 8, statuses
