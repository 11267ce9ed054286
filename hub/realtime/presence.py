"""Who is online in each incident. One process keeps it in memory; see hub/realtime/redis_manager.py
for the union over instances."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from models.events import OnlineUser


class Presence(Protocol):
    async def add(self, incident_id: str, sid: str, user: OnlineUser) -> None: ...
    async def remove(self, incident_id: str, sid: str) -> None: ...
    async def online(self, incident_id: str) -> list[OnlineUser]: ...
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

    async def close(self) -> None:
        self._rooms.clear()


def unique_users(users: Iterable[OnlineUser]) -> list[OnlineUser]:
    """One entry per user however many sockets they have, in a stable order."""
    seen: dict[str, OnlineUser] = {}
    for user in users:
        seen.setdefault(user["user_id"], user)
    return sorted(seen.values(), key=lambda u: (u["name"], u["user_id"]))
