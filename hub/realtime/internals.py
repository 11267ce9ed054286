"""Every use of a library's private API, in one module, each part guarded by the versions it
was written against.

The hub's fan-out, its rules for hostile packets and its Redis sync rely on parts of
python-socketio, python-engineio, uvicorn and websockets that are not their public API: private
methods it overrides or calls, attributes it reads, a class it swaps in. They are all here, each
with the versions it was written against; hub/realtime/server.py, fanout.py and
redis_manager.py reach them only through this module.

`check()`, called once by create_app, verifies the installed versions, that each private method
used here still exists with the parameters it was written for, that each attribute read here
exists on a freshly made object, and that the library still calls the hooks replaced here; it
refuses to start with a message that says what does not fit. The one part with a stock
fallback, the direct frame write (uvicorn's protocol, websockets' state), is turned off instead
when its libraries do not fit: every packet then takes its socket's queue, as under any other
server. tests/test_internals.py covers the guard and checks, live, that each patched path is
taken, so that an upgrade that breaks one fails a test instead of degrading in silence.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import logging
import re
import time
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass
from typing import Any

import engineio
import orjson
import socketio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers import asgi as eio_asgi
from engineio.async_socket import AsyncSocket
from socketio import base_server
from socketio import packet as sio_packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from hub.realtime.lightweight import LightEvent, LightQueue

log = logging.getLogger(__name__)


# versions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A library and the versions this module was written against: from `low`, below `below`."""

    distribution: str
    low: tuple[int, ...]
    below: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.distribution}>={_dotted(self.low)},<{_dotted(self.below)}"


SOCKETIO = Written("python-socketio", (5, 16), (6,))
ENGINEIO = Written("python-engineio", (4, 12), (5,))
# The direct frame write only (FastPollSocket): outside these it is off, nothing else changes.
UVICORN = Written("uvicorn", (0, 54), (1,))
WEBSOCKETS = Written("websockets", (13,), (18,))


def installed(distribution: str) -> str | None:
    """The installed version of a distribution, None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def version_problem(library: Written) -> str | None:
    version = installed(library.distribution)
    if version is None:
        return f"{library.distribution} is not installed (written against {library})"
    if not library.low <= _numbers(version) < library.below:
        return f"{library.distribution} {version} is installed, written against {library}"
    return None


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def _dotted(numbers: tuple[int, ...]) -> str:
    return ".".join(map(str, numbers))


# what the guard verifies ----------------------------------------------------------------------


@dataclass(frozen=True)
class Hook:
    """A private method used here: where it is, its parameters, and what kind of callable."""

    owner: type
    name: str
    parameters: tuple[str, ...]
    kind: str = "coroutine"  # "coroutine", "function" or "async generator"

    def problem(self) -> str | None:
        where = f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"
        method = getattr(self.owner, self.name, None)
        if method is None:
            return f"{where} is missing"
        try:
            parameters = tuple(inspect.signature(method).parameters)
        except (TypeError, ValueError):
            return f"{where} has no signature to check"
        if parameters != self.parameters:
            found, written = ", ".join(parameters), ", ".join(self.parameters)
            return f"{where} takes ({found}), written for ({written})"
        kind = (
            "async generator"
            if inspect.isasyncgenfunction(method)
            else "coroutine"
            if inspect.iscoroutinefunction(method)
            else "function"
        )
        if kind != self.kind:
            return f"{where} is now a {kind}, written for a {self.kind}".replace(" a a", " an a")
        return None


@dataclass(frozen=True)
class Calls:
    """A library method that must still do what a hook here relies on: its source mentions
    each of `needles` (how it calls the hook, or where it makes what is swapped)."""

    owner: type
    name: str
    needles: tuple[str, ...]

    def problem(self) -> str | None:
        where = f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"
        try:
            source = inspect.getsource(getattr(self.owner, self.name))
        except (AttributeError, OSError, TypeError):
            return f"{where}: its source cannot be read to check it"
        missing = [needle for needle in self.needles if needle not in source]
        return f"{where} no longer has {', '.join(missing)}" if missing else None


# python-socketio 5.16-5.18 and python-engineio 4.12-4.15: the private methods this module
# overrides or calls, and the places that call the overrides.
HOOKS: tuple[Hook, ...] = (
    Hook(socketio.AsyncServer, "_engineio_server_class", ("self",), "function"),
    Hook(socketio.AsyncServer, "_send_eio_packet", ("self", "eio_sid", "eio_pkt")),
    Hook(socketio.AsyncServer, "_handle_eio_message", ("self", "eio_sid", "data")),
    Hook(socketio.AsyncServer, "_handle_eio_connect", ("self", "eio_sid", "environ")),
    Hook(socketio.AsyncServer, "_handle_event", ("self", "eio_sid", "namespace", "id", "data")),
    Hook(socketio.AsyncServer, "_handle_ack", ("self", "eio_sid", "namespace", "id", "data")),
    Hook(socketio.AsyncServer, "_handle_connect", ("self", "eio_sid", "namespace", "data")),
    Hook(socketio.AsyncServer, "_handle_disconnect", ("self", "eio_sid", "namespace", "reason")),
    Hook(socketio.AsyncServer, "_send_packet", ("self", "eio_sid", "pkt")),
    Hook(socketio.AsyncRedisManager, "_handle_emit", ("self", "message")),
    Hook(socketio.AsyncRedisManager, "_publish", ("self", "data")),
    Hook(socketio.AsyncRedisManager, "_listen", ("self",), "async generator"),
    Hook(socketio.AsyncRedisManager, "_thread", ("self",)),
    Hook(
        sio_packet.Packet,
        "__init__",
        ("self", "packet_type", "data", "namespace", "id", "binary", "encoded_packet"),
        "function",
    ),
    Hook(sio_packet.Packet, "encode", ("self",), "function"),
    Hook(engineio.AsyncServer, "_get_socket", ("self", "sid"), "function"),
    Hook(engineio.AsyncServer, "send_packet", ("self", "sid", "pkt")),
    Hook(AsyncSocket, "poll", ("self",)),
    Hook(AsyncSocket, "_websocket_handler", ("self", "ws")),
    Hook(AsyncSocket, "send", ("self", "pkt")),
    Hook(AsyncSocket, "close", ("self", "wait", "abort", "reason")),
    Hook(engineio.AsyncServer, "create_queue", ("self", "args", "kwargs"), "function"),
)
CALLS: tuple[Calls, ...] = (
    Calls(
        base_server.BaseServer,
        "__init__",
        ("self._engineio_server_class()", "self.eio.on('message', self._handle_eio_message)"),
    ),
    Calls(socketio.AsyncManager, "emit", ("self.server._send_eio_packet(",)),
    Calls(AsyncPubSubManager, "emit", ("self._handle_emit(", "self._publish(")),
    Calls(AsyncPubSubManager, "initialize", ("self.thread = ", "self._thread")),
    Calls(AsyncPubSubManager, "_thread", ("self._listen()", "self._handle_emit(")),
    Calls(engineio.AsyncServer, "_handle_connect", ("self.sockets[sid] = ",)),
    Calls(AsyncSocket, "_websocket_handler", ("await self.poll()",)),
    Calls(AsyncSocket, "send", ("await self.check_ping_timeout()", "await self.queue.put(pkt)")),
)


def _attribute_problems() -> list[str]:
    """The attributes read here, on objects made as the hub makes them (nothing starts)."""
    sio = socketio.AsyncServer(async_mode="asgi")
    socket = AsyncSocket(sio.eio, "probe")
    redis = socketio.AsyncRedisManager("redis://127.0.0.1:1/0", write_only=True)
    wanted: list[tuple[str, object, tuple[str, ...]]] = [
        ("socketio.AsyncServer()", sio, ("packet_class", "manager_initialized", "eio", "manager")),
        ("socketio.AsyncServer().manager", sio.manager, ("rooms",)),
        ("engineio.AsyncServer()", sio.eio, ("sockets", "ping_timeout")),
        ("engineio AsyncSocket", socket, ("queue", "closed", "last_ping", "upgraded", "upgrading")),
        ("socketio.AsyncRedisManager()", redis, ("host_id", "json")),
    ]
    problems = [
        f"{what} has no {name!r}"
        for what, made, names in wanted
        for name in names
        if not hasattr(made, name)
    ]
    if hasattr(sio.eio, "sockets") and type(sio.eio.sockets) is not dict:
        problems.append("engineio.AsyncServer().sockets is no longer a dict")
    return problems


def sets_attribute(source: str, name: str) -> bool:
    """Whether `source` assigns `self.<name>`."""
    return re.search(rf"self\.{name}\b[^=\n]*=[^=]", source) is not None


def calls_beyond(source: str, attribute: str, replacement: type) -> list[str]:
    """The methods `source` calls on an `<object>.<attribute>` that `replacement` (the hub's
    class swapped in for it, hub/realtime/lightweight.py) does not have."""
    known = {name for name in dir(replacement) if not name.startswith("_")}
    return sorted(set(re.findall(rf"\.{attribute}\.(\w+)", source)) - known)


def _queue_problems() -> list[str]:
    """python-engineio 4.12-4.15's sockets' queue is a LightQueue (HubEngineIO.create_queue):
    what the library calls on it must be there."""
    problems = []
    for owner in (AsyncSocket, engineio.AsyncServer):
        where = f"{owner.__module__}.{owner.__qualname__}"
        try:
            source = inspect.getsource(owner)
        except (OSError, TypeError):
            problems.append(f"{where}: no source to check")
            continue
        unknown = calls_beyond(source, "queue", LightQueue)
        if unknown:
            problems.append(f"{where} calls queue.{', '.join(unknown)}")
    return problems


def hook_problems() -> list[str]:
    """What does not fit among the private parts of python-socketio and python-engineio."""
    found = [hook.problem() for hook in HOOKS] + [calls.problem() for calls in CALLS]
    problems = [problem for problem in found if problem is not None]
    return problems + _attribute_problems() + _queue_problems()


# uvicorn 0.54 (websockets-sansio) and websockets 13-17: what the direct frame write reads.
PROTOCOL_ATTRIBUTES = ("writable", "disconnected", "close_sent", "conn", "transport")

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # another uvicorn: every packet takes the queue
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]
try:
    from websockets.protocol import State
    from websockets.server import ServerProtocol
except ImportError:  # another websockets: every packet takes the queue
    State = None  # type: ignore[assignment,misc]
    ServerProtocol = None  # type: ignore[assignment,misc]


def direct_write_problems() -> list[str]:
    """Why frames may not be written straight to uvicorn's transport (empty: they may)."""
    problems = [p for p in (version_problem(UVICORN), version_problem(WEBSOCKETS)) if p]
    if WebSocketsSansIOProtocol is None:
        return [*problems, "uvicorn has no websockets-sansio protocol"]
    if State is None or ServerProtocol is None:
        return [*problems, "websockets has no sans-I/O ServerProtocol or State"]
    try:
        source = inspect.getsource(WebSocketsSansIOProtocol.__init__)
    except (OSError, TypeError):
        return [*problems, "uvicorn's websockets-sansio protocol has no source to check"]
    problems += [
        f"uvicorn's WebSocketsSansIOProtocol.__init__ no longer sets {name!r}"
        for name in PROTOCOL_ATTRIBUTES
        if not sets_attribute(source, name)
    ]
    problem = Calls(WebSocketsSansIOProtocol, "run_asgi", ("self.send)",)).problem()
    if problem is not None:  # the ASGI `send` is the protocol's bound method
        problems.append(problem)
    if not inspect.iscoroutinefunction(getattr(WebSocketsSansIOProtocol, "send", None)):
        problems.append("uvicorn's WebSocketsSansIOProtocol has no coroutine `send`")
    conn = ServerProtocol()
    problems += [
        f"websockets' ServerProtocol has no {name!r}"
        for name in ("state", "extensions")
        if not hasattr(conn, name)
    ]
    if not hasattr(eio_asgi.WebSocket(None, None), "asgi_send"):
        problems.append("engineio's ASGI WebSocket has no 'asgi_send'")
    return problems


def direct_protocols(problems: list[str]) -> tuple[type, ...]:
    """The uvicorn protocols frames may be written to, given `direct_write_problems()`."""
    return () if problems else (WebSocketsSansIOProtocol,)


# Decided once, at import, from the installed libraries (check() reports it).
DIRECT_OFF: tuple[str, ...] = tuple(direct_write_problems())
DIRECT_PROTOCOLS: tuple[type, ...] = direct_protocols(list(DIRECT_OFF))


# uvicorn 0.54-0.55 (websockets-sansio) and websockets 13-17: what a websocket keeps while it
# idles. The protocol's own queue and `writable` event become the hub's lighter ones
# (hub/realtime/lightweight.py), which must have every method the protocol calls on them;
# once the connection is accepted, the handshake's headers are emptied: websockets' Request
# stays for the connection's life (its parser's frame holds it) and uvicorn keeps its
# Response, but nothing reads either's headers after the 101 is written.
LEAN_ATTRIBUTES: dict[str, type] = {"queue": LightQueue, "writable": LightEvent}


def lean_problems() -> list[str]:
    """Why uvicorn's protocol may not be the lean one (empty: it may)."""
    problems = [p for p in (version_problem(UVICORN), version_problem(WEBSOCKETS)) if p]
    if WebSocketsSansIOProtocol is None:
        return [*problems, "uvicorn has no websockets-sansio protocol"]
    try:
        source = inspect.getsource(WebSocketsSansIOProtocol)
    except (OSError, TypeError):
        return [*problems, "uvicorn's websockets-sansio protocol has no source to check"]
    for name, replacement in LEAN_ATTRIBUTES.items():
        if not sets_attribute(source, name):
            problems.append(f"uvicorn's WebSocketsSansIOProtocol no longer sets {name!r}")
        unknown = calls_beyond(source, name, replacement)
        if unknown:
            problems.append(f"uvicorn's WebSocketsSansIOProtocol calls {name}.{', '.join(unknown)}")
    for needle in ("self.request = event", "self.response = self.conn.accept(event)"):
        if needle not in source:
            problems.append(f"uvicorn's WebSocketsSansIOProtocol no longer has {needle!r}")
    if not hasattr(ServerProtocol, "accept"):
        problems.append("websockets' ServerProtocol has no 'accept'")
    return problems


def lean_protocol(problems: list[str]) -> type[asyncio.Protocol] | None:
    """The lean protocol class, given `lean_problems()` (None when there are any)."""
    if problems:
        return None

    class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
        """uvicorn's sans-I/O websocket protocol, less of it kept per connection."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # not asyncio's classes, but every method the protocol calls (LEAN_ATTRIBUTES)
            self.queue = LightQueue()  # type: ignore[assignment]
            self.writable = LightEvent(is_set=True)  # type: ignore[assignment]

        async def send(self, message: Any) -> None:
            await super().send(message)
            if message["type"] == "websocket.accept" and self.handshake_complete:
                self.request.headers.clear()
                self.response.headers.clear()

    return LeanWebSocketProtocol


# Decided once, at import: uvicorn's protocol with less kept per connection, or None (the stock
# websockets-sansio protocol is served instead; check() reports why).
LEAN_OFF: tuple[str, ...] = tuple(lean_problems())
LEAN_PROTOCOL: type[asyncio.Protocol] | None = lean_protocol(list(LEAN_OFF))


class IncompatibleLibrary(RuntimeError):
    """An installed library is not what hub/realtime/internals.py was written against."""


def check() -> list[str]:
    """Refuse to start (IncompatibleLibrary, saying what does not fit) when python-socketio or
    python-engineio is not what this module was written against; otherwise return, and log,
    why the direct frame write is off (an empty list when it is on)."""
    problems = [p for p in (version_problem(SOCKETIO), version_problem(ENGINEIO)) if p]
    problems += hook_problems()
    if problems:
        raise IncompatibleLibrary(
            "hub/realtime/internals.py does not fit the installed Socket.IO libraries: "
            + "; ".join(problems)
            + f". Install {SOCKETIO} and {ENGINEIO}, or adapt hub/realtime/internals.py "
            "(tests/test_internals.py checks what it relies on)."
        )
    if DIRECT_OFF:
        log.warning(
            "direct websocket frame writes are off (%s): every packet takes its socket's queue",
            "; ".join(DIRECT_OFF),
        )
    if LEAN_OFF:
        log.warning(
            "websockets are served by uvicorn's stock protocol (%s): more is kept per socket",
            "; ".join(LEAN_OFF),
        )
    return list(DIRECT_OFF)


# the socket server ----------------------------------------------------------------------------


# What a socket's environ keeps after its Socket.IO CONNECT: what the hub's connect handler
# reads (the session cookie, for a later CONNECT on the same Engine.IO socket) and the address.
KEPT_ENVIRON = frozenset({"HTTP_COOKIE", "REMOTE_ADDR"})


class ServerHooks(socketio.AsyncServer):  # type: ignore[misc]  # python-socketio ships no type information
    """python-socketio 5.16-5.18's AsyncServer, its private hooks filled in for HubServer
    (hub/realtime/server.py), which decides what they do through the methods it implements:
    `drop_slow`, `handle_message` (and `max_queue`, `fast_fanout`)."""

    fast_fanout: bool
    max_queue: int
    manager_initialized: bool  # python-socketio's

    def drop_slow(self, eio_sid: str, queued: int) -> None:
        """A client is `queued` packets behind, at least `max_queue`: its packet is not sent."""
        raise NotImplementedError

    async def handle_message(self, eio_sid: str, data: str | bytes) -> None:
        """An Engine.IO message from a client, to decode (`decode`) and hand on (`dispatch`)."""
        raise NotImplementedError

    # python-socketio calls these ------------------------------------------------------------

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        """BaseServer.__init__ makes its Engine.IO server from this class."""
        return HubEngineIO if self.fast_fanout else engineio.AsyncServer

    async def _send_eio_packet(self, eio_sid: str, eio_pkt: eio_packet.Packet) -> None:
        """How AsyncManager.emit sends each recipient its packet (every emit of the stock
        fan-out; acks and binary emits of the fast one): not to a client too far behind."""
        try:
            socket = self.eio._get_socket(eio_sid)
        except KeyError:
            return
        queued = socket.queue.qsize()
        if queued >= self.max_queue:
            self.drop_slow(eio_sid, queued)
            return
        await self.eio.send_packet(eio_sid, eio_pkt)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        """python-socketio keeps each socket's handshake environ for the socket's life. Its
        `wsgi.input` is python-engineio's body reader, an instance of a class that
        `translate_request` defines anew for every request: ~2.8 KB a socket (tracemalloc,
        2,000 idle sockets). A handshake has no body to read (a long-polling POST gets an
        environ of its own), so it is dropped here, at once; the rest of what is not needed
        goes after the Socket.IO CONNECT (`_trim_environ`)."""
        environ.pop("wsgi.input", None)
        await super()._handle_eio_connect(eio_sid, environ)

    def _trim_environ(self, eio_sid: str) -> None:
        """After the Socket.IO CONNECT, the socket's kept environ down to KEPT_ENVIRON. It is
        the handshake request's own dict, which Engine.IO's request handler also holds for a
        websocket's life, so it is emptied in place (its table freed with it): by now that
        handler has read what it reads (the ASGI `receive` and `send`, the upgrade headers),
        and its one later read, the response's encoding, is for long-polling answers, which
        have environs of their own. The ASGI scope's header list goes too: the environ was
        made from it and uvicorn keeps the scope (for its log lines, which read no header)."""
        environ = self.environ.get(eio_sid)
        if environ is None or environ.keys() <= KEPT_ENVIRON:
            return
        kept = {key: environ[key] for key in KEPT_ENVIRON if key in environ}
        scope = environ.get("asgi.scope")
        if isinstance(scope, dict) and scope.get("type") == "websocket":
            scope["headers"] = []
        environ.clear()
        self.environ[eio_sid] = kept

    async def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        """Every Engine.IO message, which python-socketio would decode and dispatch itself
        (binary attachments included): HubServer.handle_message decides instead."""
        await self.handle_message(eio_sid, data)

    # what HubServer calls -------------------------------------------------------------------

    def decode(self, data: str) -> Any:
        """A Socket.IO packet from its text, with the server's JSON module; raises whatever the
        decoder raises."""
        return self.packet_class(encoded_packet=data)

    async def dispatch(self, eio_sid: str, pkt: Any) -> None:
        """Hand a decoded EVENT, ACK, CONNECT or DISCONNECT packet on, as python-socketio's own
        `_handle_eio_message` does."""
        kind = pkt.packet_type
        if kind == sio_packet.EVENT:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind == sio_packet.ACK:
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind == sio_packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
            self._trim_environ(eio_sid)
        elif kind == sio_packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        else:
            raise ValueError(f"not a packet to dispatch: type {kind!r}")

    async def send_ack(self, eio_sid: str, ack_id: int, data: list[Any]) -> None:
        await self._send_packet(
            eio_sid, self.packet_class(sio_packet.ACK, namespace="/", data=data, id=ack_id)
        )

    async def abort(self, eio_sid: str) -> None:
        """Close a client's connection at once, without waiting for its queue to drain."""
        try:
            socket = self.eio._get_socket(eio_sid)
        except KeyError:
            return
        await socket.close(wait=False, abort=True)

    def encode_event(self, namespace: str, event: str, args: list[Any]) -> str | list[Any]:
        """An event's Socket.IO packet as python-socketio encodes it (a list: binary
        attachments, several Engine.IO packets)."""
        encoded: str | list[Any] = self.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        return encoded

    def start_manager(self) -> None:
        """python-socketio initializes its client manager at the first client's connect; this
        does it now (the Redis sync listens from the start), once."""
        if not self.manager_initialized:
            self.manager_initialized = True
            self.manager.initialize()

    def in_room(self, sid: str, room: str, namespace: str = "/") -> bool:
        """Whether a socket of this instance is in `room`: one look-up in the manager's rooms
        (python-socketio's `rooms(sid)` walks every room of the namespace, and with two rooms
        per socket, its user's and its token's, that made each join cost O(sockets))."""
        return sid in self.manager.rooms.get(namespace, {}).get(room, ())

    def rooms_here(self, namespace: str = "/") -> list[Any]:
        """The rooms of `namespace` with a socket of this instance in them."""
        return list(self.manager.rooms.get(namespace, {}))


class JsonPackets(sio_packet.Packet):  # type: ignore[misc]  # python-socketio ships no type information
    """python-socketio 5.16-5.18's Packet, given to the server as its `serializer`, which
    encodes a packet's data once with orjson, for both uses the library makes of it: the
    binary check (the library walks the data in Python, one call per value, and a join's
    answer carries up to a page of 1,000 online users: 15 % of the event loop while 10,000
    sockets joined, py-spy) and the packet's text. orjson refuses bytes and bytearray, so data
    it encodes has none; data it refuses (bytes, a key that is not a string) is left to the
    library, its walk and its encoding. The text is what the library's own encoding with the
    server's JSON module (orjson, hub/instance.py) makes."""

    def __init__(
        self,
        packet_type: int = sio_packet.EVENT,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,  # the library's name
        binary: bool | None = None,
        encoded_packet: str | None = None,
    ) -> None:
        encoded: bytes | None = None
        if binary is None and data is not None and encoded_packet is None:
            try:
                encoded = orjson.dumps(data)
            except TypeError:
                pass
            else:
                binary = False
        super().__init__(packet_type, data, namespace, id, binary, encoded_packet)
        self.hub_data = encoded

    def encode(self) -> Any:
        data = self.hub_data
        if data is None or self.packet_type in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
            return super().encode()
        text = str(self.packet_type)
        if self.namespace is not None and self.namespace != "/":
            text += self.namespace + ","
        if self.id is not None:
            text += str(self.id)
        return text + data.decode()


# delivery to this instance's sockets ----------------------------------------------------------

# closes of ping-timed-out sockets under way (tasks, referenced until done)
_closing: set[asyncio.Task[None]] = set()


def deliver(
    server: ServerHooks,
    pkt: eio_packet.Packet,
    participants: Iterable[tuple[str, str]],
    skip: Collection[Any],
) -> None:
    """Queue one Engine.IO packet for each (sid, eio_sid) of `participants` but those in
    `skip`, synchronously, with engineio's `AsyncSocket.send`'s outcome for each: nothing for
    a closed socket; a socket whose client stopped answering pings is closed (that needs a
    coroutine, so it is scheduled); a client `max_queue` packets behind is left to the
    server's `drop_slow`; an idle websocket gets the frame written straight away
    (FastPollSocket.write_frame). The per-recipient loop of the fast fan-out: what it needs
    is bound once per packet, the frame made once. Written against python-engineio 4.12-4.15
    (its sockets' dict, queue, closed and last_ping)."""
    eio = server.eio
    sockets = eio.sockets
    ping_timeout = eio.ping_timeout
    max_queue = server.max_queue
    frame = None if pkt.binary else text_frame(pkt)
    now = time.time()
    for sid, eio_sid in participants:
        if sid in skip:
            continue
        socket = sockets.get(eio_sid)
        if socket is None:
            continue
        if socket.closed:
            sockets.pop(eio_sid, None)  # as engineio's _get_socket does
            continue
        last_ping = socket.last_ping
        if last_ping and now - last_ping > ping_timeout:
            # engineio's send closes it; the loop holds tasks weakly, so keep a reference
            task = asyncio.get_running_loop().create_task(socket.send(pkt))
            _closing.add(task)
            task.add_done_callback(_closing.discard)
            continue
        if frame is not None and type(socket) is FastPollSocket and socket.write_frame(frame):
            continue
        queue = socket.queue
        queued = queue.qsize()
        if queued >= max_queue:
            server.drop_slow(eio_sid, queued)
            continue
        queue.put_nowait(pkt)


def text_frame(pkt: eio_packet.Packet) -> bytes:
    """The websocket frame of a text packet as a server sends it (FIN, unmasked), built once
    per packet and kept on it for every recipient."""
    frame: bytes | None = getattr(pkt, "hub_frame", None)
    if frame is None:
        payload = pkt.encode().encode()
        size = len(payload)
        if size < 126:
            header = bytes((0x81, size))
        elif size < 65_536:
            header = bytes((0x81, 126)) + size.to_bytes(2, "big")
        else:
            header = bytes((0x81, 127)) + size.to_bytes(8, "big")
        frame = header + payload
        pkt.hub_frame = frame
    return frame


class FastPollSocket(AsyncSocket):  # type: ignore[misc]  # python-engineio ships no type information
    """python-engineio 4.12-4.15's AsyncSocket whose websocket writer waits for packets
    without a new task (or timer) per wake-up, and takes frames written straight to uvicorn's
    transport while it is idle.

    The stock `poll` wraps each wait in `asyncio.wait_for(queue.get(), ping_interval +
    ping_timeout)`. On a websocket that bound is redundant: the reader of the same connection
    already gives up after that long without a packet and then queues None, which ends the
    writer; a server-side close sends CLOSE through the queue. Long-polling keeps the stock
    `poll` (there the bound ends a GET request)."""

    # set while the websocket writer waits on an empty queue: nothing of this socket is queued
    # or being sent, so a frame written now is in order (see write_direct)
    idle = False
    # uvicorn's protocol of this socket's websocket, when frames may be written to it directly
    direct: Any = None

    async def _websocket_handler(self, ws: Any) -> Any:
        # engineio's ASGI WebSocket keeps uvicorn's `send`, a bound method of its protocol
        # (uvicorn 0.54, websockets-sansio); checked once per connection as well
        protocol = getattr(getattr(ws, "asgi_send", None), "__self__", None)
        if isinstance(protocol, DIRECT_PROTOCOLS) and all(
            hasattr(protocol, name) for name in PROTOCOL_ATTRIBUTES
        ):
            self.direct = protocol
        try:
            return await super()._websocket_handler(ws)
        finally:
            self.direct = None

    def write_direct(self, pkt: eio_packet.Packet) -> bool:
        """Write a text packet's frame straight to the transport; False when it must queue
        (a binary packet, or see write_frame)."""
        return not pkt.binary and self.write_frame(text_frame(pkt))

    def write_frame(self, frame: bytes) -> bool:
        """Write a text packet's frame straight to the transport; False when it must queue:
        unless the writer is idle, the transport writable (a client that stopped reading
        pauses it, and then packets queue and `drop_slow` applies), the connection open and
        without extensions (permessage-deflate), something could overtake the frame."""
        protocol = self.direct
        if (
            protocol is None
            or not self.idle
            or self.closed
            or self.upgrading
            or not self.queue.empty()
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or protocol.conn.state is not State.OPEN
            or protocol.conn.extensions
            or protocol.transport.is_closing()
        ):
            return False
        protocol.transport.write(frame)
        return True

    async def send(self, pkt: eio_packet.Packet) -> None:
        """AsyncSocket.send (a closed socket raises, one whose client stopped answering pings
        is closed), but an idle websocket gets the frame at once instead of through the queue
        and the writer task: every join's and connect's answer, every ack (the fan-out's
        packets take `deliver`, which does the same)."""
        if await self.check_ping_timeout() and not self.write_direct(pkt):
            await self.queue.put(pkt)

    async def poll(self) -> list[Any]:
        if not self.upgraded:
            return await super().poll()  # type: ignore[no-any-return]
        queue = self.queue
        try:
            if not queue.empty():
                first = queue.get_nowait()
            else:
                self.idle = True
                try:
                    first = await queue.get()
                finally:
                    self.idle = False
            queue.task_done()
        except asyncio.CancelledError:
            raise eio_exceptions.QueueEmpty() from None
        if first is None:
            return []
        packets = [first]
        while not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)  # the writer exits after sending these
                break
            packets.append(pkt)
        return packets


class _Sockets(dict[str, Any]):
    """python-engineio 4.12-4.15 makes its sockets inline (AsyncServer._handle_connect) and
    keeps them in `sockets`: this is where their class can be chosen."""

    def __setitem__(self, sid: str, socket: Any) -> None:
        if type(socket) is AsyncSocket:
            socket.__class__ = FastPollSocket
        super().__setitem__(sid, socket)


class HubEngineIO(engineio.AsyncServer):  # type: ignore[misc]  # python-engineio ships no type information
    """python-engineio 4.12-4.15's AsyncServer whose sockets are FastPollSockets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sockets = _Sockets()

    def create_queue(self, *args: Any, **kwargs: Any) -> LightQueue[Any]:
        """Each socket's queue (BaseSocket.__init__): the hub's lighter one, which has every
        method python-engineio calls on it (checked: _queue_problems)."""
        return LightQueue()


# the Redis manager ----------------------------------------------------------------------------


class RedisHooks(socketio.AsyncRedisManager):  # type: ignore[misc]  # python-socketio ships no type information
    """python-socketio 5.16-5.18's AsyncRedisManager, its private hooks handed to methods
    that hub/realtime/redis_manager.py's RedisSync implements: `publish` (its `_publish`),
    `listen` (its `_listen`), and, from FastDelivery (hub/realtime/fanout.py), `deliver_local`
    for this host's share of every emit (its `_handle_emit`). Its message format (the
    `method`, `host_id`, `event`, `data`, `binary`, `callback` ... of an emit) is the wire
    between instances, kept as it is."""

    async def publish(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def listen(self) -> AsyncIterator[Any]:
        raise NotImplementedError

    async def _publish(self, data: dict[str, Any]) -> None:
        await self.publish(data)

    def _listen(self) -> AsyncIterator[Any]:
        # `_thread` iterates over what this returns: the subclass's generator, unwrapped
        return self.listen()

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """This host's share of an emit (ours or another instance's): delivered by
        `deliver_local`, but for emits with an ack callback and binary ones, which take
        python-socketio's own path."""
        callback = message.get("callback")
        if message.get("binary") or (callback is not None and len(callback) == 3):
            await super()._handle_emit(message)
            return
        data = message["data"]
        if isinstance(data, list):
            data = data[0] if len(data) == 1 else tuple(data)
        await self.deliver_local(
            message["event"],
            data,
            message.get("namespace"),
            message.get("room"),
            message.get("skip_sid"),
        )

    @property
    def instance_id(self) -> str:
        """The id python-socketio puts in every message this manager publishes (`host_id`)."""
        host_id: str = self.host_id
        return host_id

    def dumps(self, data: Any) -> str:
        """A message as python-socketio encodes it: with the server's JSON module."""
        encoded: str = self.json.dumps(data)
        return encoded

    def loads(self, raw: str | bytes) -> Any:
        return self.json.loads(raw)

    def listener(self) -> asyncio.Future[Any] | None:
        """The task `initialize` started for python-socketio's listener (`_thread`), if any."""
        thread = getattr(self, "thread", None)
        return thread if isinstance(thread, asyncio.Future) else None
