"""The internals patches (hub/realtime/internals.py): the guard passes on the installed
libraries and refuses, with a message that says what does not fit, when one is out of range
or a private method it relies on is gone or changed; and, live on an in-process hub, each
patched path is really taken, so that an upgrade that breaks one fails here."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import engineio
import pytest
import socketio
import uvicorn
from engineio.async_socket import AsyncSocket
from websockets.asyncio.client import connect
from websockets.protocol import State

from hub.app import create_app
from hub.client import HubClient
from hub.instance import Instance
from hub.realtime import internals
from hub.realtime.internals import FastPollSocket, IncompatibleLibrary, ServerHooks
from hub.realtime.lightweight import LightEvent, LightQueue
from hub.realtime.notify import user_room
from hub.realtime.redis_manager import RedisSync
from hub.serving import websocket_protocol
from hub.settings import Settings
from models.limits import MAX_WIRE_BYTES
from tests.live import free_port
from tests.seed import Seeder
from tests.test_instances import RedisProcess

# the guard ------------------------------------------------------------------------------------


def test_the_guard_passes_on_the_installed_libraries() -> None:
    for library in (internals.SOCKETIO, internals.ENGINEIO, internals.UVICORN):
        assert internals.version_problem(library) is None, library
    assert internals.version_problem(internals.WEBSOCKETS) is None
    assert internals.hook_problems() == []
    assert internals.direct_write_problems() == []
    assert internals.DIRECT_PROTOCOLS  # the direct frame write is on
    assert internals.check() == []


def versions(monkeypatch: pytest.MonkeyPatch, **installed: str | None) -> None:
    """Pretend these distributions (python_socketio=... for python-socketio) are installed."""
    real = internals.installed
    wanted = {name.replace("_", "-"): version for name, version in installed.items()}
    monkeypatch.setattr(
        internals, "installed", lambda name: wanted[name] if name in wanted else real(name)
    )


@pytest.mark.parametrize(
    ("distribution", "version", "message"),
    [
        ("python_socketio", "6.0.0", "python-socketio 6.0.0 is installed, written against "),
        ("python_socketio", "5.15.2", "python-socketio>=5.16,<6"),
        ("python_engineio", "4.11.0", "python-engineio 4.11.0 is installed"),
        ("python_engineio", "5.0.1", "written against python-engineio>=4.12,<5"),
        ("python_socketio", None, "python-socketio is not installed"),
    ],
)
def test_a_socketio_library_out_of_range_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, distribution: str, version: str | None, message: str
) -> None:
    versions(monkeypatch, **{distribution: version})
    with pytest.raises(IncompatibleLibrary) as e:
        internals.check()
    assert str(e.value).startswith("hub/realtime/internals.py does not fit")
    assert message in str(e.value)
    assert "Install python-socketio>=5.16,<6 and python-engineio>=4.12,<5" in str(e.value)


def test_create_app_refuses_to_start_on_a_library_out_of_range(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    versions(monkeypatch, python_socketio="6.1.0")
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(IncompatibleLibrary) as refused:
        create_app(settings)
    assert "python-socketio 6.1.0 is installed" in str(refused.value)


async def _takes_no_id(self: Any, eio_sid: str, namespace: str, data: Any) -> None: ...


def _not_a_coroutine(self: Any) -> list[Any]:
    return []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: m.delattr(socketio.AsyncServer, "_send_eio_packet"),
            "socketio.async_server.AsyncServer._send_eio_packet is missing",
        ),
        (
            lambda m: m.delattr(engineio.base_server.BaseServer, "_get_socket"),
            "engineio.async_server.AsyncServer._get_socket is missing",
        ),
        (
            lambda m: m.setattr(socketio.AsyncServer, "_handle_event", _takes_no_id),
            "AsyncServer._handle_event takes (self, eio_sid, namespace, data), "
            "written for (self, eio_sid, namespace, id, data)",
        ),
        (
            lambda m: m.setattr(AsyncSocket, "poll", _not_a_coroutine),
            "AsyncSocket.poll is now a function, written for a coroutine",
        ),
        (
            # python-socketio would no longer send through the hook drop_slow is in
            lambda m: m.setattr(socketio.AsyncManager, "emit", _takes_no_id),
            "AsyncManager.emit no longer has self.server._send_eio_packet(",
        ),
        (
            # engineio would no longer keep its sockets where FastPollSocket is chosen
            lambda m: m.setattr(engineio.AsyncServer, "_handle_connect", _takes_no_id),
            "AsyncServer._handle_connect no longer has self.sockets[sid] = ",
        ),
    ],
)
def test_a_missing_or_changed_private_method_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[pytest.MonkeyPatch], None], message: str
) -> None:
    change(monkeypatch)
    with pytest.raises(IncompatibleLibrary) as refused:
        internals.check()
    assert message in str(refused.value)


def test_a_missing_attribute_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    made = engineio.base_socket.BaseSocket.__init__

    def without_last_ping(self: Any, server: Any, sid: str) -> None:
        made(self, server, sid)
        del self.last_ping

    monkeypatch.setattr(engineio.base_socket.BaseSocket, "__init__", without_last_ping)
    with pytest.raises(IncompatibleLibrary, match="engineio AsyncSocket has no 'last_ping'"):
        internals.check()


@pytest.mark.parametrize(
    ("distribution", "version", "message"),
    [
        ("uvicorn", "1.0.0", "uvicorn 1.0.0 is installed, written against uvicorn>=0.54,<1"),
        ("uvicorn", "0.40.0", "uvicorn 0.40.0 is installed"),
        ("websockets", "18.0", "websockets 18.0 is installed, written against websockets>=13,<18"),
    ],
)
def test_the_direct_write_is_turned_off_rather_than_refused(
    monkeypatch: pytest.MonkeyPatch, distribution: str, version: str, message: str
) -> None:
    versions(monkeypatch, **{distribution: version})
    problems = internals.direct_write_problems()
    assert any(message in problem for problem in problems), problems
    assert internals.direct_protocols(problems) == ()  # every packet takes the queue
    assert internals.hook_problems() == []  # and the rest starts as it is
    internals.check()  # no refusal


def test_the_lean_protocol_gives_way_when_uvicorn_calls_more_than_it_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When uvicorn's protocol calls a method the light queue or event lacks (a newer uvicorn),
    or when uvicorn is out of range, the stock sans-I/O protocol is served instead, and the
    Engine.IO queue check refuses to start on the same grounds."""

    class Poorer:  # a LightQueue without `get`
        def put_nowait(self, item: Any) -> None: ...

        def empty(self) -> bool:
            return True

    assert internals.lean_problems() == []
    assert internals.lean_protocol([]) is not None
    monkeypatch.setitem(internals.LEAN_ATTRIBUTES, "queue", Poorer)
    problems = internals.lean_problems()
    assert problems == ["uvicorn's WebSocketsSansIOProtocol calls queue.get"], problems
    assert internals.lean_protocol(problems) is None
    monkeypatch.setattr(internals, "LEAN_PROTOCOL", internals.lean_protocol(problems))
    settings = Settings(environment="test", database_url="sqlite:///unused.db")
    assert websocket_protocol(settings) == "websockets-sansio"
    assert (
        websocket_protocol(settings.model_copy(update={"websocket_impl": "wsproto"})) == "wsproto"
    )
    monkeypatch.setattr(internals, "LightQueue", Poorer)
    assert any("calls queue." in p for p in internals.hook_problems())
    with pytest.raises(IncompatibleLibrary):
        internals.check()
    monkeypatch.undo()
    versions(monkeypatch, uvicorn="0.53.0")
    assert any("uvicorn" in p for p in internals.lean_problems())


# live: each patched path is taken --------------------------------------------------------------


@asynccontextmanager
async def serving(database_url: str, **overrides: Any) -> AsyncIterator[tuple[str, Instance]]:
    """create_app served by uvicorn in this process (so its parts can be looked at), on a
    free port, as `crisishub serve` serves it (its websocket protocol, the frame size limit)."""
    port = free_port()
    settings = Settings(
        environment="test",
        database_url=database_url,
        host="127.0.0.1",
        port=port,
        post_rate_per_second=1000,
        post_rate_burst=1000,
        **overrides,
    )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ws=websocket_protocol(settings),
            ws_ping_interval=None,
            ws_max_size=MAX_WIRE_BYTES,
            log_config=None,
            log_level="warning",
            lifespan="on",
        )
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        await until(lambda: server.started or task.done(), "the in-process hub to listen")
        if task.done():
            task.result()
            raise RuntimeError("the in-process hub stopped")
        yield f"http://127.0.0.1:{port}", app.instance
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


async def until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def connected(url: str, *tokens: str) -> AsyncIterator[list[HubClient]]:
    made = [HubClient(url, token) for token in tokens]
    try:
        for client in made:
            await client.connect()
        yield made
    finally:
        for client in made:
            await client.close()


def post(incident_id: str, text: str = "Smoke seen at Grand-Place") -> dict[str, Any]:
    return {"incident_id": incident_id, "client_id": str(uuid.uuid4()), "text": text}


def sockets(instance: Instance) -> list[Any]:
    return list(instance.sio.eio.sockets.values())


async def test_an_idle_websocket_gets_its_frame_written_directly(
    database_url: str, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast fan-out's whole path: HubEngineIO (the server class hook), FastPollSocket
    (the sockets swap), its poll (the writer idles on it), uvicorn's protocol (found from the
    ASGI send) and the frame written straight to its transport; an ack takes the same way
    (FastPollSocket.send)."""
    written: list[bool] = []
    acks_written: list[str] = []
    write_frame = FastPollSocket.write_frame

    def spy(self: FastPollSocket, frame: bytes) -> bool:
        done = write_frame(self, frame)
        written.append(done)
        # the payload, after a header of 2, 4 or 10 bytes: "4" (MESSAGE), then the packet
        text = frame[{126: 4, 127: 10}.get(frame[1] & 0x7F, 2) :].decode()
        if done and text.startswith("43"):  # an ACK
            acks_written.append(text)
        return done

    monkeypatch.setattr(FastPollSocket, "write_frame", spy)
    poster, watcher = await seed.user("poster"), await seed.user("watcher")
    incident = await seed.incident({poster: "contributor", watcher: "viewer"})
    async with (
        serving(database_url) as (url, instance),
        connected(url, poster.token, watcher.token) as (p, w),
    ):
        assert type(instance.sio.eio) is internals.HubEngineIO
        assert instance.handlers.recent is not None  # the fast fan-out's replay ring
        await p.join(incident)
        await w.join(incident)
        assert len(sockets(instance)) == 2
        for socket in sockets(instance):
            assert type(socket) is FastPollSocket
            assert isinstance(socket.direct, internals.DIRECT_PROTOCOLS)
        await until(lambda: all(s.idle for s in sockets(instance)), "both writers to idle")
        live: list[dict[str, Any]] = []
        w.on_event = live.append
        ack = await p.request("feed.post", post(incident))
        await until(lambda: bool(live), "the watcher to get the event live")
        assert live[0]["data"] == ack["entry"]
        assert True in written  # at least one socket took the frame directly
        assert any('"ok":true' in data and ack["entry"]["id"] in data for data in acks_written)


async def test_without_the_direct_write_every_packet_takes_the_queue(
    database_url: str, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback when uvicorn or websockets do not fit: no protocol is written to."""
    monkeypatch.setattr(internals, "DIRECT_PROTOCOLS", ())
    written: list[bool] = []
    write_frame = FastPollSocket.write_frame

    def noting(s: FastPollSocket, frame: bytes) -> bool:
        written.append(write_frame(s, frame))
        return False

    monkeypatch.setattr(FastPollSocket, "write_frame", noting)
    poster, watcher = await seed.user("poster"), await seed.user("watcher")
    incident = await seed.incident({poster: "contributor", watcher: "viewer"})
    async with (
        serving(database_url) as (url, instance),
        connected(url, poster.token, watcher.token) as (p, w),
    ):
        await p.join(incident)
        await w.join(incident)
        assert [s.direct for s in sockets(instance)] == [None, None]
        live: list[dict[str, Any]] = []
        w.on_event = live.append
        await p.request("feed.post", post(incident))
        await until(lambda: bool(live), "the watcher to get the event through the queue")
        assert written and not any(written)


async def test_the_stock_fanout_sends_through_the_slow_client_hook(
    database_url: str, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FANOUT=stock: python-socketio's own emit, which sends each packet through
    `_send_eio_packet`, where the hub drops clients too far behind."""
    sent: list[str] = []
    send = ServerHooks._send_eio_packet

    async def spy(self: ServerHooks, eio_sid: str, eio_pkt: Any) -> None:
        sent.append(eio_sid)
        await send(self, eio_sid, eio_pkt)

    monkeypatch.setattr(ServerHooks, "_send_eio_packet", spy)
    poster, watcher = await seed.user("poster"), await seed.user("watcher")
    incident = await seed.incident({poster: "contributor", watcher: "viewer"})
    async with (
        serving(database_url, fanout="stock") as (url, instance),
        connected(url, poster.token, watcher.token) as (p, w),
    ):
        assert type(instance.sio.eio) is engineio.AsyncServer
        assert instance.handlers.recent is None  # no ring without the fast fan-out
        await p.join(incident)
        await w.join(incident)
        live: list[dict[str, Any]] = []
        w.on_event = live.append
        await p.request("feed.post", post(incident))
        await until(lambda: bool(live), "the watcher to get the event")
        assert len(set(sent)) == 2  # both sockets, through the hook


async def test_hostile_packets_are_answered_by_the_message_hook(
    database_url: str, seed: Seeder
) -> None:
    """`_handle_eio_message` is the hub's: a packet that does not decode gets `invalid` on its
    ack id (python-socketio's own would raise, unanswered), a binary frame is ignored."""
    user = await seed.user("raw")
    async with serving(database_url) as (url, _):
        path = "/socket.io/?EIO=4&transport=websocket"
        async with connect(url.replace("http", "ws", 1) + path) as ws:
            assert str(await asyncio.wait_for(ws.recv(), 5)).startswith("0{")  # Engine.IO open
            await ws.send("40" + json.dumps({"token": user.token}))
            assert str(await asyncio.wait_for(ws.recv(), 5)).startswith("40{")  # connected
            await ws.send(b"\x00\x01")  # binary: ignored, the connection stays
            await ws.send('421["feed.post",NaN]')
            answer = str(await asyncio.wait_for(ws.recv(), 5))
            assert answer.startswith("431[")
            assert json.loads(answer[3:])[0]["error"]["code"] == "invalid"


async def test_a_client_that_stops_answering_pings_is_closed(
    database_url: str, seed: Seeder
) -> None:
    """Liveness is Engine.IO's heartbeat alone (uvicorn sends no websocket pings): a client
    that answers every PING stays, one that stops answering is closed by the hub and forgotten
    (its socket, its principal). The heartbeat is shortened to a fraction of a second here."""
    answering, silent = await seed.user("answers"), await seed.user("silent")
    path = "/socket.io/?EIO=4&transport=websocket"

    async def connected_raw(ws: Any, token: str) -> None:
        assert str(await asyncio.wait_for(ws.recv(), 5)).startswith("0{")
        await ws.send("40" + json.dumps({"token": token}))
        assert str(await asyncio.wait_for(ws.recv(), 5)).startswith("40{")

    async with serving(database_url) as (url, instance):
        instance.sio.eio.ping_interval = 0.2
        instance.sio.eio.ping_timeout = 0.3
        async with (
            connect(url.replace("http", "ws", 1) + path) as good,
            connect(url.replace("http", "ws", 1) + path) as gone,
        ):
            await connected_raw(good, answering.token)
            await connected_raw(gone, silent.token)
            assert len(instance.handlers.principals) == 2

            async def answer_pings(until_closed: bool, seconds: float) -> int:
                pings = 0
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    if until_closed and gone.state is State.CLOSED:
                        break
                    try:
                        message = await asyncio.wait_for(good.recv(), 0.1)
                    except TimeoutError:
                        continue
                    if message == "2":
                        pings += 1
                        await good.send("3")
                return pings

            assert await answer_pings(True, 10) >= 1
            assert gone.state is State.CLOSED  # closed by the hub, the client never did
            await until(lambda: len(instance.handlers.principals) == 1, "the silent one gone")
            [principal] = instance.handlers.principals.values()
            assert principal.user_id == answering.id
            # several heartbeats later (each 0.5 s at most), the one that answers is still there
            assert await answer_pings(False, 2) >= 4
            assert good.state is State.OPEN
            assert await asyncio.wait_for(good.recv(), 5) == "2"  # still pinged, still served


async def test_a_socket_keeps_little_of_its_handshake(database_url: str, seed: Seeder) -> None:
    """What a connected socket keeps (issue 18, memory per socket): the environ python-socketio
    keeps is down to the cookie and the address once the Socket.IO CONNECT is handled, the
    ASGI scope's and websockets' copies of the headers are emptied, the socket's queue and
    uvicorn's are the light ones, uvicorn sends no pings of its own (Engine.IO's heartbeat
    does); the socket is authenticated and joins as before."""
    user = await seed.user("lean")
    async with serving(database_url) as (url, instance):
        client = HubClient(url, user.token)
        try:
            await client.connect()
            incident = await seed.incident({user: "viewer"})
            await client.join(incident)
            [(eio_sid, environ)] = list(instance.sio.environ.items())
            assert set(environ) == {"REMOTE_ADDR"}
            assert environ["REMOTE_ADDR"] == "127.0.0.1"
            socket = instance.sio.eio.sockets[eio_sid]
            assert isinstance(socket.queue, LightQueue)
            protocol: Any = socket.direct
            assert internals.LEAN_PROTOCOL is not None
            assert isinstance(socket.direct, internals.LEAN_PROTOCOL)
            assert isinstance(protocol.queue, LightQueue)
            assert isinstance(protocol.writable, LightEvent)
            assert protocol.scope["headers"] == []
            assert len(protocol.request.headers) == 0
            assert len(protocol.response.headers) == 0
            assert protocol.ping_timer is None
        finally:
            await client.close()


async def test_the_redis_hooks_carry_emits_both_ways(
    database_url: str, seed: Seeder, logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Redis sync's hooks: python-socketio publishes through `publish` (`_publish`),
    delivers this host's share through RedisHooks (`_handle_emit`), and reads other
    instances' messages from `listen` (`_listen`); the manager is started with the hub."""
    published: list[dict[str, Any]] = []
    heard: list[Any] = []
    shares: list[dict[str, Any]] = []
    publish, listen = RedisSync.publish, RedisSync.listen
    handle_emit = internals.RedisHooks._handle_emit

    async def publishing(self: RedisSync, data: dict[str, Any]) -> None:
        published.append(data)
        await publish(self, data)

    def listening(self: RedisSync) -> AsyncIterator[Any]:
        async def counted() -> AsyncIterator[Any]:
            async for message in listen(self):
                heard.append(message)
                yield message

        return counted()

    async def sharing(self: RedisSync, message: dict[str, Any]) -> None:
        shares.append(message)
        await handle_emit(self, message)

    monkeypatch.setattr(RedisSync, "publish", publishing)
    monkeypatch.setattr(RedisSync, "listen", listening)
    monkeypatch.setattr(internals.RedisHooks, "_handle_emit", sharing)
    redis = RedisProcess(logs).start()
    try:
        poster, watcher = await seed.user("poster"), await seed.user("watcher")
        incident = await seed.incident({poster: "contributor", watcher: "viewer"})
        async with (
            serving(database_url, redis_url=redis.url) as (url, instance),
            connected(url, poster.token, watcher.token) as (p, w),
        ):
            assert instance.sio.manager is instance.sync and instance.sio.manager_initialized
            sync = instance.sync
            assert sync is not None
            await until(lambda: sync.state == "ok", "the Redis sync to be ok")
            await p.join(incident)
            await w.join(incident)
            live: list[dict[str, Any]] = []
            w.on_event = live.append
            await p.request("feed.post", post(incident))
            await until(lambda: bool(live), "the watcher to get the event")
            assert any(m["method"] == "emit" and m["event"] == "incident.event" for m in shares)
            assert any(d["method"] == "emit" and d["event"] == "incident.event" for d in published)

            # Another instance's emit (an operator command's write-only manager) comes in
            # through `listen` and reaches the watcher through RedisHooks' share.
            probes: list[Any] = []
            w.sio.on("internals.probe", probes.append)
            other = RedisSync(redis.url, write_only=True)
            try:
                await other.emit("internals.probe", {"n": 1}, room=user_room(watcher.id))
            finally:
                await other.close()
            await until(lambda: bool(probes), "the probe from the other manager")
            assert probes == [{"n": 1}]
            assert any(isinstance(m, dict) and m.get("event") == "internals.probe" for m in heard)
    finally:
        redis.stop()


# the binary check -----------------------------------------------------------------------------


def test_packets_are_typed_and_encoded_as_the_library_does() -> None:
    """JsonPackets encodes a packet's data once with orjson, for the binary check and the
    text: for JSON data, bytes at any depth and data orjson refuses for another reason (a key
    that is not a string), each packet gets the library's type and the library's text."""
    from socketio import packet as sio_packet

    from hub.instance import _OrjsonPackets
    from hub.realtime.internals import JsonPackets

    class LibraryPackets(sio_packet.Packet):  # type: ignore[misc]
        json = _OrjsonPackets

    cases: list[Any] = [
        None,
        {"ok": True, "presence": {"online": [{"user_id": "u", "name": "N"}] * 1000}},
        ["incident.event", {"seq": 3, "data": {"text": "é", "at": [1.5, None]}}],
        b"raw",
        ["x", {"deep": [{"deeper": bytearray(b"1")}]}],
        {1: "a key that is not a string"},
        ["x", {1: b"bytes under a key that is not a string"}],
    ]

    def encoded(packet: Any) -> Any:
        try:
            return packet.encode()
        except TypeError as error:  # orjson refuses a key that is not a string
            return TypeError, str(error)

    JsonPackets.json = _OrjsonPackets
    for data in cases:
        for kind in (sio_packet.EVENT, sio_packet.ACK):
            for namespace, id_ in (("/", None), ("/", 7), ("/other", 12)):
                ours = JsonPackets(kind, data=data, namespace=namespace, id=id_)
                theirs = LibraryPackets(kind, data=data, namespace=namespace, id=id_)
                assert ours.packet_type == theirs.packet_type, data
                assert encoded(ours) == encoded(theirs), data
    assert JsonPackets(sio_packet.EVENT, data=["x", b"1"]).packet_type == sio_packet.BINARY_EVENT
    assert JsonPackets(sio_packet.ACK, data=[{"ok": True}], id=1).encode() == '31[{"ok":true}]'
    decoded = JsonPackets(encoded_packet='2["incident.join",{"incident_id":"i"}]')
    assert decoded.data == ["incident.join", {"incident_id": "i"}]


def test_the_hub_server_checks_packets_with_orjson(tmp_path: Path) -> None:
    """The server is made with JsonPackets as its packet class (hub/instance.py)."""
    from hub.realtime.internals import JsonPackets

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    instance = Instance(Settings(environment="test", database_url=url))
    assert instance.sio.packet_class is JsonPackets
