"""The incident's anchors on the connected TAK clients, kept in step by following the event log.

A connection that identified a registered uid is attached to that uid's incident: it gets the
incident's anchors at once (and deletes for those removed within ANCHOR_STALE_S, in case it
drew them on an earlier connection), then every `anchor.created`, `anchor.updated` and
`anchor.deleted` the incident logs after that, in seq order.

Why the event log and not the socket fan-out: the log is the source of truth (design
principle 1), written on whichever instance made the change, and read here by seq, so every
instance's TAK clients get every change, in order, without Redis and across a Redis outage or
a restart (a re-attached client gets a fresh snapshot). It costs one indexed read per followed
incident per `TAK_FOLLOW_INTERVAL_S` (1 s) on each instance with TAK clients of that incident,
which is a delay a TAK map (whose own servers relay at similar rates) does not notice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Protocol, cast

from sqlalchemy import or_, select
from sqlmodel import col

from hub.context import Hub
from hub.eventlog import events_since
from hub.public import anchor_public
from hub.tak.anchors import deletes_of, shapes_of
from hub.tak.limits import ANCHOR_REFRESH_S, ANCHOR_STALE_S, FOLLOW_BATCH
from hub.tak.shapes import Shape, render
from models import Anchor, Incident
from models.base import utcnow
from models.events import AnchorPublic

log = logging.getLogger(__name__)


class TakPeer(Protocol):
    """A connected TAK client, as the bridge sees it (hub/tak/listener.py TakConnection)."""

    @property
    def closed(self) -> bool: ...

    def send(self, data: bytes) -> None: ...


class TakBridge:
    """One per instance: which TAK connections follow which incident, and the follower."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.interval = hub.settings.tak_follow_interval_s
        self._peers: dict[str, dict[TakPeer, float]] = {}  # incident -> peer -> snapshot at
        self._cursor: dict[str, int] = {}  # incident -> last seq followed
        # incident -> anchor -> the items last sent for it: an anchor whose geometry lost
        # parts gets deletes for the parts it no longer has.
        self._sent: dict[str, dict[str, list[Shape]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._follow(), name="tak-bridge")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def following(self, incident_id: str) -> int:
        """How many connections of this instance follow the incident."""
        return len(self._peers.get(incident_id, ()))

    async def attach(self, peer: TakPeer, incident_id: str) -> None:
        """Send the incident's anchors to `peer`, then follow the incident for it."""
        seq, anchors, deleted = await self._snapshot(incident_id)
        if peer.closed:
            return  # it went away during the read: nothing to follow for it
        sent = self._sent.setdefault(incident_id, {})
        shapes: list[Shape] = []
        for anchor in deleted:
            shapes += deletes_of(shapes_of(anchor))
        for anchor in anchors:
            drawn = shapes_of(anchor)
            sent[anchor["id"]] = drawn
            shapes += drawn
        self._send([peer], shapes)
        peers = self._peers.setdefault(incident_id, {})
        peers[peer] = time.monotonic()
        # A cursor already behind this snapshot stays: the other peers need what follows it
        # (this one gets those few changes twice; TAK replaces items by uid).
        self._cursor.setdefault(incident_id, seq)

    def detach(self, peer: TakPeer) -> None:
        for incident_id in [i for i, peers in self._peers.items() if peer in peers]:
            peers = self._peers[incident_id]
            del peers[peer]
            if not peers:
                del self._peers[incident_id]
                self._cursor.pop(incident_id, None)
                self._sent.pop(incident_id, None)

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.follow_once()
            except Exception:
                log.exception("following anchors for TAK clients failed; trying again")

    async def follow_once(self) -> None:
        for incident_id in list(self._peers):
            cursor = self._cursor.get(incident_id)
            if cursor is None:
                continue
            async with self.hub.db.read() as session:
                events = await events_since(session, incident_id, cursor, FOLLOW_BATCH)
            peers = self._peers.get(incident_id)
            if peers is None:
                continue  # the last peer left meanwhile
            sent = self._sent.setdefault(incident_id, {})
            shapes: list[Shape] = []
            for event in events:
                kind = event["type"]
                if not kind.startswith("anchor."):
                    continue
                anchor = cast(AnchorPublic, event["data"])  # EVENT_DATA of anchor.*
                before = sent.pop(anchor["id"], [])
                if kind == "anchor.deleted":
                    shapes += deletes_of(before or shapes_of(anchor))
                    continue
                drawn = shapes_of(anchor)
                kept = {shape.uid for shape in drawn}
                shapes += drawn
                shapes += deletes_of([shape for shape in before if shape.uid not in kept])
                sent[anchor["id"]] = drawn
            if events:
                self._cursor[incident_id] = events[-1]["seq"]
            self._send(list(peers), shapes)
            await self._refresh(incident_id, peers)

    async def _refresh(self, incident_id: str, peers: dict[TakPeer, float]) -> None:
        """Send the anchors again to the peers that got them ANCHOR_REFRESH_S ago, before
        TAK drops them as stale."""
        now = time.monotonic()
        due = [peer for peer, at in peers.items() if now - at > ANCHOR_REFRESH_S]
        if not due:
            return
        _, anchors, _ = await self._snapshot(incident_id)
        shapes = [shape for anchor in anchors for shape in shapes_of(anchor)]
        self._send(due, shapes)
        for peer in due:
            if peer in peers:
                peers[peer] = now

    async def _snapshot(
        self, incident_id: str
    ) -> tuple[int, list[AnchorPublic], list[AnchorPublic]]:
        """The incident's seq, read before its anchors (a change after the read of the seq
        is then in the anchors and in the log after the seq: sent twice, never missed), its
        live anchors and those deleted recently."""
        since = utcnow() - timedelta(seconds=ANCHOR_STALE_S)
        async with self.hub.db.read() as session:
            seq = await session.scalar(
                select(col(Incident.last_seq)).where(col(Incident.id) == incident_id)
            )
            rows = await session.scalars(
                select(Anchor)
                .where(
                    col(Anchor.incident_id) == incident_id,
                    or_(col(Anchor.deleted_at).is_(None), col(Anchor.deleted_at) > since),
                )
                .order_by(col(Anchor.created_at), col(Anchor.id))
            )
            public = [anchor_public(row) for row in rows]
        live = [anchor for anchor in public if not anchor.get("deleted")]
        gone = [anchor for anchor in public if anchor.get("deleted")]
        return int(seq or 0), live, gone

    @staticmethod
    def _send(peers: list[TakPeer], shapes: list[Shape]) -> None:
        if not shapes or not peers:
            return
        now = utcnow()
        for data in [render(shape, now) for shape in shapes]:
            for peer in peers:
                peer.send(data)
