"""Local fan-out: encode an event once and put the same Engine.IO packet on every recipient's
queue, without an asyncio task per recipient.

python-socketio's AsyncManager.emit already encodes once, but then creates one task per
recipient (each awaiting `_send_eio_packet`) and waits for them all: for a room of 1,000 that
is 1,000 tasks, their scheduling and the `asyncio.wait` bookkeeping on every emit, which was
most of the hub's CPU per delivery (docs/performance.md). Putting on an unbounded
`asyncio.Queue` never blocks, so the same work can be done synchronously, in order.

`FastDelivery` is a mixin so that both managers can use it:

- `HubManager(FastDelivery, AsyncManager)` for one instance (its `emit`);
- a pub/sub manager (`class RedisSync(FastDelivery, AsyncRedisManager)`) gets the fast path
  through `_handle_emit`, which is where python-socketio delivers to this host's sockets, both
  for its own emits and for those received from other instances; publishing is unchanged.

Emits with an ack callback (a unique packet per recipient) and binary payloads take
python-socketio's own path, unchanged.

The other per-recipient task was in Engine.IO's writer: each wake-up of each socket's writer
went through `asyncio.wait_for`, which wraps the `queue.get()` in a new task on Python 3.11.
`HubEngineIO` gives its websocket writers a `poll` without it (see FastPollSocket).

What was left per recipient was the writer itself: a wake-up of its task, then for each message
engineio's `ws.send`, uvicorn's ASGI `send`, websockets' framing and three copies of the
payload before the one `transport.write`. A websocket frame from a server is not masked, so
the same bytes are right for every recipient: the frame is built once per emit and written
straight to each idle socket's transport (`write_direct`), Node's model. Only when nothing can
overtake it: the socket's writer is waiting on an empty queue (so nothing is queued or being
sent), its transport is writable (a client that stopped reading pauses it, and then packets
queue and `drop_slow` applies as before), and no extension (permessage-deflate) is in use.
Anything else takes the queue, as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import engineio
import socketio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet as sio_packet
from websockets.protocol import State

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    DIRECT_PROTOCOLS: tuple[type, ...] = (WebSocketsSansIOProtocol,)
except ImportError:  # another server or an older uvicorn: every packet takes the queue
    DIRECT_PROTOCOLS = ()

from hub.realtime.replay import RecentEvents

log = logging.getLogger(__name__)

# closes of ping-timed-out sockets under way (tasks, referenced until done)
_closing: set[asyncio.Task[None]] = set()


def put_packet(server: Any, eio_sid: str, pkt: eio_packet.Packet) -> None:
    """Queue one Engine.IO packet for a client without awaiting.

    Same outcome as engineio's `AsyncSocket.send`: nothing for a closed socket, a socket whose
    client stopped answering pings is closed (that needs a coroutine, so it is scheduled), and
    a client too far behind is cut off by the server's `drop_slow` when it has one."""
    try:
        socket = server.eio._get_socket(eio_sid)
    except KeyError:
        return
    if socket.closed:
        return
    last_ping = socket.last_ping
    if last_ping and time.time() - last_ping > server.eio.ping_timeout:
        # engineio's send closes it; the loop holds tasks weakly, so keep a reference
        task = asyncio.get_running_loop().create_task(socket.send(pkt))
        _closing.add(task)
        task.add_done_callback(_closing.discard)
        return
    drop_slow = getattr(server, "drop_slow", None)
    if drop_slow is not None and drop_slow(eio_sid, socket):
        return
    if type(socket) is FastPollSocket and socket.write_direct(pkt):
        return
    socket.queue.put_nowait(pkt)


def text_frame(pkt: eio_packet.Packet) -> bytes:
    """The websocket frame of a text packet as a server sends it (FIN, unmasked), built once
    per packet and kept on it for every recipient."""
    frame: bytes | None = getattr(pkt, "hub_frame", None)
    if frame is None:
        payload = pkt.encode().encode()  # type: ignore[union-attr]
        size = len(payload)
        if size < 126:
            header = bytes((0x81, size))
        elif size < 65_536:
            header = bytes((0x81, 126)) + size.to_bytes(2, "big")
        else:
            header = bytes((0x81, 127)) + size.to_bytes(8, "big")
        frame = header + payload
        pkt.hub_frame = frame  # type: ignore[attr-defined]
    return frame


class FastDelivery:
    """Mixin for an AsyncManager (or a subclass): fast delivery to this host's sockets."""

    server: Any
    rooms: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every `incident.event` delivered here, for `since` replays (hub/realtime/replay.py).
        self.recent_events = RecentEvents()

    async def deliver_local(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
    ) -> bool:
        """Deliver an event to this host's participants of `room`; False when the payload
        needs python-socketio's own path (binary attachments)."""
        namespace = namespace or "/"
        if namespace not in self.rooms:
            return True
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        if isinstance(encoded, list):  # binary attachments: several packets per recipient
            return False
        if (
            event == "incident.event"
            and isinstance(data, dict)
            and room == f"incident:{data.get('incident_id')}"
        ):
            # Recorded in the same synchronous step as the delivery below (no await between):
            # an event is in the ring exactly when the room's sockets have it. One not
            # recorded (no socket here yet, binary) is a hole: its replays read the database.
            self.recent_events.add(data, len(encoded))
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        pkt.encode()  # cached on the packet: every recipient's writer reuses the same string
        skip = skip_sid if isinstance(skip_sid, list | set | tuple) else (skip_sid,)
        server = self.server
        get_participants = self.get_participants  # type: ignore[attr-defined]
        for sid, eio_sid in get_participants(namespace, room):
            if sid not in skip:
                put_packet(server, eio_sid, pkt)
        return True

    def local_only(self, options: dict[str, Any]) -> bool:
        """Whether an emit (its keyword options) goes to this host's sockets alone."""
        raise NotImplementedError

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        if (
            callback is None
            and self.local_only(kwargs)
            and await self.deliver_local(event, data, namespace, room, skip_sid)
        ):
            # Through deliver_local, so that the replay ring sees every `incident.event`
            # delivered here (hub/realtime/replay.py).
            return
        await super().emit(  # type: ignore[misc]
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
        )

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """Pub/sub managers: this host's share of an emit (ours or another instance's)."""
        callback = message.get("callback")
        if message.get("binary") or (callback is not None and len(callback) == 3):
            await super()._handle_emit(message)  # type: ignore[misc]
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


class HubManager(FastDelivery, socketio.AsyncManager):
    """The client manager of a single hub instance (no Redis): every emit is this host's."""

    def local_only(self, options: dict[str, Any]) -> bool:
        return True


class FastPollSocket(AsyncSocket):
    """engineio's AsyncSocket whose websocket writer waits for packets without a new task (or
    timer) per wake-up.

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
        protocol = getattr(getattr(ws, "asgi_send", None), "__self__", None)
        # uvicorn's protocol internals, checked once: another version keeps the queue
        if isinstance(protocol, DIRECT_PROTOCOLS) and all(
            hasattr(protocol, name)
            for name in ("writable", "disconnected", "close_sent", "conn", "transport")
        ):
            self.direct = protocol
        try:
            return await super()._websocket_handler(ws)
        finally:
            self.direct = None

    def write_direct(self, pkt: eio_packet.Packet) -> bool:
        """Write a text packet's frame straight to the transport; False when it must queue."""
        protocol = self.direct
        if (
            protocol is None
            or not self.idle
            or self.closed
            or self.upgrading
            or not self.queue.empty()
            or pkt.binary
            or not protocol.writable.is_set()
            or protocol.disconnected
            or protocol.close_sent
            or protocol.conn.state is not State.OPEN
            or protocol.conn.extensions
            or protocol.transport.is_closing()
        ):
            return False
        protocol.transport.write(text_frame(pkt))
        return True

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
    """engineio creates its sockets inline; this is where one can choose their class."""

    def __setitem__(self, sid: str, socket: Any) -> None:
        if type(socket) is AsyncSocket:
            socket.__class__ = FastPollSocket
        super().__setitem__(sid, socket)


class HubEngineIO(engineio.AsyncServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sockets = _Sockets()
