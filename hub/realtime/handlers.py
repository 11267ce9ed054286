"""Socket.IO: authenticate at connect, then translate each event into one domain action.

Handlers only authenticate, validate and translate (design principle 3).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio
from pydantic import BaseModel

from hub.actions import anchors, feed
from hub.actions.join import join_incident
from hub.auth import Principal, principal_until, token_digest
from hub.context import Hub
from hub.errors import HubError, as_hub_error
from hub.public import incident_left, presence_payload
from hub.realtime.notify import incident_room, token_room, user_room
from hub.realtime.replay import RecentEvents
from models.base import utcnow
from models.events import OnlineUser
from models.shapes import (
    AnchorCreateIn,
    AnchorDeleteIn,
    AnchorUpdateIn,
    FeedCorrectIn,
    FeedPostIn,
    IncidentRef,
    JoinIn,
)

log = logging.getLogger(__name__)

Action = Callable[[str, Principal, Any], Awaitable[dict[str, Any]]]

# Seconds between two `presence` messages of one incident (coalesced in between).
PRESENCE_INTERVAL = 0.25
# How long a token's principal, read at connect, answers further connects of that token
# without the database (a reconnect storm), and how many are kept. A revocation clears them
# at once on the instance that applies its control message; a control message lost between
# instances is covered by the access re-check (ACCESS_RECHECK_SECONDS,
# hub/realtime/redis_manager.py), which clears them too. A session token is never kept past
# its lifetime.
PRINCIPAL_TTL = 30.0
PRINCIPALS_KEPT = 10_000


class SocketHandlers:
    """The hub's socket events, registered on `sio` when made. `recent` is the ring of events
    this instance delivered (the fast fan-out's, hub/realtime/fanout.py), which answers
    `since` replays when it can; None without one. Control messages reach `apply_control`
    through whoever built the handlers (hub/instance.py)."""

    def __init__(
        self, hub: Hub, sio: socketio.AsyncServer, recent: RecentEvents | None = None
    ) -> None:
        self.hub = hub
        self.sio = sio
        self.recent = recent
        self.principals: dict[str, Principal] = {}
        self.joined: dict[str, set[str]] = {}
        self._presence_sent: dict[str, float] = {}  # incident id -> when its last one went
        self._presence_due: dict[str, asyncio.Task[None]] = {}
        self._removals = 0  # member.removed messages applied so far
        # token digest -> (principal, monotonic deadline): see PRINCIPAL_TTL
        self._known: dict[str, tuple[Principal, float]] = {}
        self._forgotten = 0  # times the cache was cleared (a read in flight must not refill it)
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("*", self.unknown_event)
        self.register("incident.join", JoinIn, self.join)
        self.register("incident.leave", IncidentRef, self.leave)
        self.register("feed.post", FeedPostIn, self._returning("entry", feed.post_entry))
        self.register("feed.correct", FeedCorrectIn, self._returning("entry", feed.correct_entry))
        self.register(
            "anchor.create", AnchorCreateIn, self._returning("anchor", anchors.create_anchor)
        )
        self.register(
            "anchor.update", AnchorUpdateIn, self._returning("anchor", anchors.update_anchor)
        )
        self.register(
            "anchor.delete", AnchorDeleteIn, self._returning("anchor", anchors.delete_anchor)
        )

    def register(self, event: str, shape: type[BaseModel], action: Action) -> None:
        async def handler(sid: str, *args: Any) -> dict[str, Any]:
            return await self._dispatch(sid, shape, action, args)

        self.sio.on(event, handler)

    async def _dispatch(
        self, sid: str, shape: type[BaseModel], action: Action, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        principal = self.principals.get(sid)
        try:
            if principal is None:
                raise HubError("unauthorized", "not authenticated")
            if len(args) != 1 or not isinstance(args[0], dict):
                raise HubError("invalid", "the payload must be one JSON object")
            payload = shape.model_validate(args[0])
            return {"ok": True, **await action(sid, principal, payload)}
        except Exception as error:
            if sid not in self.principals and principal is not None:
                # The socket went away while its action ran (python-socketio then refuses to
                # enter or leave rooms): nobody is left to read the answer, nothing to log.
                return HubError("unauthorized", "the socket disconnected").ack()
            return as_hub_error(error, log, f"socket {shape.__name__}").ack()

    async def unknown_event(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        """Any event the contract does not name gets `invalid` (only asked-for acks are sent)."""
        return HubError("invalid", f"unknown event {event[:100]!r}").ack()

    # connection ---------------------------------------------------------------------------

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if isinstance(auth, dict) and isinstance(auth.get("token"), str):
            raw = auth["token"]
        else:
            assert self.hub.cookies is not None
            raw = self.hub.cookies.from_header(environ.get("HTTP_COOKIE"))
        forgotten = self._forgotten
        principal = await self._principal(raw) if raw else None
        if principal is None:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        self.principals[sid] = principal
        self.joined[sid] = set()
        await self.sio.enter_room(sid, user_room(principal.user_id))
        await self.sio.enter_room(sid, token_room(principal.token_id))
        if self._forgotten != forgotten:
            # A revocation was applied while this connect read its token: its disconnect
            # sweep may have run before this socket was in the token's room. Read again.
            assert raw is not None
            async with self.hub.db.read() as session:
                still = await principal_until(session, raw)
            if still is None:
                self.principals.pop(sid, None)
                self.joined.pop(sid, None)
                raise socketio.exceptions.ConnectionRefusedError("unauthorized")

    async def _principal(self, raw: str) -> Principal | None:
        key = token_digest(raw)
        known = self._known.get(key)
        if known is not None:
            if known[1] > time.monotonic():
                return known[0]
            del self._known[key]
        forgotten = self._forgotten
        async with self.hub.db.read() as session:
            found = await principal_until(session, raw)
        if found is None:
            return None
        principal, until = found
        ttl = PRINCIPAL_TTL
        if until is not None:
            ttl = min(ttl, (until - utcnow()).total_seconds())
        if ttl > 0 and self._forgotten == forgotten:
            # Not when a revocation was applied during the read: it may be this token's.
            if len(self._known) >= PRINCIPALS_KEPT:
                del self._known[next(iter(self._known))]  # the oldest
            self._known[key] = (principal, time.monotonic() + ttl)
        return principal

    def forget_principals(self) -> None:
        """The next connect of every token reads it again (a revocation, an access re-check)."""
        self._forgotten += 1
        self._known.clear()

    async def disconnect(self, sid: str, *args: Any) -> None:
        self.principals.pop(sid, None)
        for incident_id in self.joined.pop(sid, set()):
            await self._left(sid, incident_id)

    # incident membership of a socket -------------------------------------------------------

    async def join(self, sid: str, principal: Principal, payload: JoinIn) -> dict[str, Any]:
        room = incident_room(payload.incident_id)
        already = payload.incident_id in self.joined.get(sid, set())
        entered = False
        removals = self._removals

        async def enter() -> bool:
            # Called by join_incident once the role is checked and before it reads state, so
            # no event falls between the two; True asks for the check again when a member
            # was removed meanwhile (the control message may have come before this entry).
            nonlocal entered
            await self.sio.enter_room(sid, room)
            entered = True
            return self._removals != removals

        try:
            result = await join_incident(
                self.hub,
                principal,
                payload.incident_id,
                payload.since,
                enter=enter,
                recent=self.recent,
            )
        except BaseException:
            if entered and not already:  # a failed catch-up must not drop a socket in the room
                await self.sio.leave_room(sid, room)
            raise
        online: list[OnlineUser] | None = None
        joined = self.joined.get(sid)
        # Not when the socket disconnected, or was removed from the incident, while the join
        # was in flight: that cleanup has run already, and recording the socket now would leave
        # a ghost in `joined` and in presence that nothing removes. Nor twice (concurrent joins).
        if joined is not None and payload.incident_id not in joined and room in self.sio.rooms(sid):
            joined.add(payload.incident_id)
            user: OnlineUser = {
                "user_id": principal.user_id,
                "name": principal.name,
                "organisation": principal.organisation,
            }
            await self.hub.presence.add(payload.incident_id, sid, user)
            online = await self._send_presence(payload.incident_id)
        if "snapshot" in result:
            # join_incident leaves `online` to us: only now is this socket counted in it
            if online is None:
                online = await self.hub.presence.online(payload.incident_id)
            result["snapshot"]["online"] = online
        return result

    async def leave(self, sid: str, principal: Principal, payload: IncidentRef) -> dict[str, Any]:
        if payload.incident_id in self.joined.get(sid, set()):
            self.joined[sid].discard(payload.incident_id)
            await self._left(sid, payload.incident_id)
        return {}

    async def _left(self, sid: str, incident_id: str) -> None:
        await self.sio.leave_room(sid, incident_room(incident_id))
        await self.hub.presence.remove(incident_id, sid)
        await self._send_presence(incident_id)

    async def _send_presence(self, incident_id: str) -> list[OnlineUser] | None:
        """At most one `presence` per incident per PRESENCE_INTERVAL: a change goes at once,
        further changes within the interval go together at its end, with the latest list.
        Otherwise a join storm of N people sends N growing lists to N sockets (O(N²)).
        Returns the list sent now, None when it is deferred (a join reuses it)."""
        if incident_id in self._presence_due:
            return None
        wait = self._presence_sent.get(incident_id, -1e9) + PRESENCE_INTERVAL - time.monotonic()
        if wait <= 0:
            return await self._emit_presence(incident_id)
        self._presence_due[incident_id] = asyncio.get_running_loop().create_task(
            self._presence_later(incident_id, wait)
        )
        return None

    async def _presence_later(self, incident_id: str, wait: float) -> None:
        try:
            await asyncio.sleep(wait)
        finally:
            self._presence_due.pop(incident_id, None)
        await self._emit_presence(incident_id)

    async def _emit_presence(self, incident_id: str) -> list[OnlineUser]:
        self._presence_sent[incident_id] = time.monotonic()
        online = await self.hub.presence.online(incident_id)
        await self.hub.notifier.emit(
            "presence", presence_payload(incident_id, online), incident_room(incident_id)
        )
        return online

    # writes -----------------------------------------------------------------------------

    def _returning(self, key: str, action: Callable[..., Awaitable[Mapping[str, Any]]]) -> Action:
        """Run a domain action and put its result under `key` in the ack."""

        async def run(sid: str, principal: Principal, payload: Any) -> dict[str, Any]:
            return {key: await action(self.hub, principal, payload)}

        return run

    # control messages (from this instance or, through Redis, from another) ------------------

    def local_sids(self, room: str) -> list[str]:
        return [sid for sid, _ in self.sio.manager.get_participants("/", room)]

    async def apply_control(self, message: dict[str, Any]) -> None:
        if message.get("type") == "token.revoked":
            self.forget_principals()
            for sid in self.local_sids(token_room(message["token_id"])):
                await self.sio.disconnect(sid)
        elif message.get("type") == "member.removed":
            self._removals += 1  # joins in flight check the role again (see join)
            incident_id, user_id = message["incident_id"], message["user_id"]
            for sid in self.local_sids(user_room(user_id)):
                # Every socket of the user leaves the room, including one whose join is still
                # in flight (in the room, not yet in `joined`).
                self.joined.get(sid, set()).discard(incident_id)
                await self._left(sid, incident_id)
                await self.sio.emit("incident.left", incident_left(incident_id), to=sid)
