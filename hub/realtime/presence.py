"""Who is online in each incident. One process keeps it in memory; see hub/realtime/redis_manager.py
for the union over instances."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.public import presence_payload
from models.events import OnlineUser, PresenceChanged, PresencePage


class Presence(Protocol):
    async def add(self, incident_id: str, sid: str, user: OnlineUser) -> None: ...
    async def remove(self, incident_id: str, sid: str) -> None: ...
    async def online(self, incident_id: str) -> list[OnlineUser]: ...
    async def flush(self, incident_id: str) -> None: ...
    async def close(self) -> None: ...


class LocalPresence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, OnlineUser]] = {}

    async def add(self, incident_id: str, sid: str, user: OnlineUser) -> None:
        self._rooms.setdefault(incident_id, {})[sid] = user

    async def remove(self, incident_id: str, sid: str) -> None:
        room = self._rooms.get(incident_id)
        if room is not None:
            room.pop(sid, None)
            if not room:
                del self._rooms[incident_id]

    async def online(self, incident_id: str) -> list[OnlineUser]:
        return unique_users(self._rooms.get(incident_id, {}).values())

    async def flush(self, incident_id: str) -> None:
        """Makes this instance's users of the incident visible to the others (one instance:
        nothing to do)."""

    async def close(self) -> None:
        self._rooms.clear()


def unique_users(users: Iterable[OnlineUser]) -> list[OnlineUser]:
    """One entry per user however many sockets they have, in a stable order."""
    seen: dict[str, OnlineUser] = {}
    for user in users:
        seen.setdefault(user["user_id"], user)
    return sorted(seen.values(), key=lambda u: (u["name"], u["user_id"]))


# What this instance tells its own sockets --------------------------------------------------

# Seconds between two presence messages of one incident (changes coalesced in between).
PRESENCE_INTERVAL = 0.25
# The longest page of the online list a join or `presence.get` answers.
PRESENCE_PAGE = 1_000

Send = Callable[[str, Mapping[str, Any], str], Awaitable[None]]


def changes_room(incident_id: str) -> str:
    """The sockets that follow an incident's presence as changes (joined with "changes")."""
    return f"presence-changes:{incident_id}"


def list_room(incident_id: str) -> str:
    """The sockets that receive the whole list at each change (v1 clients)."""
    return f"presence-list:{incident_id}"


@dataclass
class _Stream:
    version: int = 0
    online: list[OnlineUser] = field(default_factory=list)  # as last sent, sorted
    sent_at: float = -1e9
    due: asyncio.Task[None] | None = None
    local_change: bool = False  # a socket of this instance came or went since the last send


class PresenceStreams:
    """Who is online, as this instance tells its own sockets, per incident (issue 18).

    A change (a socket joins or leaves here, or another instance says its sockets did) is
    sent at once, and further changes within PRESENCE_INTERVAL go together at its end: the
    union is read once (hub.presence), compared with what was sent last, and the difference
    goes to the "changes" sockets as `presence.changed` with the next `version`, the whole
    list to the v1 sockets as `presence`. A join answers the list as last sent with its
    version, so a socket applies every later change on top of it; a socket that sees a
    version that does not follow its own asks again (`presence.get`).

    Messages go to this instance's sockets only (`send`): each instance keeps its own stream,
    so versions never interleave. A local change is written to Redis (hub.presence.flush) and
    then announced to the other instances (`announce`), which send their sockets their own
    difference; the union's expiry catches an instance that died without a word."""

    def __init__(
        self,
        presence: Presence,
        send: Send,
        announce: Callable[[str], Awaitable[None]] | None = None,
        interval: float = PRESENCE_INTERVAL,
    ) -> None:
        self.presence = presence
        self.send = send
        self.announce = announce
        self.interval = interval
        self._streams: dict[str, _Stream] = {}

    def page(self, incident_id: str, offset: int = 0, limit: int = PRESENCE_PAGE) -> PresencePage:
        stream = self._streams.get(incident_id) or _Stream()
        return {
            "incident_id": incident_id,
            "version": stream.version,
            "online": stream.online[offset : offset + limit],
            "offset": offset,
            "total": len(stream.online),
        }

    async def changed(self, incident_id: str, *, local: bool) -> None:
        stream = self._streams.setdefault(incident_id, _Stream())
        stream.local_change = stream.local_change or local
        if stream.due is not None:
            return  # the pending send will carry it
        wait = stream.sent_at + self.interval - time.monotonic()
        if wait <= 0:
            await self._send(incident_id, stream)
        else:
            stream.due = asyncio.get_running_loop().create_task(
                self._later(incident_id, stream, wait), name="presence"
            )

    async def _later(self, incident_id: str, stream: _Stream, wait: float) -> None:
        try:
            await asyncio.sleep(wait)
        finally:
            stream.due = None
        await self._send(incident_id, stream)

    async def _send(self, incident_id: str, stream: _Stream) -> None:
        stream.sent_at = time.monotonic()
        local, stream.local_change = stream.local_change, False
        if local:
            await self.presence.flush(incident_id)
        online = await self.presence.online(incident_id)
        before = {user["user_id"]: user for user in stream.online}
        now = {user["user_id"]: user for user in online}
        joined = [user for key, user in now.items() if before.get(key) != user]
        left = [key for key in before if key not in now]
        if joined or left:
            stream.version += 1
            stream.online = online
            changes: PresenceChanged = {
                "incident_id": incident_id,
                "version": stream.version,
                "joined": joined,
                "left": left,
            }
            await self.send("presence.changed", changes, changes_room(incident_id))
            await self.send(
                "presence", presence_payload(incident_id, online), list_room(incident_id)
            )
        if not online and stream.due is None:
            self._streams.pop(incident_id, None)  # nobody left: forget it (a new one starts)
        if local and self.announce is not None:
            await self.announce(incident_id)

    def incidents(self) -> list[str]:
        return list(self._streams)

    def close(self) -> None:
        for stream in self._streams.values():
            if stream.due is not None:
                stream.due.cancel()
        self._streams.clear()
