"""Coalesced `convoy.positions`: per incident at most N messages a second, each with the latest
position of every vehicle that moved since the previous one (design principle 4).

Python cannot win on per-message fan-out, so the hub sends less: a thousand fixes in a second
from ten vehicles become at most `positions_per_second` messages of at most ten positions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from hub.public import convoy_positions
from hub.realtime.notify import Notifier, incident_room
from models.events import PositionPublic

log = logging.getLogger(__name__)


class PositionCoalescer:
    def __init__(self, notifier: Notifier, per_second: float) -> None:
        self.notifier = notifier
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._pending: dict[str, dict[str, PositionPublic]] = {}
        self._last_sent: dict[str, float] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}

    def add(self, incident_id: str, position: PositionPublic) -> None:
        """Queue a vehicle's newest position; the previous unsent one of that vehicle is dropped."""
        pending = self._pending.setdefault(incident_id, {})
        earlier = pending.get(position["vehicle_id"])
        if earlier is None or _instant(earlier["ts"]) <= _instant(position["ts"]):
            pending[position["vehicle_id"]] = position
        if incident_id not in self._timers:
            now = time.monotonic()
            delay = max(0.0, self._last_sent.get(incident_id, -1e9) + self.interval - now)
            self._timers[incident_id] = asyncio.get_running_loop().create_task(
                self._flush_after(incident_id, delay)
            )

    async def _flush_after(self, incident_id: str, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
        finally:
            # Whatever happens (even cancellation), the next add schedules a fresh flush.
            self._timers.pop(incident_id, None)
        positions = self._pending.pop(incident_id, {})
        self._last_sent[incident_id] = time.monotonic()
        self._forget_idle()
        if positions:
            await self.notifier.emit(
                "convoy.positions",
                convoy_positions(incident_id, list(positions.values())),
                incident_room(incident_id),
            )

    def _forget_idle(self) -> None:
        """Bounded memory: incidents silent for more than one interval need no send time."""
        if len(self._last_sent) > 1_000:
            cutoff = time.monotonic() - self.interval
            self._last_sent = {k: v for k, v in self._last_sent.items() if v > cutoff}

    async def close(self) -> None:
        for task in list(self._timers.values()):
            task.cancel()
        self._timers.clear()


def _instant(ts: str) -> datetime:
    """A fix time as written by models.base.iso: compared as text, a whole second (no
    fraction) would sort after a later time with one (10:00:00Z > 10:00:00.500000Z)."""
    return datetime.fromisoformat(ts)
