"""Local fan-out: encode an event once and put the same Engine.IO packet on every recipient's
queue, without an asyncio task per recipient.

python-socketio's AsyncManager.emit already encodes once, but then creates one task per
recipient (each awaiting `_send_eio_packet`) and waits for them all: for a room of 1,000 that
is 1,000 tasks, their scheduling and the `asyncio.wait` bookkeeping on every emit, which was
most of the hub's CPU per delivery (docs/performance.md). Putting on an unbounded
`asyncio.Queue` never blocks, so the same work can be done synchronously, in order.

`FastDelivery` is a mixin so that both managers can use it:

- `HubManager(FastDelivery, AsyncManager)` for one instance (its `emit`);
- the Redis sync (`class RedisSync(FastDelivery, RedisHooks)`, hub/realtime/redis_manager.py)
  gets the fast path through python-socketio's `_handle_emit`, which is where it delivers to
  this host's sockets, both for its own emits and for those received from other instances
  (hub/realtime/internals.py's RedisHooks hands it to `deliver_local`); publishing is unchanged.

Emits with an ack callback (a unique packet per recipient) and binary payloads take
python-socketio's own path, unchanged.

The other per-recipient task was in Engine.IO's writer: each wake-up of each socket's writer
went through `asyncio.wait_for`, which wraps the `queue.get()` in a new task on Python 3.11.
`HubEngineIO` gives its websocket writers a `poll` without it (see FastPollSocket,
hub/realtime/internals.py).

What was left per recipient was the writer itself: a wake-up of its task, then for each message
engineio's `ws.send`, uvicorn's ASGI `send`, websockets' framing and three copies of the
payload before the one `transport.write`. A websocket frame from a server is not masked, so
the same bytes are right for every recipient: the frame is built once per emit and written
straight to each idle socket's transport (`write_direct`), Node's model. Only when nothing can
overtake it: the socket's writer is waiting on an empty queue (so nothing is queued or being
sent), its transport is writable (a client that stopped reading pauses it, and then packets
queue and `drop_slow` applies as before), and no extension (permessage-deflate) is in use.
Anything else takes the queue, as before.

The per-recipient loop, the sockets and the frame write touch python-engineio's and uvicorn's
internals, so they are in hub/realtime/internals.py (`deliver`, FastPollSocket), each guarded
by the versions it was written against; this module decides what is delivered where.
"""

from __future__ import annotations

from typing import Any

import socketio
from engineio import packet as eio_packet

from hub.realtime.internals import deliver
from hub.realtime.notify import incident_room
from hub.realtime.replay import RecentEvents
from hub.realtime.snapshots import SharedSnapshots


class FastDelivery:
    """Mixin for an AsyncManager (or a subclass): fast delivery to this host's sockets."""

    server: Any  # the HubServer (hub/realtime/server.py), set by python-socketio

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every `incident.event` delivered here, for `since` replays (hub/realtime/replay.py).
        self.recent_events = RecentEvents()
        # Join snapshots shared by joiners (hub/realtime/snapshots.py), made stale by every
        # `convoy.positions` delivered here: positions move without a seq.
        self.shared_snapshots = SharedSnapshots()

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
        if namespace not in self.get_namespaces():  # type: ignore[attr-defined]
            return True
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        server = self.server
        encoded = server.encode_event(namespace, event, args)
        if isinstance(encoded, list):  # binary attachments: several packets per recipient
            return False
        if (
            event == "incident.event"
            and isinstance(data, dict)
            and room == incident_room(str(data.get("incident_id")))
        ):
            # Recorded in the same synchronous step as the delivery below (no await between):
            # an event is in the ring exactly when the room's sockets have it. One not
            # recorded (no socket here yet, binary) is a hole: its replays read the database.
            self.recent_events.add(data, len(encoded))
        elif event == "convoy.positions" and isinstance(data, dict):
            # Also before the delivery, with no await between: a joiner entering the room
            # after it reads its snapshot fresh, one before it receives the message.
            self.shared_snapshots.positions_moved(str(data.get("incident_id")))
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        pkt.encode()  # cached on the packet: every recipient's writer reuses the same string
        skip = skip_sid if isinstance(skip_sid, list | set | tuple) else (skip_sid,)
        deliver(server, pkt, self.get_participants(namespace, room), skip)  # type: ignore[attr-defined]
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


class HubManager(FastDelivery, socketio.AsyncManager):  # type: ignore[misc]  # python-socketio ships no type information
    """The client manager of a single hub instance (no Redis): every emit is this host's."""

    def local_only(self, options: dict[str, Any]) -> bool:
        return True
