"""After commit: tell the incident's room, and carry control messages to every socket.

Control messages (a member removed, a token revoked) must reach the sockets of every hub
instance. On one instance they are applied here; hub/realtime/redis_manager.py carries them across
instances when REDIS_URL is set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio

from models.events import EventPublic

log = logging.getLogger(__name__)

ControlHandler = Callable[[dict[str, Any]], Awaitable[None]]


# The Socket.IO room of an incident's members; other modules test rooms with it.
INCIDENT_ROOM = "incident:"


def incident_room(incident_id: str) -> str:
    return INCIDENT_ROOM + incident_id


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def token_room(token_id: str) -> str:
    return f"token:{token_id}"


class Notifier:
    """Sends what was committed. Without a socket server (the CLI) events stay in the log,
    where clients find them by seq.

    A control message is applied by `control_handler` to this instance's sockets (the socket
    handlers', hub/instance.py) and carried by `relay` to the other instances (the Redis
    sync's, hub/realtime/redis_manager.py); either is None where there is none."""

    def __init__(
        self,
        sio: socketio.AsyncServer | None = None,
        *,
        control_handler: ControlHandler | None = None,
        relay: ControlHandler | None = None,
    ) -> None:
        self.sio = sio
        self.control_handler = control_handler
        self.relay = relay

    async def incident_event(self, event: EventPublic) -> None:
        if self.sio is None:
            return
        try:
            await self.sio.emit("incident.event", event, room=incident_room(event["incident_id"]))
        except Exception:
            # The change is committed; a client that misses this recovers it by seq.
            log.exception("emit of %s seq %s failed", event["type"], event["seq"])

    async def emit(self, name: str, data: Mapping[str, object], room: str) -> None:
        if self.sio is None:
            return
        try:
            await self.sio.emit(name, data, room=room)
        except Exception:
            log.exception("emit of %s failed", name)

    async def control(self, message: dict[str, Any]) -> None:
        """Apply a control message on every instance: here first, then through the relay."""
        if self.control_handler is not None:
            await self.control_handler(message)
        if self.relay is not None:
            await self.relay(message)
