"""The hub's Socket.IO server: python-socketio's AsyncServer with the hub's own rules for slow
clients and hostile packets. What it needs of python-socketio's private hooks is in
hub/realtime/internals.py (ServerHooks); this module says what those hooks do."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from socketio import packet as sio_packet

from hub.errors import HubError
from hub.logs import ThrottledLog
from hub.realtime.internals import ServerHooks

log = logging.getLogger(__name__)


def packet_ack_id(data: str) -> int | None:
    """The ack id of a Socket.IO packet whose JSON does not decode, read from its header as
    python-socketio reads it: type digit, then optional `N-` attachments and `/namespace,`,
    then the id's digits."""
    rest = data[1:]
    dash = rest.find("-")
    if 0 < dash <= 10 and rest[:dash].isdigit():
        rest = rest[dash + 1 :]
    if rest.startswith("/"):
        comma = rest.find(",")
        rest = "" if comma == -1 else rest[comma + 1 :]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return int(rest[:digits]) if 0 < digits <= 18 else None


class HubServer(ServerHooks):
    """An AsyncServer that will not let one slow client grow memory without bound: past
    `max_queue` unsent packets the client is disconnected, and recovers by seq on reconnect.
    With `fast_fanout` its Engine.IO sockets are hub/realtime/internals.py's FastPollSockets
    (give it hub/realtime/fanout.py's HubManager, or the Redis sync, as its client manager)."""

    def __init__(self, *args: Any, max_queue: int, fast_fanout: bool = True, **kwargs: Any) -> None:
        self.fast_fanout = fast_fanout  # read while the base class makes its Engine.IO server
        super().__init__(*args, **kwargs)
        self.max_queue = max_queue
        self._dropping: set[str] = set()
        self.refusals = ThrottledLog(log)

    def drop_slow(self, eio_sid: str, queued: int) -> None:
        """Disconnect a client that is `queued` packets behind (at least `max_queue`)."""
        if eio_sid not in self._dropping:
            self._dropping.add(eio_sid)
            log.warning("client %s is %d packets behind: disconnecting it", eio_sid, queued)
            asyncio.get_running_loop().create_task(self._drop(eio_sid))

    async def _drop(self, eio_sid: str) -> None:
        # abort, no wait: its writer is stuck on a full TCP buffer and would never drain the
        # queue; websockets' own keepalive then tears the TCP connection down.
        try:
            await self.abort(eio_sid)
        finally:
            self._dropping.discard(eio_sid)

    async def handle_message(self, eio_sid: str, data: str | bytes) -> None:
        """Engine.IO messages, decoded here rather than by python-socketio (same dispatch), so
        that hostile input is answered instead of raising in the Engine.IO task (a traceback
        logged, no ack, and after a placeholder a connection that waits for attachments for
        ever):
        - binary frames are never accepted: the protocol is JSON, so attachments could only
          pile up in memory (and `_placeholder` objects stand in for typed fields);
        - a packet that does not decode (NaN, Infinity, 1e400, a lone surrogate, nesting past
          orjson's limit) or an event that is not ["name", ...] gets `invalid` on its ack id;
        - each kind of refusal is logged at most once a second, without a traceback."""
        if not isinstance(data, str):
            self.refusals.warning("binary", "binary frame from %s ignored", eio_sid)
            return
        try:
            pkt = self.decode(data)
        except Exception as error:  # whatever the decoder raises, the packet is malformed
            await self.refuse(eio_sid, packet_ack_id(data), f"malformed packet: {error}")
            return
        kind = pkt.packet_type
        if kind == sio_packet.EVENT:
            if not (isinstance(pkt.data, list) and pkt.data and isinstance(pkt.data[0], str)):
                await self.refuse(eio_sid, pkt.id, "an event is a JSON array: [name, payload]")
                return
            await self.dispatch(eio_sid, pkt)
        elif kind in (sio_packet.ACK, sio_packet.CONNECT, sio_packet.DISCONNECT):
            await self.dispatch(eio_sid, pkt)
        elif kind in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
            await self.refuse(eio_sid, pkt.id, "binary attachments are not accepted")
        else:
            await self.refuse(eio_sid, pkt.id, f"unexpected packet type {kind!r}")

    async def refuse(self, eio_sid: str, ack_id: int | None, message: str) -> None:
        """Answer a packet the hub will not handle with `invalid`, when it asked for an ack
        and its socket is connected; log it, throttled."""
        self.refusals.warning(message.split(":")[0], "refused from %s: %s", eio_sid, message)
        if ack_id is None or self.manager.sid_from_eio_sid(eio_sid, "/") is None:
            return
        await self.send_ack(eio_sid, ack_id, [HubError("invalid", message[:200]).ack()])
