"""`alert.progress` to the incident room, coalesced: the workers say which alerts changed,
and at most every PROGRESS_INTERVAL_S (twice a second) each changed alert's counts are read
once and emitted once, unsynced (the durable record is the outbox; a client that missed one
asks GET /api/alerts/{id} or waits for the next)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlmodel import col

from hub.alerts.progress import progress_of
from hub.context import Hub
from hub.realtime.notify import incident_room
from models.alert import Alert
from models.events import AlertProgress

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.5


class ProgressReports:
    def __init__(self, hub: Hub, interval_s: float = PROGRESS_INTERVAL_S) -> None:
        self.hub = hub
        self.interval_s = interval_s
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def changed(self, alert_ids: set[str]) -> None:
        self._dirty |= alert_ids
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            alert_ids, self._dirty = self._dirty, set()
            try:
                await self.emit(alert_ids)
            except Exception:
                log.exception("alert.progress of %d alerts failed", len(alert_ids))
            # the bound: whatever changes meanwhile waits for the next round
            await asyncio.sleep(self.interval_s)

    async def emit(self, alert_ids: set[str]) -> None:
        async with self.hub.db.read() as session:
            incidents = dict(
                (
                    await session.execute(
                        select(col(Alert.id), col(Alert.incident_id)).where(
                            col(Alert.id).in_(alert_ids)
                        )
                    )
                ).all()
            )
            progress = await progress_of(session, alert_ids)
        for alert_id, incident_id in incidents.items():
            payload: AlertProgress = {
                "incident_id": incident_id,
                "alert_id": alert_id,
                "by_channel": progress.get(alert_id, {}),
            }
            await self.hub.notifier.emit("alert.progress", payload, incident_room(incident_id))
