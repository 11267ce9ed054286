"""Socket.IO: authenticate at connect, then translate each event into one domain action.

Handlers only authenticate, validate and translate (design principle 3).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio
from pydantic import BaseModel

from hub.actions import anchors, feed, weather
from hub.actions.join import JoinReads, join_incident
from hub.auth import MAX_TOKENS_PER_READ, Principal, principals_until, token_digest
from hub.batched import BatchedReads
from hub.context import Hub
from hub.errors import HubError, as_hub_error
from hub.public import incident_left
from hub.realtime.notify import incident_room, token_room, user_room
from hub.realtime.presence import PresenceStreams, changes_room, list_room
from hub.realtime.replay import RecentEvents
from hub.realtime.snapshots import SharedSnapshots
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
    PresenceGetIn,
)
from models.weather import AnchorObserveIn

log = logging.getLogger(__name__)

Action = Callable[[str, Principal, Any], Awaitable[dict[str, Any]]]

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
    `since` replays when it can; `snapshots` the join snapshots its joiners share, which the
    fast fan-out keeps fresh (it sees every `convoy.positions`); None without one. Control
    messages reach `apply_control` through whoever built the handlers (hub/instance.py)."""

    def __init__(
        self,
        hub: Hub,
        sio: socketio.AsyncServer,
        recent: RecentEvents | None = None,
        snapshots: SharedSnapshots | None = None,
    ) -> None:
        self.hub = hub
        self.sio = sio
        self.recent = recent
        self.principals: dict[str, Principal] = {}
        self.joined: dict[str, set[str]] = {}
        self.presence = PresenceStreams(hub.presence, self._send_here, self._announce)
        self.snapshots = snapshots
        self._removals = 0  # member.removed messages applied so far
        # token digest -> (principal, monotonic deadline): see PRINCIPAL_TTL
        self._known: dict[str, tuple[Principal, float]] = {}
        # the connects in flight read their tokens in one query, the joins their roles etc.
        self._reads = BatchedReads(hub.db, principals_until, MAX_TOKENS_PER_READ)
        self.join_reads = JoinReads(hub.db)
        self._forgotten = 0  # times the cache was cleared (a read in flight must not refill it)
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("*", self.unknown_event)
        self.register("incident.join", JoinIn, self.join)
        self.register("incident.leave", IncidentRef, self.leave)
        self.register("presence.get", PresenceGetIn, self.presence_page)
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
        self.register(
            "anchor.observe", AnchorObserveIn, self._returning("anchor", weather.observe_weather)
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
            if await self._reads.read(raw) is None:
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
        found = await self._reads.read(raw)
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
                shared=self.snapshots,
                reads=self.join_reads,
            )
        except BaseException:
            if entered and not already:  # a failed catch-up must not drop a socket in the room
                await self.sio.leave_room(sid, room)
            raise
        joined = self.joined.get(sid)
        # Not when the socket disconnected, or was removed from the incident, while the join
        # was in flight: that cleanup has run already, and recording the socket now would leave
        # a ghost in `joined` and in presence that nothing removes. Nor twice (concurrent joins).
        if joined is not None and payload.incident_id not in joined and self.sio.in_room(sid, room):
            joined.add(payload.incident_id)
            user: OnlineUser = {
                "user_id": principal.user_id,
                "name": principal.name,
                "organisation": principal.organisation,
            }
            follows = changes_room if payload.presence == "changes" else list_room
            await self.sio.enter_room(sid, follows(payload.incident_id))
            await self.hub.presence.add(payload.incident_id, sid, user)
            await self.presence.changed(payload.incident_id, local=True)
        if payload.presence == "changes":
            # The list as last sent with its version: every later change follows it. The
            # snapshot carries no `online` then (a v1 client's snapshot does).
            result["presence"] = self.presence.page(payload.incident_id)
        elif "snapshot" in result:
            # join_incident leaves `online` to us: only now is this socket counted in it
            result["snapshot"]["online"] = await self.hub.presence.online(payload.incident_id)
        return result

    async def presence_page(
        self, sid: str, principal: Principal, payload: PresenceGetIn
    ) -> dict[str, Any]:
        """A page of the online list, for a socket that joined the incident (a missed change,
        or a list longer than a page)."""
        if payload.incident_id not in self.joined.get(sid, set()):
            raise HubError("forbidden", "join the incident first")
        return {"presence": self.presence.page(payload.incident_id, payload.offset, payload.limit)}

    async def leave(self, sid: str, principal: Principal, payload: IncidentRef) -> dict[str, Any]:
        if payload.incident_id in self.joined.get(sid, set()):
            self.joined[sid].discard(payload.incident_id)
            await self._left(sid, payload.incident_id)
        return {}

    async def _left(self, sid: str, incident_id: str) -> None:
        await self.sio.leave_room(sid, incident_room(incident_id))
        await self.sio.leave_room(sid, changes_room(incident_id))
        await self.sio.leave_room(sid, list_room(incident_id))
        await self.hub.presence.remove(incident_id, sid)
        await self.presence.changed(incident_id, local=True)

    async def _send_here(self, name: str, data: Mapping[str, Any], room: str) -> None:
        """To this instance's sockets in `room` only (presence: each instance its own stream)."""
        try:
            await self.sio.emit(name, data, room=room, ignore_queue=True)
        except Exception:
            log.exception("emit of %s failed", name)

    async def _announce(self, incident_id: str) -> None:
        """Tell the other instances this one's users of the incident changed (after the write
        to Redis): they send their own sockets the difference."""
        if self.hub.notifier.relay is not None:
            await self.hub.notifier.relay({"type": "presence.changed", "incident_id": incident_id})

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
        elif message.get("type") == "presence.changed":
            # Only where this instance has a stream of it, that is sockets in it.
            incident_id = message.get("incident_id")
            if incident_id in self.presence.incidents():
                await self.presence.changed(str(incident_id), local=False)
        elif message.get("type") == "member.removed":
            self._removals += 1  # joins in flight check the role again (see join)
            incident_id, user_id = message["incident_id"], message["user_id"]
            for sid in self.local_sids(user_room(user_id)):
                # Every socket of the user leaves the room, including one whose join is still
                # in flight (in the room, not yet in `joined`).
                self.joined.get(sid, set()).discard(incident_id)
                await self._left(sid, incident_id)
                await self.sio.emit("incident.left", incident_left(incident_id), to=sid)
